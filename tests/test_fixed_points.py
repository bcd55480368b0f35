"""Fixed points against systems solved by hand, a trained network's rollouts, and bad input."""

import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from scipy.optimize import brentq

from flexmt import fixed_points as fp
from flexmt import tasks, training
from flexmt.checkpoint import load_network
from flexmt.network import init_network

ALPHA = 0.2
R_TANH2 = brentq(lambda r: np.tanh(2 * r) - r, 0.5, 1.0)  # positive root of r = tanh(2r)


def _linear_step(a, b):
    """h' = A h + b (float64): the fixed point is (I − A)⁻¹ b, the Jacobian A."""
    a_t, b_t = tf.constant(a, tf.float64), tf.constant(b, tf.float64)
    return lambda h, u: tf.matmul(h, a_t, transpose_b=True) + b_t + 0 * u


def _leaky_tanh_step(w):
    """h' = (1 − α) h + α tanh(W h + u) (float64): fixed points solve h = tanh(W h + u)."""
    w_t = tf.constant(w, tf.float64)
    return lambda h, u: (1 - ALPHA) * h + ALPHA * tf.tanh(tf.matmul(h, w_t, transpose_b=True) + u)


def _ring_step(h, u):
    """h' = h + α (1 − ‖h_12‖²) h_12 ⊕ 0.5 h_3: a ring of fixed points ‖h_12‖ = 1, h_3 = 0."""
    plane, rest = h[:, :2], h[:, 2:]
    radial = 1 - tf.reduce_sum(plane**2, axis=1, keepdims=True)
    return tf.concat([plane + ALPHA * radial * plane, 0.5 * rest + 0 * u], axis=1)


@pytest.fixture(scope="module")
def trained_net(tmp_path_factory):
    """A 32-unit softplus network trained 400 steps on DelayPro (10–20 s)."""
    config = training.TrainConfig(
        tasks=("fdgo",),
        n_rnn=32,
        learning_rate=3e-3,
        max_steps=400,
        eval_every=400,
        eval_batches=1,
        preset="fixed-point-test",
    )
    (folder,) = training.train(config, [0], tmp_path_factory.mktemp("net"), progress=False)
    return load_network(folder)


# ----------------------------------------------------------------------------- hand-solved
@pytest.mark.parametrize("spectral_radius", [0.9, 1.3])
def test_linear_map_unique_point_and_eigenvalues(spectral_radius):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 6))
    a *= spectral_radius / np.abs(np.linalg.eigvals(a)).max()
    b = rng.standard_normal(6)
    found = fp.find_fixed_points(
        _linear_step(a, b), rng.standard_normal((50, 6)), np.zeros(1), dtype="float64"
    )
    assert len(found) == 1 and found.qstar[0] < 1e-12
    # ‖x* − x_true‖ ≤ ‖(I − A)⁻¹‖ ‖F(x*) − x*‖ = ‖(I − A)⁻¹‖ √(2q)
    error = np.linalg.norm(found.xstar[0] - np.linalg.solve(np.eye(6) - a, b))
    assert error <= np.linalg.norm(np.linalg.inv(np.eye(6) - a), 2) * np.sqrt(2 * found.qstar[0])
    np.testing.assert_allclose(found.jacobians[0], a, atol=1e-12)
    expected = np.linalg.eigvals(a)
    np.testing.assert_allclose(found.eigenvalues[0], expected[np.argsort(-np.abs(expected))])
    assert found.is_stable[0] == (spectral_radius < 1)


def test_bistable_1d_tanh_map():
    step = _leaky_tanh_step(np.array([[2.0]]))
    found = fp.find_fixed_points(
        step, np.linspace(-2, 2, 101)[:, None], np.zeros(1), dtype="float64"
    )
    order = np.argsort(found.xstar[:, 0])
    np.testing.assert_allclose(found.xstar[order, 0], [-R_TANH2, 0, R_TANH2], atol=1e-5)
    # dF/dh = 1 − α + 2α(1 − h²) at the exact roots h = tanh(2h)
    slopes = 1 - ALPHA + 2 * ALPHA * (1 - np.array([R_TANH2, 0, R_TANH2]) ** 2)
    np.testing.assert_allclose(found.eigenvalues[order, 0].real, slopes, atol=1e-6)
    np.testing.assert_array_equal(found.is_stable[order], [True, False, True])


