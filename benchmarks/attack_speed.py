"""Time of one PGD step of `keras_seminar.adversarial.pgd`, as JSON on stdout.

The 784-256-10 MLP of the robustness experiment, MNIST-shaped inputs, a batch of 256 images:
after a warm-up call (compiling), `--repeats` calls of PGD with `--steps` steps; the figure is
the median milliseconds per step and batch. Compare commits with the same backend and load:

    KERAS_BACKEND=jax python benchmarks/attack_speed.py
    KERAS_BACKEND=tensorflow python benchmarks/attack_speed.py --steps 40 --repeats 5

It measures wall time: run it on an otherwise idle machine, or say how loaded it was.
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args(argv)
    if args.steps < 1 or args.repeats < 1 or args.batch < 1:
        parser.error(f"Expected positive --steps, --repeats and --batch. Received: {vars(args)}")
    import keras
    import numpy as np

    from keras_seminar import adversarial, saving
    from keras_seminar.models import build_model

    keras.utils.set_random_seed(0)
    model = build_model("mlp", hidden=(256,))
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(args.batch, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, args.batch)
    start = time.perf_counter()
    adversarial.pgd(model, x, y, 0.1, steps=args.steps, batch_size=args.batch)
    first = time.perf_counter() - start
    times = []
    for seed in range(args.repeats):
        start = time.perf_counter()
        adversarial.pgd(model, x, y, 0.1, steps=args.steps, batch_size=args.batch, seed=seed)
        times.append(time.perf_counter() - start)
    print(json.dumps({"ms_per_step": round(1000 * statistics.median(times) / args.steps, 2),
                      "first_call_s": round(first, 2), "steps": args.steps, "batch": args.batch,
                      "repeats": args.repeats, "load_average": os.getloadavg()[0],
                      "environment": saving.environment()}, indent=1))


if __name__ == "__main__":
    main()
