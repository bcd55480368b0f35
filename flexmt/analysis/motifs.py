"""Dynamical motifs of one task: fixed points per period, ring attractors, interpolations.

The numbers behind Figs 1–2 (Claims 1–2 of the paper), from the results of
:mod:`flexmt.fixed_points`:

- :func:`select_points` and :func:`select_periods`: fixed points below a q threshold, merged
  to a minimum spacing, with their eigen-decomposition computed once (sweeps select the same
  way as they run: ``max_q`` and ``spacing`` of :func:`flexmt.fixed_points.interpolate`).
  A ring attractor is a continuum of slow points, and the finder returns about one point per
  starting state along it; the figures and counts need a resolution that does not depend on
  how many starting states were used.
- :func:`period_fixed_points`: the fixed points of every period of one task, found once per
  distinct input (in MemoryPro the Context and Memory periods receive the same input);
  :func:`period_points`: the fixed points of one period under each of several tasks' inputs,
  searched from the same starting states (one network's ring in every seed, Fig. 1; both
  tasks' Memory rings, Fig. 2); :func:`typical_norm`: the unit a ring's radius is stated in.
- :func:`ring_measures`: is a set of fixed points a ring attractor (Fig. 1E)? Its points lie
  in a plane, at one distance from their centroid, all around it, and each has a leading
  eigenvalue ``|λ|`` ≈ 1 (marginally stable along the ring). :func:`ring_distance` and
  :func:`relative_ring_distance`: do two sets of points lie on one ring (Fig. 2)?
- :func:`check_trained_on`: does a page's network know the page's tasks?

The pages' other parameters (``n_interp``, ``max_q``, ``spacing``, ...) are checked by
:func:`flexmt.book.check_parameters`; the continuity of a sweep is
:func:`flexmt.analysis.pairs.sweep_continuity`.

Everything returned is numpy; TensorFlow runs only inside the fixed-point finder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flexmt import fixed_points as fp
from flexmt import tasks as task_defs
from flexmt.analysis import pairs
from flexmt.network import Network


# ----------------------------------------------------------------------------- selection
def select_points(points: fp.FixedPoints, max_q: float, spacing: float) -> fp.FixedPoints:
    """The points with q ≤ ``max_q``, merged so that no two lie within ``spacing``.

    Of each group of points within ``spacing`` the lowest-q one is kept
    (:meth:`~flexmt.fixed_points.FixedPoints.unique`).
    """
    return points.select_q(max_q).unique(tol_unique=spacing)


def max_abs_eigenvalue(points: fp.FixedPoints) -> np.ndarray:
    """(n,) the largest ``|λ|`` of each point's Jacobian (≈ 1 along an attractor ring)."""
    return np.abs(points.eigenvalues[:, 0])


def period_fixed_points(
    net: Network, task: str, rng: np.random.Generator, *, n_states: int = 1000, **options
) -> dict[str, fp.FixedPoints]:
    """Fixed points of every period of ``task``, Context included.

    As :func:`flexmt.fixed_points.task_period_fixed_points` (the input of each period's first
    step in "test" trial 0, ``n_states`` starting states from the task's trajectories), except
    that a period whose input equals a later period's shares that period's points (the same
    object) instead of being searched again: in the reach tasks, Context and Memory both see
    fixation and rule only.

    Returns
    -------
    reader period name → its points (as found: select them with :func:`select_periods`), in
    time order.
    """
    task = task_defs.canonical_task(task)
    trials = task_defs.make_trials(task, "test")
    periods = task_defs.period_names(task)
    inputs = {p: fp.period_input(trials, p) for p in periods}
    twin = {
        p: next((o for o in periods[k + 1 :] if np.array_equal(inputs[o], inputs[p])), p)
        for k, p in enumerate(periods)
    }
    found = fp.task_period_fixed_points(
        net,
        rng,
        tasks=[task],
        include_context=twin["Context"] == "Context",
        n_states=n_states,
        **options,
    )
    return {p: found[task, twin[p]] for p in periods}


