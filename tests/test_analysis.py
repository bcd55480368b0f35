"""The analyses of Figs 1–5 on hand-built networks and constructed data with known answers."""

import numpy as np
import pytest

from flexmt import analysis
from flexmt.network import Network
from flexmt.tasks import ALPHA, N_INPUT, RULE_START, TASKS, make_trials

GATE = 10.0  # a unit gated by a rule gets −GATE unless that rule is on: silent in other tasks
ATLAS_TASKS = ("fdgo", "reactgo", "delaygo", "fdanti")
# unit groups of the hand-built atlas network: task whose rule gates them, size, kind
GROUPS = (("fdgo", 5, "stimulus"), ("reactgo", 4, "stimulus"), ("delaygo", 6, "memory"))
GROUPS += (("fdanti", 3, "stimulus"),)
N_SILENT = 4


def _rule(task: str) -> int:
    return RULE_START + TASKS.index(task)


def _network(w_in, w_rec, b, w_out=None, tasks=ATLAS_TASKS, **settings) -> Network:
    n = w_rec.shape[0]
    w_out = np.zeros((n, 3)) if w_out is None else w_out
    return Network(w_in, w_rec, b, w_out, np.zeros(3), activation="relu", tasks=tasks, **settings)


def _stimulus_weights(w_in: np.ndarray, unit: int, sin: float, cos: float) -> None:
    """Unit ``unit`` reads the stimulus (sin, cos) of either modality."""
    w_in[[1, 3], unit], w_in[[2, 4], unit] = sin, cos


@pytest.fixture(scope="module")
def atlas_net() -> tuple[Network, dict[str, np.ndarray]]:
    """A relu network whose units fall into known groups by construction.

    Stimulus units are gated by one task's rule and read the stimulus, plus a unit-specific
    push from the fixation input (so their Stimulus / Response variance ratios differ).
    Memory units (MemoryPro) are gated by rule and fixation and hold what they integrated
    during the stimulus with a unit-specific leak, so they vary in Stimulus, Memory and (while
    decaying) Response. The last units are silent. Returns the network and each group's units.
    """
    rng = np.random.default_rng(3)
    n = sum(size for _, size, _ in GROUPS) + N_SILENT
    w_in, w_rec, b = np.zeros((N_INPUT, n)), np.zeros((n, n)), np.full(n, -5.0)
    units, start = {}, 0
    for task, size, kind in GROUPS:
        group = np.arange(start, start + size)
        units[task], start = group, start + size
        for u in group:
            direction = rng.uniform(0, 2 * np.pi)
            _stimulus_weights(w_in, u, np.sin(direction), np.cos(direction))
            w_in[_rule(task), u], b[u] = GATE, -GATE
            if kind == "memory":
                w_in[0, u], b[u], w_rec[u, u] = GATE, -2 * GATE, rng.uniform(0.9, 1.0)
            else:
                w_in[0, u] = rng.uniform(0.0, 0.5)
    return _network(w_in, w_rec, b), units


@pytest.fixture(scope="module")
def atlas(atlas_net) -> analysis.UnitAtlas:
    return analysis.unit_atlas(analysis.task_variance(atlas_net[0]))


# ----------------------------------------------------------------------------- periods
def test_atlas_periods_are_the_49_non_context_periods():
    periods = analysis.atlas_periods()
    assert len(periods) == 49 == len(set(periods))
    assert all(p != "Context" for _, p in periods)
    assert periods[:3] == [("fdgo", "Stimulus"), ("fdgo", "Response"), ("reactgo", "Response")]
    assert analysis.task_period("MemoryAnti", "delay1") == ("delayanti", "Memory")
    assert analysis.period_label(("delaydm1", "Memory2")) == "IntegrationModality1 Memory2"


# ----------------------------------------------------------------------------- variance explained
def _corners(*scales: float) -> np.ndarray:
    """The 2^k points (±s_1, …, ±s_k): variance s_i² along axis i, no covariance."""
    signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * len(scales))).reshape(len(scales), -1).T
    return signs * np.array(scales)


