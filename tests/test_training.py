"""Training: exact gradients, learning, determinism, presets, resume after a kill."""

import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from conftest import edit_log

from flexmt import checkpoint, load_network, training
from flexmt.network import evaluate
from flexmt.tasks import PAPER_NAMES, TASKS
from flexmt.training import GroupState, GroupTrainer, TrainConfig, initial_networks


def _reference_objective(params, x, y, c_mask, config):
    """The paper's objective of one network by plain TF ops (autodiff reference)."""
    h = tf.zeros((x.shape[1], params["w_rec"].shape[0]))
    f = {"softplus": tf.nn.softplus, "tanh": tf.tanh}[config.activation]
    states = []
    for t in range(x.shape[0]):
        pre = x[t] @ params["w_in"] + h @ params["w_rec"] + params["b"]
        h = (1 - config.alpha) * h + config.alpha * f(pre)
        states.append(h)
    h = tf.stack(states)
    y_hat = h @ params["w_out"] + params["b_out"]
    lsq = tf.reduce_mean(((y - y_hat) * c_mask) ** 2)
    weights = sum(tf.reduce_sum(params[n] ** 2) for n in ("w_in", "w_rec", "w_out"))
    return lsq + config.l2_h * 0.5 * tf.reduce_sum(h**2) + config.l2_w * 0.5 * weights


@pytest.mark.parametrize(
    "activation, batch_splits", [("softplus", 1), ("tanh", 1), ("softplus", 3)]
)
def test_hand_written_gradients_match_autodiff(activation, batch_splits):
    config = TrainConfig(
        tasks=("fdgo",),
        n_rnn=16,
        activation=activation,
        sigma_rec=0.0,
        sigma_x=0.0,
        l2_h=1e-2,
        l2_w=1e-2,
        w_rec_init="randgauss",
        batch_size=6,
        eval_batch_size=6,
        batch_splits=batch_splits,
    )
    seeds = [3, 4]
    trainer = GroupTrainer(config, seeds, GroupState.start(initial_networks(config, seeds)))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(9, 2, 6, 20)).astype(np.float32)
    y = rng.normal(size=(9, 2, 6, 3)).astype(np.float32)
    c_mask = rng.uniform(0, 2, size=(9, 2, 6, 3)).astype(np.float32)
    x_noise, rec_noise = np.zeros_like(x), np.zeros((9, 2, 6, 16), np.float32)
    _, grads = trainer.gradients(x, x_noise, rec_noise, y, c_mask)
    for k in range(2):
        params = {n: tf.Variable(v[k]) for n, v in trainer.state().params.items()}
        with tf.GradientTape() as tape:
            loss = _reference_objective(params, x[:, k], y[:, k], c_mask[:, k], config)
        reference = tape.gradient(loss, params)
        for name, g in reference.items():
            np.testing.assert_allclose(grads[name][k], g, rtol=1e-4, atol=1e-6, err_msg=name)


def test_small_network_learns_delaypro(tmp_path):
    config = TrainConfig(
        tasks=("fdgo",),
        n_rnn=64,
        learning_rate=3e-3,
        max_steps=1200,
        eval_every=200,
        preset="test-delaypro",
    )
    (folder,) = training.train(config, [0], tmp_path, progress=False)
    log = checkpoint.read_log(folder)
    assert log["evaluations"][-1]["perf"]["fdgo"] >= 0.9, log["evaluations"][-1]
    net = load_network(folder)
    assert evaluate(net, rng=np.random.default_rng(1), trials=256)["fdgo"] >= 0.85


def _small_config(**changes):
    values = dict(
        tasks=("fdgo", "delaygo"),
        n_rnn=24,
        max_steps=30,
        eval_every=10,
        eval_batches=2,
        preset="tiny",
    )
    return TrainConfig(**{**values, **changes})


@pytest.mark.parametrize("batch_splits", [1, 2])
def test_same_seed_same_parameters_and_groups_are_independent(tmp_path, batch_splits):
    config = _small_config(batch_splits=batch_splits)
    a = training.train(config, [0, 1], tmp_path / "a", progress=False)
    b = training.train(config, [0, 1], tmp_path / "b", progress=False)
    for fa, fb in zip(a, b, strict=False):
        for name, value in load_network(fa).params().items():
            np.testing.assert_array_equal(value, load_network(fb).params()[name])
    assert not np.array_equal(load_network(a[0]).w_rec, load_network(a[1]).w_rec)


