"""Ring-attractor and sweep measures of Figs 1–2 on constructed fixed points with known answers."""

import numpy as np
import pytest

from flexmt import fixed_points as fp
from flexmt import plotting_atlas
from flexmt import tasks as task_defs
from flexmt.analysis import motifs
from flexmt.network import init_network

N, N_IN = 6, 3
CENTRE = np.array([1.0, -2.0, 0.5, 0.0, 0.0, 0.0])


def _points(xstar, leading=None, qstar=None, inputs=None) -> fp.FixedPoints:
    """Fixed points at ``xstar`` whose Jacobians are diagonal: largest eigenvalue ``leading``
    (default 0.5), the others 0.5."""
    xstar = np.asarray(xstar, float)
    n = len(xstar)
    leading = np.full(n, 0.5) if leading is None else np.asarray(leading, float)
    jacobians = np.tile(0.5 * np.eye(N), (n, 1, 1))
    jacobians[:, 0, 0] = leading
    return fp.FixedPoints(
        xstar=xstar,
        qstar=np.full(n, 1e-10) if qstar is None else np.asarray(qstar, float),
        inputs=np.zeros((n, N_IN)) if inputs is None else inputs,
        n_iters=np.zeros(n, int),
        x_init=xstar,
        jacobians=jacobians,
    )


def _ring(n: int, radius: float = 2.0, phase: float = 0.0, arc: float = 2 * np.pi) -> np.ndarray:
    """n points evenly along an arc (a full circle by default) in the plane of units 0 and 1,
    around CENTRE, with a tiny offset in the other units."""
    angles = phase + arc * np.arange(n) / (n if arc == 2 * np.pi else n - 1)
    x = np.tile(CENTRE, (n, 1))
    x[:, 0] += radius * np.cos(angles)
    x[:, 1] += radius * np.sin(angles)
    x[:, 2:] += 1e-3 * np.cos(3 * angles)[:, None]
    return x


def test_a_planted_ring_measures_as_a_ring():
    leading = np.where(np.arange(36) % 2, 1.001, 0.999)  # marginal: half just above 1
    ring = motifs.ring_measures(_points(_ring(36), leading))
    assert ring.n_points == 36 and ring.n_stable == 18 and ring.fraction_stable == 0.5
    np.testing.assert_allclose(ring.max_abs_eig, leading)
    assert ring.plane_variance > 0.9999
    assert ring.radius == pytest.approx(2.0, rel=1e-4)
    assert ring.radius_spread < 1e-3
    assert ring.largest_gap == pytest.approx(10.0, abs=1e-6)
    assert ring.fraction_marginal() == 1.0 and ring.fraction_marginal(1e-4) == 0.0
    assert ring.eigenvalue_summary() == "median 1.0000, 5–95% 0.9990–1.0010"


def test_the_ring_table_has_one_row_of_numbers_per_network():
    leading = np.where(np.arange(36) % 2, 1.002, 0.996)
    rings = {
        "round": motifs.ring_measures(_points(_ring(36), leading)),
        "two points": motifs.ring_measures(_points(_ring(2), leading=[0.5, 0.996])),
    }
    table = plotting_atlas.ring_table(rings, {"round": 4.0, "two points": 1.0})
    assert list(table.index) == ["round", "two points"]
    round_row, pair_row = table.loc["round"], table.loc["two points"]
    assert round_row["points"] == 36 and pair_row["points"] == 2
    assert round_row["radius / typical norm"] == pytest.approx(0.5, rel=1e-4)
    assert round_row["widest empty arc (°)"] == pytest.approx(10.0, abs=1e-6)
    assert round_row["median max |λ| − 1"] == pytest.approx(-0.001)
    assert round_row["share of max |λ| within 0.01 of 1"] == 1.0
    assert np.isnan(pair_row[["variance in top 2 PCs", "radius / typical norm"]]).all()
    assert pair_row["median max |λ| − 1"] == pytest.approx(-0.252)
    assert pair_row["share of max |λ| within 0.01 of 1"] == 0.5


def test_a_line_and_an_arc_are_not_closed_rings():
    t = np.linspace(-1, 1, 21)[:, None]
    line = motifs.ring_measures(_points(CENTRE + t * np.eye(N)[0]))
    assert line.largest_gap == pytest.approx(180.0, abs=1e-6)
    assert line.radius_spread > 0.5  # distances from the centroid run from 0 to the ends
    half = motifs.ring_measures(_points(_ring(19, arc=np.pi)))
    # about its own centroid, a half ring leaves a wide empty arc and an uneven radius
    assert half.largest_gap > 90.0 and half.radius_spread > 0.2
    assert half.plane_variance > 0.9999


def test_fewer_than_three_points_have_no_geometry():
    ring = motifs.ring_measures(_points(_ring(2), leading=[0.9, 1.1]))
    assert ring.n_points == 2 and ring.n_stable == 1
    assert np.isnan([ring.plane_variance, ring.radius, ring.radius_spread, ring.largest_gap]).all()
    empty = motifs.ring_measures(_points(_ring(3))[[]])
    assert (
        empty.n_points == 0 and np.isnan([empty.fraction_stable, empty.fraction_marginal()]).all()
    )
    assert empty.eigenvalue_summary() == "no point"


