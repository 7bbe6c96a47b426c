"""`keras-seminar experiment NAME [--smoke] [--seeds N] [--out reports]`: one seminar question."""

from experiments import _runner


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"Expected --seeds to be a positive integer. Received: {text!r}")
    return value


def add_command(subparsers):
    """Adds the `experiment` subcommand (the `keras_seminar.commands` entry point)."""
    parser = subparsers.add_parser(
        "experiment", help="run one seminar experiment and write reports/NAME.md",
        description="Runs one experiment of the seminar's research agenda and writes a Markdown "
                    "report with a table, PNG plots and its evidence.")
    parser.add_argument("name", help=f"one of: {', '.join(_runner.EXPERIMENTS)}")
    parser.add_argument("--smoke", action="store_true", help="the tiny CI variant (seconds)")
    parser.add_argument("--seeds", help="runs per setting (default: the config's)")
    parser.add_argument("--out", default="reports", help="folder of the report and its PNGs")
    parser.set_defaults(func=run)
    return parser


def run(args):
    seeds = None if args.seeds is None else _positive_int(args.seeds)
    path = _runner.run_experiment(args.name, smoke=args.smoke, seeds=seeds, out=args.out)
    print(f"Report: {path}")