def test_splitting_the_trials_changes_a_step_only_by_float_rounding():
    """The parts of a split batch give the whole batch's cost, gradients and outputs."""
    seeds = [0, 1]
    runs = {}
    for splits in (1, 4):
        config = _small_config(batch_splits=splits)
        trainer = GroupTrainer(config, seeds, GroupState.start(initial_networks(config, seeds)))
        _, inputs = trainer._step_inputs(0)
        cost, grads = trainer.gradients(*inputs)
        runs[splits] = cost.numpy(), grads, trainer.outputs(inputs[0][:, 0, :32])
    (cost_1, grads_1, out_1), (cost_4, grads_4, out_4) = runs[1], runs[4]
    np.testing.assert_allclose(cost_4, cost_1, rtol=1e-5)
    for name, g in grads_1.items():
        np.testing.assert_allclose(grads_4[name], g, rtol=1e-4, atol=1e-7, err_msg=name)
    np.testing.assert_allclose(out_4, out_1, rtol=1e-4, atol=1e-6)


def test_batch_splits_must_divide_the_batches():
    with pytest.raises(ValueError, match=r"batch_splits must divide batch_size \(64\); got 3"):
        _small_config(batch_splits=3)
    with pytest.raises(ValueError, match=r"batch_splits must divide eval_batch_size \(32\)"):
        _small_config(batch_splits=64)


def test_a_frozen_network_is_skipped_and_leaves_the_others_unchanged():
    config = _small_config()
    start = GroupState.start(initial_networks(config, [0, 1, 2]))
    plain = GroupTrainer(config, [0, 1, 2], start)
    frozen = GroupTrainer(config, [0, 1, 2], start)
    for _ in range(3):
        plain.train_step()
        frozen.train_step()
    frozen.freeze(1)
    at_freeze = frozen.state().params
    for _ in range(4):
        _, plain_cost = plain.train_step()
        _, frozen_cost = frozen.train_step()
    assert np.isnan(frozen_cost[1]) and not np.isnan(plain_cost[1])
    np.testing.assert_array_equal(frozen_cost[[0, 2]], plain_cost[[0, 2]])
    for name, value in frozen.state().params.items():
        np.testing.assert_array_equal(value[1], at_freeze[name][1])
        np.testing.assert_array_equal(value[[0, 2]], plain.state().params[name][[0, 2]])
        assert not np.array_equal(plain.state().params[name][1], at_freeze[name][1])


def test_existing_folder_is_not_overwritten(tmp_path):
    (folder,) = training.train(_small_config(max_steps=10), [0], tmp_path, progress=False)
    before = (folder / "params.npz").read_bytes()
    with pytest.raises(ValueError, match="already exist"):
        training.train(_small_config(max_steps=10), [0], tmp_path, progress=False)
    assert (folder / "params.npz").read_bytes() == before


def test_resume_continues_exactly(tmp_path):
    straight = training.train(_small_config(), [0, 1], tmp_path / "a", progress=False)
    training.train(_small_config(max_steps=20), [0, 1], tmp_path / "b", progress=False)
    resumed = training.train(_small_config(), [0, 1], tmp_path / "b", resume=True, progress=False)
    for fa, fb in zip(straight, resumed, strict=False):
        np.testing.assert_array_equal(load_network(fa).w_rec, load_network(fb).w_rec)
        steps = [e["step"] for e in checkpoint.read_log(fb)["evaluations"]]
        assert steps == [0, 10, 20, 30]
        resumes = checkpoint.read_config(fb)["resumes"]
        assert resumes == [{"step": 20, "machine": training.machine_info()}]
        assert resumes[0]["machine"]["cpu"] == training.cpu_model() != ""
    configs = [(f / "config.json").read_bytes() for f in resumed]
    training.train(_small_config(), [0, 1], tmp_path / "b", resume=True, progress=False)
    assert [(f / "config.json").read_bytes() for f in resumed] == configs  # finished: no resume
    with pytest.raises(ValueError, match="other settings"):
        training.train(_small_config(n_rnn=12), [0, 1], tmp_path / "b", resume=True)


