"""The ``flexmt`` command line: tasks, presets, train, evaluate, notebook.

Every user error (unknown task or preset, invalid setting, missing or corrupt folder, a
folder from a newer format) prints one line ``flexmt: error: ...`` and exits with code 2,
having written nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def _cmd_tasks(args: argparse.Namespace) -> None:
    from flexmt import tasks

    print(f"{'idx':>3}  {'code':<16} {'paper name':<22} periods")
    for index, code in enumerate(tasks.TASKS):
        periods = ", ".join(tasks.period_names(code))
        print(f"{index:>3}  {code:<16} {tasks.PAPER_NAMES[code]:<22} {periods}")


def _cmd_presets(args: argparse.Namespace) -> None:
    from flexmt import training

    names = [args.name] if args.name else list(training.PRESETS)
    for name in names:
        config = training.preset(name)
        print(f"{name}: {training.PRESET_DESCRIPTIONS[name]}")
        if args.name or args.full:
            print(json.dumps(config.to_dict(), indent=1))


def _cmd_train(args: argparse.Namespace) -> None:
    from flexmt import training

    overrides = {
        key: value
        for key, value in (
            ("max_steps", args.max_steps),
            ("target_perf", args.target_perf),
            ("eval_every", args.eval_every),
        )
        if value is not None
    }
    config = training.preset(args.preset, **overrides)
    command = "flexmt " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    folders = training.train(
        config,
        args.seeds,
        args.out,
        resume=args.resume,
        progress=not args.quiet,
        command=command,
    )
    for folder in folders:
        log = json.loads((folder / "log.json").read_text())
        last = log["evaluations"][-1]
        worst = min(last["perf"].values())
        print(f"{folder}: {log['status']} at step {last['step']}, worst task perf {worst:.3f}")


def _cmd_evaluate(args: argparse.Namespace) -> None:
    import numpy as np

    from flexmt import load_network, network, tasks

    net = load_network(args.folder)
    perf = network.evaluate(net, rng=np.random.default_rng(args.seed), trials=args.trials)
    for task, value in perf.items():
        print(f"{tasks.PAPER_NAMES[task]:<22} {value:.3f}")
    print(f"{'worst':<22} {min(perf.values()):.3f}")


def _cmd_notebook(args: argparse.Namespace) -> None:
    import yaml

    from flexmt import book

    parameters = {}
    for key, value in args.parameter:
        try:
            parameters[key] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            raise ValueError(f"parameter {key}: {value!r} is not a YAML value ({err})") from None
    print(book.execute(args.name, args.out, parameters))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``flexmt``."""
    parser = argparse.ArgumentParser(prog="flexmt", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("tasks", help="table of the 15 tasks").set_defaults(func=_cmd_tasks)

    p = sub.add_parser("presets", help="the named training presets")
    p.add_argument("name", nargs="?", help="show one preset's full settings")
    p.add_argument("--full", action="store_true", help="show every preset's full settings")
    p.set_defaults(func=_cmd_presets)

    p = sub.add_parser("train", help="train one network per seed as one batched group")
    p.add_argument("--preset", required=True)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--out", required=True, help="folder that receives <preset>-seed<k>/")
    p.add_argument("--max-steps", type=int)
    p.add_argument("--target-perf", type=float)
    p.add_argument("--eval-every", type=int)
    p.add_argument(
        "--resume", action="store_true", help="continue the runs in --out (start them if absent)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="performance per task of a saved network")
    p.add_argument("folder")
    p.add_argument("--trials", type=int, default=512, help="trials per task")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("notebook", help="execute one notebook of the book with other parameters")
    p.add_argument("name", help="notebook name (e.g. supp1_tasks) or path of a notebooks/*.py")
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("KEY", "VALUE"),
        help="set a parameter of the notebook; VALUE is read as YAML (repeatable)",
    )
    p.add_argument(
        "--out", default="runs/notebooks", help="folder for NAME.ipynb and what it writes"
    )
    p.set_defaults(func=_cmd_notebook)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (2 for user errors)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"flexmt: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("flexmt: interrupted; continue with --resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
