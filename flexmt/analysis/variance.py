"""Population variance by task period: cross-period variance explained (Figs 1B, 2A) and the
unit × task-period variance matrix behind the atlas (Fig. 3A).

A *task period* is a pair ``(task code name, period reader name)``, e.g. ``("delaygo",
"Memory")``. Unless trials are given, states come from noise-free runs (σ_rec = 0) of the
network on each task's deterministic "test" trials (σ_x = 0). A period's states are h[t, b]
for every step t of the period (:meth:`flexmt.tasks.Trials.period_slice`) and every trial b,
pooled into one (T_p · B, N) sample matrix.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from flexmt import tasks as task_defs
from flexmt.fixed_points import analysed_periods
from flexmt.network import Network

TaskPeriod = tuple[str, str]


def task_period(task: str, period: str) -> TaskPeriod:
    """The canonical ``(code name, reader name)`` of a period given any accepted spelling.

    >>> task_period("MemoryPro", "delay1")
    ('delaygo', 'Memory')
    """
    code = task_defs.canonical_task(task)
    names = {task_defs.period_key(code, n): n for n in task_defs.period_names(code)}
    return code, names[task_defs.period_key(code, period)]


def period_label(period: TaskPeriod) -> str:
    """Reader label of a task period, e.g. ``"MemoryPro Memory"``."""
    return f"{task_defs.PAPER_NAMES[period[0]]} {period[1]}"


def atlas_periods(tasks: str | Sequence[str] = "all") -> list[TaskPeriod]:
    """Every task period of ``tasks`` except the Context periods, in rule then time order.

    Context (fixation and rule input only, no stimulus yet) is left out, as in the paper's atlas
    and its fixed-point analyses; for the 15 tasks this leaves 49 task periods: 12 of the six
    reach tasks (Stimulus, Memory, Response as each has them), 5 × 5 of the integration tasks
    (Stimulus1, Memory1, Stimulus2, Memory2, Response) and 4 × 3 of the match tasks (Stimulus,
    Memory, Response).
    """
    return [(t, p) for t in task_defs.canonical_tasks(tasks) for p in analysed_periods(t)]


def _states_by_task(
    net: Network, periods: Sequence[TaskPeriod], trials: Mapping[str, task_defs.Trials] | None
) -> Iterator[tuple[TaskPeriod, np.ndarray]]:
    """(task period, (T_p · B, N) float32 states), one task run at a time, in input order."""
    periods = [task_period(*p) for p in periods]
    given = {task_defs.canonical_task(t): v for t, v in (trials or {}).items()}
    runs: dict[str, tuple[task_defs.Trials, np.ndarray]] = {}
    for i, (task, period) in enumerate(periods):
        if task not in runs:
            batch = given.get(task) or task_defs.make_trials(task, "test")
            runs[task] = batch, net.run(batch.x).h
        batch, h = runs[task]
        yield (task, period), h[batch.period_slice(period)].reshape(-1, net.n_rnn)
        if all(t != task for t, _ in periods[i + 1 :]):
            del runs[task]  # free a task's states once its last period is served


def period_states(
    net: Network,
    periods: Sequence[TaskPeriod],
    *,
    trials: Mapping[str, task_defs.Trials] | None = None,
) -> dict[TaskPeriod, np.ndarray]:
    """States of each task period, pooled over time and trials.

    Parameters
    ----------
    net : the network; it runs without recurrent noise.
    periods : ``(task, period)`` pairs, any spelling :func:`task_period` accepts.
    trials : code or paper task name → the trials to run for that task (default: its "test"
        trials, without input noise).

    Returns
    -------
    canonical task period → (T_p · B, N) float32 states.
    """
    return dict(_states_by_task(net, periods, trials))


def _covariance(states: np.ndarray) -> np.ndarray:
    """(N, N) float64 covariance of (n, N) samples."""
    x = states.astype(np.float64)
    x -= x.mean(axis=0)
    return x.T @ x / len(x)


def _captured(covariances: Sequence[np.ndarray], k: int) -> np.ndarray:
    """(P, P) share of covariance j's trace in the top-k eigenvectors of covariance i."""
    if not covariances:
        raise ValueError("need at least one task period (or state set); got none")
    n = covariances[0].shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k must lie in [1, {n}] (the state dimension); got {k!r}")
    pcs = [np.linalg.eigh(c)[1][:, ::-1][:, :k] for c in covariances]  # eigh sorts ascending
    captured = np.array([[np.sum(v * (c @ v)) for c in covariances] for v in pcs])
    return captured / np.array([np.trace(c) for c in covariances])


