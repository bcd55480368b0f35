"""The 15 tasks: equality with the original code's test grids, and the contracts of training
(random), analysis (explicit) trials."""

import json

import numpy as np
import pytest
from conftest import load_fixture

from flexmt import tasks
from flexmt.tasks import (
    ALPHA,
    DT,
    PAPER_NAMES,
    TASKS,
    canonical_task,
    canonical_tasks,
    make_trials,
    period_key,
    period_names,
    rule_input,
)

REACH = ["fdgo", "reactgo", "delaygo", "fdanti", "reactanti", "delayanti"]
REACT = ["reactgo", "reactanti", "dmsgo", "dmsnogo", "dmcgo", "dmcnogo"]  # fixation input stays on

# Training timing of SCIENCE.md, U(lo, hi) ms per period, written out independently of the module.
_DELAY = {"fix1": (300, 700), "stim1": (200, 1500), "go1": (300, 700)}
_REACT = {"fix1": (500, 2500), "go1": (300, 1700)}
_MEMORY = {"fix1": (300, 700), "stim1": (200, 1600), "delay1": (200, 1600), "go1": (300, 700)}
_INTEGRATION = {
    "fix1": (200, 600),
    "stim1": (200, 1600),
    "delay1": (200, 1600),
    "stim2": (200, 1600),
    "delay2": (100, 300),
    "go1": (300, 700),
}
_MATCH = {"fix1": (200, 600), "stim1": (200, 1600), "delay1": (200, 1600), "go1": (300, 700)}
TIMING = {
    "fdgo": _DELAY,
    "fdanti": _DELAY,
    "reactgo": _REACT,
    "reactanti": _REACT,
    "delaygo": _MEMORY,
    "delayanti": _MEMORY,
    **dict.fromkeys(["delaydm1", "delaydm2", "contextdelaydm1", "contextdelaydm2"], _INTEGRATION),
    "multidelaydm": _INTEGRATION,
    **dict.fromkeys(["dmsgo", "dmsnogo", "dmcgo", "dmcnogo"], _MATCH),
}


def _random(task, seed=0, **kw):
    return make_trials(task, "random", rng=np.random.default_rng(seed), **kw)


# ----------------------------------------------------------------------------- the original
@pytest.mark.parametrize("task", TASKS)
def test_test_grid_equals_original(task):
    ref = load_fixture(f"test_trials_{task}.npz")
    trials = make_trials(task, "test")
    # Exact: angles and strengths are computed in float64 with the original's formulas and
    # rounded to float32 once, as the original did.
    for name in ("x", "y", "y_loc", "c_mask"):
        got = getattr(trials, name)
        assert got.dtype == np.float32, name
        np.testing.assert_array_equal(got, ref[name], err_msg=name)
    expected = {k: tuple(v) for k, v in json.loads(str(ref["epochs_json"])).items()}
    assert trials.epochs_original(open_end=-1) == expected
    assert list(trials.epochs) == list(expected)  # time order


def test_epochs_are_absolute_and_contiguous():
    trials = make_trials("contextdelaydm1", "test")
    bounds = list(trials.epochs.values())
    assert bounds[0][0] == 0 and bounds[-1][1] == trials.n_steps
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))
    assert trials.epochs_original()["fix1"] == (None, 25)
    assert trials.period_slice("Memory1") == slice(50, 100) == trials.period_slice("delay1")


# ----------------------------------------------------------------------------- names
def test_names():
    assert len(TASKS) == 15 and TASKS[0] == "fdgo" and TASKS[-1] == "dmcnogo"
    for code, paper in PAPER_NAMES.items():
        assert canonical_task(code) == canonical_task(paper) == code
        assert canonical_task(paper.lower()) == code or paper == "DelayAnti"
    # "delayanti" is the code of MemoryAnti, "DelayAnti" the paper name of fdanti.
    assert canonical_task("delayanti") == "delayanti"
    assert canonical_task("DelayAnti") == "fdanti"
    assert canonical_task("MEMORYPRO") == "delaygo"
    assert canonical_tasks("all") == list(TASKS)
    assert canonical_tasks(["MemoryPro", "dmcgo"]) == ["delaygo", "dmcgo"]
    with pytest.raises(ValueError, match="DELAYANTI.*ambiguous"):
        canonical_task("DELAYANTI")
    with pytest.raises(ValueError, match="'MemoryPr0'.*MemoryPro"):
        canonical_task("MemoryPr0")
    row = tasks.task_table()[5]
    assert row == (5, "delayanti", "MemoryAnti", ["Context", "Stimulus", "Memory", "Response"])


