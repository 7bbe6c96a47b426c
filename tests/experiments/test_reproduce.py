"""`experiment NAME --compare-to DIR`: a rerun's means against a report's intervals, arm by arm."""

import json

import pytest
from keras_seminar.experiments import reproduce

from keras_seminar.errors import UsageError


def _results(folder, accuracies, command="cmd"):
    runs = [{"arm": {"x": x}, "seed": seed, "value": acc, "epochs_run": 10}
            for x, values in accuracies.items() for seed, acc in enumerate(values)]
    folder.mkdir(exist_ok=True)
    (folder / "tiny.json").write_text(json.dumps({  # `tiny`: the test experiment of conftest.py
        "experiment": "tiny", "title": "Tiny", "question": "?", "config": {"xs": [1, 2, 4], "seeds": 3},
        "command": command, "device": "cpu", "environment": {"backend": "jax"}, "seeds": [0, 1, 2],
        "started": "2026-01-01", "runs": runs}))
    return folder


def test_rerun_inside_and_outside_the_reports_interval(tmp_path, tiny):
    report = _results(tmp_path / "a", {1: [0.90, 0.91, 0.92], 2: [0.90, 0.91, 0.92], 4: [0.5, 0.5, 0.6]})
    rerun = _results(tmp_path / "b", {1: [0.905, 0.915, 0.91], 2: [0.95, 0.96, 0.97]}, command="again")
    rows, summary = reproduce.compare("tiny", report, rerun)
    # x=4 is only in the report; epochs_run is an int (a count), not a measure
    assert [(r["arm"], r["measure"]) for r in rows] == [({"x": 1}, "value"),
                                                         ({"x": 2}, "value")]
    assert [r["rerun_mean_in_report_ci"] for r in rows] == [True, False] and summary["inside"] == 1
    assert rows[1]["paired_difference"]["mean"] == pytest.approx(0.05)
    assert rows[1]["paired_difference"]["low"] == pytest.approx(0.05)  # equal shifts: a zero-width CI
    text = open(reproduce.write("tiny", report, rerun)).read()
    assert "inside the report's 95% CI in 1 of 2 rows; 1 lie outside" in text and "**no**" in text
    assert "| x=1 | value | 0.9100 ± 0.0248 (n=3) | 0.9100 ± 0.0124 (n=3) | yes |" in text
    assert "`again`" in text and "--compare-to" in text


def test_compare_refuses_missing_or_unrelated_runs(tmp_path, tiny):
    report = _results(tmp_path / "a", {1: [0.9, 0.91]})
    with pytest.raises(UsageError, match="tiny.json does not exist"):
        reproduce.compare("tiny", report, tmp_path / "nothing")
    other = _results(tmp_path / "b", {3: [0.9, 0.91]})
    with pytest.raises(UsageError, match="no arm the report"):
        reproduce.compare("tiny", report, other)


def test_cli_compare_to(tmp_path, capsys, tiny):
    from keras_seminar.cli import main

    report = _results(tmp_path / "a", {1: [0.90, 0.91, 0.92]})
    rerun = _results(tmp_path / "b", {1: [0.91, 0.91, 0.91]})
    assert main(["experiment", "tiny", "--compare-to", str(report), "--out", str(rerun)]) == 0
    assert "tiny_reproduction.md" in capsys.readouterr().out
    assert main(["experiment", "tiny", "--compare-to", str(report)]) == 2
    assert "needs --out" in capsys.readouterr().err


def test_a_tensorflow_report_trained_before_the_reshuffle_fix_says_so():
    from keras_seminar.experiments import _report, _run

    tf = {"experiment": "sparsity", "environment": {"backend": "tensorflow"}}
    assert "Caveat (training order)" in _report._order_caveat(tf)[0] and "26179" in _report._order_caveat(tf)[0]
    assert _report._order_caveat({**tf, "epoch_order": _run.EPOCH_ORDER}) == []  # trained reshuffled
    assert _report._order_caveat({**tf, "environment": {"backend": "jax"}}) == []  # JAX reshuffled all along
    assert _report._order_caveat({**tf, "experiment": "information_plane"}) == []  # orders its data itself
