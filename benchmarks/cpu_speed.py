"""CPU time-to-accuracy, side by side with plain Keras, as JSON (the README's "Speed on a CPU").

Every figure is the wall time of a fresh process, from its start (interpreter, imports, data,
compilation, training, evaluation and, for the package, saving the model and its card) to the
accuracy it reports; median over seeds. Parts (all but moonshot by default):

    plain    benchmarks/plain_tutorial_cnn.py (the TF-tutorial CNN, plain Keras, batch 100,
             Adam 1e-3), test accuracy after every epoch: time to 91% and to 92%
    fast     `keras-seminar train --model fast_cnn --validation-split 0 --epochs 3`: the
             package's time to 91%
    default  `keras-seminar train` exactly as README's command A runs it (the default model)
    mnist    the same on MNIST (target 99.0%)
    backends the zoo's training time on JAX against TensorFlow (one epoch of 12k images)
    moonshot `keras-seminar train --model speedrun_cpu --validation-split 0` (its full recipe):
             test accuracy and wall time per seed against the goal (>= 94.0% median, lowest
             seed >= 93.8%, <= 30 min from process start), and the same architecture written
             plainly in Keras (benchmarks/plain_speedrun_cpu.py) timed in the same run: the
             package's per-epoch overhead (target <= 1.05x)

    python benchmarks/cpu_speed.py --seeds 0 1 2 --out benchmarks/results/cpu_speed.json
    python benchmarks/cpu_speed.py --parts plain fast --seeds 0
    python benchmarks/cpu_speed.py --parts moonshot --seeds 0 1 2 --out benchmarks/results/cpu_speed_moonshot.json

Run it on an otherwise idle machine: it measures wall time.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PARTS = ("plain", "fast", "default", "mnist", "backends", "moonshot")
FAST = ["--model", "fast_cnn", "--validation-split", "0"]
MOONSHOT = ["--model", "speedrun_cpu", "--dataset", "fashion_mnist", "--validation-split", "0"]
MOONSHOT_GOAL = {"median_test_accuracy": 0.94, "min_test_accuracy": 0.938, "wall_seconds": 1800}
BACKEND_MODELS = ("cnn", "lenet5", "fast_cnn", "speedrun_small")


def _run(cmd, env=None, ok=(0,)):
    """(seconds from process start to exit, stdout, stderr) of `cmd`; raises with its stderr on
    failure (an exit status outside `ok`)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})})
    seconds = time.perf_counter() - start
    if proc.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return seconds, proc.stdout, proc.stderr


def _last_json(stdout):
    """The last JSON object a command printed (the CLI prints its summary last)."""
    end = stdout.rindex("}") + 1
    depth = 0
    for i in range(end - 1, -1, -1):
        depth += {"}": 1, "{": -1}.get(stdout[i], 0)
        if depth == 0:
            return json.loads(stdout[i:end])
    raise ValueError("no JSON object in the output")


def _train(args, seed, tmp, backend=None):
    """`keras-seminar train ARGS` in a fresh process: wall seconds, test accuracy, train seconds."""
    run_name = f"bench_{seed}_{time.monotonic_ns()}"
    cmd = [sys.executable, "-m", "keras_seminar", "train", *args, "--seed", str(seed), "--quiet",
           "--run-name", run_name, "--runs-dir", os.path.join(tmp, "runs"),
           "--models-dir", os.path.join(tmp, "models")]
    # Exit status 3: trained and saved, with warnings (e.g. a smoke run's accuracy at chance).
    seconds, stdout, stderr = _run(cmd, {"KERAS_BACKEND": backend} if backend else None, ok=(0, 3))
    summary = _last_json(stdout)
    warnings = [line.split(": warning: ", 1)[1] for line in stderr.splitlines()
                if line.startswith("keras-seminar: warning: ")]
    return {"seed": seed, "wall_seconds": round(seconds, 2), "warnings": warnings,
            "test_accuracy": summary["test"]["accuracy"],
            "train_seconds": round(summary["train_seconds"], 2),
            "epochs": summary.get("epochs"),
            # The 1/5/15-minute load averages as it ended: how idle "idle" was.
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "command": "keras-seminar train " + " ".join(args)}


def _plain(dataset, seed, epochs):
    cmd = [sys.executable, os.path.join(HERE, "plain_tutorial_cnn.py"), "--dataset", dataset,
           "--epochs", str(epochs), "--seed", str(seed)]
    record = _last_json(_run(cmd, {"KERAS_BACKEND": "tensorflow"})[1])
    for target in (0.91, 0.92, 0.99):
        hit = [e for e in record["epochs"] if e["test_accuracy"] >= target]
        record[f"seconds_to_{target}"] = round(hit[0]["seconds_from_start"], 2) if hit else None
    return record


