"""`keras-seminar experiment NAME [--scale full|smoke] [--set KEY=VALUE ...] [--config F.json]
[--seeds N] [--out DIR] [--restart] [--quiet] [--render | --compare-to DIR]`: one seminar
question, results first, then the report.

Examples:
    keras-seminar experiment depth                       # full scale, 5 seeds -> reports/depth.md
    keras-seminar experiment depth --set max_epochs=40 --set depths=1,2,3,4
    keras-seminar experiment depth --render              # redraw reports/depth.md from depth.json
    keras-seminar experiment depth --smoke               # CI size, into runs/smoke_reports/
    keras-seminar experiment depth --compare-to reports --out reruns   # does reruns/ reproduce reports/?
"""

from keras_seminar.experiments import _protocol, _run, reproduce

from keras_seminar.errors import UsageError

__all__ = ["add_command", "run"]


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"Expected --seeds to be a positive integer. Received: {text!r}")
    return value


def add_command(subparsers):
    """Adds the `experiment` subcommand (the `keras_seminar.commands` entry point)."""
    parser = subparsers.add_parser(
        "experiment", help="run one seminar experiment and write reports/NAME.json and NAME.md",
        description="Runs one experiment of the seminar's research agenda: every seed's numbers "
                    "go to NAME.json, then a Markdown report (means with 95% confidence "
                    "intervals, PNG plots, the evidence) is drawn from that JSON.")
    parser.add_argument("name", help="the experiment, e.g. depth (an unknown name lists them all)")
    parser.add_argument("--scale", choices=_run.SCALES, default="full",
                        help="full: all 54k/6k/10k images (default); smoke: the CI variant (seconds)")
    parser.add_argument("--smoke", action="store_true", help="same as --scale smoke")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="override one CONFIG field, e.g. --set max_epochs=40 --set train_limit=none "
                             "--set depths=1,2,4 (repeatable; parsed to the field's type)")
    parser.add_argument("--config", dest="config_file", metavar="FILE.json",
                        help="a JSON object of CONFIG overrides (--set wins over it)")
    parser.add_argument("--seeds", help="runs per setting (default: the config's)")
    parser.add_argument("--out", help="folder of NAME.json, NAME.md and the PNGs "
                                      "(default: reports/, or runs/smoke_reports/ with --smoke)")
    parser.add_argument("--restart", action="store_true",
                        help="start over: first move NAME.json, NAME.partial.json, NAME.md and the PNGs in --out "
                             "into a new folder NAME.old-<time>/ (kept, never deleted)")
    parser.add_argument("--quiet", action="store_true", help="no line per finished run")
    parser.add_argument("--render", action="store_true",
                        help="redraw NAME.md and the PNGs from NAME.json in --out, without training")
    parser.add_argument("--compare-to", metavar="DIR",
                        help="train nothing: compare the finished NAME.json in --out (a rerun) to DIR/NAME.json, "
                             "arm by arm, and write NAME_reproduction.md in --out")
    parser.set_defaults(func=run)
    return parser


def run(args):
    if args.compare_to is not None:
        if args.render or args.sets or args.config_file or args.seeds or args.restart or not args.out:
            raise UsageError("--compare-to compares two saved runs: it needs --out (the rerun's folder) and "
                             "takes no --render, --set, --config, --seeds or --restart.")
        path = reproduce.write(_protocol.get(args.name).name, args.compare_to, args.out)
    elif args.render:
        if args.sets or args.config_file or args.seeds or args.restart:
            raise UsageError("--render redraws saved results: it takes no --set, --config, --seeds or --restart.")
        path = _run.render(args.name, args.out or ("runs/smoke_reports" if args.smoke else "reports"))
    else:
        seeds = None if args.seeds is None else _positive_int(args.seeds)
        path = _run.run_experiment(args.name, scale="smoke" if args.smoke else args.scale, seeds=seeds,
                                   sets=args.sets, config_file=args.config_file, out=args.out,
                                   restart=args.restart, verbose=not args.quiet)
    print(f"Report: {path}")
