"""Comparisons of Figs 3–5 (flexmt.analysis.pairs) on systems and data with known answers."""

import numpy as np
import pytest
import tensorflow as tf

from flexmt import analysis, plotting_atlas, zoo
from flexmt import fixed_points as fp
from flexmt.analysis import pairs
from flexmt.network import Network
from flexmt.tasks import N_INPUT, RULE_START, TASKS, make_trials, rule_input


def _relu_network(w_in, w_rec, b) -> Network:
    n = w_rec.shape[0]
    return Network(w_in, w_rec, b, np.zeros((n, 3)), np.zeros(3), activation="relu")


# ----------------------------------------------------------------------------- networks
def test_select_networks_reads_the_zoo_and_refuses_unknown_names():
    entries = pairs.select_networks("zoo", ["memorypro"])
    assert [e.name for e in entries] == [
        e.name for e in zoo.list() if e.preset == "memorypro" and e.params_sha256
    ]
    assert pairs.select_networks("zoo", ["memorypro", "no-such-preset"]) == entries
    with pytest.raises(ValueError, match="no network of preset 'no-such-preset' in the zoo; tr"):
        pairs.select_networks("zoo", ["no-such-preset"])
    for name in zoo.names():
        by_name, by_folder = pairs.select_networks([name, str(zoo.folder(name))], [])
        assert by_name.name == by_folder.name == name and by_name.folder == by_folder.folder
    with pytest.raises(ValueError, match="unknown network 'nowhere'.*allowed: 'zoo'"):
        pairs.select_networks(["nowhere"], ["all-softplus"])
    for bad in ("all", []):
        with pytest.raises(ValueError, match="'zoo' or a non-empty list"):
            pairs.select_networks(bad, ["all-softplus"])


def _summary(sparsity, n_clusters, correlation) -> analysis.ArchitectureSummary:
    periods = tuple(analysis.atlas_periods(["delaygo"]))  # Stimulus, Memory, Response
    return analysis.ArchitectureSummary(
        "softplus", 8, 8, n_clusters, 0.5, sparsity, periods, np.asarray(correlation, float)
    )


def test_compare_kinds_averages_over_seeds_and_compares_kinds():
    base = np.array([[1, 0.8, 0.2], [0.8, 1, 0.1], [0.2, 0.1, 1]])
    flipped = 2 * np.eye(3) - base
    other = np.array([[1, 0.1, 0.7], [0.1, 1, 0.3], [0.7, 0.3, 1]])
    # two kinds; the second kind's two networks disagree about the off-diagonal entry
    comparison = pairs.compare_kinds(
        {
            "softplus, trained": [_summary(0.7, 5, base), _summary(0.8, 7, base)],
            "tanh, trained": [_summary(0.5, 3, flipped), _summary(0.6, 4, other)],
        }
    )
    assert comparison.kinds == ("softplus, trained", "tanh, trained")
    np.testing.assert_allclose(comparison.values("sparsity")["softplus, trained"], [0.7, 0.8])
    np.testing.assert_allclose(comparison.correlation[1], (flipped + other) / 2)
    assert comparison.within[0] == pytest.approx(1.0)
    assert comparison.within[1] == pytest.approx(analysis.correlation_similarity(flipped, other))
    assert comparison.mean_difference("sparsity", *comparison.kinds) == pytest.approx(0.2)
    assert comparison.mean_difference("n_clusters", *comparison.kinds) == pytest.approx(2.5)
    assert np.isnan(comparison.mean_difference("sparsity", "softplus, trained", "relu"))
    with pytest.raises(ValueError, match="unknown quantity 'colour'; allowed: sparsity"):
        comparison.values("colour")
    with pytest.raises(ValueError, match="at least one network"):
        pairs.compare_kinds({"tanh, trained": []})


def test_compare_kinds_similarity_of_larger_matrices():
    rng = np.random.default_rng(0)
    profiles = rng.normal(size=(30, 6))
    a = np.corrcoef(profiles, rowvar=False)
    b = np.corrcoef(profiles + 0.1 * rng.normal(size=profiles.shape), rowvar=False)
    c = np.corrcoef(rng.normal(size=(30, 6)), rowvar=False)
    periods = tuple(analysis.atlas_periods(["delaydm1", "fdgo"]))[:6]

    def summary(matrix):
        return analysis.ArchitectureSummary("tanh", 8, 8, 3, 0.5, 0.5, periods, matrix)

    comparison = pairs.compare_kinds({"x": [summary(a), summary(b)], "y": [summary(c)]})
    np.testing.assert_allclose(np.diag(comparison.similarity), 1.0)
    assert comparison.within[0] == pytest.approx(analysis.correlation_similarity(a, b))
    assert comparison.within[0] > 0.9 and np.isnan(comparison.within[1])
    assert comparison.similarity[0, 1] < comparison.within[0]


