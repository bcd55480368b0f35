"""Transfer learning through rule inputs alone (Fig. 6 and the leave-one-out comparison).

A new task is learned by training only its rule-input weight row (N numbers) of a network
pretrained on other tasks; the recurrent and stimulus weights, the other rule rows, the bias
and the readout stay exactly as they were. Everything else — objective, noise, optimiser,
evaluation, checkpoints, resume, batching over seeds — is :func:`flexmt.training.train`.

The starting point is either a preset whose networks ``<zoo>/<preset>-seed<k>`` exist, or
``"untrained"``: the fresh initialisation of a network of the same size.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from flexmt import tasks as task_defs
from flexmt import training
from flexmt.checkpoint import read_log

UNTRAINED = "untrained"
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
    settings = {"eval_every": 250, "max_steps": 20_000, **overrides}
    return base.replace(
        tasks=(task,), trainable="rule_input", init_from=init_from, preset=name, **settings
    )


def learn(
    source: str,
    task: str,
    seeds: Sequence[int],
    out: str | Path,
    *,
    zoo: str | Path = ZOO,
    resume: bool = False,
    progress: bool = True,
    command: str = "",
    **overrides,
) -> list[Path]:
    """Learn ``task`` through its rule input from ``source``, one network per seed.

    Network k starts from ``<zoo>/<source>-seed<k>`` (or the fresh seed-k initialisation).
    Returns the output folders ``<out>/transfer-<source>-<task>-seed<k>``.
    """
    config = transfer_config(source, task, zoo=zoo, **overrides)
    return training.train(config, seeds, out, resume=resume, progress=progress, command=command)


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