def test_bistable_2d_tanh_map_with_saddle():
    """Mutual inhibition: stable (r, −r), (−r, r) and a saddle at 0, eigenvalues by hand."""
    w = np.array([[0.0, -2.0], [-2.0, 0.0]])
    rng = np.random.default_rng(1)
    found = fp.find_fixed_points(
        _leaky_tanh_step(w), rng.uniform(-1.5, 1.5, (200, 2)), np.zeros(2), dtype="float64"
    )
    points = found.xstar[np.lexsort(found.xstar.T[::-1])]
    np.testing.assert_allclose(
        points, [[-R_TANH2, R_TANH2], [0, 0], [R_TANH2, -R_TANH2]], atol=1e-5
    )
    for i, x in enumerate(found.xstar):
        gain = 1 - R_TANH2**2 if abs(x[0]) > 0.5 else 1.0  # tanh' of both units at the root
        expected = [1 - ALPHA + 2 * ALPHA * gain, 1 - ALPHA - 2 * ALPHA * gain]
        np.testing.assert_allclose(found.eigenvalues[i].real, expected, atol=1e-6)
        assert found.is_stable[i] == (abs(x[0]) > 0.5)
    j, right, left = found.jacobians, found.right_eigenvectors, found.left_eigenvectors
    lam = found.eigenvalues
    np.testing.assert_allclose(j @ right, right * lam[:, None, :], atol=1e-10)
    np.testing.assert_allclose(
        np.swapaxes(left, 1, 2) @ j, np.swapaxes(left, 1, 2) * lam[:, :, None], atol=1e-10
    )
    np.testing.assert_allclose(
        np.swapaxes(left, 1, 2) @ right, np.eye(2)[None].repeat(3, 0), atol=1e-10
    )


def test_ring_of_fixed_points():
    rng = np.random.default_rng(2)
    starts = np.c_[rng.uniform(-1.5, 1.5, (300, 2)), rng.standard_normal(300)]
    found = fp.find_fixed_points(_ring_step, starts, np.zeros(1), dtype="float64", tol_unique=0.05)
    # q < 1e-12 puts a point within √(2q)/(2α) ≈ 4e-6 of the ring, √(2q)/0.5 of the plane
    on_ring = np.abs(np.linalg.norm(found.xstar[:, :2], axis=1) - 1) < 1e-5
    at_origin = np.linalg.norm(found.xstar, axis=1) < 1e-5
    assert np.all(on_ring | at_origin) and at_origin.sum() <= 1
    np.testing.assert_allclose(found.xstar[:, 2], 0, atol=1e-5)
    angles = np.sort(np.arctan2(found.xstar[on_ring, 1], found.xstar[on_ring, 0]))
    assert on_ring.sum() > 40 and np.max(np.diff(np.r_[angles, angles[0] + 2 * np.pi])) < 0.5
    # on the ring: eigenvalue 1 along the tangent, 1 − 2α radially, 0.5 off the plane
    expected = np.broadcast_to([1, 1 - 2 * ALPHA, 0.5], (on_ring.sum(), 3))
    np.testing.assert_allclose(np.abs(found.eigenvalues[on_ring]), expected, atol=3e-5)
    tangent = np.c_[-found.xstar[on_ring, 1], found.xstar[on_ring, 0], np.zeros(on_ring.sum())]
    overlap = np.abs(np.sum(found.right_eigenvectors[on_ring, :, 0].real * tangent, axis=1))
    np.testing.assert_allclose(overlap, 1, atol=1e-5)