def test_explained_variance_of_constructed_subspaces():
    # A: variance 4 along e1, 1 along e2; B: variance 3 along e1, 1 along e3 (in 4-d)
    a = np.zeros((4, 4))
    a[:, :2] = _corners(2.0, 1.0)
    b = np.zeros((4, 4))
    b[:, [0, 2]] = _corners(np.sqrt(3.0), 1.0)
    for k in (1, 2):
        fraction = analysis.explained_variance_matrix([a, b + 7.0], k=k)  # own means removed
        np.testing.assert_allclose(fraction[0, 1], 3 / 4)  # A's PCs e1(, e2) hold B's e1 part
        np.testing.assert_allclose(fraction[1, 0], 4 / 5)  # B's PCs e1(, e3) hold A's e1 part
        np.testing.assert_allclose(np.diag(fraction), [4 / 5, 3 / 4] if k == 1 else [1, 1])


def test_cross_period_variance_of_a_network(atlas_net):
    net = atlas_net[0]
    periods = [("MemoryPro", "Stimulus"), ("delaygo", "Memory"), ("DelayPro", "Response")]
    result = analysis.cross_period_variance(net, periods, k=2)
    assert result.periods == (("delaygo", "Stimulus"), ("delaygo", "Memory"), ("fdgo", "Response"))
    assert result.labels[1] == "MemoryPro Memory"
    states = analysis.period_states(net, periods)
    trials = make_trials("delaygo", "test")
    assert states[("delaygo", "Memory")].shape == (50 * trials.batch_size, net.n_rnn)
    np.testing.assert_allclose(
        result.fraction, analysis.explained_variance_matrix(list(states.values()), k=2)
    )
    # MemoryPro's states live on the memory units, DelayPro's on units silent in MemoryPro
    assert result.fraction[0, 1] > 0.7 and result.fraction[1, 0] > 0.7
    np.testing.assert_allclose(result.fraction[:2, 2], 0.0, atol=1e-9)
    np.testing.assert_allclose(result.fraction[2, :2], 0.0, atol=1e-9)
    full = analysis.cross_period_variance(net, periods, k=net.n_rnn)
    np.testing.assert_allclose(full.fraction, 1.0)


# ----------------------------------------------------------------------------- atlas
def test_silhouette_of_a_hand_computed_case():
    x = np.array([0.0, 1.0, 10.0, 12.0])
    distances = np.abs(x[:, None] - x[None, :])
    s = analysis.silhouette_samples(distances, np.array([5, 5, 2, 2]))
    # e.g. point 0: a = 1, b = mean(10, 12) = 11 -> (11 - 1) / 11
    np.testing.assert_allclose(s, [10 / 11, 9 / 10, 7.5 / 9.5, 9.5 / 11.5])
    singleton = analysis.silhouette_samples(distances[:3, :3], np.array([0, 0, 1]))
    assert singleton[2] == 0.0
    with pytest.raises(ValueError, match="2 … 3 clusters"):
        analysis.silhouette_samples(distances, np.zeros(4))


def test_atlas_recovers_the_planted_groups(atlas_net, atlas):
    net, units = atlas_net
    assert len(atlas.periods) == 8 and atlas.variance.shape == (net.n_rnn, 8)
    np.testing.assert_array_equal(atlas.kept, np.arange(net.n_rnn - N_SILENT))
    assert atlas.n_clusters == len(GROUPS)
    assert atlas.k_values[np.nanargmax(atlas.silhouette)] == len(GROUPS)
    assert np.nanmax(atlas.silhouette) > 0.7
    np.testing.assert_allclose(atlas.normalised.max(axis=1), 1.0)
    found = {frozenset(atlas.cluster_units(c)) for c in range(atlas.n_clusters)}
    assert found == {frozenset(u) for u in units.values()}
    by_task = {group.tasks: group for group in atlas.groups()}
    assert set(by_task) == {(task,) for task in units}
    memory = by_task[("delaygo",)]
    assert "MemoryPro Memory" in memory.name
    np.testing.assert_array_equal(memory.units, units["delaygo"])
    assert {p for d in atlas.dominant for p in d} <= set(atlas.periods)
    # clusters are numbered along the dendrogram: consecutive blocks in leaf order
    along = atlas.labels[atlas.unit_order]
    assert np.all(np.diff(along) >= 0)
    assert sorted(atlas.period_order) == list(range(8))


