"""Context end states and the first stimulus-driven updates that follow them (Fig. 4B–C).

Every task receives the very same stimuli: the inputs of MemoryPro "explicit" trials (one
stimulus of strength 1 in modality 1 at each given angle) with only the rule input swapped,
as the original code's ``same_stim_trial`` did. For each task and stimulus angle we take

- the Context end state h_ctx, the state at the last step of the Context period, and
- the first stimulus-driven update h_stim[s] − h_ctx, with h_stim[s] the state at step s of
  the Stimulus period (s = 1 as in the original code: the state after two steps of stimulus).

For each pair of tasks, the Euclidean distance between their end states and the angle between
their updates are averaged over the stimulus angles; :func:`linear_fit` then relates the two
over the task pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import pdist, squareform

from flexmt import tasks as task_defs
from flexmt.network import Network

_STIMULUS_TASK = "delaygo"  # MemoryPro: fixation and rule, then one stimulus with fixation on
N_ANGLES = 8


@dataclass(frozen=True)
class ContextEndStates:
    """End states of the Context period and first updates under identical stimuli.

    n tasks, S stimulus angles, N units.

    Attributes
    ----------
    tasks : (n,) code names.
    angles : (S,) stimulus angles (rad).
    end_states : (n, S, N) state at the last Context step.
    updates : (n, S, N) h_stim[stim_step] − end state.
    distance : (n, n) Euclidean distance between two tasks' end states, mean over angles.
    angle : (n, n) angle (degrees) between two tasks' updates, mean over angles.
    """

    tasks: tuple[str, ...]
    angles: np.ndarray
    end_states: np.ndarray
    updates: np.ndarray
    distance: np.ndarray
    angle: np.ndarray

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Distance and angle of each of the n(n − 1)/2 task pairs, each (n(n − 1)/2,), in
        the order of ``scipy.spatial.distance.pdist``: (0, 1), (0, 2), …, (n − 2, n − 1)."""
        return squareform(self.distance, checks=False), squareform(self.angle, checks=False)


def _angles(vectors: np.ndarray) -> np.ndarray:
    """Condensed angles (degrees) between the rows of ``vectors`` (n, N)."""
    return np.degrees(np.arccos(np.clip(1 - pdist(vectors, "cosine"), -1, 1)))


