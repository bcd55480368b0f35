"""Lesions of unit clusters (Fig. 5): the performance each task loses when a group is silenced.

A lesion zeroes the outgoing recurrent and readout weights of a group's units
(:meth:`flexmt.network.Network.lesion`): they still receive input but influence nothing. The
intact network and its lesions run side by side (:func:`flexmt.network.evaluate_variants`) on
fresh random trials (256 per task by default) with the network's own input and recurrent
noise on, as in training and in the paper; ``noise=False`` scores the same random trials
without noise. Every network sees the very same trials and noise (common random numbers drawn
from one child of ``rng``), so Δperformance reflects the lesion, not a new sample of trials.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from flexmt import tasks as task_defs
from flexmt.network import Network, evaluate_variants


@dataclass(frozen=True)
class UnitGroup:
    """Units lesioned together and the tasks they are thought to serve.

    Attributes
    ----------
    name : reader name (an atlas cluster's dominant periods, say).
    units : (n,) int indices of the units.
    tasks : code names of the group's own tasks.
    """

    name: str
    units: np.ndarray
    tasks: tuple[str, ...]


@dataclass(frozen=True)
class LesionEffects:
    """Performance of a network with each group lesioned in turn.

    C groups, M tasks.

    Attributes
    ----------
    groups : (C,) group names.
    tasks : (M,) code names of the tasks scored.
    baseline : (M,) fraction correct of the intact network.
    performance : (C, M) fraction correct with group c lesioned.
    own : (C, M) bool, True where the task is one of the group's own tasks.
    """

    groups: tuple[str, ...]
    tasks: tuple[str, ...]
    baseline: np.ndarray
    performance: np.ndarray
    own: np.ndarray

    @property
    def delta(self) -> np.ndarray:
        """(C, M) change of performance caused by each lesion (negative: a deficit)."""
        return self.performance - self.baseline

    def _mean_drop(self, mask: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.sum(-self.delta * mask, axis=1) / np.sum(mask, axis=1)

    @property
    def own_drop(self) -> np.ndarray:
        """(C,) mean performance lost on the group's own tasks (NaN if it has none)."""
        return self._mean_drop(self.own)

    @property
    def other_drop(self) -> np.ndarray:
        """(C,) mean performance lost on all other tasks (NaN if there are none)."""
        return self._mean_drop(~self.own)


def lesion_effects(
    net: Network,
    groups: Sequence[UnitGroup],
    *,
    rng: np.random.Generator,
    trials: int = 256,
    noise: bool = True,
    tasks: Sequence[str] | None = None,
) -> LesionEffects:
    """Lesion each group in turn and score every task.

    Parameters
    ----------
    net : the intact network.
    groups : the C unit groups, e.g. ``UnitAtlas.groups()``.
    rng : seeds the one stream of trials and noise that every network is scored on.
    trials : random trials per task.
    noise : score with the network's own input and recurrent noise (as in the paper).
    tasks : code or paper names (default: the network's tasks).
    """
    tasks = task_defs.canonical_tasks(net.tasks if tasks is None else tasks)
    networks = [net, *(net.lesion(g.units) for g in groups)]
    scores = evaluate_variants(
        networks, rng=rng.spawn(1)[0], trials=trials, noise=noise, tasks=tasks
    )
    correct = np.array([[s[t] for t in tasks] for s in scores])
    own = np.array([[t in task_defs.canonical_tasks(g.tasks) for t in tasks] for g in groups])
    return LesionEffects(
        groups=tuple(g.name for g in groups),
        tasks=tuple(tasks),
        baseline=correct[0],
        performance=correct[1:],
        own=own.reshape(-1, len(tasks)),
    )