# ----------------------------------------------------------------------------- two periods
def test_angle_trials_show_the_same_angle_in_each_tasks_own_modality():
    angles = np.array([0.5, 2.0])
    for task in ("fdanti", "reactgo", "delaydm1", "delaydm2", "dmcgo"):
        trials = pairs.angle_trials(task, angles)
        stimulus = trials.x[trials.period_slice(_first_stimulus(task))]
        modality = 2 if task == "delaydm2" else 1
        columns = slice(2 * modality - 1, 2 * modality + 1)
        vector = stimulus[0, :, columns]
        np.testing.assert_allclose(
            np.arctan2(vector[:, 0], vector[:, 1]) % (2 * np.pi), angles, atol=1e-6
        )
        other = slice(3, 5) if modality == 1 else slice(1, 3)
        np.testing.assert_array_equal(stimulus[0, :, other], 0.0)


def _first_stimulus(task: str) -> str:
    return {"reactgo": "Response", "delaydm1": "Stimulus1", "delaydm2": "Stimulus1"}.get(
        task, "Stimulus"
    )


def test_task_period_sweep_follows_the_closed_form_fixed_point():
    """With W_rec = 0, the fixed point under input u is relu(u W_in + b), exactly."""
    rng = np.random.default_rng(4)
    w_in = rng.normal(size=(N_INPUT, 5)).astype(np.float32)
    b = np.full(5, 0.5, np.float32)
    net = _relu_network(w_in, np.zeros((5, 5), np.float32), b)
    setup = pairs.task_periods_setup(
        net,
        ("DelayAnti", "Stimulus"),
        ("ReactPro", "Response"),
        np.random.default_rng(0),
        n_states=40,
    )
    (sweep,) = fp.interpolate(net.step_function(), [setup], n_interp=4)
    start, end = (
        pairs.angle_trials("fdanti", [np.pi / 4]),
        pairs.angle_trials("reactgo", [np.pi / 4]),
    )
    u_1, u_2 = fp.period_input(start, "Stimulus"), fp.period_input(end, "Response")
    np.testing.assert_array_equal(sweep.inputs[0], u_1)
    np.testing.assert_array_equal(sweep.inputs[-1], u_2)
    # fixation and the stimulus at 45° are on in both: only the rule differs
    np.testing.assert_array_equal(u_1[:RULE_START], u_2[:RULE_START])
    np.testing.assert_array_equal(u_2[RULE_START:], rule_input("reactgo")[RULE_START:])
    exact = np.maximum(sweep.inputs @ w_in + b, 0)
    np.testing.assert_allclose(sweep.relevant_xstar, exact, atol=1e-3)
    continuity = pairs.sweep_continuity(sweep)
    assert continuity.count_changes == continuity.stability_changes == continuity.missing == 0
    shifts = np.linalg.norm(np.diff(exact, axis=0), axis=1)
    typical = np.median(np.linalg.norm(exact, axis=1))
    assert continuity.max_shift == pytest.approx(shifts.max() / typical, rel=1e-2)
    assert continuity.jump_ratio < 1.5  # relu of a linear path: no jump


def _tanh_step(h, u):
    """h' = 0.8 h + 0.2 tanh(2h + u): three fixed points for u < u_c ≈ 0.533, then one."""
    return 0.8 * h + 0.2 * tf.tanh(2 * h + u)


def _gentle_step(h, u):
    """h' = 0.8 h + 0.2 tanh(h / 2 + u): one fixed point for every u, moving smoothly."""
    return 0.8 * h + 0.2 * tf.tanh(0.5 * h + u)