def _confirm_last(log):
    """Make the last evaluation one that met the criterion and was confirmed."""
    last = log["evaluations"][-1]
    last["perf"] = {t: 1.0 for t in last["perf"]}
    last["confirmation"] = {"trials_per_task": 2048, "cost": last["cost"], "perf": last["perf"]}
    log["status"] = "criterion"


def _scripted_evaluations(monkeypatch, confirmed_perf):
    """Every regular evaluation meets the criterion; confirmations give network k
    ``confirmed_perf[k]`` on every task. Returns the list of confirm flags evaluated."""
    real = GroupTrainer.evaluate
    calls = []

    def evaluate(self, confirm=False):
        calls.append(confirm)
        result = real(self, confirm)
        for task in result["perf"]:
            result["perf"][task] = np.array(confirmed_perf if confirm else [1.0, 1.0])
        return result

    monkeypatch.setattr(GroupTrainer, "evaluate", evaluate)
    return calls


def test_the_criterion_freezes_only_networks_a_larger_evaluation_confirms(tmp_path, monkeypatch):
    calls = _scripted_evaluations(monkeypatch, [0.5, 1.0])
    config = _small_config(confirm_batches=3)
    folders = training.train(config, [0, 1], tmp_path, progress=False)
    logs = [checkpoint.read_log(f) for f in folders]
    assert [log["status"] for log in logs] == ["max_steps", "criterion"]
    assert [[e["step"] for e in log["evaluations"]] for log in logs] == [[0, 10, 20, 30], [0]]
    for log, perf in zip(logs, (0.5, 1.0), strict=True):
        for e in log["evaluations"]:
            assert e["confirmation"]["trials_per_task"] == 3 * config.eval_batch_size
            assert set(e["confirmation"]["perf"].values()) == {perf}
    assert calls == [False, True] * 4


def test_a_confirming_evaluation_draws_its_own_larger_set_of_trials(monkeypatch):
    config = _small_config(eval_batches=2, confirm_batches=5)
    trainer = GroupTrainer(config, [0], GroupState.start(initial_networks(config, [0])))
    seen = []
    real = GroupTrainer.outputs

    def outputs(self, x, index=0, kind=0):
        seen.append((kind, index, x.shape[1]))
        return real(self, x, index, kind)

    monkeypatch.setattr(GroupTrainer, "outputs", outputs)
    trainer.evaluate()
    regular, seen[:] = seen[:], []
    trainer.evaluate(confirm=True)
    assert len(regular) == 2 * len(config.tasks) and len(seen) == 5 * len(config.tasks)
    assert {kind for kind, _, _ in regular}.isdisjoint({kind for kind, _, _ in seen})
    assert {b for _, _, b in seen} == {config.eval_batch_size}


def test_evaluation_batches_run_at_once_give_the_numbers_of_one_at_a_time(monkeypatch):
    config = _small_config(eval_batches=3)
    state = GroupState.start(initial_networks(config, [0, 1]))
    monkeypatch.setattr(training, "_EVAL_IN_FLIGHT", 1)
    one_at_a_time = GroupTrainer(config, [0, 1], state).evaluate()
    monkeypatch.setattr(training, "_EVAL_IN_FLIGHT", 3)
    at_once = GroupTrainer(config, [0, 1], state).evaluate()
    for key in ("perf", "cost"):
        for task in config.tasks:
            np.testing.assert_array_equal(at_once[key][task], one_at_a_time[key][task])


def test_resume_confirms_a_network_frozen_before_confirmations_existed(tmp_path):
    config = _small_config(target_perf=0.0)  # met at step 0
    (folder,) = training.train(config, [0], tmp_path, progress=False)
    confirmed = checkpoint.read_log(folder)
    params = (folder / "params.npz").read_bytes()
    assert confirmed["status"] == "criterion" and len(confirmed["evaluations"]) == 1

    def unconfirm(log):
        del log["evaluations"][-1]["confirmation"]

    edit_log(folder, unconfirm)
    training.train(config, [0], tmp_path, resume=True, progress=False)
    assert checkpoint.read_log(folder) == confirmed
    assert (folder / "params.npz").read_bytes() == params


