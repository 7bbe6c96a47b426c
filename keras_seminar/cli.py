"""`keras-seminar`: train, evaluate, list models, prepare data, tune and run experiments.

A user's mistake (unknown name, bad number, missing, corrupted or unwritable file, a run that
disagrees with its backup, a lock held by another run) ends with one clear line on stderr and
exit status 2, never a traceback. A run that diverged, or finished without learning (loss rose,
accuracy at chance), ends with exit status 3; its files say so.
"""

import argparse
import json
import sys

__all__ = ["add_train_arguments", "backend_notice", "build_parser", "COMMANDS", "keras_backend",
           "main"]


def _number(convert, accept, expected):
    """An argparse type: `convert(text)`, kept only when `accept(value)`; else an error naming
    what was expected and what came."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


_positive_int = _number(int, lambda v: v >= 1, "a positive integer")
_nonneg_int = _number(int, lambda v: v >= 0, "an integer >= 0")
_positive_float = _number(float, lambda v: 0 < v < float("inf"), "a positive finite number")
_fraction = _number(float, lambda v: 0 <= v <= 0.5, "a number in [0, 0.5]")


def _names(text):
    return tuple(n.strip() for n in text.split(",") if n.strip())


def _json_dict(text):
    try:
        value = json.loads(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r} ({e})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


def _dataset_names():
    from keras_seminar import datasets

    return tuple(sorted(datasets.DATASETS))


def add_train_arguments(p):
    from keras_seminar.callbacks.monitors import MONITORS
    from keras_seminar.training import PRECISIONS

    p.add_argument("--model", default="fast_cnn", help="model name (see `keras-seminar models`; default fast_cnn)")
    p.add_argument("--dataset", default="fashion_mnist", choices=_dataset_names())
    p.add_argument("--epochs", type=_positive_int, help="default: the model's recipe")
    p.add_argument("--batch-size", type=_positive_int, help="default: the model's recipe")
    p.add_argument("--lr", type=_positive_float, dest="learning_rate", help="peak learning rate")
    p.add_argument("--seed", type=_nonneg_int, default=0)
    p.add_argument("--validation-split", type=_fraction, default=0.1)
    p.add_argument("--run-name", help="default: <model>_<dataset>_s<seed> (re-run to resume a "
                                      "killed run, or to add epochs to a finished one)")
    p.add_argument("--runs-dir", default="runs", help="TensorBoard logs, backups, metrics")
    p.add_argument("--models-dir", help="where NAME.keras and its card go (default: the run's "
                                        "folder, runs/NAME/; saved_models/ holds shipped models)")
    p.add_argument("--data-dir", help="prepared data (default $KERAS_SEMINAR_DATA or ~/.keras_seminar/data)")
    p.add_argument("--no-resume", dest="resume", action="store_false", help="start over")
    p.add_argument("--train-limit", type=_positive_int, help="use the first N training images")
    p.add_argument("--test-limit", type=_positive_int, help="use the first N test images")
    p.add_argument("--options", type=_json_dict, default={}, dest="model_options",
                   help='builder options as JSON, e.g. \'{"kernel_regularizer": "l12"}\'')
    p.add_argument("--monitors", type=_names, default=(),
                   help=f"comma-separated: {','.join(MONITORS)}")
    p.add_argument("--distribute", action="store_true",
                   help="data-parallel on every GPU (or CPU device): JAX DataParallel / TF MirroredStrategy")
    p.add_argument("--steps-per-execution", type=_positive_int, default=None,
                   help="train steps per compiled call (default: 16 on TensorFlow, else 1; with "
                        "--fused a whole epoch)")
    p.add_argument("--fused", action="store_true",
                   help="training set resident on the device, --steps-per-execution steps (default: "
                        "a whole epoch) per compiled call; one device")
    p.add_argument("--tta", action=argparse.BooleanOptionalAction, default=None,
                   help="test-time augmentation: average each test image with its mirror image "
                        "(Fashion-MNIST; not digits). Default: the model's recipe")
    p.add_argument("--compile-cache", help="JAX persistent compilation cache folder")
    p.add_argument("--precision", default="float32", choices=PRECISIONS)
    p.add_argument("--slim", action="store_true",
                   help="save without optimizer state (1/3 of the size; re-compile to train on)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-seminar", description=__doc__.splitlines()[0],
        epilog="The Keras backend comes from $KERAS_BACKEND (tensorflow, jax, torch), e.g. "
               "`KERAS_BACKEND=jax keras-seminar train`.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train, evaluate and save a model")
    add_train_arguments(p)

    p = sub.add_parser("evaluate", help="test accuracy of a saved .keras model or a shipped one")
    p.add_argument("path", help="a .keras file, or a shipped model's name <model>_<dataset> "
                                "(e.g. fast_cnn_fashion_mnist; see `keras-seminar models`)")
    p.add_argument("--dataset", choices=_dataset_names(), help="default: the one on the model card")
    p.add_argument("--data-dir")
    p.add_argument("--limit", type=_positive_int, help="use the first N test images")
    p.add_argument("--no-card", action="store_true",
                   help="load a model that has no model card (nothing is checked; a warning says so)")

    p = sub.add_parser("data", help="import the offline data sets")
    data_sub = p.add_subparsers(dest="data_command", required=True)
    q = data_sub.add_parser("prepare", help="import and verify MNIST / Fashion-MNIST")
    q.add_argument("names", nargs="*", choices=[[], *_dataset_names()], default=[],
                   help="default: both")
    q.add_argument("--source", help="an explicit copy to import (one data set only)")
    q.add_argument("--data-dir")
    q.add_argument("--force", action="store_true")
    q = data_sub.add_parser("info", help="where each data set is found")
    q.add_argument("--data-dir")

    sub.add_parser("models", help="list the models, with the data sets they have weights for")
    for plugin in _plugins():
        try:
            add_command = plugin.load()
        except ImportError as e:  # e.g. keras-tuner missing from a hand-made environment
            print(f"keras-seminar: the '{plugin.name}' command is unavailable ({e})", file=sys.stderr)
            continue
        add_command(sub)
    return parser


def _plugins():
    """Subcommands that live on top of the package (`tune` in `keras_seminar.tuning`,
    `experiment` in `keras_seminar.experiments`; the repository's tuning/ and experiments/),
    found through the `keras_seminar.commands` entry-point group so that the core package never
    imports them. Each entry point is `add_command(subparsers)`, which
    adds a subparser and sets `func=<callable(args)>` on it with `set_defaults`."""
    from importlib.metadata import entry_points

    return sorted(entry_points(group="keras_seminar.commands"), key=lambda e: e.name)


def keras_backend():
    import keras

    return keras.backend.backend()


def backend_notice():
    """Prints `_backend_choice.notice` (the backend in use, when the user did not choose it or
    when a faster one is installed) as one stderr line."""
    import os

    import keras

    from keras_seminar.backend import choice as _backend_choice
    from keras_seminar.backend import on_cpu

    line = _backend_choice.notice(keras.backend.backend(), on_cpu(),
                                  user_chose=bool(os.environ.get("KERAS_BACKEND"))
                                  and _backend_choice.chosen()[0] is None)
    if line:
        print(f"keras-seminar: {line}", file=sys.stderr)


def _cmd_train(args):
    from keras_seminar.training import TrainConfig, train

    backend_notice()

    fields = {k: v for k, v in vars(args).items()
              if k in TrainConfig.__dataclass_fields__ and v is not None}
    result = train(TrainConfig(**fields, verbose=0 if args.quiet else "auto"))
    summary = {k: result.get(k) for k in ("run_name", "model", "dataset", "seed", "epochs",
                                          "test", "train_seconds", "model_path", "sha256")}
    summary["backend"] = keras_backend()
    print(json.dumps(summary, indent=2))
    print(f"Test accuracy: {result['test']['accuracy']:.4f}  "
          f"(TensorBoard: tensorboard --logdir {args.runs_dir})")
    for warning in result.get("warnings") or ():
        print(f"keras-seminar: warning: {warning}", file=sys.stderr)
    return 3 if result.get("warnings") else 0


def _cmd_evaluate(args):
    import os

    from keras_seminar.models import _pretrained
    from keras_seminar.training import evaluate_saved

    path = args.path
    if "." not in path and os.sep not in path and not os.path.exists(path):  # a shipped model's name
        path = _pretrained.pretrained_path(*_pretrained.split_name(path))
    print(json.dumps(evaluate_saved(path, args.dataset, args.data_dir, args.limit,
                                    require_card=not args.no_card), indent=2))


def _cmd_data(args):
    from keras_seminar import datasets

    if args.data_command == "prepare":
        names = args.names or list(_dataset_names())
        if args.source and len(names) != 1:
            raise ValueError("--source imports one data set: name it, e.g. `data prepare mnist --source F`.")
        for name in names:
            datasets.prepare(name, source=args.source, data_dir=args.data_dir, force=args.force)
    else:
        for name in _dataset_names():
            try:
                _, where = datasets.load_arrays(name, data_dir=args.data_dir, download=False)
                print(f"{name}: {where}")
            except datasets.DataError as e:
                print(f"{name}: not available offline\n{e}")


def _cmd_models(args):
    from keras_seminar import models
    from keras_seminar.models import _pretrained

    shipped = _pretrained.shipped()
    for name in models.available():
        print(f"{name:16s} {models.describe(name)}")
        weights = [f"{dataset} {accuracy:.2%}" if accuracy is not None else dataset
                   for (model, dataset), accuracy in sorted(shipped.items()) if model == name]
        if weights:
            print(f"{'':16s} pretrained (test accuracy): {', '.join(weights)}")
    print(f"\nPretrained: `keras-seminar evaluate <model>_<dataset>` or "
          f"keras_seminar.models.pretrained(model, dataset); looked up in a checkout's "
          f"saved_models/, then {_pretrained.cache_dir()}, then downloaded from "
          f"{_pretrained.weights_url()} ($KERAS_SEMINAR_WEIGHTS_URL).")


COMMANDS = {"train": _cmd_train, "evaluate": _cmd_evaluate, "data": _cmd_data,
            "models": _cmd_models}


# The library's errors name its arguments; the CLI says the flags that set them.
_AS_FLAGS = (("resume=False", "--no-resume"), ("another run_name", "another --run-name"),
             ("Ask for epochs=", "Ask for --epochs "), ("(dataset=...)", "(--dataset NAME)"))


def _one_line(error):
    """The error as one line: its message's lines joined (an OSError's own str names the file),
    its arguments named by their flags."""
    text = " ".join(str(error).split()) or type(error).__name__
    for argument, flag in _AS_FLAGS:
        text = text.replace(argument, flag)
    return text if len(text) <= 500 else text[:497] + "..."


def main(argv=None):
    args = build_parser().parse_args(argv)
    from keras_seminar.errors import SeminarError, TrainingDiverged

    try:
        status = (getattr(args, "func", None) or COMMANDS[args.command])(args)
    except TrainingDiverged as e:
        print(f"keras-seminar: stopped: {_one_line(e)}", file=sys.stderr)
        return 3
    except (SeminarError, ValueError, OSError) as e:  # DataError, ModelFileError: ValueErrors
        print(f"keras-seminar: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("keras-seminar: interrupted. Run the same command again to resume.", file=sys.stderr)
        return 130
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
