"""The ``flexmt`` command line: tasks, presets, train, evaluate, notebook, zoo, sweep.

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
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flexmt.training import TrainConfig

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


def run_config(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig of parsed ``flexmt train`` or ``flexmt transfer`` arguments.

    Also used to check that a recorded command gives the recorded config (``flexmt.zoo``).
    """
    from flexmt import training, transfer

    overrides = {
        key: value
        for key in ("max_steps", "target_perf", "eval_every", "batch_splits")
        if (value := getattr(args, key, None)) is not None
    }
    if args.command == "transfer":
        return transfer.transfer_config(
            args.source, args.task, zoo=args.zoo, n_rnn=args.n_rnn, **overrides
        )
    return training.preset(args.preset, **overrides)


def _command(args: argparse.Namespace) -> str:
    """The command line that was run, as recorded in config.json."""
    return "flexmt " + " ".join(shlex.quote(a) for a in args.argv)


def _print_outcomes(folders) -> None:
    for folder in folders:
        log = json.loads((folder / "log.json").read_text())
        last = log["evaluations"][-1]
        worst = min(last["perf"].values())
        print(f"{folder}: {log['status']} at step {last['step']}, worst task perf {worst:.3f}")


def _cmd_run(args: argparse.Namespace) -> None:
    """``flexmt train`` and ``flexmt transfer``: the same run, from their own configs."""
    from flexmt import training, transfer

    run = transfer.learn if args.command == "transfer" else training.train
    _set_threads(args)
    folders = run(
        run_config(args),
        args.seeds,
        args.out,
        resume=args.resume,
        progress=not args.quiet,
        command=_command(args),
    )
    _print_outcomes(folders)


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
            problem = getattr(err, "problem", None) or "unreadable"
            raise ValueError(f"parameter {key}: {value!r} is not YAML ({problem})") from None
    print(book.execute(args.name, args.out, parameters))


def _cmd_zoo(args: argparse.Namespace) -> None:
    from flexmt import zoo

    if args.json:
        print(json.dumps([e.to_dict() for e in zoo.list(args.root)], indent=1))
    else:
        print(zoo.table_markdown(args.root))


def _cmd_zoo_hash(args: argparse.Namespace) -> None:
    from flexmt import zoo

    for e in zoo.write_provenance(args.root) if args.write else zoo.list(args.root):
        print(f"{e.params_sha256 or '-':<64}  {e.name}")


def _cmd_zoo_verify(args: argparse.Namespace) -> None:
    from flexmt import zoo

    _set_threads(args)
    problems = zoo.verify(args.names, root=args.root, trials=args.trials, retrain=args.retrain)
    for name, found in problems.items():
        print(f"{name}: " + ("\n  ".join(("FAILED", *found)) if found else "ok"))
    failed = [name for name, found in problems.items() if found]
    if failed:
        raise ValueError(f"provenance check failed for {', '.join(failed)}")


def _cmd_sweep(args: argparse.Namespace) -> None:
    from flexmt import sweep

    jobs = sweep.read_spec(args.spec)
    for job in jobs:
        print(f"{job.action:<6} {job.command}")
    if args.dry_run:
        return
    results = sweep.run(
        jobs,
        scheduler=args.scheduler,
        n_workers=args.workers,
        connect_timeout=args.timeout,
        progress=not args.quiet,
    )
    failed = [r for r in results if r.error]
    if failed:
        raise ValueError(f"{len(failed)} of {len(results)} jobs failed; run again to resume them")


def _threads_option(parser: argparse.ArgumentParser, text: str) -> None:
    """``--threads N``: applied by :func:`_set_threads` before TensorFlow starts."""
    parser.add_argument("--threads", type=int, help=text)


def _batch_splits_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--batch-splits",
        type=int,
        help="run each step's trials as this many parts side by side (default 1); with "
        "--threads 1, 2 parts train one network fastest on 2 cores (benchmarks/RESULTS.md)",
    )


def _set_threads(args: argparse.Namespace) -> None:
    from flexmt import training

    if args.threads is not None:
        training.set_threads(args.threads)


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
    _batch_splits_option(p)
    p.add_argument(
        "--resume", action="store_true", help="continue the runs in --out (start them if absent)"
    )
    _threads_option(p, "TensorFlow threads (default: one per core); see set_threads")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("transfer", help="learn a task through its rule-input weights only")
    p.add_argument("--from", dest="source", required=True, help="a preset in --zoo, or untrained")
    p.add_argument("--task", required=True)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--out", required=True)
    p.add_argument("--zoo", default=str(Path(__file__).parent / "zoo"))
    p.add_argument("--n-rnn", type=int, default=256, help="size of an untrained start")
    p.add_argument("--max-steps", type=int)
    p.add_argument("--eval-every", type=int)
    _batch_splits_option(p)
    p.add_argument("--resume", action="store_true", help="continue the runs in --out")
    _threads_option(p, "TensorFlow threads (default: one per core); see set_threads")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_run)

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

    p = sub.add_parser("zoo", help="table of the shipped networks; hash, verify")
    p.add_argument("--root", help="zoo folder (default: the shipped flexmt/zoo)")
    p.add_argument("--json", action="store_true", help="every field, per-task performance")
    p.set_defaults(func=_cmd_zoo)
    zoo_sub = p.add_subparsers(dest="zoo_command")
    q = zoo_sub.add_parser("hash", help="sha256 of each network's parameters")
    q.add_argument("--write", action="store_true", help="store it in finished networks' folders")
    q.set_defaults(func=_cmd_zoo_hash)
    q = zoo_sub.add_parser("verify", help="check that each network is what its folder claims")
    q.add_argument("names", nargs="*", help="networks to check (default: all)")
    q.add_argument("--trials", type=int, default=256, help="fresh trials per task")
    q.add_argument("--retrain", action="store_true", help="also replay eval_every steps")
    _threads_option(q, "TensorFlow threads (exact replay needs training's)")
    q.set_defaults(func=_cmd_zoo_verify)

    p = sub.add_parser("sweep", help="train the jobs of a YAML spec through Dask")
    p.add_argument("spec", help="sweep spec (see flexmt.sweep)")
    p.add_argument("--workers", type=int, default=2, help="processes of the local cluster")
    p.add_argument("--scheduler", help="address of an existing Dask scheduler")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to reach the scheduler")
    p.add_argument("--dry-run", action="store_true", help="show what would run, run nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_sweep)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (2 for user errors)."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv  # recorded in config.json as the command that reproduces a network
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