def test_training_ended_only_at_a_confirmed_criterion_or_the_step_cap(tmp_path):
    config = _small_config(target_perf=0.0, max_steps=20)
    (folder,) = training.train(config, [0], tmp_path, progress=False)
    log = checkpoint.read_log(folder)
    assert training.training_ended(log, config)
    del log["evaluations"][-1]["confirmation"]
    assert not training.training_ended(log, config)
    capped = {"status": "max_steps", "evaluations": [{"step": 0}, {"step": 20}]}
    assert training.training_ended(capped, config)
    assert not training.training_ended(capped, config.replace(max_steps=30))
    assert not training.training_ended(capped | {"status": "running"}, config)


def test_a_diverged_network_is_frozen_while_its_group_trains_on(tmp_path):
    folders = training.train(_small_config(max_steps=20), [0, 1], tmp_path, progress=False)
    state = checkpoint.read_resume_states(folders[0])[20]
    arrays = {kind: state[kind] for kind in ("params", "adam_m", "adam_v")}
    arrays["params"]["w_rec"] = np.full_like(arrays["params"]["w_rec"], np.nan)
    for _ in range(2):  # current and previous state
        checkpoint.write_resume(folders[0], arrays, 20, True, state["elapsed"])
    training.train(_small_config(max_steps=40), [0, 1], tmp_path, resume=True, progress=False)
    broken, healthy = (checkpoint.read_log(f) for f in folders)
    assert broken["status"] == "diverged"
    assert [e["step"] for e in broken["evaluations"]] == [0, 10, 20, 30]
    assert training.diverged(broken["evaluations"][-1])
    assert not training.diverged(broken["evaluations"][-2])
    assert training.training_ended(broken, _small_config(max_steps=40))
    assert healthy["status"] == "max_steps" and healthy["evaluations"][-1]["step"] == 40
    assert not any(training.diverged(e) for e in healthy["evaluations"])
    training.train(_small_config(max_steps=50), [0, 1], tmp_path, resume=True, progress=False)
    assert checkpoint.read_log(folders[0]) == broken
    assert checkpoint.read_log(folders[1])["evaluations"][-1]["step"] == 50


def test_resume_refuses_a_network_frozen_unconfirmed_before_its_groups_last_step(tmp_path):
    folders = training.train(_small_config(max_steps=20), [0, 1], tmp_path, progress=False)
    state = checkpoint.read_resume_states(folders[0])[20]
    arrays = {kind: state[kind] for kind in ("params", "adam_m", "adam_v")}
    for _ in range(2):  # current and previous state
        checkpoint.write_resume(folders[0], arrays, 20, False, state["elapsed"])

    def frozen_at_10(log):  # as an older flexmt froze it: no confirmation
        del log["evaluations"][-1]
        log["evaluations"][-1]["perf"] = {t: 1.0 for t in log["evaluations"][-1]["perf"]}
        log["status"] = "criterion"

    edit_log(folders[0], frozen_at_10)
    before = [(f / name).read_bytes() for f in folders for name in ("log.json", "params.npz")]
    with pytest.raises(ValueError, match="frozen at step 10 on an evaluation no larger"):
        training.train(_small_config(), [0, 1], tmp_path, resume=True, progress=False)
    after = [(f / name).read_bytes() for f in folders for name in ("log.json", "params.npz")]
    assert after == before


def test_resume_after_a_network_froze_logs_each_step_once(tmp_path):
    folders = training.train(_small_config(max_steps=20), [0, 1], tmp_path, progress=False)
    state = checkpoint.read_resume_states(folders[0])[20]
    arrays = {kind: state[kind] for kind in ("params", "adam_m", "adam_v")}
    for _ in range(2):  # network 0 met the criterion at step 20 (current and previous state)
        checkpoint.write_resume(folders[0], arrays, 20, False, state["elapsed"])
    edit_log(folders[0], _confirm_last)
    for max_steps in (30, 40):
        training.train(
            _small_config(max_steps=max_steps), [0, 1], tmp_path, resume=True, progress=False
        )
    steps = [[e["step"] for e in checkpoint.read_log(f)["evaluations"]] for f in folders]
    assert steps == [[0, 10, 20], [0, 10, 20, 30, 40]]