def test_sweep_continuity_counts_a_saddle_node_bifurcation():
    starts = np.linspace(-1.5, 1.5, 61)[:, None]
    bistable = fp.SweepSetup([0.0], [1.0], starts, [-1.0], rollout_steps=1000)
    (sweep,) = fp.interpolate(_tanh_step, [bistable], max_q=1e-9, dtype="float64")
    continuity = pairs.sweep_continuity(sweep)
    assert continuity.count_changes == 1  # 3 points, then 1
    assert continuity.stability_changes == 1  # 2 stable points, then 1
    assert continuity.jump_ratio > 10 and continuity.missing == 0 and continuity.bifurcates
    assert continuity.transitions == 20 and continuity.change_share == pytest.approx(2 / 40)
    gentle = fp.SweepSetup([-0.5], [0.5], starts, [-1.0], rollout_steps=1000)
    (smooth,) = fp.interpolate(_gentle_step, [gentle], max_q=1e-9, dtype="float64")
    calm = pairs.sweep_continuity(smooth)
    assert not calm.bifurcates and calm.jump_ratio < 2 and calm.change_share == 0
    assert calm.max_shift < continuity.max_shift / 5


def test_attractor_switches_find_the_saddle_node_and_only_it():
    starts = np.linspace(-1.5, 1.5, 61, dtype=np.float32)[:, None]
    bistable = fp.SweepSetup([0.0], [1.0], starts, [0.0])
    switches = pairs.attractor_switches(_tanh_step, bistable)
    # the lower attractor vanishes between u = 0.50 and 0.55 (u_c ≈ 0.533): its whole basin
    # jumps at that step, and only a few states near the moving saddle switch elsewhere
    assert np.argmax(switches.switch_share) == 10 and switches.max_switch > 0.25
    assert np.sort(switches.switch_share)[-2] < 0.05
    assert switches.min_settled == 1.0
    gentle = fp.SweepSetup([-0.5], [0.5], starts, [0.0])
    calm = pairs.attractor_switches(_gentle_step, gentle)
    assert calm.max_switch == 0.0 and calm.min_settled == 1.0


def test_attractor_switches_say_when_states_never_settle():
    def rotation(h, u):
        c, s = np.cos(0.3), np.sin(0.3)
        return tf.matmul(h, tf.constant([[c, s], [-s, c]], tf.float32)) + 0 * u[:, :1]

    setup = fp.SweepSetup([0.0], [1.0], np.eye(2, dtype=np.float32), [0.0, 0.0])
    circling = pairs.attractor_switches(rotation, setup, n_interp=2, n_steps=100)
    assert circling.settled_share.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="n_steps must be an integer >= 1; got 0"):
        pairs.attractor_switches(rotation, setup, n_steps=0)
    with pytest.raises(ValueError, match="jump must be a number > 0; got -1"):
        pairs.attractor_switches(rotation, setup, jump=-1)


def test_the_switch_table_names_the_step_of_the_largest_switch():
    jumps = pairs.AttractorSwitches(np.array([0.0, 0.4, 0.1]), np.array([1.0, 0.5, 1, 1]), 2.0)
    table = plotting_atlas.switch_table({"a sweep": jumps})
    assert table.loc["a sweep"].tolist() == ["0.40", 2, "0.50"]


def test_sweep_continuity_merges_imprecise_duplicates():
    """Two copies of one point 2e-3 apart (beyond the finder's 1e-3 merge) count once."""

    def points(x):
        x = np.atleast_2d(x)
        n = len(x)
        return fp.FixedPoints(
            xstar=x,
            qstar=np.zeros(n),
            inputs=np.zeros((n, 1)),
            n_iters=np.ones(n, int),
            x_init=x,
            jacobians=np.tile(0.5 * np.eye(x.shape[1]), (n, 1, 1)),
        )

    steps = [points([[1.0, 0.0], [1.002, 0.0]]), points([[1.0, 0.1]]), points([[1.0, 0.2]])]
    sweep = fp.Sweep(
        alphas=np.array([0.0, 0.5, 1.0]),
        inputs=np.zeros((3, 1)),
        fixed_points=tuple(steps),
        rollout_ends=np.array([[1.0, 0.0], [1.0, 0.1], [1.0, 0.2]]),
        relevant=np.array([0, 0, 0]),
    )
    assert sweep.summary()["n_points"].tolist() == [2, 1, 1]
    continuity = pairs.sweep_continuity(sweep)
    assert continuity.count_changes == 0 and continuity.stability_changes == 0
    assert continuity.jump_ratio == pytest.approx(1.0)
    strict = pairs.sweep_continuity(sweep, merge=1e-4)
    # the two copies are two stable points: both counts change once, of 2 × 2 possible
    assert strict.count_changes == strict.stability_changes == 1
    assert strict.change_share == pytest.approx(2 / 4)