def test_selection_keeps_low_q_points_merged_to_the_spacing():
    x = _ring(36)  # neighbours 2 × 2 sin(5°) ≈ 0.35 apart
    q = np.where(np.arange(36) < 30, 1e-8, 1e-3)
    selected = motifs.select_points(_points(x, qstar=q), max_q=1e-6, spacing=0.3)
    assert len(selected) == 30
    merged = motifs.select_points(_points(x, qstar=q), max_q=1e-6, spacing=0.5)
    assert 10 <= len(merged) <= 15  # every second point of the arc survives
    gaps = np.linalg.norm(merged.xstar[:, None] - merged.xstar[None], axis=-1)
    assert gaps[~np.eye(len(merged), dtype=bool)].min() > 0.5
    np.testing.assert_allclose(motifs.max_abs_eigenvalue(merged), 0.5)


def test_ring_distance_of_shared_and_displaced_rings():
    one = _points(_ring(72))
    other = _points(_ring(72, phase=np.pi / 72))  # the same ring, sampled in between
    assert motifs.ring_distance(one, other) < 0.1
    shift = _ring(72) + 0.7 * np.eye(N)[3]
    assert motifs.ring_distance(one, _points(shift)) == pytest.approx(0.7, rel=1e-3)
    assert np.isnan(motifs.ring_distance(one, one[[]]))
    # over the radius (2): one ring, a displaced one, and one ring against two points
    assert motifs.relative_ring_distance(one, other) < 0.05
    assert motifs.relative_ring_distance(one, _points(shift)) == pytest.approx(0.35, rel=1e-3)
    pair = one[[0, 36]]  # opposite points of the ring: no radius of their own
    assert motifs.relative_ring_distance(one, pair) == pytest.approx(
        motifs.ring_distance(one, pair) / 2.0, rel=1e-4
    )
    assert np.isnan(motifs.relative_ring_distance(pair, pair[[0]]))


def test_period_fixed_points_search_a_repeated_input_once():
    net = init_network(12, rng=np.random.default_rng(0), tasks=("delaygo",))
    found = motifs.period_fixed_points(net, "MemoryPro", np.random.default_rng(1), n_states=16)
    assert list(found) == ["Context", "Stimulus", "Memory", "Response"]
    assert found["Context"] is found["Memory"]  # fixation and rule only, in both
    assert found["Stimulus"] is not found["Memory"]
    assert all(p.qstar.max() < 1e-6 for p in found.values())  # a contracting network
    selected = motifs.select_periods(found, max_q=1e-6, spacing=1e-3)
    assert selected["Context"] is selected["Memory"]
    assert len(selected["Memory"]) == 1  # one stable point: no memory before training
    assert selected["Memory"].is_stable.all()


def test_period_points_search_each_tasks_input_from_the_same_states():
    net = init_network(12, rng=np.random.default_rng(0), tasks=("delaygo", "delayanti"))
    found = motifs.period_points(
        net,
        ["MemoryPro", "MemoryAnti"],
        "Memory",
        np.random.default_rng(1),
        n_states=8,
        keep_all=True,
    )
    assert list(found) == ["delaygo", "delayanti"]
    for task, points in found.items():
        trials = task_defs.make_trials(task, "test")
        assert len(points) == 8
        np.testing.assert_array_equal(
            points.inputs, np.tile(fp.period_input(trials, "Memory"), (8, 1))
        )
    np.testing.assert_array_equal(found["delaygo"].x_init, found["delayanti"].x_init)
    assert not np.array_equal(found["delaygo"].inputs, found["delayanti"].inputs)  # the rules
    unselected = motifs.period_points(net, ["MemoryAnti"], "Memory", np.random.default_rng(1))
    selected = motifs.period_points(
        net, ["MemoryAnti"], "Memory", np.random.default_rng(1), max_q=1e-7, spacing=1e-4
    )
    expected = motifs.select_points(unselected["delayanti"], 1e-7, 1e-4)
    np.testing.assert_array_equal(selected["delayanti"].xstar, expected.xstar)


def test_typical_norm_is_the_median_state_norm_over_the_tasks():
    net = init_network(12, rng=np.random.default_rng(0), tasks=("delaygo", "dmsgo"))
    norms = [
        np.linalg.norm(net.run(task_defs.make_trials(task, "test").x).h, axis=-1).ravel()
        for task in ("delaygo", "dmsgo")
    ]
    assert len(norms[0]) != len(norms[1])  # the tasks last differently long
    assert motifs.typical_norm(net, ["MemoryPro"]) == pytest.approx(np.median(norms[0]))
    assert motifs.typical_norm(net, ["MemoryPro", "ReactMatch2Sample"]) == pytest.approx(
        np.median(np.concatenate(norms))
    )


def test_a_network_must_know_the_tasks_of_the_page():
    net = init_network(4, rng=np.random.default_rng(0), tasks=("delaygo",))
    motifs.check_trained_on(net, ["delaygo"])
    with pytest.raises(ValueError, match="not trained on MemoryAnti .*allowed: .*MemoryPro"):
        motifs.check_trained_on(net, ["MemoryPro", "MemoryAnti"], "memorypro-seed0")


def test_a_sweep_with_a_single_fixed_point_is_drawn():
    point = _points(CENTRE[None, :])
    sweep = fp.Sweep(
        alphas=np.array([0.0, 0.5, 1.0]),
        inputs=np.zeros((3, N_IN)),
        fixed_points=(point, point[:0], point[:0]),
        rollout_ends=CENTRE + np.arange(3)[:, None] * np.eye(N)[:2].sum(axis=0),
        relevant=np.array([0, -1, -1]),
    )
    fig = plotting_atlas.plot_sweeps({"one point": sweep})
    assert len(fig.axes) == 4  # plane, diagram, eigenvalues, colour bar
