"""Sweeps: many (preset, seed) training jobs through Dask, on this machine or on a cluster.

A sweep is described by a YAML file::

    out: runs/sweep             # receives <preset>-seed<k>/ (relative to the current directory)
    jobs:
      - preset: all-softplus    # a name from `flexmt presets`
        seeds: [0, 1, 2]        # distinct non-negative integers
        group: true             # one task trains the seeds as one batched group
                                # (default false: one task per seed)
        max_steps: 20000        # optional, as `flexmt train --max-steps`
        eval_every: 500         # optional, as `flexmt train --eval-every`
        target_perf: 0.95       # optional, as `flexmt train --target-perf`
      - preset: memorypro
        seeds: [0, 1, 2, 3]

Every task is exactly one ``flexmt train --preset P --seeds S... --out OUT [options] --resume``
command, and that command is what each network's ``config.json`` records. A network that has
finished (criterion met and confirmed, or ``max_steps`` at the requested max_steps) is skipped; an
absent one starts; an interrupted one resumes from its last checkpoint.

The whole spec is checked before any job starts (unknown keys or presets, bad seed lists or
settings, a network listed twice, folders trained with other settings or for more steps,
an unreachable scheduler): one :class:`ValueError` names the problem.

Jobs run on a :class:`distributed.LocalCluster` of single-threaded worker processes by
default, or on an existing Dask scheduler, e.g. one started by dask-jobqueue on SLURM
(``SLURMCluster(...).scheduler_address``). Remote workers need flexmt installed and OUT at the
same absolute path (a shared file system). A job that fails (a killed worker, say) is
reported; running the sweep again resumes it.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from tqdm import tqdm

from flexmt import checkpoint as ckpt
from flexmt import training
from flexmt.training import TrainConfig, training_ended
from flexmt.zoo import read_folder

# spec key → `flexmt train` option, and the type its value must have
OPTIONS = {
    "max_steps": ("--max-steps", int),
    "eval_every": ("--eval-every", int),
    "target_perf": ("--target-perf", float),
}
JOB_KEYS = ("preset", "seeds", "group", *OPTIONS)
SPEC_KEYS = ("out", "jobs")


@dataclass(frozen=True)
class Job:
    """One task of a sweep: one ``flexmt train`` command.

    Attributes
    ----------
    config : the training settings (preset with overrides).
    seeds : the seeds trained together as one group.
    out : OUT as written in the spec (it goes into the recorded command).
    root : OUT as an absolute path (where workers write).
    options : the ``flexmt train`` options beyond preset, seeds and out.
    action : ``start``, ``resume`` or ``skip`` (finished).
    """

    config: TrainConfig
    seeds: tuple[int, ...]
    out: str
    root: Path
    options: tuple[str, ...]
    action: str

    @property
    def command(self) -> str:
        """The equivalent ``flexmt train`` command, as recorded in config.json."""
        argv = ["flexmt", "train", "--preset", self.config.preset, "--seeds"]
        argv += [*map(str, self.seeds), "--out", self.out, *self.options, "--resume"]
        return shlex.join(argv)

    @property
    def folders(self) -> list[Path]:
        """The network folders this job writes."""
        return [training.network_folder(self.root, self.config, s) for s in self.seeds]


def read_spec(path: str | Path) -> tuple[Job, ...]:
    """Read and check a sweep spec (see the module docstring); return its jobs.

    Raises
    ------
    ValueError : anything wrong with the spec, in one message naming the file and the job.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"sweep spec {path} not found")
    try:
        spec = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        problem = getattr(err, "problem", None) or err
        raise ValueError(f"{path}: invalid YAML{line}: {problem}") from None
    try:
        return plan(spec)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def plan(spec: dict) -> tuple[Job, ...]:
    """The jobs of a parsed spec, each with its action; ValueError for any problem."""
    if not isinstance(spec, dict):
        raise ValueError("a sweep spec must be a mapping with keys out and jobs")
    _check_keys("spec", spec, SPEC_KEYS)
    out, entries = spec.get("out"), spec.get("jobs")
    if not isinstance(out, str) or not out:
        raise ValueError(f"out must be a folder name; got {out!r}")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"jobs must be a non-empty list; got {entries!r}")
    jobs = []
    for index, entry in enumerate(entries):
        try:
            jobs += _jobs(entry, out)
        except ValueError as err:
            raise ValueError(f"jobs[{index}]: {err}") from None
    folders = [f for job in jobs for f in job.folders]
    repeated = sorted({f.name for f in folders if folders.count(f) > 1})
    if repeated:
        raise ValueError(f"networks listed more than once: {', '.join(repeated)}")
    return tuple(jobs)


def _check_keys(where: str, mapping: dict, allowed: Sequence[str]) -> None:
    unknown = sorted(set(mapping) - set(allowed), key=str)
    if unknown:
        raise ValueError(f"unknown {where} keys {unknown}; allowed: {', '.join(allowed)}")


