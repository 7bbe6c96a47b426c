"""Bayesian vs random search (trials to reach a target accuracy), and 4 workers vs 1 (trials/hour).

A CPU benchmark with a small model: softmax regression on the first `train_limit` real
Fashion-MNIST images, `epochs` epochs per trial, tuning learning rate, batch size and the
kernel regularizer (kind and strength). Question 1: how many trials does each tuner need
before its best validation accuracy reaches `target`, over several seeds (a run that never
gets there counts as `max_trials + 1`)? Question 2: how many trials per hour do 4 local
workers (chief + 4 processes over loopback gRPC) finish, against 1 worker, with the same
search? Worker start-up (each process imports Keras) is counted, as a user would see it.

    KERAS_BACKEND=tensorflow python benchmarks/tuning_bench.py            # ~10 min on 2 cores
    KERAS_BACKEND=tensorflow python benchmarks/tuning_bench.py --smoke    # CI: ~1 min, no file
    KERAS_BACKEND=jax python benchmarks/tuning_bench.py --workers-only --model cnn \
        --train-limit 10000 --out OUT.json      # GPU: 4 workers sharing one GPU vs 1 (gpu_suite.sh)

Writes benchmarks/results/tuning_cpu.json (unless --smoke) and prints the same JSON.
"""

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras_tuner  # noqa: E402
from keras_seminar.tuning.search import search  # noqa: E402

from keras_seminar.cli import _positive_int  # noqa: E402  (the CLI's argparse type)
from keras_seminar.saving import environment  # noqa: E402

CONFIG = {
    "model": "softmax",  # small on purpose: a CPU benchmark of the search, not of the model
    "dataset": "fashion_mnist",
    "train_limit": 2048,
    "val_limit": 1000,
    "epochs": 2,
    "fixed": {"nonneg": False},
    "space": {"regularizer": ["none", "l1", "l2", "l12"], "learning_rate": (1e-5, 1.0)},
    "target": 0.76,  # validation accuracy (the best softmax settings reach ~0.77-0.79 here)
    "max_trials": 12,
    "num_initial_points": 3,  # random trials before the Gaussian process
    "seeds": [0, 1, 2],
    "workers": [1, 4],
    "worker_trials": 12,  # trials of the timed distributed searches (random tuner)
}
SMOKE = {**CONFIG, "max_trials": 4, "seeds": [0], "worker_trials": 4, "workers": [1, 2],
         "train_limit": 512, "val_limit": 256, "epochs": 1}


def trials_to_target(rows, target, max_trials):
    """1-based index of the first trial whose best-so-far score reaches `target`."""
    best = float("-inf")
    for i, row in enumerate(sorted(rows, key=lambda r: int(r["trial_id"])), 1):
        if row["status"] == "COMPLETED":
            best = max(best, row["score"])
        if best >= target:
            return i
    return max_trials + 1


def run_tuner(config, tuner, seed, directory):
    result = search(config["model"], config["dataset"], tuner=tuner, max_trials=config["max_trials"],
                    epochs=config["epochs"], seed=seed, directory=directory,
                    train_limit=config["train_limit"], val_limit=config["val_limit"],
                    fixed=config["fixed"], space=config["space"],
                    num_initial_points=config["num_initial_points"], verbose=0)
    with open(os.path.join(result["project_dir"], "trials.csv")) as f:
        rows = [{**r, "score": float(r["score"] or "nan")} for r in csv.DictReader(f)]
    return {"seed": seed, "trials_to_target": trials_to_target(rows, config["target"], config["max_trials"]),
            "best": result["best"]["score"] if result["best"] else None,
            "scores": [round(r["score"], 4) for r in rows], "seconds": result["search_seconds"]}


def run_workers(config, workers, directory):
    start = time.perf_counter()
    result = search(config["model"], config["dataset"], tuner="random", max_trials=config["worker_trials"],
                    epochs=config["epochs"], seed=0, directory=directory,
                    project_name=f"workers{workers}", train_limit=config["train_limit"],
                    val_limit=config["val_limit"], fixed=config["fixed"], space=config["space"],
                    workers=workers, verbose=0)
    seconds = time.perf_counter() - start
    done = result["statuses"]["COMPLETED"] + result["statuses"]["FAILED"]
    return {"workers": workers, "trials": done, "seconds": round(seconds, 1),
            "trials_per_hour": round(3600 * done / seconds, 1),
            "per_worker": [w["trials"] for w in result["workers"]]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a minute-long run; writes no file")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "tuning_cpu.json"))
    parser.add_argument("--workers-only", action="store_true",
                        help="only the 1-vs-4-workers timing (question 2), e.g. on a GPU")
    parser.add_argument("--model", help=f"the searched model (default {CONFIG['model']})")
    parser.add_argument("--train-limit", type=_positive_int, help=f"default {CONFIG['train_limit']}")
    parser.add_argument("--trials", type=_positive_int, help=f"trials of each timed search (default "
                                                         f"{CONFIG['worker_trials']})")
    args = parser.parse_args(argv)
    config = dict(SMOKE if args.smoke else CONFIG)
    for key, value in (("model", args.model), ("train_limit", args.train_limit), ("worker_trials", args.trials)):
        if value is not None:
            config[key] = value
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tuners = {}
        for tuner in () if args.workers_only else ("bayesian", "random"):
            runs = [run_tuner(config, tuner, seed, os.path.join(tmp, tuner)) for seed in config["seeds"]]
            needed = [r["trials_to_target"] for r in runs]
            tuners[tuner] = {"runs": runs, "median_trials_to_target": statistics.median(needed),
                             "mean_trials_to_target": round(statistics.mean(needed), 2)}
        scaling = [run_workers(config, n, os.path.join(tmp, "workers")) for n in config["workers"]]
    speedup = scaling[-1]["trials_per_hour"] / scaling[0]["trials_per_hour"]
    env = environment()
    result = {
        "benchmark": "tuning", "device": env["device"] + (" (shared)" if env["device"].startswith("cpu") else ""),
        "backend": env["backend"], "versions": {
            "keras": env["keras"], "keras_tuner": keras_tuner.__version__, env["backend"]: env["backend_version"],
            "python": env["python"]},
        "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.items()},
        "tuners": tuners, "workers": scaling,
        "speedup": round(speedup, 2), "wall_seconds": round(time.perf_counter() - started, 1),
        "note": "Trials counted to target are 1-based; max_trials + 1 means never reached. "
                "Workers share the machine (CPU cores, or one GPU), so the speed-up is bounded by it, not N.",
    }
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if not args.smoke:
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
