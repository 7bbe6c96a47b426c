"""Result files and the protocol's promises, on `tiny` (a registered experiment that trains
nothing): one validating loader on resume, --render and --compare-to; a partial of another
configuration refused, never discarded; a finished experiment reported, not rewritten; --restart
keeps the old files aside; a line per finished run, and one when resuming."""

import json
import os

import pytest
from keras_seminar.experiments import _protocol, _results, _run, reproduce

from keras_seminar.errors import RunConflict, UsageError


def _snapshot(folder):
    return {f: open(os.path.join(folder, f), "rb").read() for f in sorted(os.listdir(folder))
            if os.path.isfile(os.path.join(folder, f))}


def test_a_run_resumes_and_says_so(tiny, tmp_path, capsys):
    _run.run_experiment("tiny", out=tmp_path)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["1/4 x=1, seed 0", "2/4 x=2, seed 0", "3/4 x=1, seed 1",
                                                      "4/4 x=2, seed 1"]
    assert lines[1].startswith("2/4 x=2, seed 0: value 20, ") and " s, ETA " in lines[1]
    finished = json.load(open(tmp_path / "tiny.json"))
    # Killed after two runs: the partial holds them, and the same command trains only the rest.
    partial = {"fingerprint": _results.fingerprint(finished), "records": finished["runs"][:2],
               "meta": {k: v for k, v in finished.items() if k not in ("runs", "wall_seconds")}}
    os.remove(tmp_path / "tiny.json")
    (tmp_path / "tiny.partial.json").write_text(json.dumps(partial))
    tiny.trained.clear()
    _run.run_experiment("tiny", out=tmp_path)
    out = capsys.readouterr().out
    assert out.startswith(f"resuming: 2/4 runs done ({tmp_path}/tiny.partial.json)\n3/4 x=1, seed 1: value 11")
    assert tiny.trained == [(1, 1), (2, 1)] and not (tmp_path / "tiny.partial.json").exists()
    assert "it resumed 2 earlier runs" in open(tmp_path / "tiny.md").read()


def test_quiet_prints_no_progress(tiny, tmp_path, capsys):
    from keras_seminar.cli import main

    assert main(["experiment", "tiny", "--out", str(tmp_path), "--quiet"]) == 0
    assert capsys.readouterr().out == f"Report: {tmp_path}/tiny.md\n"