def _moonshot(seeds, epochs=None, limit=None, tmp=None):
    """The moonshot runs, the plain-Keras epoch of the same net, and the verdicts."""
    extra = (["--epochs", str(epochs)] if epochs else []) + (
        ["--train-limit", str(limit), "--test-limit", str(limit)] if limit else [])
    runs = [_train(MOONSHOT + extra, s, tmp) for s in seeds]
    cmd = [sys.executable, os.path.join(HERE, "plain_speedrun_cpu.py"), "--epochs", "2",
           "--seed", str(seeds[0])] + (["--train-limit", str(limit)] if limit else [])
    plain = _last_json(_run(cmd, {"KERAS_BACKEND": "tensorflow"})[1])
    first, steady = plain["epoch_seconds"][:2]
    epochs_run = runs[0]["epochs"]
    # Both sides pay one compilation: the package's training seconds over the plain fit's
    # first epoch plus (epochs - 1) steady ones.
    plain_run = first + (epochs_run - 1) * steady
    record = {"runs": runs, "median_wall_seconds": _median(runs, "wall_seconds"),
              "median_test_accuracy": _median(runs, "test_accuracy"),
              "min_test_accuracy": min(r["test_accuracy"] for r in runs), "goal": MOONSHOT_GOAL,
              "plain_keras": plain, "plain_keras_seconds_for_the_same_epochs": round(plain_run, 2),
              "package_over_plain_per_epoch": round(_median(runs, "train_seconds") / plain_run, 3)}
    record["goal_met"] = (record["median_test_accuracy"] >= MOONSHOT_GOAL["median_test_accuracy"]
                          and record["min_test_accuracy"] >= MOONSHOT_GOAL["min_test_accuracy"]
                          and max(r["wall_seconds"] for r in runs) <= MOONSHOT_GOAL["wall_seconds"])
    return record


def _median(records, key):
    values = [r[key] for r in records]
    return None if any(v is None for v in values) else round(statistics.median(values), 4)


def environment():
    import keras

    versions = {"keras": keras.__version__, "python": platform.python_version()}
    for name in ("tensorflow", "jax"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            pass
    with open("/proc/cpuinfo") if os.path.exists("/proc/cpuinfo") else open(os.devnull) as f:
        model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                     platform.processor())
    return {"cpu": model, "cpus": os.cpu_count(), "machine": platform.machine(), **versions,
            "command": " ".join(["python", "benchmarks/cpu_speed.py", *sys.argv[1:]])}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", nargs="+", choices=PARTS,
                   default=[part for part in PARTS if part != "moonshot"])  # moonshot: 1.5 h
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--plain-epochs", type=int, default=6, help="plain Keras epochs (92%% needs ~6)")
    p.add_argument("--fast-epochs", type=int, default=3,
                   help="epochs of the fast and mnist parts (fast_cnn's recipe says 10)")
    p.add_argument("--moonshot-epochs", type=int, help="moonshot epochs (default: the recipe's)")
    p.add_argument("--moonshot-limit", type=int,
                   help="moonshot on the first N train and test images (smoke runs only)")
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args(argv)
    result = {"environment": environment(), "seeds": args.seeds}
    with tempfile.TemporaryDirectory() as tmp:
        if "plain" in args.parts:
            runs = [_plain("fashion_mnist", s, args.plain_epochs) for s in args.seeds]
            result["plain"] = {"runs": runs, "median_seconds_to_0.91": _median(runs, "seconds_to_0.91"),
                               "median_seconds_to_0.92": _median(runs, "seconds_to_0.92")}
            print(json.dumps({"plain": result["plain"]}), flush=True)
        fast_args = FAST + ["--epochs", str(args.fast_epochs)]
        for part, train_args in (("fast", fast_args), ("default", []),
                                 ("mnist", fast_args + ["--dataset", "mnist"])):
            if part in args.parts:
                runs = [_train(train_args, s, tmp) for s in args.seeds]
                result[part] = {"runs": runs, "median_wall_seconds": _median(runs, "wall_seconds"),
                                "median_test_accuracy": _median(runs, "test_accuracy"),
                                "min_test_accuracy": min(r["test_accuracy"] for r in runs)}
                print(json.dumps({part: result[part]}), flush=True)
        if "plain" in result and "fast" in result and result["plain"]["median_seconds_to_0.91"]:
            result["fast_over_plain_time_to_0.91"] = round(
                result["fast"]["median_wall_seconds"] / result["plain"]["median_seconds_to_0.91"], 3)
        if "backends" in args.parts:
            table = {}
            for model in BACKEND_MODELS:
                row = {}
                for backend in ("tensorflow", "jax"):
                    runs = [_train(["--model", model, "--epochs", "1", "--train-limit", "12000",
                                    "--test-limit", "2000"], s, tmp, backend) for s in args.seeds]
                    row[backend] = _median(runs, "train_seconds")
                row["jax_over_tensorflow"] = round(row["jax"] / row["tensorflow"], 3)
                table[model] = row
                print(json.dumps({model: row}), flush=True)
            result["backends"] = table
        if "moonshot" in args.parts:
            result["moonshot"] = _moonshot(args.seeds, args.moonshot_epochs, args.moonshot_limit, tmp)
            print(json.dumps({"moonshot": result["moonshot"]}), flush=True)
    print(json.dumps(result, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