def _jobs(entry: dict, out: str) -> list[Job]:
    """The job(s) of one spec entry: one per seed, or one for the group."""
    if not isinstance(entry, dict):
        raise ValueError(f"a job must be a mapping with keys {', '.join(JOB_KEYS)}; got {entry!r}")
    _check_keys("job", entry, JOB_KEYS)
    if not isinstance(entry.get("preset"), str):
        raise ValueError(f"preset must be a preset name; got {entry.get('preset')!r}")
    seeds = entry.get("seeds")
    if not isinstance(seeds, list):
        raise ValueError(f"seeds must be a list of distinct non-negative integers; got {seeds!r}")
    seeds = training.seed_key(seeds)
    group = entry.get("group", False)
    if not isinstance(group, bool):
        raise ValueError(f"group must be true or false; got {group!r}")
    overrides = {key: entry[key] for key in OPTIONS if key in entry}
    for key, value in overrides.items():
        kind = OPTIONS[key][1]
        if isinstance(value, bool) or not isinstance(value, int | kind):
            raise ValueError(f"{key} must be {'an integer' if kind is int else 'a number'}")
    config = training.preset(entry["preset"], **overrides)
    options = tuple(s for key, v in overrides.items() for s in (OPTIONS[key][0], str(v)))
    root = Path(out).resolve()
    groups = [seeds] if group else [(s,) for s in seeds]
    return [Job(config, g, out, root, options, _action(config, g, root)) for g in groups]


def _action(config: TrainConfig, seeds: tuple[int, ...], root: Path) -> str:
    """``start``, ``resume`` or ``skip``; ValueError if the folders cannot be continued."""
    folders = [training.network_folder(root, config, s) for s in seeds]
    logs = []
    for folder in (f for f in folders if (f / ckpt.CONFIG).is_file()):
        doc, log = read_folder(folder)
        stored = TrainConfig.from_dict(doc["train"])
        if stored.replace(max_steps=config.max_steps) != config:
            raise ValueError(f"{folder} was trained with other settings")
        if doc["group_seeds"] != [*seeds]:
            raise ValueError(f"{folder} was trained in group {doc['group_seeds']}, not {[*seeds]}")
        last = log["evaluations"][-1]["step"] if log["evaluations"] else 0
        if last > config.max_steps:
            raise ValueError(f"{folder} was trained {last} steps, more than max_steps")
        logs.append(log)
    if not logs:
        return "start"
    done = len(logs) == len(folders) and all(training_ended(log, config) for log in logs)
    return "skip" if done else "resume"


def train_job(job: Job) -> list[str]:
    """Run one job (on a Dask worker): train or resume its group; one status line a network."""
    folders = training.train(
        job.config, job.seeds, job.root, resume=True, progress=False, command=job.command
    )
    lines = []
    for folder in folders:
        _, log = read_folder(folder)
        last = log["evaluations"][-1]
        worst = min(last["perf"].values())
        lines.append(f"{folder}: {log['status']} at step {last['step']}, worst perf {worst:.3f}")
    return lines


@dataclass(frozen=True)
class JobResult:
    """What became of a job: its status lines, or the error that stopped it."""

    job: Job
    lines: tuple[str, ...] = ()
    error: str | None = None


def run(
    jobs: Sequence[Job],
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    connect_timeout: float = 10.0,
    progress: bool = True,
) -> list[JobResult]:
    """Run the jobs that are not finished through Dask, in the order they complete.

    Parameters
    ----------
    jobs : from :func:`read_spec` or :func:`plan`.
    scheduler : address of an existing Dask scheduler; default: a local cluster.
    n_workers : worker processes of the local cluster (one thread each).
    connect_timeout : seconds to wait for the scheduler.
    progress : show a progress bar over jobs.
    """
    from distributed import as_completed

    pending = [job for job in jobs if job.action != "skip"]
    if not pending:
        return []
    results = []
    with _client(scheduler, n_workers, connect_timeout) as client:
        futures = {client.submit(train_job, job, pure=False): job for job in pending}
        bar = tqdm(as_completed(futures), total=len(futures), disable=not progress, unit="job")
        for future in bar:
            job = futures[future]
            if future.status == "error":
                error = f"{type(future.exception()).__name__}: {future.exception()}"
                results.append(JobResult(job, error=error))
            else:
                results.append(JobResult(job, tuple(future.result())))
            bar.write("\n".join(results[-1].lines) or f"{job.command}: {results[-1].error}")
    return results


@contextmanager
def _client(scheduler: str | None, n_workers: int, timeout: float) -> Iterator:
    """A Dask client: of the given scheduler, or of a fresh local cluster."""
    from distributed import Client, LocalCluster

    if scheduler is None:
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            raise ValueError(f"n_workers must be a positive integer; got {n_workers!r}")
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        with cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=timeout)
    except Exception as err:  # refused, timed out, malformed address, garbage from the peer
        reason = (str(err).splitlines() or [type(err).__name__])[0]
        raise ValueError(f"cannot reach the Dask scheduler at {scheduler!r}: {reason}") from None
    with client:
        yield client
