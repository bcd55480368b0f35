"""Comparisons behind Figs 3–5 that the other analysis modules leave to their callers.

- **Networks of several kinds** (Fig. 3B–C): the shipped networks of some presets
  (:func:`select_networks`) and the atlas statistics of trained and untrained, softplus and
  tanh networks grouped by kind, with their spread over seeds (:func:`compare_kinds`).
- **Two task periods** (Figs 3D–E, 4D–I): a fixed-point sweep from the input of one task
  period to that of another, of the same task or of another one, under the same stimulus
  (:func:`task_periods_setup`), and the numbers that say whether the relevant fixed
  point moves continuously or the structure bifurcates (:func:`sweep_continuity`), and
  whether the states the dynamics settle in move continuously along the sweep
  (:func:`attractor_switches`).
- **A network with and without a cluster** (Fig. 5): the clusters of an atlas ranked by how
  selectively they vary in given task periods (:func:`rank_clusters`), and the trajectories
  and fixed points of a task period in the intact and the lesioned network
  (:func:`lesion_dynamics`).
- :func:`principal_components` for the panels that project states.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from flexmt import checkpoint, zoo
from flexmt import fixed_points as fp
from flexmt import tasks as task_defs
from flexmt.analysis.architecture import ArchitectureSummary, correlation_similarity
from flexmt.analysis.clusters import UnitAtlas
from flexmt.analysis.variance import TaskPeriod, task_period
from flexmt.network import Network


# ----------------------------------------------------------------------------- networks
def select_networks(networks: str | Sequence[str], presets: Sequence[str]) -> list[zoo.ZooEntry]:
    """The shipped networks a page analyses, as zoo entries (status, steps, performance).

    Parameters
    ----------
    networks : ``"zoo"`` for every network of ``flexmt/zoo`` trained with one of ``presets``
        that has saved parameters, or a list of zoo names and network-folder paths.
    presets : preset names, used when ``networks`` is ``"zoo"``.

    Returns
    -------
    One :class:`flexmt.zoo.ZooEntry` per network, in zoo-name order for ``"zoo"``, else in the
    given order. With ``"zoo"``, a preset of which no network is shipped yet contributes
    nothing as long as another one does: callers say so (compare the entries' ``preset`` with
    ``presets``).

    Raises
    ------
    ValueError
        For an empty list; for a name that is neither a zoo network nor a network folder,
        naming the zoo's; and for ``"zoo"`` when no network of any of ``presets`` is shipped
        (train one first). The result is never empty.
    """
    if not networks or (isinstance(networks, str) and networks != "zoo"):
        raise ValueError(
            f"networks must be 'zoo' or a non-empty list of networks; got {networks!r}"
        )
    if isinstance(networks, str):
        entries = [e for e in zoo.list() if e.preset in presets and e.params_sha256 is not None]
        if not entries:
            raise ValueError(
                f"no network of preset {' or '.join(map(repr, presets))} in the zoo; train one "
                f"first (the zoo holds {', '.join(zoo.names()) or 'no network yet'})"
            )
        return entries
    entries = []
    for name in networks:
        path = Path(name)
        if (path / checkpoint.CONFIG).is_file():
            entries.append(zoo.entry(path.name, path.parent))
        elif str(name) in zoo.names():
            entries.append(zoo.entry(str(name)))
        else:
            raise ValueError(
                f"unknown network {str(name)!r}: not a network folder; allowed: 'zoo', or a list "
                f"of {', '.join(zoo.names()) or 'no zoo network yet'} or network folders"
            )
    return entries


@dataclass(frozen=True)
class KindComparison:
    """Atlas statistics of several kinds of network (e.g. "softplus, trained"), over seeds.

    K kinds, P task periods; per kind, one value per network (n_k networks).

    Attributes
    ----------
    kinds : (K,) the kinds' names.
    sparsity, n_clusters, silhouette, n_active : K arrays (n_k,) of each network's value.
    correlation : (K, P, P) each kind's task-period correlation matrix, averaged over its
        networks (entries NaN in every network stay NaN).
    similarity : (K, K) :func:`correlation_similarity` of the kinds' average matrices.
    within : (K,) mean similarity between the matrices of two networks of one kind (NaN for a
        kind with one network): how far seeds of one kind agree, the yardstick for ``similarity``.
    """

    kinds: tuple[str, ...]
    sparsity: tuple[np.ndarray, ...]
    n_clusters: tuple[np.ndarray, ...]
    silhouette: tuple[np.ndarray, ...]
    n_active: tuple[np.ndarray, ...]
    correlation: np.ndarray
    similarity: np.ndarray
    within: np.ndarray

    def values(self, quantity: str) -> dict[str, np.ndarray]:
        """Kind → the networks' values of ``quantity`` (``"sparsity"``, ``"n_clusters"``,
        ``"silhouette"`` or ``"n_active"``)."""
        allowed = ("sparsity", "n_clusters", "silhouette", "n_active")
        if quantity not in allowed:
            raise ValueError(f"unknown quantity {quantity!r}; allowed: {', '.join(allowed)}")
        return dict(zip(self.kinds, getattr(self, quantity), strict=True))

    def mean_difference(self, quantity: str, first: str, second: str) -> float:
        """Mean of ``quantity`` over the networks of kind ``first`` minus that over kind
        ``second``; NaN when either kind is absent (e.g. no trained tanh network yet)."""
        values = self.values(quantity)
        if first not in values or second not in values:
            return np.nan
        return float(values[first].mean() - values[second].mean())


def compare_kinds(summaries: Mapping[str, Sequence[ArchitectureSummary]]) -> KindComparison:
    """Group the atlas statistics of networks by kind (Fig. 3B–C).

    Parameters
    ----------
    summaries : kind name → the :func:`~flexmt.analysis.architecture.summarize_network` of
        each of its networks (at least one each; all over the same task periods).
    """
    kinds = tuple(summaries)
    if not kinds or any(not summaries[k] for k in kinds):
        raise ValueError(f"every kind needs at least one network; got {len(kinds)} kinds")
    periods = {s.periods for k in kinds for s in summaries[k]}
    if len(periods) != 1:
        raise ValueError("the networks' atlases cover different task periods")

    def per_kind(attribute: str) -> tuple[np.ndarray, ...]:
        return tuple(np.array([getattr(s, attribute) for s in summaries[k]]) for k in kinds)

    matrices = [np.stack([s.correlation for s in summaries[k]]) for k in kinds]
    with warnings.catch_warnings():  # a task period in which no unit of any network varies
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        correlation = np.stack([np.nanmean(m, axis=0) for m in matrices])
    within = np.array(
        [
            np.mean([correlation_similarity(a, b) for a, b in combinations(m, 2)])
            if len(m) > 1
            else np.nan
            for m in matrices
        ]
    )
    similarity = np.array(
        [[correlation_similarity(a, b) for b in correlation] for a in correlation]
    )
    return KindComparison(
        kinds=kinds,
        sparsity=per_kind("sparsity"),
        n_clusters=per_kind("n_clusters"),
        silhouette=per_kind("silhouette"),
        n_active=per_kind("n_active"),
        correlation=correlation,
        similarity=similarity,
        within=within,
    )


def seeded_trials(
    tasks: str | Sequence[str], rng: np.random.Generator, batch_size: int = 32
) -> dict[str, task_defs.Trials]:
    """One batch of noise-free "random" trials per task, a cheaper stand-in for the "test" grids
    (quick runs of the atlas). Task k draws from the k-th child of ``rng``.

    Returns
    -------
    code task name → its trials, in the order of ``tasks`` (``"all"``: the 15 in rule order).
    """
    codes = task_defs.canonical_tasks(tasks)
    return {
        task: task_defs.make_trials(task, "random", rng=child, batch_size=batch_size)
        for task, child in zip(codes, rng.spawn(len(codes)), strict=True)
    }


# ----------------------------------------------------------------------------- two periods
def angle_trials(task: str, angles: np.ndarray) -> task_defs.Trials:
    """Noise-free "explicit" trials of ``task`` whose (first) stimulus lies at each angle.

    Every other parameter keeps the task's explicit default: modality 1 for reach and match
    tasks, the task's own modalities with strengths 1.1 then 0.9 for integration tasks (the
    second stimulus at θ + π), a go trial for match tasks. Periods last as in the "test" grid.
    """
    name = "theta" if "theta" in task_defs.explicit_params(task) else "theta1"
    return task_defs.make_trials(task, "explicit", **{name: np.asarray(angles, float)})


def task_periods_setup(
    net: Network,
    start: tuple[str, str],
    end: tuple[str, str],
    rng: np.random.Generator,
    *,
    angle: float = np.pi / 4,
    n_angles: int = 8,
    n_states: int = 1000,
    noise_std: float = 0.05,
) -> fp.SweepSetup:
    """A sweep of the input from one task period to another, of the same or another task;
    run it with :func:`flexmt.fixed_points.interpolate`.

    u_1 is the input at the first step of ``start`` = (task_1, period_1) and u_2 that at the
    first step of ``end`` = (task_2, period_2), each in a trial of its own task showing the same
    stimulus at ``angle`` (:func:`angle_trials`: the same angle in each task's own modality).
    When the two tasks differ only in their rule during these periods (ReactCategoryPro and
    ReactCategoryAnti, Stimulus), this is :func:`flexmt.fixed_points.tasks_setup`; for
    one task it is :func:`~flexmt.fixed_points.periods_setup`; it also sweeps between
    periods of two tasks (DelayAnti Stimulus → ReactPro Response), which neither does.

    Starting states are drawn from both tasks' noise-free trajectories at ``n_angles``
    stimulus angles ``angle + 2πk / n_angles``, plus N(0, noise_std²); the rollouts that pick
    each step's relevant fixed point start where task_1's trial at ``angle`` enters period_1
    and last as long as the longer period.

    Parameters
    ----------
    net : the network.
    start, end : ``(task, period)`` in any spelling :func:`~flexmt.analysis.task_period`
        accepts.
    rng : source of the starting states.
    angle : the stimulus angle (rad) of the swept inputs.
    n_angles : stimulus angles whose trajectories supply the starting states.
    n_states : number of starting states.
    noise_std : standard deviation of the noise added to them.

    Returns
    -------
    The :class:`flexmt.fixed_points.SweepSetup`.
    """
    if not (isinstance(n_angles, int) and n_angles >= 1):
        raise ValueError(f"n_angles must be an integer >= 1; got {n_angles!r}")
    angles = angle + 2 * np.pi * np.arange(n_angles) / n_angles
    runs = []
    for task, period in (task_period(*start), task_period(*end)):
        trials = angle_trials(task, angles)
        runs.append((trials, period, net.run(trials.x).h))
    (trials_1, period_1, h_1), (trials_2, period_2, h_2) = runs
    pool = np.concatenate([h_1.reshape(-1, net.n_rnn), h_2.reshape(-1, net.n_rnn)])
    entry = trials_1.period_slice(period_1).start
    lengths = [t.period_slice(p) for t, p in ((trials_1, period_1), (trials_2, period_2))]
    return fp.SweepSetup(
        fp.period_input(trials_1, period_1),
        fp.period_input(trials_2, period_2),
        fp.sample_states(pool, n_states, rng, noise_std=noise_std),
        h_1[entry - 1, 0] if entry > 0 else np.zeros(net.n_rnn, np.float32),
        rollout_steps=max(s.stop - s.start for s in lengths),
    )


@dataclass(frozen=True)
class SweepContinuity:
    """Whether a sweep's fixed-point structure is continuous (Figs 3D–E, 4D–I).

    Attributes
    ----------
    max_shift : largest distance between the relevant fixed points of consecutive steps,
        divided by ``typical_norm``. It shrinks as 1/n with the number of steps n while the
        relevant point moves along a smooth path; a jump to another point keeps it large.
    jump_ratio : largest consecutive shift over the median one: near 1 for a point moving at a
        steady pace, a few for a smooth but uneven path, tens or more where it jumps.
    typical_norm : median norm of the relevant fixed points (the scale of the states).
    count_changes : steps k ≥ 1 at which the number of distinct fixed points differs from
        step k − 1.
    stability_changes : steps k ≥ 1 at which the number of distinct stable points, or the
        stability of the relevant point, differs from step k − 1.
    missing : steps without any fixed point (hence no relevant point).
    transitions : step transitions n (steps k = 1 … n), so each change count is at most n.
    """

    max_shift: float
    jump_ratio: float
    typical_norm: float
    count_changes: int
    stability_changes: int
    missing: int
    transitions: int

    @property
    def bifurcates(self) -> bool:
        """True if the number of distinct fixed points or their stability changes anywhere
        along the sweep."""
        return self.count_changes + self.stability_changes > 0

    @property
    def change_share(self) -> float:
        """Count and stability changes over the 2n possible: 0 for a structure that holds,
        one or two over 2n for a single bifurcation, near 1 when the points found change at
        almost every step (then :attr:`bifurcates` is true of any sweep and tells none
        apart)."""
        return (self.count_changes + self.stability_changes) / (2 * self.transitions)


def sweep_continuity(sweep: fp.Sweep, *, merge: float = 0.01) -> SweepContinuity:
    """Continuity numbers of a :class:`flexmt.fixed_points.Sweep`.

    Points are counted after merging those closer than ``merge`` × the typical norm: the
    finder's tolerance (q < 1e-9 in float32) places a point of a slow mode (``|λ|`` near 1)
    only to within ≈ ``√(2q) / (1 − |λ|)``, often more than its 1e-3 merging distance, so one point
    may otherwise count as several, and a cold-started step (k = 0) as more than the
    warm-started ones.

    Parameters
    ----------
    sweep : the sweep.
    merge : merging distance for counting, as a fraction of the typical norm.
    """
    summary = sweep.summary()
    norms = np.linalg.norm(sweep.relevant_xstar, axis=1)
    found = np.isfinite(norms)
    typical = float(np.median(norms[found])) if found.any() else np.nan
    distinct = [f.unique(merge * typical) if len(f) else f for f in sweep.fixed_points]
    n_points = np.array([len(f) for f in distinct])
    n_stable = np.array([int(f.is_stable.sum()) for f in distinct])
    flips = np.diff(n_stable) != 0
    flips |= np.diff(np.nan_to_num(summary["relevant_stable"], nan=-1.0)) != 0
    shifts = summary["relevant_shift"][1:]
    shifts = shifts[np.isfinite(shifts)]
    smooth = shifts.size and typical > 0
    return SweepContinuity(
        max_shift=float(shifts.max() / typical) if smooth else np.nan,
        jump_ratio=float(shifts.max() / np.median(shifts)) if smooth else np.nan,
        typical_norm=typical,
        count_changes=int(np.count_nonzero(np.diff(n_points))),
        stability_changes=int(np.count_nonzero(flips)),
        missing=int(np.count_nonzero(~found)),
        transitions=len(sweep.alphas) - 1,
    )


@dataclass(frozen=True)
class AttractorSwitches:
    """Where the dynamics take a sweep's starting states as its input changes (Figs 3D–E, 4D–I).

    Every starting state is run under each u_k; where it ends is its *settled state* at step
    k. While the attractors deform continuously with u, each settled state moves a little from
    one step to the next (a state near a moving basin boundary may change attractor); when an
    attractor vanishes in a bifurcation, the states of its whole basin jump at the same step.

    Attributes
    ----------
    switch_share : (n,) share of the starting states whose settled state moved more than
        ``jump`` × ``typical_norm`` from step k − 1 to step k, k = 1 … n.
    settled_share : (n + 1,) share of the states settled at step k: they moved less than
        ``tol`` × ``typical_norm`` in ``check_steps`` more steps. Where few have settled the
        states still drift (integration, slow manifolds, cycles) and ``switch_share`` there
        compares states in motion, not attractors.
    typical_norm : median norm of the settled states at u_1 and u_2.
    """

    switch_share: np.ndarray
    settled_share: np.ndarray
    typical_norm: float

    @property
    def max_switch(self) -> float:
        """The largest share of states that changed attractor at one step: near 0 while the
        attractors deform continuously, about a basin's share at a bifurcation."""
        return float(self.switch_share.max())

    @property
    def min_settled(self) -> float:
        """The smallest share of settled states over the steps."""
        return float(self.settled_share.min())


def attractor_switches(
    step: fp.StepFunction,
    setup: fp.SweepSetup,
    *,
    n_interp: int = 20,
    n_steps: int = 1000,
    check_steps: int = 50,
    jump: float = 0.25,
    tol: float = 0.01,
) -> AttractorSwitches:
    """Run a sweep's starting states to where they settle under every u_k and measure how the
    settled states move from step to step (:class:`AttractorSwitches`).

    Unlike the fixed-point search of :func:`flexmt.fixed_points.interpolate`, this follows
    only the attractors the starting states reach, but finds them by simulation, so it does
    not depend on how far a slow point's q could be minimised.

    Parameters
    ----------
    step : the step function h' = F(h, u) on TensorFlow tensors (B, N), (B, n_in).
    setup : the sweep: end inputs u_1, u_2 and ``initial_states`` (B, N) as starting states.
    n_interp : interpolation steps n; u_k = u_1 + (k/n)(u_2 − u_1), k = 0 … n.
    n_steps : steps run under each u_k.
    check_steps : further steps that test whether a state has settled.
    jump : a settled state that moves more than this × the typical norm between consecutive
        steps has changed attractor.
    tol : a state that moves less than this × the typical norm in ``check_steps`` steps has
        settled.

    Returns
    -------
    The :class:`AttractorSwitches` of the sweep.
    """
    import tensorflow as tf

    for name, value in (("n_interp", n_interp), ("n_steps", n_steps), ("check_steps", check_steps)):
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    for name, value in (("jump", jump), ("tol", tol)):
        if not (isinstance(value, (int, float)) and value > 0):
            raise ValueError(f"{name} must be a number > 0; got {value!r}")
    states = np.asarray(setup.initial_states, np.float32)
    inputs = fp.sweep_inputs(setup, np.arange(n_interp + 1) / n_interp)
    h = tf.constant(np.tile(states, (len(inputs), 1)))
    u = tf.constant(np.repeat(inputs, len(states), axis=0))
    for _ in range(n_steps):
        h = step(h, u)
    settled = h.numpy().reshape(len(inputs), len(states), -1)
    for _ in range(check_steps):
        h = step(h, u)
    drift = np.linalg.norm(h.numpy().reshape(settled.shape) - settled, axis=-1)
    typical = float(np.median(np.linalg.norm(settled[[0, -1]], axis=-1)))
    moves = np.linalg.norm(np.diff(settled, axis=0), axis=-1)
    return AttractorSwitches(
        switch_share=(moves > jump * typical).mean(axis=1),
        settled_share=(drift < tol * typical).mean(axis=1),
        typical_norm=typical,
    )


# ----------------------------------------------------------------------------- lesions
def rank_clusters(atlas: UnitAtlas, periods: Sequence[TaskPeriod]) -> np.ndarray:
    """Clusters of an atlas, most selective for ``periods`` first.

    A cluster's selectivity is its mean normalised variance over ``periods`` minus that over
    the other task periods (:attr:`UnitAtlas.cluster_profiles`); the first cluster is the one
    that varies most in these periods and least elsewhere, e.g. a "Memory" cluster for the
    Memory periods.

    Returns
    -------
    (C,) cluster indices, by decreasing selectivity.
    """
    wanted = {task_period(*p) for p in periods}
    inside = np.array([p in wanted for p in atlas.periods])
    if not inside.any() or inside.all():
        raise ValueError(
            f"periods must name some but not all of the atlas's {len(atlas.periods)} task "
            f"periods; got {len(wanted)} of which {int(inside.sum())} are in the atlas"
        )
    profiles = atlas.cluster_profiles
    selectivity = profiles[:, inside].mean(axis=1) - profiles[:, ~inside].mean(axis=1)
    return np.argsort(-selectivity, kind="stable")


@dataclass(frozen=True)
class LesionDynamics:
    """One task period of a network, intact and with a group of units lesioned.

    Attributes
    ----------
    task, period : code name and reader name.
    units : (n,) the lesioned units.
    trials : the noise-free trials both networks ran.
    intact, lesioned : (T, B, N) states of each network.
    intact_points, lesioned_points : fixed points of each network under the period's input.
    """

    task: str
    period: str
    units: np.ndarray
    trials: task_defs.Trials
    intact: np.ndarray
    lesioned: np.ndarray
    intact_points: fp.FixedPoints
    lesioned_points: fp.FixedPoints

    @property
    def divergence(self) -> float:
        """Mean distance between the two networks' states over the period, relative to the
        mean distance of the intact states from their own centroid there."""
        section = self.trials.period_slice(self.period)
        intact, lesioned = self.intact[section], self.lesioned[section]
        spread = np.linalg.norm(intact - intact.mean(axis=(0, 1)), axis=-1).mean()
        return float(np.linalg.norm(lesioned - intact, axis=-1).mean() / spread)


def lesion_dynamics(
    net: Network,
    units: Sequence[int],
    task: str,
    period: str,
    rng: np.random.Generator,
    *,
    trials: task_defs.Trials | None = None,
    trial: int = 0,
    n_states: int = 1000,
    noise_std: float = 0.05,
    max_q: float | None = None,
    **options,
) -> LesionDynamics:
    """Trajectories and fixed points of one task period, with and without a lesion (Fig. 5).

    Both networks run noise-free on the same trials; each one's fixed points are found under
    the input of the period's first step in trial ``trial``, from ``n_states`` starting states
    drawn from its own trajectories (as :func:`flexmt.fixed_points.task_period_fixed_points`).

    Parameters
    ----------
    net : the intact network.
    units : the units to lesion (:meth:`flexmt.network.Network.lesion`).
    task, period : code or paper name, and reader name or code key.
    rng : source of the starting states.
    trials : trials of ``task`` (default: its "test" trials).
    trial : the trial whose input at the period's first step is held.
    n_states, noise_std : starting states per network, and the noise added to them.
    max_q : keep only fixed points with q ≤ max_q (default: all).
    **options : :class:`flexmt.fixed_points.FinderSettings`.
    """
    task, period = task_period(task, period)
    trials = task_defs.make_trials(task, "test") if trials is None else trials
    if trials.task != task:
        raise ValueError(f"trials are of task {trials.task!r}, not {task!r}")
    u = fp.period_input(trials, period, trial)
    runs = {}
    for name, network in (("intact", net), ("lesioned", net.lesion(units))):
        h = network.run(trials.x).h
        states = fp.sample_states(h, n_states, rng, noise_std=noise_std)
        points = fp.find_fixed_points(network.step_function(), states, u, **options)
        runs[name] = h, points if max_q is None else points.select_q(max_q)
    return LesionDynamics(
        task=task,
        period=period,
        units=np.asarray(units, dtype=int),
        trials=trials,
        intact=runs["intact"][0],
        lesioned=runs["lesioned"][0],
        intact_points=runs["intact"][1],
        lesioned_points=runs["lesioned"][1],
    )


# ----------------------------------------------------------------------------- projections
@dataclass(frozen=True)
class PrincipalComponents:
    """Principal axes of a set of states.

    Attributes
    ----------
    mean : (N,) the centroid of the states.
    axes : (k, N) orthonormal principal axes, largest variance first.
    explained : (k,) fraction of the states' variance along each axis.
    """

    mean: np.ndarray
    axes: np.ndarray
    explained: np.ndarray

    def project(self, states: np.ndarray) -> np.ndarray:
        """(..., k) coordinates of states (..., N) on the axes."""
        return (np.asarray(states, dtype=np.float64) - self.mean) @ self.axes.T


def principal_components(states: np.ndarray, k: int = 2) -> PrincipalComponents:
    """The top-``k`` principal axes of ``states`` (..., N); all leading axes are pooled."""
    x = np.asarray(states, dtype=np.float64)
    x = x.reshape(-1, x.shape[-1])
    if not 1 <= k <= min(x.shape):
        raise ValueError(f"k must lie in [1, {min(x.shape)}] for states of shape {x.shape}")
    mean = x.mean(axis=0)
    _, singular, axes = np.linalg.svd(x - mean, full_matrices=False)
    variance = singular**2
    total = variance.sum()
    explained = variance[:k] / total if total > 0 else np.zeros(k)
    return PrincipalComponents(mean, axes[:k], explained)
