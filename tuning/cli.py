"""`keras-seminar tune`: the `tune` subcommand, registered through the `keras_seminar.commands`
entry point (see keras_seminar.cli._plugins).

Example:
    keras-seminar tune --model cnn --dataset fashion_mnist --max-trials 20 --epochs 3
    keras-seminar tune --model softmax --tuner random --workers 4 --train-limit 5000
"""

import json

from keras_seminar.cli import _json_dict, _nonneg_int, _positive_int

__all__ = ["add_command", "run"]


def add_command(subparsers):
    from keras_seminar.tuning.config import TUNERS

    from keras_seminar import datasets

    p = subparsers.add_parser("tune", help="KerasTuner search over a zoo model (resumable, distributed)")
    p.add_argument("--model", default="cnn", help="model name (see `keras-seminar models`)")
    p.add_argument("--dataset", default="fashion_mnist", choices=sorted(datasets.DATASETS))
    p.add_argument("--tuner", default="bayesian", choices=TUNERS)
    p.add_argument("--max-trials", type=_positive_int, default=10)
    p.add_argument("--epochs", type=_positive_int, help="epochs per trial (default: the recipe's)")
    p.add_argument("--seed", type=_nonneg_int, default=0)
    p.add_argument("--directory", default="tuning_runs")
    p.add_argument("--project-name", help="a folder name in --directory (letters, digits, _ . -); "
                                          "default: <model>_<dataset>_<tuner>_s<seed> (re-run to resume)")
    p.add_argument("--train-limit", type=_positive_int, help="use the first N training images")
    p.add_argument("--val-limit", type=_positive_int, help="use the first N validation images")
    p.add_argument("--data-dir")
    p.add_argument("--workers", type=_nonneg_int, default=0,
                   help="run a chief and N worker processes on this machine (loopback gRPC)")
    p.add_argument("--fixed", type=_json_dict, default=None,
                   help='hyperparameters to hold, e.g. \'{"dropout": 0.5}\'')
    p.add_argument("--space", type=_json_dict, default=None,
                   help='restricted ranges/choices, e.g. \'{"learning_rate": [1e-4, 1e-2]}\' '
                        '(a two-number list is a range for continuous hyperparameters)')
    p.add_argument("--overwrite", action="store_true", help="start over instead of resuming")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run)
    return p


def run(args):
    from keras_seminar.tuning.hypermodels import json_space
    from keras_seminar.tuning.search import search

    space = json_space(args.model, args.space)
    result = search(args.model, args.dataset, tuner=args.tuner, max_trials=args.max_trials,
                    epochs=args.epochs, seed=args.seed, directory=args.directory,
                    project_name=args.project_name, train_limit=args.train_limit,
                    val_limit=args.val_limit, data_dir=args.data_dir, fixed=args.fixed,
                    space=space, workers=args.workers, overwrite=args.overwrite,
                    verbose=0 if args.quiet else 1)
    if result.get("role") == "worker":
        return
    summary = {k: result.get(k) for k in ("project_dir", "trials", "statuses", "best", "model_path",
                                          "search_seconds", "workers") if k in result}
    print(json.dumps(summary, indent=2))
    print(f"TensorBoard HParams: tensorboard --logdir {result['project_dir']}/tensorboard")