def period_points(
    net: Network,
    tasks: Sequence[str],
    period: str,
    rng: np.random.Generator,
    *,
    n_states: int = 1000,
    noise_std: float = 0.05,
    max_q: float | None = None,
    spacing: float | None = None,
    **options,
) -> dict[str, fp.FixedPoints]:
    """Fixed points of one period under each task's input, from the same starting states.

    Each task's input is that of the period's first step in its "test" trial 0. The
    ``n_states`` starting states are drawn (:func:`flexmt.fixed_points.sample_states`) from
    all ``tasks``' noise-free test trajectories pooled, so each task's search starts from the
    same states and a motif the tasks share is found alike in all of them.

    Parameters
    ----------
    net : the network.
    tasks : code or paper names; ``period`` must be a period of each.
    period : reader name of the period (e.g. ``"Memory"``).
    rng : source of the starting states.
    max_q, spacing : the points kept, as in :func:`select_points` but chosen before they are
        linearised (:func:`flexmt.fixed_points.find_fixed_points`; default: all found).
    **options : :class:`flexmt.fixed_points.FinderSettings`.

    Returns
    -------
    code task name → its points.
    """
    batches = {
        task: task_defs.make_trials(task, "test") for task in task_defs.canonical_tasks(tasks)
    }
    pool = np.concatenate(
        [net.run(trials.x).h.reshape(-1, net.n_rnn) for trials in batches.values()]
    )
    starts = fp.sample_states(pool, n_states, rng, noise_std=noise_std)
    step = net.step_function()
    return {
        task: fp.find_fixed_points(
            step, starts, fp.period_input(trials, period), max_q=max_q, spacing=spacing, **options
        )
        for task, trials in batches.items()
    }


def typical_norm(net: Network, tasks: Sequence[str]) -> float:
    """The median norm of the states of ``tasks``' noise-free "test" trajectories: the unit in
    which the pages state a ring's radius."""
    states = [net.run(task_defs.make_trials(task, "test").x).h for task in tasks]
    return float(np.median(np.concatenate([np.linalg.norm(h, axis=-1).ravel() for h in states])))


def select_periods(
    points: Mapping[str, fp.FixedPoints], max_q: float, spacing: float
) -> dict[str, fp.FixedPoints]:
    """:func:`select_points` of each period's points; periods sharing one set of points (see
    :func:`period_fixed_points`) share the selection too."""
    selected: dict[int, fp.FixedPoints] = {}
    for found in points.values():
        if id(found) not in selected:
            selected[id(found)] = select_points(found, max_q, spacing)
    return {period: selected[id(found)] for period, found in points.items()}


def ring_distance(points_1: fp.FixedPoints, points_2: fp.FixedPoints) -> float:
    """Mean distance from each point of one set to the nearest point of the other, averaged
    over both directions (state units; NaN if a set is empty). Two samplings of one ring
    give about half their spacing; a displaced ring, the displacement."""
    if not len(points_1) or not len(points_2):
        return float("nan")
    distance = np.linalg.norm(points_1.xstar[:, None] - points_2.xstar[None], axis=-1)
    return float((distance.min(axis=1).mean() + distance.min(axis=0).mean()) / 2)


def relative_ring_distance(points_1: fp.FixedPoints, points_2: fp.FixedPoints) -> float:
    """:func:`ring_distance` over the mean radius of the two sets as rings
    (:func:`ring_measures`; a set of fewer than three points has no radius): small when the
    sets are samplings of one ring, about 1 or more when one is a displaced ring. NaN when
    neither set has a radius."""
    radii = [ring_measures(points).radius for points in (points_1, points_2)]
    radii = [r for r in radii if np.isfinite(r)]
    return ring_distance(points_1, points_2) / np.mean(radii) if radii else float("nan")


