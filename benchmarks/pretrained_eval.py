"""Every shipped model in saved_models/ evaluated on its full test set, beside its card's figure.

Shows that the cards describe their weights on the machine and backend it runs on (e.g. the
CPU-trained models on a GPU with JAX): one JSON object with the environment and, per model,
the accuracy measured here, the card's, and their difference in points.

    KERAS_BACKEND=jax python benchmarks/pretrained_eval.py --out OUT.json   # gpu_suite.sh first
    python benchmarks/pretrained_eval.py --limit 256                        # a quick look
"""

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from keras_seminar.saving import environment  # noqa: E402
from keras_seminar.training import evaluate_saved  # noqa: E402

SAVED = Path(__file__).resolve().parent.parent / "saved_models"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, help="first N test images (default: all)")
    p.add_argument("--models", nargs="+", help="file stems, e.g. resnet20_mnist (default: every one)")
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args(argv)
    stems = args.models or sorted(f.stem for f in SAVED.glob("*.keras") if f.with_suffix(".json").exists())
    missing = [s for s in stems if not (SAVED / f"{s}.keras").exists()]
    if missing:
        p.error(f"no saved_models/NAME.keras for {missing}; shipped: "
                f"{sorted(f.stem for f in SAVED.glob('*.keras'))}")
    rows = []
    for stem in stems:
        t0 = time.perf_counter()
        r = evaluate_saved(str(SAVED / f"{stem}.keras"), limit=args.limit)
        card = r["card_accuracy"]
        rows.append({"model": stem, "examples": r["examples"], "accuracy": round(r["accuracy"], 4),
                     "card_accuracy": card, "seconds": round(time.perf_counter() - t0, 1),
                     # the card's figure is on the full test set: a slice is not compared with it
                     "difference_points": None if card is None or args.limit else
                     round(100 * (r["accuracy"] - card), 2)})
        print(json.dumps(rows[-1]), flush=True)
    result = {"benchmark": "pretrained_eval", **environment(), "models": rows}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