def _mean_over_angles(
    vectors: np.ndarray, measure: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """(n, n) pairwise ``measure`` (condensed, as pdist) of the n rows of ``vectors`` (n, S, N)
    for each stimulus angle, averaged over the S angles."""
    per_angle = [measure(vectors[:, s]) for s in range(vectors.shape[1])]
    return squareform(np.mean(per_angle, axis=0), checks=False)


def context_end_states(
    net: Network,
    *,
    tasks: Sequence[str] | None = None,
    angles: np.ndarray | None = None,
    durations: dict[str, float] | None = None,
    stim_step: int = 1,
) -> ContextEndStates:
    """Context end states and first stimulus-driven updates of each task, noise off.

    Parameters
    ----------
    net : the network; it runs without recurrent noise.
    tasks : code or paper names (default: the network's tasks).
    angles : (S,) stimulus angles in rad (default 8 evenly spaced, 2πk/8).
    durations : period durations in ms of the MemoryPro trials (default: its "test" grid,
        Context 500 ms, Stimulus 500 ms), as :func:`flexmt.tasks.make_trials` takes them.
    stim_step : which step of the Stimulus period gives h_stim (0 = the first).
    """
    tasks = task_defs.canonical_tasks(net.tasks if tasks is None else tasks)
    angles = np.arange(N_ANGLES) * 2 * np.pi / N_ANGLES if angles is None else np.atleast_1d(angles)
    trials = task_defs.make_trials(_STIMULUS_TASK, "explicit", theta=angles, durations=durations)
    context, stimulus = trials.period_slice("Context"), trials.period_slice("Stimulus")
    if not 0 <= stim_step < stimulus.stop - stimulus.start or context.stop == 0:
        raise ValueError(
            f"stim_step must lie in [0, {stimulus.stop - stimulus.start}) and the Context "
            f"period must be non-empty; got stim_step={stim_step!r}, durations={durations!r}"
        )
    steps = stimulus.start + stim_step + 1
    x = np.repeat(trials.x[:steps, None], len(tasks), axis=1)  # (T, n, S, n_in)
    rules = np.stack([task_defs.rule_input(t) for t in tasks])
    x[..., task_defs.RULE_START :] = rules[:, None, task_defs.RULE_START :]
    h = net.run(x.reshape(steps, -1, x.shape[-1])).h.astype(np.float64)
    h = h.reshape(steps, len(tasks), trials.batch_size, net.n_rnn)
    end = h[context.stop - 1]
    return ContextEndStates(
        tasks=tuple(tasks),
        angles=np.asarray(trials.params["theta"]),
        end_states=end,
        updates=h[-1] - end,
        distance=_mean_over_angles(end, pdist),
        angle=_mean_over_angles(h[-1] - end, _angles),
    )


@dataclass(frozen=True)
class LinearFit:
    """Least-squares line y ≈ slope · x + intercept and its held-out R².

    Attributes
    ----------
    slope, intercept : the line fitted to all points.
    r2 : R² of that line on all points (in sample).
    r2_splits : (n_splits,) R² on the held-out points of each random split, the line fitted
        to the remaining points.
    """

    slope: float
    intercept: float
    r2: float
    r2_splits: np.ndarray

    @property
    def r2_mean(self) -> float:
        """Mean held-out R² over the splits."""
        return float(np.mean(self.r2_splits))

    @property
    def r2_std(self) -> float:
        """Standard deviation of the held-out R² over the splits."""
        return float(np.std(self.r2_splits))


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and intercept."""
    dx = x - x.mean()
    slope = float(dx @ (y - y.mean()) / (dx @ dx))
    return slope, float(y.mean() - slope * x.mean())


def _r2(y: np.ndarray, predicted: np.ndarray) -> float:
    """Coefficient of determination of ``predicted`` about y's own mean (as sklearn's)."""
    return float(1 - np.sum((y - predicted) ** 2) / np.sum((y - y.mean()) ** 2))


def linear_fit(
    x: np.ndarray,
    y: np.ndarray,
    *,
    rng: np.random.Generator,
    n_splits: int = 1000,
    test_fraction: float = 0.1,
) -> LinearFit:
    """Fit y ≈ slope · x + intercept and measure R² on random held-out splits (Fig. 4C).

    Each split holds out ``floor(test_fraction · n)`` points (at least 2; 10 of the 105 task
    pairs of 15 tasks, as in the original code), fits the line to the others and scores R² on
    the held-out points. Points where x or y is not finite are left out.

    Parameters
    ----------
    x, y : (n,) e.g. :meth:`ContextEndStates.pairs` (distance, angle).
    rng : draws the splits.
    n_splits : number of random splits.
    test_fraction : share of the points held out in each split.
    """
    x, y = np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length; got {len(x)} and {len(y)}")
    finite = np.isfinite(x) & np.isfinite(y)
    x, y = x[finite], y[finite]
    n_test = max(2, int(test_fraction * len(x)))
    if len(x) - n_test < 2 or n_splits < 1:
        raise ValueError(
            f"need n_splits >= 1 and at least {n_test + 2} finite points to hold out {n_test}; "
            f"got n_splits={n_splits!r} and {len(x)} points"
        )
    r2_splits = np.empty(n_splits)
    for i in range(n_splits):
        order = rng.permutation(len(x))
        test, train = order[:n_test], order[n_test:]
        slope, intercept = _line(x[train], y[train])
        r2_splits[i] = _r2(y[test], slope * x[test] + intercept)
    slope, intercept = _line(x, y)
    return LinearFit(slope, intercept, _r2(y, slope * x + intercept), r2_splits)