def test_a_finished_experiment_is_reported_and_nothing_rewritten(tiny, tmp_path, capsys):
    from keras_seminar.cli import main

    _run.run_experiment("tiny", out=tmp_path, verbose=False)
    before, tiny.trained[:] = _snapshot(tmp_path), []
    assert main(["experiment", "tiny", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "tiny is finished (4 runs in" in captured.err and "nothing was trained or rewritten" in captured.err
    assert tiny.trained == [] and _snapshot(tmp_path) == before and "Report:" in captured.out


@pytest.mark.parametrize("finished", [True, False])
def test_a_reused_out_of_another_configuration_is_refused_then_restart_keeps_it_aside(
        finished, tiny, tmp_path, capsys):
    from keras_seminar.cli import main

    _run.run_experiment("tiny", out=tmp_path, verbose=False)
    if not finished:  # a killed run: its partial holds finished runs
        done = json.load(open(tmp_path / "tiny.json"))
        os.remove(tmp_path / "tiny.json")
        (tmp_path / "tiny.partial.json").write_text(json.dumps({
            "fingerprint": _results.fingerprint(done), "meta": done, "records": done["runs"][:3]}))
    before = _snapshot(tmp_path)
    assert main(["experiment", "tiny", "--out", str(tmp_path), "--set", "xs=1,3"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "of another configuration (xs=[1, 2] there, [1, 3] here); use another --out, or pass --restart" in err
    assert _snapshot(tmp_path) == before  # nothing deleted or rewritten
    assert main(["experiment", "tiny", "--out", str(tmp_path), "--set", "xs=1,3", "--restart"]) == 0
    aside = [f for f in os.listdir(tmp_path) if f.startswith("tiny.old-")]
    assert len(aside) == 1 and _snapshot(tmp_path / aside[0]) == before  # every old file kept, renamed
    assert json.load(open(tmp_path / "tiny.json"))["config"]["xs"] == [1, 3]
    if finished:  # the kept folder still renders
        assert _run.render("tiny", tmp_path / aside[0])


def _bad_files():
    good = {"experiment": "tiny", "title": "Tiny", "question": "?", "config": {"xs": [1], "seeds": 1},
            "seeds": [0], "environment": {"backend": "jax"}, "runs": [{"arm": {"x": 1}, "seed": 0, "value": 10.0}]}
    return {"truncated": json.dumps(good)[:40], "empty": "", "list": "[]", "object": "{}",
            "no runs": json.dumps({k: v for k, v in good.items() if k != "runs"}),
            "bad record": json.dumps({**good, "runs": [{"arm": {"x": 1}}]}),
            "bad config": json.dumps({**good, "config": {"xs": ["a"]}}),
            "record lacks a field": json.dumps({**good, "runs": [{"arm": {"x": 1}, "seed": 0}]}),
            "deep": "[" * 100_000 + "]" * 100_000}


@pytest.mark.parametrize("kind", list(_bad_files()))
@pytest.mark.parametrize("use", ["render", "resume", "compare", "render partial", "resume partial"])
def test_a_bad_result_file_is_one_line_naming_it_and_nothing_is_touched(kind, use, tiny, tmp_path, capsys):
    from keras_seminar.cli import main

    text = _bad_files()[kind]
    if use.endswith("partial"):  # the same content as a partial file
        saved = json.loads(text) if kind not in ("truncated", "empty", "deep") else None
        if isinstance(saved, dict) and saved:
            runs = saved.pop("runs", None)
            text = json.dumps({"fingerprint": {}, "meta": saved, **({"records": runs} if runs else {})})
        (tmp_path / "tiny.partial.json").write_text(text)
    else:
        (tmp_path / "tiny.json").write_text(text)
    before = _snapshot(tmp_path)
    command = {"render": ["--render"], "resume": [], "compare": ["--compare-to", str(tmp_path)]}[use.split()[0]]
    other = tmp_path / "rerun"
    if use == "compare":  # a good rerun compared to the bad report
        _run.run_experiment("tiny", scale="smoke", seeds=1, out=other, verbose=False)
        command += ["--out", str(other)]
    else:
        command += ["--out", str(tmp_path)]
    status = main(["experiment", "tiny", *command])
    err = capsys.readouterr().err
    if use == "resume" and kind in ("record lacks a field", "bad config"):
        # Refused by its fingerprint: this finished file's config differs from the command's.
        assert status == 2 and "of another configuration" in err
    else:
        assert status == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert str(tmp_path / "tiny") in err and ("restore it" in err or "move it aside" in err), err
    assert _snapshot(tmp_path) == before and tiny.trained == ([(1, 0)] if use == "compare" else [])


def test_compare_reads_through_the_loader(tiny, tmp_path):
    _run.run_experiment("tiny", out=tmp_path / "a", verbose=False)
    _run.run_experiment("tiny", out=tmp_path / "b", verbose=False)
    assert "in 2 of 2 rows" in open(reproduce.write("tiny", tmp_path / "a", tmp_path / "b")).read()
    (tmp_path / "b" / "tiny.json").write_text("{}")
    with pytest.raises(UsageError, match="tiny.json lacks its 'experiment' field; restore it"):
        reproduce.compare("tiny", tmp_path / "a", tmp_path / "b")


def test_register_and_the_protocol_defaults(tiny, monkeypatch):
    monkeypatch.setattr(_protocol, "_REGISTRY", {})

    class Other(type(tiny)):
        name = "other"

    assert _protocol.register(Other) is Other and _protocol.get("other").name == "other"
    with pytest.raises(TypeError, match="Experiment subclass"):
        _protocol.register(object)
    with pytest.raises(UsageError, match="Expected xs to be a non-empty tuple"):
        _protocol.register(type("Bad", (type(tiny),), {"name": "bad", "smoke": {"xs": ()}}))
    base = _protocol.Experiment()  # documented no-ops
    assert base.arms(None) == [] and list(base.plan(None, [0])) == [] and base.summary(None) == {}
    assert base.check(None) is None and base.render(None, {}, None) is None
    with pytest.raises(NotImplementedError):
        base.run_arm(None, {}, 0, None)


def test_records_of_another_fingerprint_are_refused_not_discarded(tmp_path):
    path = str(tmp_path / "x.partial.json")
    meta = {"experiment": "x", "title": "X", "question": "?", "config": {"a": 1}, "seeds": [0], "environment": {}}
    runs = _results.Runs(path, {"config": {"a": 1}}, meta=meta)
    runs.add({"depth": 1, "eps": (0.1,)}, 0, accuracy=0.5)
    again = _results.Runs(path, {"config": {"a": 1}}, meta=dict(meta))
    assert again.get({"depth": 1, "eps": (0.1,)}, 0)["accuracy"] == 0.5
    assert again.get({"depth": 1, "eps": (0.1,)}, 1) is None
    with pytest.raises(RunConflict, match=r"1 finished runs of another configuration \(a=1 there, 2 here\)"):
        _results.Runs(path, {"config": {"a": 2}})
    assert len(json.load(open(path))["records"]) == 1


def test_a_second_run_into_the_same_folder_is_refused(tiny, tmp_path):
    from keras_seminar import _io
    from keras_seminar.errors import LockedError

    with _io.FileLock(tmp_path / "tiny"):
        with pytest.raises(LockedError, match="in use by process"):
            _run.run_experiment("tiny", out=tmp_path)
    assert not (tmp_path / "tiny.json").exists() and tiny.trained == []
