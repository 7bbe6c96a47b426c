"""The benchmark scripts run end to end at smoke size and print well-formed JSON.

Ratios and speeds are never asserted here (CI machines are shared and noisy); the figures come
from full runs recorded in benchmarks/results/.
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(script, *args, timeout=300):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", script), *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _last_json(stdout):
    """The last complete JSON object printed (scripts may print one line per run first)."""
    start = stdout.rindex("\n{") + 1 if "\n{" in stdout else stdout.index("{")
    return json.loads(stdout[start:])


@pytest.mark.subprocess
def test_speed_smoke():
    summary = _last_json(_run("speed.py", "--smoke", "--model", "softmax", "--dataset", "mnist"))
    assert summary["backend"] and summary["device"].startswith(("cpu", "gpu"))
    run = summary["runs"][0]
    assert run["img_per_s"] > 0 and 0.0 <= run["accuracy"] <= 1.0
    assert run["cold_wall_seconds"] >= run["train_seconds"] > 0


@pytest.mark.subprocess
def test_speed_fused_ratio_smoke():
    summary = _last_json(_run("speed.py", "--smoke", "--model", "softmax", "--fused",
                              "--compare-unfused"))
    run = summary["runs"][0]
    assert summary["fused"] and run["unfused"]["img_per_s"] > 0
    assert summary["mean_speedup_vs_unfused"] == pytest.approx(run["img_per_s"] / run["unfused"]["img_per_s"])


@pytest.mark.subprocess
def test_layers_bench_smoke(tmp_path):
    # Every pair is measured, its summary is consistent with itself, and the verdict follows the
    # ratio; --out writes the same JSON that is printed. (Speeds themselves are not asserted.)
    out = tmp_path / "layers.json"
    summary = _last_json(_run("layers_bench.py", "--smoke", "--out", str(out)))
    assert json.loads(out.read_text()) == summary
    assert summary["config"]["steps"] == 2 and summary["backend"] == os.environ.get("KERAS_BACKEND", summary["backend"])
    names = set(summary["results"])
    assert {"Maxout vs Dense+Reshape+max", "L12 vs L1 (Dense 784-512-512-10)"} <= names and len(names) >= 7
    for name, result in summary["results"].items():
        cpu = result["cpu_time"]
        assert cpu["custom_ms_per_step"] > 0 and cpu["builtin_ms_per_step"] > 0, name
        low, high = cpu["ratio_min_max"]
        assert low <= cpu["ratio"] <= high, name
        assert result["meets_target"] == (cpu["ratio"] <= result["target"]), name


def _zoo_table():
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    try:
        import zoo_table
    finally:
        sys.path.pop(0)
    return zoo_table


def _record(model, dataset, seed, accuracy):
    return {"model": model, "dataset": dataset, "seed": seed, "epochs": 3, "train_seconds": 10.0,
            "test": {"accuracy": accuracy}, "environment": {"backend": "jax", "keras": "3.15.1"}}


def test_zoo_table_merges_runs_cards_and_committed_rows(tmp_path):
    # A fresh clone has no runs/: a seed left only as a shipped card (of a pair with other runs),
    # and a row left only in the committed zoo.json, must survive a regeneration; a card alone
    # makes no row (it would replace a committed two-seed row); a run's metrics beat its card.
    zoo_table = _zoo_table()
    runs, cards = tmp_path / "runs", tmp_path / "cards"
    (runs / "a_s1").mkdir(parents=True)
    cards.mkdir()
    (runs / "a_s1" / "metrics.json").write_text(json.dumps(_record("cnn", "mnist", 1, 0.99)))
    (cards / "cnn_mnist.json").write_text(json.dumps(_record("cnn", "mnist", 0, 0.98)))
    (cards / "notes.json").write_text(json.dumps({"unrelated": True}))
    (cards / "lstm_mnist.json").write_text(json.dumps(_record("lstm", "mnist", 0, 0.5)))
    rows = zoo_table.collect(str(runs), str(cards))
    assert [(r["model"], r["accuracy_per_seed"], r["mean_accuracy"]) for r in rows] == [
        ("cnn", [98.0, 99.0], 98.5)]
    assert rows[0]["met"] is False  # target 99.2
    previous = [{"dataset": "mnist", "model": "cnn", "mean_accuracy": 1.0},
                {"dataset": "mnist", "model": "lstm", "mean_accuracy": 98.5, "met": False}]
    merged = zoo_table.merge(rows, previous)
    assert [(r["model"], r["mean_accuracy"]) for r in merged] == [("cnn", 98.5), ("lstm", 98.5)]
    assert merged[1]["target"] == 98.8 and merged[1]["met"] is False
    (runs / "a_s0").mkdir()
    (runs / "a_s0" / "metrics.json").write_text(json.dumps(_record("cnn", "mnist", 0, 0.995)))
    assert zoo_table.collect(str(runs), str(cards))[0]["accuracy_per_seed"] == [99.5, 99.0]


def test_zoo_table_command_repeats_zoo_args():
    zoo_table = _zoo_table()
    runs = [_record("resnet20", "mnist", seed, 0.995) for seed in (0, 1)]
    for m in runs:
        m["environment"]["command"] = f"keras-seminar train --seed {m['seed']} --slim --quiet --epochs 10"
    assert zoo_table._zoo_args(runs) == 'ZOO_ARGS="--epochs 10" '
    runs[1]["environment"]["command"] = "keras-seminar train --seed 1 --slim --quiet"
    with pytest.raises(ValueError, match="different ZOO_ARGS"):
        zoo_table._zoo_args(runs)
    runs[0]["environment"]["command"] = "keras-seminar train --seed 0 --slim --quiet"
    assert zoo_table._zoo_args(runs) == ""


def test_plain_tutorial_cnn_smoke():
    record = _last_json(_run("plain_tutorial_cnn.py", "--epochs", "1", "--train-limit", "512",
                             "--test-limit", "256"))
    (epoch,) = record["epochs"]
    assert 0.1 < epoch["test_accuracy"] <= 1 and epoch["seconds_from_start"] > 0
    assert record["batch_size"] == 100 and record["dataset"] == "fashion_mnist"


def test_cpu_speed_reads_results_the_way_it_reports_them():
    import runpy

    cpu_speed = runpy.run_path(os.path.join(ROOT, "benchmarks", "cpu_speed.py"))
    out = 'resuming...\n{\n  "test": {"accuracy": 0.9}, "x": [1, {"y": 2}]\n}\nTest accuracy: 0.9\n'
    assert cpu_speed["_last_json"](out) == {"test": {"accuracy": 0.9}, "x": [1, {"y": 2}]}
    runs = [{"t": 3.0}, {"t": 1.0}, {"t": 2.0}]
    assert cpu_speed["_median"](runs, "t") == 2.0
    assert cpu_speed["_median"]([*runs, {"t": None}], "t") is None  # a seed that never got there


@pytest.mark.subprocess
def test_attack_speed_smoke():
    summary = _last_json(_run("attack_speed.py", "--steps", "2", "--repeats", "1", "--batch", "8"))
    assert summary["steps"] == 2 and summary["batch"] == 8 and summary["ms_per_step"] > 0
    assert summary["environment"]["backend"]
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "attack_speed.py"), "--steps", "0"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2 and "'steps': 0" in proc.stderr


@pytest.mark.slow  # two TensorFlow processes: ~45 s on an idle 2-core CPU
@pytest.mark.subprocess
def test_cpu_speed_moonshot_smoke(tmp_path):
    # The moonshot part end to end on 256 images, 1 epoch: the package run and the plain-Keras
    # net have the same parameter count, the overhead ratio is the package's training seconds
    # over the plain fit's, a run at chance carries the CLI's warning (exit status 3 is a
    # finished run), and the verdict follows the goal. (Accuracy and speed not asserted.)
    out = tmp_path / "moonshot.json"
    _run("cpu_speed.py", "--parts", "moonshot", "--seeds", "0", "--moonshot-epochs", "1",
         "--moonshot-limit", "256", "--out", str(out))
    moonshot = json.loads(out.read_text())["moonshot"]
    (run,) = moonshot["runs"]
    assert run["epochs"] == 1 and run["wall_seconds"] > run["train_seconds"] > 0
    assert "--model speedrun_cpu" in run["command"] and 0.0 <= run["test_accuracy"] <= 1.0
    if run["test_accuracy"] <= 0.12:
        assert any("at chance" in warning for warning in run["warnings"])
    plain = moonshot["plain_keras"]
    assert plain["images"] == 256 and len(plain["epoch_seconds"]) == 2
    from keras_seminar.models import build_model

    assert plain["params"] == build_model("speedrun_cpu").count_params()
    assert moonshot["plain_keras_seconds_for_the_same_epochs"] == plain["epoch_seconds"][0]
    assert moonshot["package_over_plain_per_epoch"] == pytest.approx(
        run["train_seconds"] / plain["epoch_seconds"][0], abs=1e-3)
    assert moonshot["goal_met"] is False  # 256 images for one epoch cannot reach 94%


def test_zoo_table_pending_rows_carry_their_cpu_estimate():
    # A pending GPU row says how long its recipe would take here; a model without a measured
    # epoch says nothing rather than a guess.
    zoo_table = _zoo_table()
    rows = zoo_table.pending_rows([], recipe_epochs=lambda model: 10)
    nin = next(r for r in rows if (r["dataset"], r["model"]) == ("mnist", "nin"))
    hours = 10 * zoo_table.CPU_EPOCH_RATIO["nin"] * 200 * 0.9 / 3600
    assert nin["cpu_estimate"].startswith(f"not trained: ≈ {hours:.1f} h on a 2-core CPU (recipe: 10 epochs")
    assert "not trained: ≈" in zoo_table.markdown(rows) and "GPU: `KERAS_BACKEND=jax" in zoo_table.markdown(rows)
    # NiN is queued on this CPU (its command resumes the background run); the Wide ResNets wait for a GPU
    assert nin["pending"] == "training on the CPU" and nin["command"].startswith("ZOO_RUNS_DIR=benchmarks/zoo_runs ")
    wrn = next(r for r in rows if r["model"] == "wrn28_10")
    assert wrn["pending"] == "needs GPU" and wrn["command"].startswith("KERAS_BACKEND=jax ")
    assert zoo_table.cpu_estimate("not_a_gpu_model", 10) is None


def test_readme_zoo_table_is_the_one_zoo_table_writes_from_the_committed_rows():
    zoo_table = _zoo_table()
    with open(os.path.join(ROOT, "benchmarks", "results", "zoo.json")) as f:
        rows = json.load(f)
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    assert zoo_table.replace_block(readme, zoo_table.readme_table(rows)) == readme
    table = zoo_table.readme_table(rows)  # every deep model has its row, trained or pending
    assert all(f"| `{m}` |" in table for m in zoo_table.README_MODELS)
    assert "| `resnet20` | Fashion-MNIST | 94.48 ✓ (94.43, 94.53) | 94.0 | 2.3 h, tensorflow |" in table


def test_readme_zoo_table_marks_a_missed_target_and_refuses_a_readme_without_its_place():
    zoo_table = _zoo_table()
    rows = [dict(dataset="mnist", model="nin", accuracy_per_seed=[99.1], mean_accuracy=99.1, target=99.4, met=False,
                 mean_train_seconds=9000.0, backend="tensorflow")]
    assert "| `nin` | MNIST | 99.10 ✗ (target not reached) (99.10) | 99.4 | 2.5 h, tensorflow |" in zoo_table.readme_table(rows)
    with pytest.raises(ValueError, match="Expected the lines <!-- zoo --> and <!-- /zoo -->"):
        zoo_table.replace_block("# README\n", "| table |\n")
    assert zoo_table.replace_block("a\n<!-- zoo -->\nold\n<!-- /zoo -->\nb", "new\n") == "a\n<!-- zoo -->\nnew\n<!-- /zoo -->\nb"
