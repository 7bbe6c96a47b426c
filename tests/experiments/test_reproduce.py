"""`experiment NAME --compare-to DIR`: a rerun's means against a report's intervals, arm by arm."""

import json

import pytest
from keras_seminar.experiments import reproduce

from keras_seminar.errors import UsageError


def _results(folder, accuracies, command="cmd"):
    runs = [{"arm": {"depth": depth}, "seed": seed, "test_accuracy": acc, "epochs_run": 10}
            for depth, values in accuracies.items() for seed, acc in enumerate(values)]
    folder.mkdir(exist_ok=True)
    (folder / "depth.json").write_text(json.dumps({
        "experiment": "depth", "title": "Depth", "question": "?", "config": {"depths": [1, 2, 4]},
        "command": command, "device": "cpu", "environment": {"backend": "jax"}, "seeds": [0, 1, 2],
        "started": "2026-01-01", "runs": runs}))
    return folder


def test_rerun_inside_and_outside_the_reports_interval(tmp_path):
    report = _results(tmp_path / "a", {1: [0.90, 0.91, 0.92], 2: [0.90, 0.91, 0.92], 4: [0.5, 0.5, 0.6]})
    rerun = _results(tmp_path / "b", {1: [0.905, 0.915, 0.91], 2: [0.95, 0.96, 0.97]}, command="again")
    rows, summary = reproduce.compare("depth", report, rerun)
    # depth 4 is only in the report; epochs_run is an int (a count), not a measure
    assert [(r["arm"], r["measure"]) for r in rows] == [({"depth": 1}, "test_accuracy"),
                                                         ({"depth": 2}, "test_accuracy")]
    assert [r["rerun_mean_in_report_ci"] for r in rows] == [True, False] and summary["inside"] == 1
    assert rows[1]["paired_difference"]["mean"] == pytest.approx(0.05)
    assert rows[1]["paired_difference"]["low"] == pytest.approx(0.05)  # equal shifts: a zero-width CI
    text = open(reproduce.write("depth", report, rerun)).read()
    assert "inside the report's 95% CI in 1 of 2 rows; 1 lie outside" in text and "**no**" in text
    assert "| depth=1 | test_accuracy | 0.9100 ± 0.0248 (n=3) | 0.9100 ± 0.0124 (n=3) | yes |" in text
    assert "`again`" in text and "--compare-to" in text


def test_compare_refuses_missing_or_unrelated_runs(tmp_path):
    report = _results(tmp_path / "a", {1: [0.9, 0.91]})
    with pytest.raises(UsageError, match="depth.json does not exist"):
        reproduce.compare("depth", report, tmp_path / "nothing")
    other = _results(tmp_path / "b", {3: [0.9, 0.91]})
    with pytest.raises(UsageError, match="no arm the report"):
        reproduce.compare("depth", report, other)


def test_cli_compare_to(tmp_path, capsys):
    from keras_seminar.cli import main

    report = _results(tmp_path / "a", {1: [0.90, 0.91, 0.92]})
    rerun = _results(tmp_path / "b", {1: [0.91, 0.91, 0.91]})
    assert main(["experiment", "depth", "--compare-to", str(report), "--out", str(rerun)]) == 0
    assert "depth_reproduction.md" in capsys.readouterr().out
    assert main(["experiment", "depth", "--compare-to", str(report)]) == 2
    assert "needs --out" in capsys.readouterr().err


def test_a_tensorflow_report_trained_before_the_reshuffle_fix_says_so():
    from keras_seminar.experiments import _report, _run

    tf = {"experiment": "sparsity", "environment": {"backend": "tensorflow"}}
    assert "Caveat (training order)" in _report._order_caveat(tf)[0] and "26179" in _report._order_caveat(tf)[0]
    assert _report._order_caveat({**tf, "epoch_order": _run.EPOCH_ORDER}) == []  # trained reshuffled
    assert _report._order_caveat({**tf, "environment": {"backend": "jax"}}) == []  # JAX reshuffled all along
    assert _report._order_caveat({**tf, "experiment": "information_plane"}) == []  # orders its data itself