def test_atlas_on_a_constructed_matrix_and_its_sparsity():
    periods = tuple(analysis.atlas_periods(["fdgo", "reactgo", "delaygo"]))  # 6 periods
    profiles = np.eye(6)[[0, 0, 0, 2, 2, 2, 3, 3, 4, 4, 4, 4]]  # 4 groups, one period each
    variance = np.vstack([profiles * np.linspace(1, 3, 12)[:, None], np.zeros((3, 6))])
    atlas = analysis.unit_atlas(analysis.TaskVariance(periods, variance))
    assert atlas.n_clusters == 4 and len(atlas.kept) == 12
    assert sorted(atlas.dominant) == sorted((periods[i],) for i in (0, 2, 3, 4))
    # every kept unit has 5 of 6 entries at 0; the 3 silent units count 6 each
    assert analysis.atlas_sparsity(atlas) == (12 * 5 + 3 * 6) / (15 * 6)
    with pytest.raises(ValueError, match="at least 4 units"):
        analysis.unit_atlas(analysis.TaskVariance(periods, variance[:3]))


def test_architecture_summary_shows_the_block_structure(atlas_net, atlas):
    summary = analysis.summarize_network(atlas_net[0])
    assert (summary.n_units, summary.n_active, summary.n_clusters) == (22, 18, len(GROUPS))
    assert summary.activation == "relu" and summary.periods == atlas.periods
    corr = summary.correlation
    np.testing.assert_allclose(np.diag(corr), 1.0)
    index = {p: i for i, p in enumerate(summary.periods)}
    same_task = corr[index[("fdgo", "Stimulus")], index[("fdgo", "Response")]]
    other_task = corr[index[("fdgo", "Stimulus")], index[("reactgo", "Response")]]
    assert same_task > 0.9 and other_task < 0
    assert 0.5 < summary.sparsity < 1 and summary.sparsity == analysis.atlas_sparsity(atlas)
    assert analysis.correlation_similarity(corr, corr) == pytest.approx(1.0)
    flipped = 2 * np.eye(len(corr)) - corr
    assert analysis.correlation_similarity(corr, flipped) == pytest.approx(-1.0)


# ----------------------------------------------------------------------------- lesions
def test_lesion_of_the_units_that_carry_a_task():
    """DelayPro is read out from units 0–3 only, ReactPro from units 4–7 only."""
    tasks = ("fdgo", "reactgo")
    w_in, w_out, b = np.zeros((N_INPUT, 8)), np.zeros((8, 3)), np.full(8, -GATE)
    for g, task in enumerate(tasks):
        for j, (sin, cos, channel, sign) in enumerate(
            [(1, 0, 1, 1), (-1, 0, 1, -1), (0, 1, 2, 1), (0, -1, 2, -1)]
        ):
            unit = 4 * g + j  # relu(±sin θ), relu(±cos θ): the readout recovers (sin θ, cos θ)
            _stimulus_weights(w_in, unit, sin, cos)
            w_in[_rule(task), unit], w_out[unit, channel] = GATE, sign
    net = _network(w_in, np.zeros((8, 8)), b, w_out, tasks=tasks)
    groups = [
        analysis.UnitGroup(f"{t} readout", np.arange(4 * g, 4 * g + 4), (t,))
        for g, t in enumerate(tasks)
    ]
    effects = analysis.lesion_effects(net, groups, rng=np.random.default_rng(0), trials=64)
    assert effects.tasks == tasks and effects.groups == ("fdgo readout", "reactgo readout")
    assert np.all(effects.baseline > 0.8)
    np.testing.assert_array_equal(effects.own, np.eye(2, dtype=bool))
    assert np.all(np.diag(effects.performance) < 0.3)  # a readout of zeros points at angle 0
    # the spared task sees the same trials and noise, and its units are untouched
    np.testing.assert_array_equal(effects.delta[[0, 1], [1, 0]], 0.0)
    np.testing.assert_array_equal(effects.other_drop, 0.0)
    np.testing.assert_allclose(effects.own_drop, effects.baseline - np.diag(effects.performance))


