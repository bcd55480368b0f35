"""Sweeps: a bad spec fails before anything runs; jobs run on Dask, skip what is done, resume."""

import subprocess
import sys

import pytest
import yaml

from flexmt import checkpoint, sweep, zoo
from flexmt.cli import main

# MemoryPro (one task) with one or two steps: the cheapest jobs a preset allows
GROUP = {"preset": "memorypro", "seeds": [0, 1], "group": True, "max_steps": 1, "eval_every": 1}
SINGLE = {"preset": "memorypro", "seeds": [2], "max_steps": 1}


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A sweep run once by the command line on a local cluster of two workers."""
    cwd = tmp_path_factory.mktemp("sweep")
    spec = _write_spec(cwd, {"out": "runs", "jobs": [GROUP, SINGLE]})
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        assert main(["sweep", str(spec), "--workers", "2", "--quiet"]) == 0
    return cwd


def _write_spec(folder, spec, name="spec.yaml"):
    path = folder / name
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([GROUP], "a sweep spec must be a mapping"),
        ({"out": "runs", "jobs": [GROUP], "workers": 2}, "unknown spec keys ['workers']"),
        ({"jobs": [GROUP]}, "out must be a folder name"),
        ({"out": "runs", "jobs": []}, "jobs must be a non-empty list"),
        ({"out": "runs", "jobs": [{**GROUP, "lr": 1}]}, "jobs[0]: unknown job keys ['lr']"),
        ({"out": "runs", "jobs": [{**SINGLE, "preset": "nope"}]}, "unknown preset 'nope'"),
        ({"out": "runs", "jobs": [{"seeds": [0]}]}, "preset must be a preset name"),
        ({"out": "runs", "jobs": [{**SINGLE, "seeds": 3}]}, "seeds must be a list"),
        ({"out": "runs", "jobs": [{**SINGLE, "seeds": [1, 1]}]}, "distinct non-negative"),
        ({"out": "runs", "jobs": [{**SINGLE, "seeds": [-1]}]}, "distinct non-negative"),
        ({"out": "runs", "jobs": [{**SINGLE, "seeds": ["0"]}]}, "distinct non-negative"),
        ({"out": "runs", "jobs": [{**SINGLE, "group": "yes"}]}, "group must be true or false"),
        ({"out": "runs", "jobs": [{**SINGLE, "max_steps": 1.5}]}, "max_steps must be an integer"),
        ({"out": "runs", "jobs": [{**SINGLE, "max_steps": 0}]}, "max_steps must be a positive"),
        ({"out": "runs", "jobs": [{**SINGLE, "target_perf": "high"}]}, "target_perf must be a"),
        (
            {"out": "runs", "jobs": [SINGLE, GROUP, SINGLE]},
            "listed more than once: memorypro-seed2",
        ),
    ],
)
def test_a_malformed_spec_is_one_error_naming_the_problem(tmp_path, monkeypatch, spec, message):
    monkeypatch.chdir(tmp_path)
    path = _write_spec(tmp_path, spec)
    with pytest.raises(ValueError) as err:
        sweep.read_spec(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


def test_unreadable_spec_files(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        sweep.read_spec(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("out: runs\njobs: [\n")
    with pytest.raises(ValueError, match=r"invalid YAML at line \d+"):
        sweep.read_spec(bad)


def test_cli_errors_are_one_line_and_nothing_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = _write_spec(tmp_path, {"out": "runs", "jobs": [{**SINGLE, "preset": "nope"}]})
    assert main(["sweep", str(spec)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("flexmt: error: ") and "unknown preset 'nope'" in captured.err
    assert not (tmp_path / "runs").exists()


def test_an_unreachable_scheduler_is_one_line_before_any_job(tmp_path):
    spec = _write_spec(tmp_path, {"out": "runs", "jobs": [SINGLE]})
    argv = [str(spec), "--scheduler", "tcp://127.0.0.1:9", "--timeout", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "flexmt.cli", "sweep", *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'" in done.stderr
    assert not (tmp_path / "runs").exists()


def test_sweep_trains_each_job_as_its_flexmt_train_command(swept):
    runs = swept / "runs"
    groups = {name: checkpoint.read_config(runs / name)["group_seeds"] for name in zoo.names(runs)}
    assert groups == {"memorypro-seed0": [0, 1], "memorypro-seed1": [0, 1], "memorypro-seed2": [2]}
    group = "--seeds 0 1 --out runs --max-steps 1 --eval-every 1 --resume"
    commands = {0: group, 1: group, 2: "--seeds 2 --out runs --max-steps 1 --resume"}
    for entry in zoo.list(runs):
        assert entry.status == "max_steps" and entry.steps == 1
        assert entry.command == f"flexmt train --preset memorypro {commands[entry.seed]}"
        assert zoo.check_records(entry.folder) == ()  # the command gives the recorded config
    # the workers' networks are the ones this process computes from the same command
    assert zoo.check_replay([runs / "memorypro-seed2"], retrain=True) == {"memorypro-seed2": ()}


def test_finished_networks_are_skipped_and_others_resumed(swept, capsys, monkeypatch):
    monkeypatch.chdir(swept)
    spec = _write_spec(swept, {"out": "runs", "jobs": [GROUP, SINGLE]}, "again.yaml")
    assert [job.action for job in sweep.read_spec(spec)] == ["skip", "skip"]
    assert sweep.run(sweep.read_spec(spec), scheduler="tcp://127.0.0.1:9") == []  # no cluster
    assert main(["sweep", str(spec), "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == (
        "skip   flexmt train --preset memorypro --seeds 2 --out runs --max-steps 1 --resume"
    )
    before = checkpoint.read_log(swept / "runs" / "memorypro-seed2")["evaluations"]
    longer = _write_spec(swept, {"out": "runs", "jobs": [{**SINGLE, "max_steps": 2}]}, "more.yaml")
    (job,) = sweep.read_spec(longer)
    assert job.action == "resume"
    (result,) = sweep.run([job], n_workers=1, progress=False)
    assert result.error is None and "max_steps at step 2" in result.lines[0]
    after = checkpoint.read_log(swept / "runs" / "memorypro-seed2")
    assert after["status"] == "max_steps" and after["evaluations"][:2] == before
    assert [e["step"] for e in after["evaluations"]] == [0, 1, 2]
    with pytest.raises(ValueError, match="trained 2 steps, more than max_steps"):
        sweep.read_spec(spec)


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ({**GROUP, "seeds": [0], "group": False}, "was trained in group [0, 1], not [0]"),
        ({**GROUP, "eval_every": 2}, "was trained with other settings"),
        ({**SINGLE, "max_steps": 1, "eval_every": 1}, "was trained with other settings"),
    ],
)
def test_folders_that_cannot_be_continued_are_refused(swept, monkeypatch, job, message):
    monkeypatch.chdir(swept)
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        sweep.plan({"out": "runs", "jobs": [job]})