def test_resume_logs_an_evaluation_only_the_kill_left_unlogged(tmp_path):
    straight = training.train(_small_config(), [0, 1], tmp_path / "a", progress=False)
    folders = training.train(_small_config(max_steps=20), [0, 1], tmp_path / "b", progress=False)
    log = checkpoint.read_log(folders[1])  # killed after network 1's state, before its log
    del log["evaluations"][-1]
    checkpoint.write_json(folders[1] / checkpoint.LOG, log)
    training.train(_small_config(), [0, 1], tmp_path / "b", resume=True, progress=False)
    for reference, folder in zip(straight, folders, strict=True):
        logged = [(e["step"], e["perf"]) for e in checkpoint.read_log(folder)["evaluations"]]
        assert logged == [
            (e["step"], e["perf"]) for e in checkpoint.read_log(reference)["evaluations"]
        ]


KILL_CONFIG = dict(
    tasks=("fdgo", "delaygo"), n_rnn=24, max_steps=120, eval_every=5, eval_batches=1, preset="tiny"
)
KILLABLE_RUN = f"""
import sys
from flexmt import training
config = training.TrainConfig(**{KILL_CONFIG!r})
training.train(config, [0, 1], sys.argv[1], resume=sys.argv[2] == "1", progress=False)
"""


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The same run as KILLABLE_RUN, never interrupted."""
    out = tmp_path_factory.mktemp("straight")
    return training.train(TrainConfig(**KILL_CONFIG), [0, 1], out, progress=False)


@pytest.mark.parametrize("delay", [0.0, 0.5, 1.5])
def test_kill_at_any_moment_resumes(tmp_path, delay, uninterrupted):
    out = tmp_path / "run"
    run = [sys.executable, "-c", KILLABLE_RUN, str(out)]
    proc = subprocess.Popen([*run, "0"])
    folders = [out / "tiny-seed0", out / "tiny-seed1"]
    deadline = time.time() + 120
    while not (folders[1] / "log.json").exists() and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the run finished before it could be killed"
    for folder in folders:  # whatever moment it died, every folder loads
        load_network(folder)
    before = checkpoint.read_log(folders[0])["evaluations"]
    subprocess.run([*run, "1"], check=True)
    after = checkpoint.read_log(folders[0])
    assert after["status"] in ("criterion", "max_steps")
    # at most one evaluation interval was lost: all but the last kept evaluation are unchanged
    for old, new in zip(before[:-1], after["evaluations"], strict=False):
        assert (old["step"], old["perf"]) == (new["step"], new["perf"])
    for straight, resumed in zip(uninterrupted, folders, strict=True):
        np.testing.assert_array_equal(load_network(straight).w_rec, load_network(resumed).w_rec)
        reference = checkpoint.read_log(straight)["evaluations"]
        assert [e["perf"] for e in checkpoint.read_log(resumed)["evaluations"]] == [
            e["perf"] for e in reference
        ]


def test_leave_one_out_presets_hold_out_exactly_one_task_at_the_papers_settings():
    for task in training.LEAVE_ONE_OUT:
        name = PAPER_NAMES[task].lower()
        pretrain = training.preset(f"leave-out-{name}")
        single = training.preset(f"single-{name}")
        assert set(pretrain.tasks) == set(TASKS) - {task} and len(pretrain.tasks) == 14
        assert single.tasks == (task,)
        for config in (pretrain, single):
            assert (config.n_rnn, config.learning_rate) == (128, 1e-3)
        assert pretrain.max_steps == 100_000 and pretrain.target_perf == 0.95
        assert (single.max_steps, single.target_perf) == (72_000, 1.0)
    fig6 = training.preset("pretrain-all-but-memoryanti")
    assert set(fig6.tasks) == set(training.preset("leave-out-memoryanti").tasks)
    assert (fig6.n_rnn, fig6.learning_rate, fig6.max_steps) == (256, 10**-3.5, 200_000)
    with pytest.raises(ValueError, match="held-out task 'delaygo'; allowed: delayanti, dmsgo"):
        training.leave_out_preset("MemoryPro")


def test_fig6_pair_pretraining_is_capped_at_100k_steps():
    for name in ("pretrain-delaypro-memorypro", "pretrain-delayanti-memorypro"):
        assert training.preset(name).max_steps == 100_000
        assert "100,000-step cap" in training.PRESET_DESCRIPTIONS[name]