# ----------------------------------------------------------------------------- context
def test_context_end_states_match_the_closed_form():
    """With W_rec = 0 and b = 0, h relaxes geometrically to relu(x W_in) under constant input."""
    rng = np.random.default_rng(1)
    tasks = ("fdgo", "delaygo", "dmsgo")
    n = 6
    w_in = rng.normal(size=(N_INPUT, n))
    net = _network(w_in, np.zeros((n, n)), np.zeros(n), tasks=tasks)
    angles = np.array([0.3, 2.0, 4.0])
    result = analysis.context_end_states(net, angles=angles, stim_step=1)
    steps = make_trials("delaygo", "test").period_slice("Context").stop  # 25
    drive = w_in[0] + w_in[[_rule(t) for t in tasks]]  # (3, n) fixation + rule
    end = (1 - (1 - ALPHA) ** steps) * np.maximum(drive, 0)
    stim = np.stack([np.sin(angles), np.cos(angles)], axis=1) @ w_in[1:3]  # (3 angles, n)
    settled = np.maximum(drive[:, None] + stim[None], 0)  # (tasks, angles, n)
    reached = 1 - (1 - ALPHA) ** 2  # two steps into the stimulus
    updates = reached * (settled - end[:, None])
    np.testing.assert_allclose(result.end_states, np.repeat(end[:, None], 3, axis=1), rtol=1e-5)
    np.testing.assert_allclose(result.updates, updates, rtol=1e-4, atol=1e-6)
    assert result.tasks == tasks and result.distance.shape == (3, 3)
    np.testing.assert_allclose(result.distance[0, 2], np.linalg.norm(end[0] - end[2]), rtol=1e-5)
    cosines = np.sum(updates[0] * updates[1], axis=1) / (
        np.linalg.norm(updates[0], axis=1) * np.linalg.norm(updates[1], axis=1)
    )
    np.testing.assert_allclose(result.angle[0, 1], np.degrees(np.arccos(cosines)).mean(), rtol=1e-4)
    distance, angle = result.pairs()
    np.testing.assert_allclose(distance, result.distance[[0, 0, 1], [1, 2, 2]])
    assert angle.shape == (3,)


def test_linear_fit_recovers_a_planted_line():
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 5, 105)
    y = 2.0 * x + 1.0 + rng.normal(0, 0.3, 105)
    fit = analysis.linear_fit(x, y, rng=np.random.default_rng(0), n_splits=200)
    assert fit.slope == pytest.approx(2.0, abs=0.05) and fit.intercept == pytest.approx(
        1.0, abs=0.2
    )
    assert fit.r2 > 0.95 and fit.r2_mean > 0.9 and fit.r2_splits.shape == (200,)
    assert 0 < fit.r2_std < 0.1
    again = analysis.linear_fit(x, y, rng=np.random.default_rng(0), n_splits=200)
    np.testing.assert_array_equal(again.r2_splits, fit.r2_splits)
    unrelated = analysis.linear_fit(x, rng.normal(size=105), rng=np.random.default_rng(0))
    assert unrelated.r2_mean < 0.1
    with pytest.raises(ValueError, match="finite points"):
        analysis.linear_fit(x[:3], y[:3], rng=np.random.default_rng(0))