def test_period_names():
    assert period_names("DelayPro") == ["Context", "Stimulus", "Response"]
    assert period_names("reactanti") == ["Context", "Response"]
    assert period_names("MemoryPro") == ["Context", "Stimulus", "Memory", "Response"]
    assert period_names("dmcnogo") == ["Context", "Stimulus", "Memory", "Response"]
    two = ["Context", "Stimulus1", "Memory1", "Stimulus2", "Memory2", "Response"]
    assert period_names("multidelaydm") == two
    assert period_key("MemoryAnti", "Memory") == period_key("delayanti", "delay1") == "delay1"
    assert period_key("delaydm1", "stimulus2") == "stim2"
    with pytest.raises(ValueError, match="'Memory'.*Stimulus"):
        period_key("fdgo", "Memory")


def test_rule_input():
    for i, task in enumerate(TASKS):
        u = rule_input(PAPER_NAMES[task])
        assert u.shape == (20,) and u.sum() == 1 and u[tasks.RULE_START + i] == 1


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mode": "train"}, "'train'.*random, test, explicit"),
        ({"batch_size": 0}, "batch_size.*0"),
        ({"sigma_x": -0.1}, "sigma_x.*-0.1"),
        ({"rng": np.random.RandomState(0)}, "Generator.*RandomState"),
        ({"rng": None}, "rng"),
        ({"theta": [0.0]}, "theta.*explicit"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = {"mode": "random", "rng": np.random.default_rng(0), **kwargs}
    with pytest.raises(ValueError, match=match):
        make_trials("delaygo", **args)


def test_bad_explicit_parameters():
    with pytest.raises(ValueError, match="'coherence'.*theta, modality"):
        make_trials("delaygo", "explicit", coherence=0.1)
    with pytest.raises(ValueError, match="'strength1_mod2'.*strength1_mod1"):
        make_trials("delaydm1", "explicit", strength1_mod2=1.0)
    with pytest.raises(ValueError, match="'theta'.*shape"):
        make_trials("fdgo", "explicit", theta=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="lengths"):
        make_trials("dmsgo", "explicit", theta1=[0.0, 1.0], modality1=[1, 2, 1])
    with pytest.raises(ValueError, match="'modality'.*1 or 2"):
        make_trials("fdgo", "explicit", modality=3)
    with pytest.raises(ValueError, match="'Memory2'.*Response"):
        make_trials("fdgo", "explicit", durations={"Memory2": 100})
    with pytest.raises(ValueError, match="either 'theta2' or 'match'"):
        make_trials("dmsgo", "explicit", theta2=1.0, match=True)


# ----------------------------------------------------------------------------- random mode
@pytest.mark.parametrize("task", TASKS)
def test_random_reproducible_and_global_rng_free(task):
    np.random.seed(1)  # noqa: NPY002
    a = _random(task, seed=3, sigma_x=0.1)
    np.random.seed(2)  # noqa: NPY002 -- the global RNG must play no part
    b = _random(task, seed=3, sigma_x=0.1)
    c = _random(task, seed=4, sigma_x=0.1)
    for name in ("x", "y", "y_loc", "c_mask"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.epochs == b.epochs
    assert a.x.shape != c.x.shape or not np.array_equal(a.x, c.x)
    assert a.x.dtype == a.y.dtype == a.y_loc.dtype == a.c_mask.dtype == np.float32
    assert a.x.shape[1:] == (64, 20) and a.y.shape[1:] == (64, 3)
    assert all(v.shape == (64,) for v in a.params.values())


@pytest.mark.parametrize("task", TASKS)
def test_random_timing_ranges(task):
    rng = np.random.default_rng(0)
    lengths = {k: [] for k in TIMING[task]}
    for _ in range(400):
        trials = make_trials(task, rng=rng, batch_size=1)
        assert list(trials.epochs) == list(TIMING[task])
        for k, (start, end) in trials.epochs.items():
            lengths[k].append(end - start)
    for k, (lo, hi) in TIMING[task].items():
        steps = np.array(lengths[k])
        assert steps.min() >= lo // DT and steps.max() <= hi // DT, k
        # 400 draws cover the range: extremes within 5% of its width of the bounds
        slack = max(1, 0.05 * (hi - lo) / DT)
        assert steps.min() <= lo // DT + slack and steps.max() >= hi // DT - slack, k


@pytest.mark.parametrize("task", TASKS)
def test_random_invariants(task):
    trials = _random(task, seed=7, batch_size=128)
    x, y, y_loc, c = trials.x, trials.y, trials.y_loc, trials.c_mask
    go = trials.epochs["go1"][0]
    # Timing is shared by the batch: every trial has the same fixation and rule inputs.
    fix_in = np.ones(trials.n_steps) if task in REACT else np.arange(trials.n_steps) < go
    np.testing.assert_array_equal(x[:, :, 0], np.broadcast_to(fix_in[:, None], x.shape[:2]))
    np.testing.assert_array_equal(
        x[:, :, 5:], np.broadcast_to(rule_input(task)[5:], x[..., 5:].shape)
    )
    # No response is required before the go cue; fixation target 0.8 exactly while fixating.
    assert (y_loc[:go] == -1).all()
    fixating = y_loc == -1
    assert (y[..., 0][fixating] == np.float32(0.8)).all() and (y[..., 0][~fixating] == 0).all()
    np.testing.assert_allclose(y[..., 1][~fixating], np.sin(y_loc[~fixating]), atol=1e-6)
    np.testing.assert_allclose(y[..., 2][~fixating], np.cos(y_loc[~fixating]), atol=1e-6)
    assert (y[..., 1:][fixating] == 0).all()
    # Each trial either responds from the go cue to the end, or never.
    assert ((y_loc[go:] >= 0).all(axis=0) | (y_loc[go:] == -1).all(axis=0)).all()
    # Cost mask: 0 (100 ms), 1 until the go cue, 0 (100 ms grace), 5; fixation counts twice.
    w = np.zeros(trials.n_steps)
    w[go + 5 :], w[5:go] = 5, 1
    np.testing.assert_array_equal(c, np.broadcast_to(w[:, None, None] * [2, 1, 1], c.shape))


def test_random_stimulus_statistics():
    rng = np.random.default_rng(0)
    # Integration: the two locations are 90-270 degrees apart; the target is the stronger one.
    p = make_trials("contextdelaydm2", rng=rng, batch_size=2000).params
    gap = np.abs((p["theta2"] - p["theta1"] + np.pi) % (2 * np.pi) - np.pi)
    assert gap.min() >= np.pi / 2 - 1e-9 and gap.max() <= np.pi + 1e-9
    stronger = np.where(p["strength1_mod2"] > p["strength2_mod2"], p["theta1"], p["theta2"])
    np.testing.assert_array_equal(p["target"], stronger)
    coherence = np.abs(p["strength1_mod1"] - p["strength2_mod1"]) / 2
    assert coherence.min() >= 0.005 and coherence.max() <= 0.8
    # Match to sample: matches half the time, non-matches 20-340 degrees away.
    p = make_trials("dmsnogo", rng=rng, batch_size=2000).params
    assert 0.45 < p["match"].mean() < 0.55
    gap = np.abs((p["theta2"] - p["theta1"] + np.pi) % (2 * np.pi) - np.pi)[~p["match"]]
    assert gap.min() >= np.pi / 9 - 1e-9
    np.testing.assert_array_equal(p["target"] >= 0, ~p["match"])  # NonMatch: respond if different
    assert len(np.unique(p["modality1"])) == 1  # modalities are drawn once per batch


@pytest.mark.parametrize("task", ["delaygo", "multidelaydm"])
def test_input_noise_std(task):
    clean = _random(task, seed=5, batch_size=256)
    noisy = _random(task, seed=5, batch_size=256, sigma_x=0.1)
    noise = noisy.x - clean.x
    assert abs(noise.std() / (0.1 * np.sqrt(2 / ALPHA)) - 1) < 0.01
    assert abs(noise.mean()) < 0.005
    np.testing.assert_array_equal(noisy.y, clean.y)


# ----------------------------------------------------------------------------- explicit mode
def test_explicit_reach_targets():
    theta = np.array([0.1, 1.0, 3.0, 5.5])
    for task, shift in [("MemoryAnti", np.pi), ("MemoryPro", 0.0), ("DelayAnti", np.pi)]:
        trials = make_trials(task, "explicit", theta=theta, modality=2)
        response = trials.y_loc[trials.period_slice("Response")]
        target = np.broadcast_to((theta + shift) % (2 * np.pi), response.shape)
        np.testing.assert_allclose(response, target, atol=1e-6)
        assert (trials.y_loc[: trials.epochs["go1"][0]] == -1).all()
        on = trials.x[:, :, 3:5]  # modality 2 carries the stimulus
        assert np.abs(trials.x[:, :, 1:3]).max() == 0
        sin_on = on[trials.period_slice("Stimulus"), :, 0]
        np.testing.assert_allclose(sin_on, np.broadcast_to(np.sin(theta), sin_on.shape), atol=1e-6)


def test_explicit_durations_and_batch():
    trials = make_trials("delaygo", "explicit", durations={"Memory": 1600, "stim1": 300})
    assert trials.epochs == {
        "fix1": (0, 25),
        "stim1": (25, 40),
        "delay1": (40, 120),
        "go1": (120, 145),
    }
    assert trials.batch_size == 64
    assert make_trials("delaygo", "explicit", theta=[1.0, 2.0]).batch_size == 2


def test_explicit_integration_picks_attended_stronger():
    kw = {"theta1": 0.5, "theta2": 2.5, "batch_size": 1}
    # Modality 1 favours stimulus 1, modality 2 (more strongly) stimulus 2.
    s = {"strength1_mod1": 1.2, "strength2_mod1": 0.8, "strength1_mod2": 0.6, "strength2_mod2": 1.4}
    expected = {"contextdelaydm1": 0.5, "contextdelaydm2": 2.5, "multidelaydm": 2.5}
    for task, target in expected.items():
        trials = make_trials(task, "explicit", **kw, **s)
        assert trials.y_loc[-1, 0] == np.float32(target)
    trials = make_trials("IntegrationModality2", "explicit", theta1=[0.5], theta2=[2.5])
    assert trials.y_loc[-1, 0] == np.float32(0.5)  # defaults: stimulus 1 is stronger
    assert np.abs(trials.x[:, :, 1:3]).max() == 0


def test_explicit_match_tasks():
    theta1 = np.array([0.5, 0.5, 4.0])
    trials = make_trials("dmsgo", "explicit", theta1=theta1, match=[True, False, True])
    np.testing.assert_array_equal(trials.params["match"], [True, False, True])
    np.testing.assert_allclose(trials.y_loc[-1], [0.5, -1, 4.0], atol=1e-6)
    assert (trials.y[:, 1, 0] == np.float32(0.8)).all()  # the no-go trial fixates throughout
    trials = make_trials("ReactCategoryAnti", "explicit", theta1=[0.5, 0.5], theta2=[1.0, 4.0])
    np.testing.assert_array_equal(trials.params["match"], [True, False])
    np.testing.assert_allclose(trials.y_loc[-1], [-1, 4.0], atol=1e-6)