# ----------------------------------------------------------------------------- lesions
def test_rank_clusters_finds_the_planted_memory_group():
    periods = tuple(analysis.atlas_periods(["delaygo", "fdgo"]))
    memory = [i for i, p in enumerate(periods) if p[1] == "Memory"]
    rng = np.random.default_rng(0)
    variance = 0.01 * rng.random((24, len(periods)))
    variance[:8, memory] = 1.0  # units 0–7 vary in the Memory period only
    for g, unit in enumerate(range(8, 24)):
        variance[unit, [i for i in range(len(periods)) if i not in memory][g % 4]] = 1.0
    atlas = analysis.unit_atlas(analysis.TaskVariance(periods, variance))
    top = pairs.rank_clusters(atlas, [("MemoryPro", "Memory")])[0]
    assert sorted(atlas.cluster_units(top)) == list(range(8))
    assert sorted(pairs.rank_clusters(atlas, [p for p in periods if p[1] != "Memory"])) == list(
        range(atlas.n_clusters)
    )
    with pytest.raises(ValueError, match="some but not all"):
        pairs.rank_clusters(atlas, periods)


def test_lesion_dynamics_of_a_feed_forward_pair():
    """Unit 0 drives unit 1 (w = 0.5): fixed point (1, 0.7) intact, (1, 0.2) without unit 0."""
    w_in = np.zeros((N_INPUT, 2), np.float32)
    w_in[0] = [1.0, 0.2]  # fixation input
    w_rec = np.array([[0.0, 0.5], [0.0, 0.0]], np.float32)
    net = _relu_network(w_in, w_rec, np.zeros(2, np.float32))
    d = pairs.lesion_dynamics(
        net, [0], "MemoryPro", "delay1", np.random.default_rng(0), n_states=30, max_q=1e-9
    )
    assert (d.task, d.period) == ("delaygo", "Memory") and d.units.tolist() == [0]
    np.testing.assert_allclose(d.intact_points.xstar, [[1.0, 0.7]], atol=1e-3)
    np.testing.assert_allclose(d.lesioned_points.xstar, [[1.0, 0.2]], atol=1e-3)
    assert d.intact_points.is_stable.all() and d.lesioned_points.is_stable.all()
    np.testing.assert_allclose(d.lesioned[..., 0], d.intact[..., 0])  # unit 0 is untouched
    assert d.divergence > 0
    trials = make_trials("fdgo", "test")
    with pytest.raises(ValueError, match="trials are of task 'fdgo', not 'delaygo'"):
        pairs.lesion_dynamics(
            net, [0], "MemoryPro", "Memory", np.random.default_rng(0), trials=trials
        )


# ----------------------------------------------------------------------------- helpers
def test_principal_components_of_points_on_a_plane():
    rng = np.random.default_rng(1)
    basis = np.linalg.qr(rng.normal(size=(6, 2)))[0].T  # two orthonormal directions in 6-d
    coords = rng.normal(size=(200, 2)) * [3.0, 1.0]
    states = coords @ basis + 5.0
    pcs = pairs.principal_components(states, k=2)
    assert pcs.explained.sum() == pytest.approx(1.0) and pcs.explained[0] > pcs.explained[1]
    np.testing.assert_allclose(pcs.mean, states.mean(axis=0))
    projected = pcs.project(states)
    np.testing.assert_allclose(
        np.linalg.norm(projected, axis=1), np.linalg.norm(coords - coords.mean(0), axis=1)
    )
    assert pcs.project(states.reshape(20, 10, 6)).shape == (20, 10, 2)
    with pytest.raises(ValueError, match="k must lie in"):
        pairs.principal_components(states, k=7)


def test_seeded_trials_are_reproducible_and_noise_free():
    first = pairs.seeded_trials("all", np.random.default_rng(3), batch_size=4)
    again = pairs.seeded_trials("all", np.random.default_rng(3), batch_size=4)
    assert list(first) == list(TASKS)
    for task in TASKS:
        np.testing.assert_array_equal(first[task].x, again[task].x)
        assert first[task].batch_size == 4
        rules = first[task].x[:, :, RULE_START:]
        assert np.isin(rules, (0.0, 1.0)).all()  # no input noise