def test_jacobians_match_finite_differences():
    rng = np.random.default_rng(3)
    w_rec, w_in = rng.standard_normal((5, 5)), rng.standard_normal((3, 5))
    w_rec_t, w_in_t = tf.constant(w_rec), tf.constant(w_in)

    def step(h, u):
        return (1 - ALPHA) * h + ALPHA * tf.nn.softplus(h @ w_rec_t + u @ w_in_t)

    def step_np(h, u):
        return (1 - ALPHA) * h + ALPHA * np.logaddexp(0, h @ w_rec + u @ w_in)

    h, u = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    eps = 1e-6
    fd_h = np.stack(
        [(step_np(h + eps * e, u) - step_np(h - eps * e, u)) / (2 * eps) for e in np.eye(5)], axis=2
    )
    fd_u = np.stack(
        [(step_np(h, u + eps * e) - step_np(h, u - eps * e)) / (2 * eps) for e in np.eye(3)], axis=2
    )
    np.testing.assert_allclose(fp.state_jacobian(step, h, u, dtype="float64"), fd_h, atol=1e-8)
    np.testing.assert_allclose(fp.input_jacobian(step, h, u, dtype="float64"), fd_u, atol=1e-8)


def test_network_step_jacobian_matches_run():
    """The flexmt network's TF step, differentiated, against finite differences of Network.run."""
    net = init_network(16, rng=np.random.default_rng(4), activation="tanh", w_rec_init="randgauss")
    rng = np.random.default_rng(5)
    h, u = (
        rng.standard_normal((3, 16)).astype(np.float32),
        rng.standard_normal((3, 20)).astype(np.float32),
    )

    def run_once(h0, x):
        return net.run(x[None].astype(np.float32), h0=h0).h[0].astype(np.float64)

    eps = 1e-2
    fd = np.stack(
        [(run_once(h + eps * e, u) - run_once(h - eps * e, u)) / (2 * eps) for e in np.eye(16)],
        axis=2,
    )
    np.testing.assert_allclose(fp.state_jacobian(net.step_function(), h, u), fd, atol=2e-4)
    fd_u = np.stack(
        [(run_once(h, u + eps * e) - run_once(h, u - eps * e)) / (2 * eps) for e in np.eye(20)],
        axis=2,
    )
    np.testing.assert_allclose(fp.input_jacobian(net.step_function(), h, u), fd_u, atol=2e-4)


# ----------------------------------------------------------------------------- batching
def test_states_of_different_inputs_optimised_together_match_separate_runs():
    step = _leaky_tanh_step(np.array([[2.0]]))
    starts = np.linspace(-2, 2, 41)[:, None]
    inputs = np.repeat([[0.0], [0.3]], 41, axis=0)
    together = fp.find_fixed_points(step, np.r_[starts, starts], inputs, dtype="float64")
    for u in (0.0, 0.3):
        alone = fp.find_fixed_points(step, starts, [u], dtype="float64")
        mine = together[together.inputs[:, 0] == u]
        np.testing.assert_allclose(np.sort(mine.xstar[:, 0]), np.sort(alone.xstar[:, 0]), atol=1e-7)
    assert len(together) == 3 + 3  # h = tanh(2h + 0.3) still has three roots


def test_keep_all_returns_every_state_and_filters_are_public():
    step = _leaky_tanh_step(np.array([[2.0]]))
    starts = np.linspace(-2, 2, 41)[:, None]
    everything = fp.find_fixed_points(step, starts, np.zeros(1), keep_all=True, dtype="float64")
    assert len(everything) == 41
    np.testing.assert_array_equal(everything.x_init, starts)
    assert len(everything.drop_outliers(starts).unique()) == 3
    far = fp.FixedPoints.concatenate([everything, everything[:1]])
    far = fp.FixedPoints(
        **{**_fields(far), "xstar": far.xstar + np.r_[np.zeros(41), 100.0][:, None]}
    )
    assert len(far.drop_outliers(starts)) == 41  # the moved copy is 100 away: an outlier
    # each state is optimised on its own: batches of 4 states give the same results
    small_batches = fp.find_fixed_points(
        step, starts, np.zeros(1), keep_all=True, dtype="float64", batch_size=4, chunk_iters=7
    )
    np.testing.assert_array_equal(small_batches.n_iters, everything.n_iters)
    np.testing.assert_allclose(small_batches.xstar, everything.xstar, rtol=0, atol=1e-12)


def _fields(points):
    return {
        name: getattr(points, name)
        for name in ("xstar", "qstar", "inputs", "n_iters", "x_init", "jacobians")
    }


