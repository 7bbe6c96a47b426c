"""The experiments' shared training and attack helpers: a fit to convergence keeps and records
its best epoch; the attacks' description states the attacks as configured."""

import types

import numpy as np
from keras_seminar.experiments import _attacks, _runner


def test_fit_to_convergence_keeps_and_records_the_best_epoch():
    data = _runner.load("mnist", 0, train_limit=512, val_limit=256, test_limit=64)
    model = _runner.build_mlp(0, hidden=(16,))
    fit = _runner.fit_to_convergence(model, data, 0, patience=1, epochs=4, learning_rate=3e-2)
    history, best = fit  # still a (history, best) pair for callers that unpack it
    assert best == int(np.argmin(history["val_loss"])) and fit.history is history
    assert fit.epochs == {"best_epoch": best + 1, "epochs_run": len(history["val_loss"])}
    assert 1 <= fit.epochs["best_epoch"] <= fit.epochs["epochs_run"] <= 4
    # The weights kept are the best epoch's: the model's validation loss is that epoch's.
    val_loss = model.evaluate(data.x_val, data.y_val, verbose=0, return_dict=True)["loss"]
    np.testing.assert_allclose(val_loss, history["val_loss"][best], rtol=1e-4)


def test_attacks_are_described_as_configured():
    config = types.SimpleNamespace(eps=(0.05, 0.2), pgd_steps=7, pgd_restarts=3, substitute_seed_offset=50)
    text = _attacks.describe(config, {("mnist", "free"): [{"attacked_images": 321}]}, "a free MLP")
    assert "321 seeded random test images per seed" in text
    assert "PGD with 7 steps" in text and "3 restart(s)" in text
    assert "(a free MLP from seed + 50)" in text
    assert _attacks.describe(config, {}, "a free MLP").startswith("Attacks (L-inf, on the softmax's cross-entropy, 0 ")
    assert _attacks.headline(config) == 0  # no eps 0.1: the first
    assert _attacks.headline(types.SimpleNamespace(eps=(0.05, 0.1, 0.3))) == 1
