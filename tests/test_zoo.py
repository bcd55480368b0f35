"""The zoo: every shipped network is what its folder says it is, and the checks catch lies.

Every shipped network's records are checked here (config/log agreement, recorded command,
stored hash); the checks that run the networks (final performance on fresh trials, replay of
the step-0 evaluation), whose cost grows with the zoo, run on every network in the full book
build, on the zoo page (``notebooks/zoo.py``). A tiny zoo trained here by the command line
exercises every check, including the replay of the first ``eval_every`` training steps.
"""

import copy
import dataclasses
import json
import shutil
import sys

import numpy as np
import pytest
from conftest import edit_log

from flexmt import checkpoint, training, zoo
from flexmt.cli import main
from flexmt.network import PARAM_NAMES

SHIPPED = zoo.names()


def _cli(argv):
    """Run ``flexmt argv`` in-process, with sys.argv as a shell would set it (it is recorded)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", ["flexmt", *argv])
        return main(argv)


@pytest.fixture(scope="module")
def tiny_zoo(tmp_path_factory):
    """Three MemoryPro networks: a group of two stopped at max_steps, one at the criterion."""
    root = tmp_path_factory.mktemp("zoo")
    common = ["train", "--preset", "memorypro", "--out", str(root), "--quiet"]
    assert _cli([*common, "--seeds", "0", "1", "--max-steps", "2", "--eval-every", "1"]) == 0
    assert _cli([*common, "--seeds", "2", "--target-perf", "0"]) == 0  # met at step 0
    assert _cli(["zoo", "--root", str(root), "hash", "--write"]) == 0
    return root


def _copy(tiny_zoo, tmp_path, name="memorypro-seed0"):
    shutil.copytree(tiny_zoo / name, tmp_path / name)
    return tmp_path / name


@pytest.fixture(scope="module")
def shipped_problems():
    return zoo.verify(SHIPPED, recompute=False)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_network_is_what_its_folder_says(name, shipped_problems):
    entry = zoo.entry(name)
    if entry.params_sha256 is None:
        pytest.skip(f"{name} has not saved its first checkpoint yet")
    net = zoo.load(name)
    train = checkpoint.read_config(entry.folder)["train"]
    assert (net.n_rnn, net.tasks) == (train["n_rnn"], tuple(train["tasks"]))
    assert shipped_problems[name] == (), "\n".join(shipped_problems[name])


def test_list_summarises_each_folder(tiny_zoo):
    entries = {e.name: e for e in zoo.list(tiny_zoo)}
    assert sorted(entries) == ["memorypro-seed0", "memorypro-seed1", "memorypro-seed2"]
    e0, e2 = entries["memorypro-seed0"], entries["memorypro-seed2"]
    assert (e0.status, e0.steps, e0.trials, e0.group_seeds) == ("max_steps", 2, 128, (0, 1))
    assert (e2.status, e2.steps, e2.trials, e2.group_seeds) == ("criterion", 0, 0, (2,))
    assert e0.finished and e2.finished and e0.worst_task == "delaygo"
    final = checkpoint.read_log(e0.folder)["evaluations"][-1]["perf"]
    assert e0.mean_perf == e0.perf["delaygo"] == final["delaygo"] and e0.perf_trials == 256
    confirmation = checkpoint.read_log(e2.folder)["evaluations"][-1]["confirmation"]
    assert e2.perf == confirmation["perf"] and e2.perf_trials == 2048  # the larger evaluation
    assert e0.command.startswith("flexmt train --preset memorypro --out ")
    assert "--seeds 0 1 --max-steps 2 --eval-every 1" in e0.command
    assert e0.machine["cpus"] >= 1 and e0.cpu_models == (training.cpu_model(),)
    assert e0.params_sha256 == zoo.params_sha256(zoo.load("memorypro-seed0", tiny_zoo).params())


def test_status_line_states_status_step_and_worst_task(tiny_zoo):
    e0 = zoo.entry("memorypro-seed0", tiny_zoo)
    assert e0.status_line == (
        "memorypro-seed0: max_steps (criterion not met), step 2, worst-task performance "
        f"MemoryPro {e0.perf['delaygo']:.3f}"
    )
    later = dataclasses.replace(e0, status="criterion", steps=17500, perf={"delaygo": 0.95})
    assert later.status_line.endswith(
        "criterion met, step 17,500, worst-task performance MemoryPro 0.950"
    )
    assert later.worst_text(2) == "MemoryPro 0.95"
    unevaluated = dataclasses.replace(e0, status="running", steps=0, perf={})
    assert unevaluated.status_line == (
        "memorypro-seed0: running (unfinished), step 0, worst-task performance not yet evaluated"
    )


def test_table_and_cli_show_every_network(tiny_zoo, capsys):
    table = zoo.table_markdown(tiny_zoo)
    lines = table.splitlines()
    assert len(lines) == 2 + 3 and all(line.count("|") == 11 for line in lines)
    assert "criterion met" in lines[4] and "max_steps (criterion not met)" in lines[2]
    assert _cli(["zoo", "--root", str(tiny_zoo)]) == 0
    assert capsys.readouterr().out.strip() == table
    assert _cli(["zoo", "--root", str(tiny_zoo), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["perf"].keys() == {"delaygo"} for r in rows] == [True] * 3
    assert _cli(["zoo", "--root", str(tiny_zoo), "hash"]) == 0
    printed = dict(line.split()[::-1] for line in capsys.readouterr().out.splitlines())
    stored = checkpoint.read_json(tiny_zoo / "memorypro-seed1" / zoo.PROVENANCE)
    assert printed["memorypro-seed1"] == stored["params_sha256"]


def test_unfinished_networks_are_shown_as_such(tiny_zoo, tmp_path):
    running = _copy(tiny_zoo, tmp_path, "memorypro-seed1")
    (running / zoo.PROVENANCE).unlink()

    def interrupt(log):
        log["status"] = "running"
        log["evaluations"].pop()

    edit_log(running, interrupt)
    starting = tmp_path / "memorypro-seed0"  # killed before its first evaluation
    starting.mkdir()
    shutil.copy(tiny_zoo / starting.name / checkpoint.CONFIG, starting)
    entries = zoo.list(tmp_path)
    assert [(e.status, e.finished, e.steps) for e in entries] == [
        ("running", False, 0),
        ("running", False, 1),
    ]
    assert entries[0].params_sha256 is None and entries[0].worst_task is None
    rows = zoo.table_markdown(tmp_path).splitlines()[2:]
    assert all("running (unfinished)" in row and "criterion met" not in row for row in rows)
    assert zoo.write_provenance(tmp_path) == ()
    assert not (running / zoo.PROVENANCE).exists()
    assert zoo.check_records(running) == ()


def test_load_by_name(tiny_zoo):
    assert zoo.load("memorypro-seed2", tiny_zoo).tasks == ("delaygo",)
    with pytest.raises(ValueError, match="unknown zoo network 'nope'; available: memorypro-seed0"):
        zoo.load("nope", tiny_zoo)


def test_parameter_hash_depends_on_the_numbers_not_the_file(tiny_zoo, tmp_path):
    params = zoo.load("memorypro-seed0", tiny_zoo).params()
    reference = zoo.params_sha256(params)
    np.savez_compressed(tmp_path / "other.npz", **dict(reversed(params.items())))
    reread = checkpoint.read_npz(tmp_path / "other.npz", tuple(params))
    assert zoo.params_sha256(reread) == reference
    nudged = {**params, "b": np.nextafter(params["b"], np.float32(1))}
    as_double = {**params, "b_out": params["b_out"].astype(np.float64)}
    reshaped = {**params, "b": params["b"][:, None]}
    for changed in (nudged, as_double, reshaped):
        assert zoo.params_sha256(changed) != reference


def test_tiny_zoo_passes_every_check_including_retraining(tiny_zoo, capsys):
    assert zoo.verify(root=tiny_zoo, retrain=True) == {
        name: () for name in ("memorypro-seed0", "memorypro-seed1", "memorypro-seed2")
    }
    assert _cli(["zoo", "--root", str(tiny_zoo), "verify", "memorypro-seed2"]) == 0
    assert capsys.readouterr().out == "memorypro-seed2: ok\n"


def test_a_transfer_run_passes_every_check_wherever_its_zoo_is(tiny_zoo, tmp_path):
    """A transfer run ships beside the network it started from; moved together to another
    folder (another clone), its command still gives its config and its replay still starts
    from that network."""
    learned_in, moved = tmp_path / "learned", tmp_path / "moved"
    shutil.copytree(tiny_zoo / "memorypro-seed2", learned_in / "memorypro-seed2")
    rest = ["--seeds", "2", "--zoo", str(learned_in), "--out", str(learned_in)]
    argv = ["transfer", "--from", "memorypro", "--task", "DelayPro", *rest]
    assert _cli([*argv, "--max-steps", "2", "--eval-every", "1", "--quiet"]) == 0
    assert _cli(["zoo", "--root", str(learned_in), "hash", "--write"]) == 0
    shutil.move(learned_in, moved)
    name = "transfer-memorypro-fdgo-seed2"
    assert zoo.verify([name], root=moved, retrain=True) == {name: ()}
    doc = checkpoint.read_config(moved / name)
    doc["command"] = doc["command"].replace("--task DelayPro", "--task ReactPro")
    checkpoint.write_json(moved / name / checkpoint.CONFIG, doc)
    assert any("gives other settings" in p for p in zoo.check_records(moved / name))


def _swap_steps(log):
    evaluations = log["evaluations"]
    evaluations[0], evaluations[1] = evaluations[1], evaluations[0]


def _claim_criterion(log):
    log["status"] = "criterion"


def _claim_divergence(log):
    log["status"] = "diverged"


def _extra_task(log):
    log["evaluations"][-1]["perf"]["fdgo"] = 0.5


def _wrong_trials(log):
    log["evaluations"][-1]["trials"] += 1


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_swap_steps, "first evaluation at step 1, not 0"),
        (_claim_criterion, "status 'criterion' contradicts the last evaluation"),
        (_claim_divergence, "status 'diverged' contradicts the last evaluation"),
        (_extra_task, "step 2: tasks differ"),
        (_wrong_trials, "step 2: trials 129"),
    ],
)
def test_records_that_disagree_are_caught(tiny_zoo, tmp_path, edit, message):
    folder = _copy(tiny_zoo, tmp_path)
    edit_log(folder, edit)
    assert any(message in problem for problem in zoo.check_records(folder))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("--max-steps 2", "--max-steps 2 --target-perf 0.5", "gives other settings"),
        ("--seeds 0 1", "--seeds 0 3", "has seeds other than [0, 1]"),
        ("flexmt train", "flexmt evaluate", "is not a `flexmt train` or `transfer` command"),
    ],
)
def test_a_command_that_does_not_give_the_config_is_caught(tiny_zoo, tmp_path, old, new, message):
    folder = _copy(tiny_zoo, tmp_path)
    doc = checkpoint.read_config(folder)
    assert old in doc["command"]
    doc["command"] = doc["command"].replace(old, new)
    checkpoint.write_json(folder / checkpoint.CONFIG, doc)
    assert any(message in problem for problem in zoo.check_records(folder))


def _drop_confirmation(log):
    del log["evaluations"][-1]["confirmation"]


def _fewer_confirming_trials(log):
    log["evaluations"][-1]["confirmation"]["trials_per_task"] = 256


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_drop_confirmation, "step 0: a confirming evaluation must follow exactly"),
        (_drop_confirmation, "status 'criterion' contradicts the last evaluation"),
        (_fewer_confirming_trials, "step 0: confirmation on 256 trials per task, not"),
    ],
)
def test_a_criterion_without_its_confirmation_is_caught(tiny_zoo, tmp_path, edit, message):
    folder = _copy(tiny_zoo, tmp_path, "memorypro-seed2")
    assert zoo.check_records(folder) == ()
    edit_log(folder, edit)
    assert any(message in problem for problem in zoo.check_records(folder))


def test_changed_parameters_fail_the_hash(tiny_zoo, tmp_path):
    folder = _copy(tiny_zoo, tmp_path)
    params = checkpoint.read_npz(folder / checkpoint.PARAMS, PARAM_NAMES)
    params["w_out"][0, 0] += 1e-3
    checkpoint.write_npz(folder / checkpoint.PARAMS, params)
    (problem,) = zoo.check_hash(zoo.entry(folder.name, tmp_path))
    assert "≠ stored" in problem
    (folder / zoo.PROVENANCE).unlink()
    assert "no provenance.json" in zoo.check_hash(zoo.entry(folder.name, tmp_path))[0]


def test_records_only_verification_runs_no_network(tiny_zoo, tmp_path, monkeypatch):
    folder = _copy(tiny_zoo, tmp_path)
    params = checkpoint.read_npz(folder / checkpoint.PARAMS, PARAM_NAMES)
    params["b"][0] += 1e-3
    checkpoint.write_npz(folder / checkpoint.PARAMS, params)
    edit_log(folder, _wrong_trials)

    def runs_a_network(*args, **kwargs):
        raise AssertionError("a records-only verification ran a network")

    monkeypatch.setattr(zoo, "check_performance", runs_a_network)
    monkeypatch.setattr(zoo, "check_replay", runs_a_network)
    (trials, changed) = zoo.verify(root=tmp_path, recompute=False)[folder.name]
    assert trials.startswith("step 2: trials 129") and "≠ stored" in changed
    with pytest.raises(ValueError, match="retrain=True replays training, which needs recompute"):
        zoo.verify(root=tmp_path, retrain=True, recompute=False)


def test_logged_performance_is_re_measured(tiny_zoo, tmp_path):
    folder = _copy(tiny_zoo, tmp_path)
    assert zoo.check_performance(zoo.entry(folder.name, tmp_path)) == ()

    def inflate(log):
        perf = log["evaluations"][-1]["perf"]
        perf["delaygo"] = min(perf["delaygo"] + 0.5, 1.0)

    edit_log(folder, inflate)
    problems = zoo.check_performance(zoo.entry(folder.name, tmp_path))
    assert any(p.startswith("MemoryPro: logged perf") for p in problems), problems


def test_performance_bound_is_binomial():
    assert zoo.performance_bound(1.0, 256, 1.0, 128) == zoo.PERF_FLOOR
    se = np.sqrt(0.9 * 0.1 * (1 / 256 + 1 / 256))
    assert np.isclose(zoo.performance_bound(0.9, 256, 0.9, 256), zoo.PERF_Z * se + zoo.PERF_FLOOR)


def test_replay_catches_any_change_to_the_first_evaluations(tiny_zoo, tmp_path):
    folder = _copy(tiny_zoo, tmp_path)

    def tamper(log):
        first, second = log["evaluations"][:2]
        first["cost"]["delaygo"] = float(np.nextafter(first["cost"]["delaygo"], 0))
        second["perf"]["delaygo"] += 1 / 256

    edit_log(folder, tamper)
    (step0,) = zoo.check_replay([folder])[folder.name]
    assert step0.startswith("step 0: cost of MemoryPro logged")
    problems = zoo.check_replay([folder], retrain=True)[folder.name]
    assert len(problems) == 2 and problems[1].startswith("step 1: perf of MemoryPro logged")


@pytest.mark.parametrize(("key", "value"), [("cpu", "another CPU model"), ("tf_threads", 7)])
def test_replay_on_another_cpu_model_or_thread_count_allows_rounding_only(
    tiny_zoo, tmp_path, key, value
):
    folder = _copy(tiny_zoo, tmp_path)
    doc = checkpoint.read_config(folder)
    doc["machine"][key] = value
    checkpoint.write_json(folder / checkpoint.CONFIG, doc)
    original = checkpoint.read_log(folder)

    def replay_with(cost_factor, perf_shift):
        log = copy.deepcopy(original)
        log["evaluations"][0]["cost"]["delaygo"] *= cost_factor
        log["evaluations"][0]["perf"]["delaygo"] += perf_shift
        checkpoint.write_json(folder / checkpoint.LOG, log)
        return zoo.check_replay([folder])[folder.name]

    assert replay_with(1 + 1e-7, 1 / 256) == ()
    (cost,) = replay_with(1 + 1e-4, 0)
    assert cost.startswith("step 0: cost of MemoryPro logged") and "another CPU model" in cost
    (perf,) = replay_with(1, 2 / 256)
    assert perf.startswith("step 0: perf of MemoryPro logged")


def test_cli_verify_failure_and_unknown_name(tiny_zoo, tmp_path, capsys):
    folder = _copy(tiny_zoo, tmp_path)
    edit_log(folder, _wrong_trials)
    assert _cli(["zoo", "--root", str(tmp_path), "verify", "--trials", "64"]) == 2
    captured = capsys.readouterr()
    assert captured.out.startswith("memorypro-seed0: FAILED\n  step 2: trials 129")
    assert captured.err == "flexmt: error: provenance check failed for memorypro-seed0\n"
    assert _cli(["zoo", "--root", str(tmp_path), "verify", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown zoo network 'nope'" in err


def test_open_folder_reads_entry_log_and_network(tiny_zoo):
    entry, log, net = zoo.open_folder(tiny_zoo / "memorypro-seed0")
    assert entry == zoo.entry("memorypro-seed0", tiny_zoo)
    assert log["evaluations"][-1]["step"] == entry.steps
    np.testing.assert_array_equal(net.w_rec, zoo.load("memorypro-seed0", tiny_zoo).w_rec)