def test_unstable_state_stops_and_max_iters_is_respected():
    """h' = 2h + 1 diverges under iteration but has the fixed point −1; q is convex."""
    step = _linear_step(np.array([[2.0]]), np.array([1.0]))
    found = fp.find_fixed_points(
        step, [[3.0], [-4.0]], np.zeros(1), max_iters=7, keep_all=True, dtype="float64"
    )
    assert np.all(found.n_iters == 7) and np.all(found.qstar > 1e-6)
    found = fp.find_fixed_points(step, [[3.0], [-4.0]], np.zeros(1), dtype="float64")
    np.testing.assert_allclose(found.xstar, [[-1.0]], atol=1e-6)
    assert not found.is_stable[0]
    assert fp.FixedPoints(
        **_fields(found), stability_criterion="real", stability_threshold=2.5
    ).is_stable[0]


# ----------------------------------------------------------------------------- trained network
def _assert_rollouts_confirm_stability(net, points, rng) -> int:
    """Start 1e-3 from each point (mostly along its leading eigenvector) and run 300 noise-free
    steps under its input: the distance must shrink iff the point is labelled stable. Points
    with a leading |λ| within 0.01 of 1 are skipped (a rollout cannot tell). Returns the count
    of points checked."""
    checked = 0
    for i in np.flatnonzero(np.abs(np.abs(points.eigenvalues[:, 0]) - 1) >= 0.01):
        direction = points.right_eigenvectors[i, :, 0].real
        direction = direction + 0.1 * rng.standard_normal(direction.shape)
        start = points.xstar[i] + 1e-3 * direction / np.linalg.norm(direction)
        x = np.repeat(points.inputs[i][None, None], 300, axis=0)
        end = net.run(x, h0=start).h[-1, 0]
        grew = np.linalg.norm(end - points.xstar[i]) > 1e-3
        assert grew != points.is_stable[i], (i, points.eigenvalues[i, 0])
        checked += 1
    return checked


def test_trained_network_points_meet_tolerance_and_rollouts_confirm_stability(trained_net):
    found = fp.task_period_fixed_points(
        trained_net, np.random.default_rng(6), n_states=200, tol_q=1e-10
    )
    assert list(found) == [("fdgo", "Stimulus"), ("fdgo", "Response")]
    step = trained_net.step_function()
    rng = np.random.default_rng(7)
    checked = 0
    for (task, period), points in found.items():
        trials = tasks.make_trials(task, "test")
        np.testing.assert_array_equal(
            points.inputs, fp.period_input(trials, period)[None].repeat(len(points), 0)
        )
        assert len(points) >= 1 and np.all(points.qstar < 1e-10)
        checked += _assert_rollouts_confirm_stability(trained_net, points, rng)
        # q recomputed from scratch with the network's own step is the reported q
        residual = step(points.xstar, points.inputs).numpy() - points.xstar
        np.testing.assert_allclose(0.5 * np.sum(residual**2, axis=1), points.qstar, atol=1e-11)
    assert checked >= 2


def test_random_tanh_network_unstable_points_are_confirmed_by_rollouts():
    """A random tanh network with gain 1.5 has unstable fixed points as well as stable ones."""
    net = init_network(
        32, rng=np.random.default_rng(9), activation="tanh", w_rec_init="randgauss", w_rec_coeff=1.5
    )
    rng = np.random.default_rng(10)
    u = np.zeros(20, np.float32)
    starts = fp.sample_states(net.run(rng.normal(0, 1, (100, 20, 20))).h, 300, rng, noise_std=0.5)
    points = fp.find_fixed_points(net.step_function(), starts, u, tol_q=1e-10).select_q(1e-10)
    assert (~points.is_stable).sum() >= 2 and _assert_rollouts_confirm_stability(
        net, points, rng
    ) >= 2


