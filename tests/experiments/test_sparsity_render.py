"""The sparsity report's plateau check of runs that reach the epoch cap."""

from keras_seminar.experiments import sparsity
from keras_seminar.experiments._sparsity_render import plateau_text


def _results(curves, max_epochs=8):
    runs = [{"arm": {"phase": "frontier"}, "epochs_run": len(c), "val_loss": c} for c in curves]
    return sparsity.Config(max_epochs=max_epochs, patience=4), {"runs": runs}


def test_capped_runs_report_how_much_their_loss_still_fell():
    flat = [1.0, 0.5, 0.403, 0.4025, 0.402, 0.4015, 0.401, 0.4005]  # 0.6% over the last 5 epochs
    falling = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3]               # 50% over the last 5
    stopped = [1.0, 0.5, 0.6, 0.7]
    text = plateau_text(*_results([flat, stopped]))
    assert text.startswith("1 of 2 frontier runs reached the 8-epoch cap") and "at most 0.6%" in text
    assert "every one is on its plateau" in text
    text = plateau_text(*_results([flat, falling, stopped]))
    assert "at most 62.5%" in text and "1 still fell by 3% or more" in text and "on its plateau" not in text
    assert "every one stopped early" in plateau_text(*_results([stopped]))
    assert "not converged" in plateau_text(*_results([[1.0, 0.9]], max_epochs=2))