# ----------------------------------------------------------------------------- ring
@dataclass(frozen=True)
class RingMeasures:
    """How much a set of fixed points looks like a ring attractor.

    Attributes
    ----------
    n_points : number of points measured.
    n_stable : points with every ``|λ|`` ≤ the stability threshold (a ring attractor's
        points sit at ``|λ|`` ≈ 1, so small errors split them between stable and unstable).
    max_abs_eig : (n,) the largest ``|λ|`` of each point.
    plane_variance : fraction of the points' variance in their own top-2 principal axes
        (1 for a planar ring).
    radius : mean distance of the points from their centroid, in that plane (state units).
    radius_spread : standard deviation of those distances over their mean (0 on a circle).
    largest_gap : the widest empty arc around the centroid in the plane, in degrees: small
        when the points go all the way round, 180 for a line through the centroid, ≈ 120 for
        half a ring (whose centroid lies off the circle's centre).
    """

    n_points: int
    n_stable: int
    max_abs_eig: np.ndarray
    plane_variance: float
    radius: float
    radius_spread: float
    largest_gap: float

    @property
    def fraction_stable(self) -> float:
        """n_stable / n_points (NaN without points)."""
        return self.n_stable / self.n_points if self.n_points else float("nan")

    @property
    def median_max_abs_eig(self) -> float:
        """The median over the points of their largest ``|λ|`` (NaN without points)."""
        return float(np.median(self.max_abs_eig)) if self.n_points else float("nan")

    def fraction_marginal(self, tolerance: float = 0.01) -> float:
        """Fraction of the points whose largest ``|λ|`` lies within ``tolerance`` of 1 (NaN
        without points)."""
        if not self.n_points:
            return float("nan")
        return float(np.mean(np.abs(self.max_abs_eig - 1) < tolerance))

    def eigenvalue_summary(self) -> str:
        """The largest ``|λ|`` of the points as text: median and 5–95% range."""
        if not self.n_points:
            return "no point"
        low, median, high = np.percentile(self.max_abs_eig, [5, 50, 95])
        return f"median {median:.4f}, 5–95% {low:.4f}–{high:.4f}"


def ring_measures(points: fp.FixedPoints) -> RingMeasures:
    """Ring-attractor measures of ``points`` (e.g. the Memory period's, after
    :func:`select_points`): planar, at a common radius, all around the centroid, with
    ``|λ|`` ≈ 1.

    The geometry needs at least three points; with fewer it is NaN.
    """
    eig = max_abs_eigenvalue(points)
    n_stable = int(points.is_stable.sum())
    if len(points) < 3:
        nan = float("nan")
        return RingMeasures(len(points), n_stable, eig, nan, nan, nan, nan)
    pcs = pairs.principal_components(points.xstar, k=2)
    plane = pcs.project(points.xstar)
    distance = np.linalg.norm(plane, axis=1)
    angles = np.sort(np.arctan2(plane[:, 1], plane[:, 0]))
    gaps = np.diff(np.r_[angles, angles[0] + 2 * np.pi])
    return RingMeasures(
        n_points=len(points),
        n_stable=n_stable,
        max_abs_eig=eig,
        plane_variance=float(pcs.explained.sum()),
        radius=float(distance.mean()),
        radius_spread=float(distance.std() / distance.mean()),
        largest_gap=float(np.degrees(gaps.max())),
    )


# ----------------------------------------------------------------------------- notebooks
def check_trained_on(net: Network, tasks: Sequence[str], name: str | Path = "network") -> None:
    """Raise ValueError unless ``net`` was trained on every task of ``tasks``."""
    needed = task_defs.canonical_tasks(tasks)
    missing = [t for t in needed if t not in net.tasks]
    if missing:

        def paper(codes):
            return ", ".join(task_defs.PAPER_NAMES[t] for t in codes)

        raise ValueError(
            f"network {str(name)!r} was not trained on {paper(missing)} (only on "
            f"{paper(net.tasks)}); allowed: a network trained on {paper(needed)}"
        )