def test_sweeps_on_trained_network(trained_net):
    rng = np.random.default_rng(8)
    setup = fp.periods_setup(trained_net, "fdgo", "Stimulus", "Response", rng, n_states=100)
    (sweep,) = fp.interpolate(trained_net.step_function(), [setup], n_interp=4)
    trials = tasks.make_trials("fdgo", "test")
    np.testing.assert_array_equal(sweep.inputs[0], fp.period_input(trials, "Stimulus"))
    np.testing.assert_array_equal(sweep.inputs[-1], fp.period_input(trials, "Response"))
    summary = sweep.summary()
    assert all(v.shape == (5,) for v in summary.values()) and np.all(summary["n_points"] >= 1)
    assert np.all(sweep.relevant >= 0) and np.isnan(summary["relevant_shift"][0])

    setup = fp.tasks_setup(trained_net, "DelayPro", "DelayAnti", "Stimulus", rng, n_states=100)
    (sweep,) = fp.interpolate(trained_net.step_function(), [setup], n_interp=2)
    u_1, u_2 = sweep.inputs[0], sweep.inputs[-1]
    np.testing.assert_array_equal(u_2[:5], u_1[:5])  # same fixation and stimulus
    np.testing.assert_array_equal(u_2[5:], tasks.rule_input("fdanti")[5:])


# ----------------------------------------------------------------------------- interpolation
def test_interpolation_finds_saddle_node_bifurcation():
    """h = tanh(2h + u) has three roots for u < u_c = 2^½ − atanh(2^−½) ≈ 0.533, then one."""
    u_c = np.sqrt(2) - np.arctanh(1 / np.sqrt(2))
    step = _leaky_tanh_step(np.array([[2.0]]))
    starts = np.linspace(-1.5, 1.5, 61)[:, None]
    setup = fp.SweepSetup([0.0], [1.0], starts, [-1.0], rollout_steps=1000)
    (sweep,) = fp.interpolate(step, [setup], max_q=1e-9, dtype="float64")
    summary = sweep.summary()
    before = sweep.alphas < u_c
    np.testing.assert_array_equal(summary["n_points"], np.where(before, 3, 1))
    np.testing.assert_array_equal(summary["n_stable"], np.where(before, 2, 1))
    # the rollout from −1 rests on the negative branch until it vanishes, then jumps
    relevant = sweep.relevant_xstar[:, 0]
    assert np.all(relevant[before] < 0) and np.all(relevant[~before] > 0)
    jump = np.nanargmax(summary["relevant_shift"])
    assert sweep.alphas[jump - 1] < u_c < sweep.alphas[jump]
    # q < 1e-9 and |λ| ≈ 0.94 put a point within √(2q)/(1 − 0.94) ≈ 1e-3 of the exact root
    assert np.all(summary["relevant_stable"] == 1) and np.all(summary["rollout_distance"] < 1e-3)


def test_sweeps_run_together_match_each_run_alone():
    step = _leaky_tanh_step(np.array([[2.0]]))
    setups = [
        fp.SweepSetup([0.0], [1.0], np.linspace(-1.5, 1.5, 61)[:, None], [-1.0], 1000),
        fp.SweepSetup([-1.0], [0.2], np.linspace(-1.0, 1.0, 17)[:, None], [1.0], 30),
    ]
    together = fp.interpolate(step, setups, n_interp=8, max_q=1e-9, dtype="float64")
    for setup, joint in zip(setups, together, strict=True):
        (alone,) = fp.interpolate(step, [setup], n_interp=8, max_q=1e-9, dtype="float64")
        np.testing.assert_array_equal(joint.inputs, alone.inputs)
        np.testing.assert_array_equal(joint.relevant, alone.relevant)
        for a, b in zip(joint.fixed_points, alone.fixed_points, strict=True):
            np.testing.assert_array_equal(a.n_iters, b.n_iters)
            np.testing.assert_allclose(a.xstar, b.xstar, rtol=0, atol=1e-12)
    assert [len(f) for f in together[1].fixed_points] != [len(f) for f in together[0].fixed_points]


def test_sweep_keeps_and_merges_points_as_selecting_them_afterwards_would():
    step = _leaky_tanh_step(np.array([[2.0]]))
    setup = fp.SweepSetup([-0.3], [1.0], np.linspace(-1.5, 1.5, 61)[:, None], [0.05], 1000)
    (every,) = fp.interpolate(step, [setup], n_interp=6, dtype="float64")
    (kept,) = fp.interpolate(step, [setup], n_interp=6, max_q=1e-9, spacing=1.2, dtype="float64")
    for all_points, points, end, k in zip(
        every.fixed_points, kept.fixed_points, kept.rollout_ends, kept.relevant, strict=True
    ):
        expected = all_points.select_q(1e-9).unique(tol_unique=1.2)
        np.testing.assert_array_equal(points.xstar, expected.xstar)
        np.testing.assert_array_equal(points.jacobians, expected.jacobians)
        assert k == np.argmin(np.abs(points.xstar[:, 0] - end[0]))  # among the kept points
    # three points 0.96 apart for u < 0.533 (two merged at 1.2), then one
    assert [len(f) for f in kept.fixed_points][:2] == [2, 2] and len(kept.fixed_points[-1]) == 1
    assert [len(f) for f in every.fixed_points][:2] == [3, 3]


