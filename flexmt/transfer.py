"""Transfer learning through rule inputs alone (Fig. 6 and the leave-one-out comparison).

A new task is learned by training only its rule-input weight row (N numbers) of a network
pretrained on other tasks; the recurrent and stimulus weights, the other rule rows, the bias
and the readout stay exactly as they were. Everything else — objective, noise, optimiser,
evaluation, checkpoints, resume, batching over seeds — is :func:`flexmt.training.train`.

The starting point is either a preset whose networks ``<zoo>/<preset>-seed<k>`` exist, or
``"untrained"``: the fresh initialisation of a network of the same size. For the leave-one-out
comparison, ``"scratch"`` stands for the task learned alone with every weight trained (the
preset ``single-<task>``, e.g. ``single-memoryanti``).

A run learns for 20,000 steps (Fig. 6; the paper plots its first 29,000) unless it meets the
criterion first; from a leave-one-out pretraining (``leave-out-<task>``) it runs the full
:data:`flexmt.training.LEAVE_ONE_OUT_STEPS`, like the single-task network it is compared with.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from flexmt import tasks as task_defs
from flexmt import training
from flexmt.analysis.variance import explained_variance_matrix, period_states
from flexmt.checkpoint import CONFIG, read_config, read_log
from flexmt.fixed_points import analysed_periods
from flexmt.network import Network

UNTRAINED = "untrained"
SCRATCH = "scratch"
ZOO = Path(__file__).parent / "zoo"


def transfer_config(
    source: str,
    task: str,
    *,
    zoo: str | Path = ZOO,
    n_rnn: int = 256,
    **overrides,
) -> training.TrainConfig:
    """Settings to learn ``task`` through its rule input, starting from ``source``.

    Parameters
    ----------
    source : a training preset whose networks are in ``zoo``, or "untrained".
    task : the task to learn (code or paper name).
    zoo : folder holding ``<source>-seed<k>`` network folders.
    n_rnn : network size when ``source`` is "untrained" (else the preset's).
    overrides : other TrainConfig settings (max_steps, eval_every, target_perf, ...).
    """
    task = task_defs.canonical_task(task)
    name = f"transfer-{source}-{task}"
    if source == UNTRAINED:
        base = training.preset("all-softplus", n_rnn=n_rnn)
        init_from = None
    else:
        training.check_choice("source", source, (UNTRAINED, *training.PRESETS))
        base = training.preset(source)
        if task in base.tasks:
            raise ValueError(f"{source} was already trained on {task}; choose another task")
        init_from = str(Path(zoo) / f"{source}-seed{{seed}}")
    settings = {"eval_every": 250, "max_steps": 20_000}
    if source in {training.leave_out_preset(t) for t in training.LEAVE_ONE_OUT}:
        settings |= {"max_steps": training.LEAVE_ONE_OUT_STEPS, "target_perf": 1.0}
    settings |= overrides
    return base.replace(
        tasks=(task,), trainable="rule_input", init_from=init_from, preset=name, **settings
    )


def learn(
    config: training.TrainConfig,
    seeds: Sequence[int],
    out: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    command: str = "",
) -> list[Path]:
    """Learn a task through its rule input, one network per seed (:func:`flexmt.training.train`).

    Parameters
    ----------
    config : from :func:`transfer_config`; network k starts from ``init_from`` with seed k
        (or from the fresh seed-k initialisation).
    seeds, out, resume, progress, command : as for :func:`flexmt.training.train`.

    Returns
    -------
    The output folders ``<out>/transfer-<source>-<task>-seed<k>``.

    Raises
    ------
    ValueError
        If a starting network is missing, still training or diverged.
    """
    if config.init_from is not None:
        starts = [Path(config.init_from.format(seed=k)) for k in seeds]
        unready = ", ".join(str(f) for f in starts if not _finished(f))
        if unready:
            raise ValueError(
                f"no finished network to start from at {unready}: transfer starts only from a"
                " network whose training ended (criterion met and confirmed, or step cap),"
                " never from one that diverged"
            )
    return training.train(config, seeds, out, resume=resume, progress=progress, command=command)


def run_name(source: str, task: str, seed: int) -> str:
    """Folder name of the run learning ``task`` from ``source`` (or from scratch) with ``seed``."""
    if source == SCRATCH:
        return f"{training.scratch_preset(task)}-seed{seed}"
    return f"transfer-{source}-{task_defs.canonical_task(task)}-seed{seed}"


def check_sources(sources: Sequence[str]) -> list[str]:
    """The starting points, checked: "untrained", "scratch" or presets, at least one.

    Raises
    ------
    ValueError
        Naming the bad value and the allowed ones.
    """
    if isinstance(sources, str) or not sources:
        raise ValueError(f"sources must be a non-empty list of starting points; got {sources!r}")
    for source in sources:
        training.check_choice("source", source, (UNTRAINED, SCRATCH, *training.PRESETS))
    return list(sources)


def source_ready(source: str, seed: int, zoo: str | Path = ZOO) -> bool:
    """True if learning can start from ``source`` with ``seed``: "untrained", "scratch", or a
    pretrained network ``<zoo>/<source>-seed<seed>`` whose training has ended (criterion or
    step cap; not diverged)."""
    return source in (UNTRAINED, SCRATCH) or _finished(Path(zoo) / f"{source}-seed{seed}")


def _finished(folder: Path) -> bool:
    """True if ``folder`` holds a network whose training ended
    (:func:`flexmt.training.training_ended`) without diverging."""
    if not (folder / CONFIG).is_file():
        return False
    config = training.TrainConfig.from_dict(read_config(folder)["train"])
    log = read_log(folder)
    return log["status"] != "diverged" and training.training_ended(log, config)


def runs(
    source: str,
    task: str,
    seeds: Sequence[int],
    out: str | Path,
    *,
    zoo: str | Path = ZOO,
    recompute: bool = False,
    **overrides,
) -> dict[int, Path]:
    """The learning runs of ``task`` from ``source``, by seed: shipped, or learned now.

    Parameters
    ----------
    source, task : as for :func:`transfer_config`; ``source`` may also be "scratch".
    seeds : one run per seed.
    out : where runs learned now go (resumed if already there).
    zoo : folder of the shipped pretrained networks and transfer runs.
    recompute : False: the runs shipped in ``zoo`` whose learning ended (an unfinished run
        is left out, never shown as a result); True: learn every seed whose starting
        network is ready (:func:`source_ready`) into ``out``.
    overrides : settings of runs learned now (``max_steps``, ``eval_every``, ...).

    Returns
    -------
    seed → run folder, for the seeds that have one (missing seeds are left out).
    """
    if not recompute:
        found = {k: Path(zoo) / run_name(source, task, k) for k in seeds}
        return {k: f for k, f in found.items() if _finished(f)}
    ready = [k for k in seeds if source_ready(source, k, zoo)]
    if not ready:
        return {}
    if source == SCRATCH:
        config = training.preset(training.scratch_preset(task), **overrides)
        folders = training.train(config, ready, out, resume=True, progress=False)
    else:
        config = transfer_config(source, task, zoo=zoo, **overrides)
        folders = learn(config, ready, out, resume=True, progress=False)
    return dict(zip(ready, folders, strict=True))


def variance_in_pretrained_pcs(net: Network, pretrained: Sequence[str], task: str, k: int) -> float:
    """Share of ``task``'s state variance in the top-k PCs of the pretrained tasks' states.

    States are those of every analysed period of the noise-free "test" trials, pooled over
    periods, time and trials (the pretrained tasks pooled together).

    Parameters
    ----------
    net : a network that learned ``task`` after ``pretrained``.
    pretrained : the tasks it was pretrained on.
    task : the learned task.
    k : number of principal components.
    """
    tasks = [task_defs.canonical_task(t) for t in (*pretrained, task)]
    states = period_states(net, [(t, p) for t in tasks for p in analysed_periods(t)])
    pooled = [
        np.concatenate([v for (t, _), v in states.items() if t in group])
        for group in (set(tasks[:-1]), {tasks[-1]})
    ]
    return float(explained_variance_matrix(pooled, k)[0, 1])


def learning_curve(folder: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Trials seen and performance on the learned task at every evaluation, each (n_eval,)."""
    log = read_log(Path(folder))
    (task,) = {t for e in log["evaluations"] for t in e["perf"]}
    trials = np.array([e["trials"] for e in log["evaluations"]], float)
    perf = np.array([e["perf"][task] for e in log["evaluations"]], float)
    return trials, perf


def trials_to_reach(trials: np.ndarray, perf: np.ndarray, level: float = 0.9) -> float:
    """The first trial count at which performance reaches ``level`` (NaN if never)."""
    reached = np.flatnonzero(np.asarray(perf) >= level)
    return float(trials[reached[0]]) if reached.size else float("nan")


def performance_at(trials: np.ndarray, perf: np.ndarray, counts: Sequence[float]) -> np.ndarray:
    """Performance at the last evaluation made by each trial count in ``counts``.

    Parameters
    ----------
    trials, perf : (n_eval,) a learning curve (:func:`learning_curve`).
    counts : trial counts.

    Returns
    -------
    (len(counts),) float; NaN for a count beyond the run's last evaluation.
    """
    trials, perf = np.asarray(trials), np.asarray(perf)
    index = np.searchsorted(trials, np.asarray(counts, float), side="right") - 1
    inside = np.asarray(counts, float) <= trials[-1]
    return np.where(inside, perf[np.clip(index, 0, None)], np.nan)