def explained_variance_matrix(states: Sequence[np.ndarray], k: int = 2) -> np.ndarray:
    """Fraction of each state set's variance that lies in the top-k PCs of each other set.

    Parameters
    ----------
    states : P arrays (n_i, N) of samples; each set is centred on its own mean.
    k : number of principal components of the source set (1 ≤ k ≤ N).

    Returns
    -------
    (P, P) float64: entry [i, j] = tr(V_iᵀ C_j V_i) / tr(C_j), the share of set j's variance
    captured by the top-k PCs V_i (N, k) of set i; C_j is set j's covariance. The diagonal is
    each set's own top-k explained-variance ratio (1 when the set spans ≤ k dimensions).
    """
    return _captured([_covariance(s) for s in states], k)


@dataclass(frozen=True)
class CrossPeriodVariance:
    """Cross-period variance explained (Figs 1B, 2A).

    Attributes
    ----------
    periods : the P task periods, ``(code name, reader name)``.
    k : number of principal components.
    fraction : (P, P) float64; [i, j] is the fraction of period j's variance captured by the
        top-k PCs of period i (rows: PCs from, columns: variance of).
    """

    periods: tuple[TaskPeriod, ...]
    k: int
    fraction: np.ndarray

    @property
    def labels(self) -> list[str]:
        """Reader labels of the periods, e.g. ``"MemoryPro Memory"``."""
        return [period_label(p) for p in self.periods]


def cross_period_variance(
    net: Network,
    periods: Sequence[TaskPeriod],
    *,
    k: int = 2,
    trials: Mapping[str, task_defs.Trials] | None = None,
) -> CrossPeriodVariance:
    """PCA of the states of each task period and the variance of every other one it captures.

    Parameters
    ----------
    net : the network; it runs without recurrent noise.
    periods : P ``(task, period)`` pairs.
    k : number of principal components (2 in the paper's panels).
    trials : task → trials to run (default: its noise-free "test" trials).
    """
    labels, covariances = [], []
    for label, states in _states_by_task(net, periods, trials):
        labels.append(label)
        covariances.append(_covariance(states))
    return CrossPeriodVariance(tuple(labels), k, _captured(covariances, k))


@dataclass(frozen=True)
class TaskVariance:
    """Variance of each unit in each task period (the raw atlas of Fig. 3A).

    Attributes
    ----------
    periods : the P task periods, ``(code name, reader name)``.
    variance : (N, P) float64; variance of unit n's activity over time × trials of period p.
    """

    periods: tuple[TaskPeriod, ...]
    variance: np.ndarray

    @property
    def labels(self) -> list[str]:
        """Reader labels of the periods, e.g. ``"MemoryPro Memory"``."""
        return [period_label(p) for p in self.periods]


def task_variance(
    net: Network,
    *,
    tasks: str | Sequence[str] | None = None,
    trials: Mapping[str, task_defs.Trials] | None = None,
) -> TaskVariance:
    """Variance of every unit over time × trials in every task period except Context.

    Parameters
    ----------
    net : the network; it runs without recurrent noise.
    tasks : code or paper names (default: the network's tasks); the periods are
        :func:`atlas_periods` of these (49 for the 15 tasks).
    trials : task → trials to run (default: its noise-free "test" trials).
    """
    periods = atlas_periods(net.tasks if tasks is None else tasks)
    columns = [s.var(axis=0, dtype=np.float64) for _, s in _states_by_task(net, periods, trials)]
    return TaskVariance(tuple(periods), np.stack(columns, axis=1))