@pytest.mark.parametrize(
    "setups, message",
    [
        ([], "at least one SweepSetup"),
        ([fp.SweepSetup([0.0], [1.0], np.zeros((3, 1)), [0.0], 0)], "rollout_steps"),
        ([fp.SweepSetup([0.0], [1.0, 2.0], np.zeros((3, 1)), [0.0])], "u_1 and u_2"),
        ([fp.SweepSetup([0.0], [1.0], np.zeros((3, 1)), [0.0, 1.0])], "h_start"),
    ],
)
def test_interpolate_rejects_bad_setups(setups, message):
    with pytest.raises(ValueError, match=message):
        fp.interpolate(_leaky_tanh_step(np.array([[2.0]])), setups, dtype="float64")


@pytest.mark.parametrize("option", [{"max_q": -1.0}, {"spacing": 0.0}, {"spacing": "0.3"}])
def test_interpolate_and_find_reject_bad_selection(option):
    step = _leaky_tanh_step(np.array([[2.0]]))
    setup = fp.SweepSetup([0.0], [1.0], np.zeros((3, 1)), [0.0])
    message = f"{next(iter(option))} must be a number > 0"
    with pytest.raises(ValueError, match=message):
        fp.interpolate(step, [setup], dtype="float64", **option)
    with pytest.raises(ValueError, match=message):
        fp.find_fixed_points(step, np.zeros((3, 1)), np.zeros(1), dtype="float64", **option)


def test_find_keeps_and_merges_points_as_selecting_them_afterwards_would():
    step = _leaky_tanh_step(np.array([[2.0]]))
    starts = np.linspace(-2, 2, 41)[:, None]
    inputs = np.full((41, 1), -0.3)  # three points, 0.96 apart
    every = fp.find_fixed_points(step, starts, inputs, dtype="float64")
    kept = fp.find_fixed_points(step, starts, inputs, max_q=1e-9, spacing=1.2, dtype="float64")
    expected = every.select_q(1e-9).unique(tol_unique=1.2)
    assert len(every) == 3 and len(kept) == 2
    for name, value in _fields(expected).items():
        np.testing.assert_array_equal(getattr(kept, name), value)


# ----------------------------------------------------------------------------- data
def test_sample_states_draws_from_the_pool():
    pool = np.random.default_rng(0).standard_normal((7, 5, 3))
    states = fp.sample_states(pool, 50, np.random.default_rng(1), noise_std=0.0)
    flat = pool.reshape(-1, 3).astype(np.float32)
    assert states.shape == (50, 3) and all((flat == s).all(axis=1).any() for s in states)
    noisy = fp.sample_states(pool, 2000, np.random.default_rng(1))
    residual = noisy - fp.sample_states(pool, 2000, np.random.default_rng(1), noise_std=0.0)
    assert abs(residual.std() - 0.05) < 0.003
    np.testing.assert_array_equal(noisy, fp.sample_states(pool, 2000, np.random.default_rng(1)))


