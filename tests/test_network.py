"""The network against the paper's original code, and its basic contracts."""

import numpy as np
import pytest
from conftest import load_fixture

from flexmt import load_network
from flexmt.network import (
    ACTIVATIONS,
    Network,
    evaluate,
    evaluate_variants,
    init_network,
    objective,
    performance,
    run_variants,
)
from flexmt.tasks import make_trials

ROLLOUT_TASKS = ["delaygo", "delayanti", "contextdelaydm1", "dmcgo", "reactgo"]


@pytest.mark.parametrize("task", ROLLOUT_TASKS)
def test_rollout_matches_original(original_dir, task):
    net = load_network(original_dir)
    ref = load_fixture(f"original_net_128/rollout_nonoise_{task}.npz")
    trials = make_trials(task, "test")
    rollout = net.run(trials.x)
    np.testing.assert_allclose(rollout.y_hat, ref["y_hat"], atol=1e-4)
    np.testing.assert_allclose(
        rollout.h[:, ref["h_subset_batch_index"]], ref["h_subset"], atol=1e-4
    )
    cost_lsq, cost_reg = objective(net, trials)
    np.testing.assert_allclose(cost_lsq, ref["cost_lsq"], rtol=1e-4)
    np.testing.assert_allclose(cost_reg, ref["cost_reg"], rtol=1e-4)
    np.testing.assert_array_equal(performance(rollout.y_hat, trials.y_loc), ref["perf"])


def test_original_folder_settings(original_dir):
    net = load_network(original_dir)
    assert (net.n_rnn, net.n_input, net.activation) == (128, 20, "softplus")
    assert net.sigma_rec == 0.05 and len(net.tasks) == 15


def test_init_diag_and_shapes():
    net = init_network(32, rng=np.random.default_rng(0), w_rec_coeff=0.8)
    np.testing.assert_array_equal(net.w_rec, 0.8 * np.eye(32, dtype=np.float32))
    assert net.w_in.shape == (20, 32) and net.w_out.shape == (32, 3)
    assert np.all(net.b == 0) and np.all(net.b_out == 0)
    assert abs(net.w_in.std() * np.sqrt(20) - 1) < 0.1


def test_randortho_is_orthogonal():
    net = init_network(16, rng=np.random.default_rng(1), w_rec_init="randortho", w_rec_coeff=1.0)
    np.testing.assert_allclose(net.w_rec @ net.w_rec.T, np.eye(16), atol=1e-5)


def test_lesion_silences_outgoing_weights():
    net = init_network(8, rng=np.random.default_rng(0), w_rec_init="randgauss")
    lesioned = net.lesion([2, 5])
    assert np.all(lesioned.w_rec[[2, 5]] == 0) and np.all(lesioned.w_out[[2, 5]] == 0)
    np.testing.assert_array_equal(lesioned.w_rec[:, 2][[0, 1, 3]], net.w_rec[:, 2][[0, 1, 3]])
    x = make_trials("fdgo", "test").x
    lesioned_out = lesioned.run(x)
    # whatever drives the lesioned units, nothing downstream of them changes
    w_rec = lesioned.w_rec.copy()
    w_rec[:, [2, 5]] = 3.0
    rewired = lesioned.replace(w_rec=w_rec)
    np.testing.assert_allclose(rewired.run(x).y_hat, lesioned_out.y_hat, atol=1e-6)
    with pytest.raises(ValueError, match="lesioned units"):
        net.lesion([8])


def test_step_function_matches_run():
    net = init_network(12, rng=np.random.default_rng(3), w_rec_init="randgauss")
    x = make_trials("delaygo", "test").x[:5, :4]
    h = net.run(x).h
    step = net.step_function()
    h_next = step(h[2], x[3]).numpy()
    np.testing.assert_allclose(h_next, h[3], atol=1e-5)


def test_noise_needs_generator_and_is_reproducible():
    net = init_network(8, rng=np.random.default_rng(0))
    x = make_trials("fdgo", "test").x
    with pytest.raises(ValueError, match="Generator"):
        net.run(x, noise=True)
    a = net.run(x, noise=True, rng=np.random.default_rng(5)).h
    b = net.run(x, noise=True, rng=np.random.default_rng(5)).h
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, net.run(x).h)


def test_softplus_is_log1p_exp_without_overflow():
    z = np.array([-200.0, -30.0, -1.0, 0.0, 0.5, 30.0, 200.0], np.float32)
    out = ACTIVATIONS["softplus"](z)
    assert out.dtype == np.float32 and np.all(np.isfinite(out))
    exact = np.logaddexp(0.0, z.astype(np.float64)).astype(np.float32)
    np.testing.assert_allclose(out, exact, rtol=1e-6)


def test_variants_run_side_by_side_as_each_alone():
    rng = np.random.default_rng(0)
    net = init_network(16, rng=rng, w_rec_init="randgauss")
    nets = [net, net.lesion([1, 4]), net.replace(b=rng.standard_normal(16))]
    x = make_trials("delayanti", "random", rng=rng, batch_size=5).x
    h0 = rng.standard_normal(16)
    together = run_variants(nets, x, noise=True, rng=np.random.default_rng(7), h0=h0)
    assert together.shape == (x.shape[0], 3, 5, 16)
    for k, n in enumerate(nets):
        alone = n.run(x, noise=True, rng=np.random.default_rng(7), h0=h0).h
        np.testing.assert_array_equal(together[:, k], alone)


def test_variants_are_scored_on_the_same_trials_as_each_alone():
    net = init_network(16, rng=np.random.default_rng(2), w_rec_init="randgauss")
    nets = [net, net.lesion(np.arange(8))]
    tasks = ["fdgo", "delaydm1"]
    together = evaluate_variants(nets, rng=np.random.default_rng(3), trials=40, tasks=tasks)
    alone = [evaluate(n, rng=np.random.default_rng(3), trials=40, tasks=tasks) for n in nets]
    assert together == alone


def test_variants_must_share_their_settings():
    net = init_network(8, rng=np.random.default_rng(0))
    x = make_trials("fdgo", "test").x
    with pytest.raises(ValueError, match="network 1 differs from network 0"):
        run_variants([net, net.replace(alpha=0.1)], x)
    with pytest.raises(ValueError, match="no networks given"):
        run_variants([], x)


def test_bad_shapes_and_activation():
    rng = np.random.default_rng(0)
    net = init_network(4, rng=rng)
    with pytest.raises(ValueError, match="w_rec has shape"):
        Network(net.w_in, np.zeros((3, 3)), net.b, net.w_out, net.b_out)
    with pytest.raises(ValueError, match="unknown activation 'sigmoid'"):
        net.replace(activation="sigmoid")
    with pytest.raises(ValueError, match=r"x has shape \(5, 2\)"):
        net.run(np.zeros((5, 2)))


def test_performance_rules():
    y_loc = np.array([[-1.0, 1.0, 1.0, 1.0]])
    y_hat = np.zeros((1, 4, 3))
    y_hat[0, 0] = [0.8, 0, 0]  # fixating when required: correct
    y_hat[0, 1] = [0.0, np.sin(1.05), np.cos(1.05)]  # within 0.1π: correct
    y_hat[0, 2] = [0.0, np.sin(1.5), np.cos(1.5)]  # off target
    y_hat[0, 3] = [0.9, np.sin(1.0), np.cos(1.0)]  # right angle but still fixating
    np.testing.assert_array_equal(performance(y_hat, y_loc), [1, 1, 0, 0])