def test_select_concatenate_save_load_roundtrip(tmp_path):
    step = _leaky_tanh_step(np.array([[2.0]]))
    found = fp.find_fixed_points(
        step, np.linspace(-2, 2, 21)[:, None], np.zeros(1), dtype="float64"
    )
    assert len(fp.FixedPoints.concatenate([found, found[1]])) == 4
    path = tmp_path / "points.npz"
    found.save(path)
    loaded = fp.FixedPoints.load(path)
    for name, value in _fields(found).items():
        np.testing.assert_array_equal(getattr(loaded, name), value)
    np.testing.assert_array_equal(loaded.is_stable, found.is_stable)
    code = (
        "import sys; from flexmt.fixed_points import FixedPoints; "
        f"p = FixedPoints.load({str(path)!r}); p.is_stable; "
        "assert 'tensorflow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_duplicates_within_tol_unique_merge_to_lowest_q():
    x = np.array([[0.0, 0.0], [5e-4, 0.0], [1.0, 0.0], [0.0, 0.0]])
    points = fp.FixedPoints(
        xstar=x,
        qstar=np.array([1e-9, 1e-12, 1e-10, 1e-14]),
        inputs=np.array([[0.0], [0.0], [0.0], [1.0]]),  # the last is another system
        n_iters=np.zeros(4, int),
        x_init=x,
        jacobians=np.zeros((4, 2, 2)),
    )
    np.testing.assert_array_equal(points.unique().qstar, [1e-12, 1e-10, 1e-14])
    np.testing.assert_array_equal(points.select_q(1e-11).qstar, [1e-12, 1e-14])
    np.testing.assert_array_equal(points[[3, 0]].qstar, [1e-14, 1e-9])


# ----------------------------------------------------------------------------- bad input
def _net_step():
    return init_network(8, rng=np.random.default_rng(0)).step_function()


@pytest.mark.parametrize(
    ("states", "inputs", "message"),
    [
        (np.zeros((4, 9)), np.zeros(20), r"h of shape \(1, 9\)"),
        (np.zeros((4, 8)), np.zeros(7), r"u of shape \(1, 7\)"),
        (np.zeros((4, 8)), np.zeros((3, 20)), r"\(B, n_in\) with B = 4.*got shape \(3, 20\)"),
        (np.zeros((0, 8)), np.zeros(20), r"non-empty.*\(0, 8\)"),
        (np.zeros(8), np.zeros(20), r"non-empty \(B, N\).*\(8,\)"),
        (
            np.r_[np.zeros((3, 8)), np.full((1, 8), np.nan)],
            np.zeros(20),
            r"initial states.*rows \[3\]",
        ),
        (np.zeros((4, 8)), np.r_[np.inf, np.zeros(19)], r"inputs contain 4 non-finite"),
    ],
)
def test_bad_states_and_inputs_raise(states, inputs, message):
    with pytest.raises(ValueError, match=message):
        fp.find_fixed_points(_net_step(), states, inputs)


def test_step_returning_wrong_shape_and_bad_options_raise():
    with pytest.raises(ValueError, match=r"returned shape \(1, 2\)"):
        fp.find_fixed_points(lambda h, u: h[:, :2], np.zeros((3, 4)), np.zeros(1))
    with pytest.raises(ValueError, match="unknown fixed-point options.*tolq"):
        fp.find_fixed_points(_net_step(), np.zeros((3, 8)), np.zeros(20), tolq=1e-3)
    with pytest.raises(ValueError, match="lr_decrease=1.5"):
        fp.FinderSettings(lr_decrease=1.5)
    with pytest.raises(ValueError, match="unknown stability_criterion"):
        fp.FinderSettings(stability_criterion="imag")


def test_corrupt_or_foreign_files_raise_one_clear_error(tmp_path):
    found = fp.find_fixed_points(
        _leaky_tanh_step(np.array([[2.0]])), [[0.5]], np.zeros(1), dtype="float64"
    )
    path = tmp_path / "points.npz"
    found.save(path)
    with np.load(path) as data:
        arrays = dict(data)
    np.savez(tmp_path / "v2.npz", **{**arrays, "format_version": np.array(2)})
    np.savez(tmp_path / "short.npz", **{k: v for k, v in arrays.items() if k != "jacobians"})
    np.savez(tmp_path / "shape.npz", **{**arrays, "qstar": np.zeros(5)})
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    (tmp_path / "cut.npz").write_bytes(path.read_bytes()[:200])
    cases = {
        "v2.npz": "format version 2",
        "short.npz": "lacks arrays",
        "shape.npz": "inconsistent",
        "junk.npz": "corrupt",
        "cut.npz": "corrupt",
        "missing.npz": "missing",
    }
    for name, message in cases.items():
        with pytest.raises(ValueError, match=message):
            fp.FixedPoints.load(tmp_path / name)
