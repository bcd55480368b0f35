"""The command line: tables, training, and one clear line with exit code 2 on bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flexmt import zoo
from flexmt.cli import main


def test_tasks_table(capsys):
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    assert "MemoryPro" in out and "delaygo" in out and "Stimulus1, Memory1" in out


def test_presets(capsys):
    assert main(["presets"]) == 0
    assert "all-softplus" in capsys.readouterr().out
    assert main(["presets", "all-tanh"]) == 0
    settings = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert settings["activation"] == "tanh" and settings["learning_rate"] == 1e-4


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--preset", "nope", "--out", "X"], "unknown preset 'nope'; allowed: memorypro"),
        (["train", "--preset", "memorypro", "--out", "X", "--max-steps", "0"], "max_steps"),
        (["train", "--preset", "memorypro", "--out", "X", "--target-perf", "2"], "target_perf"),
        (["train", "--preset", "memorypro", "--out", "X", "--seeds", "1", "1"], "distinct"),
        (["train", "--preset", "memorypro", "--out", "X", "--threads", "0"], "threads must be"),
        (
            ["train", "--preset", "memorypro", "--out", "X", "--batch-splits", "3"],
            "batch_splits must divide batch_size (64); got 3",
        ),
        (["evaluate", "missing-folder"], "not a network folder"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("flexmt: error:") and message in err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_train_resume_and_evaluate(capsys, tmp_path):
    argv = [
        "train",
        "--preset",
        "memorypro",
        "--seeds",
        "3",
        "--out",
        str(tmp_path),
        "--max-steps",
        "2",
        "--eval-every",
        "1",
        "--quiet",
    ]
    assert main(argv) == 0
    assert "max_steps at step 2" in capsys.readouterr().out
    assert main(argv) == 2  # refuses to overwrite
    assert "already exist" in capsys.readouterr().err
    assert main([*argv[:-3], "--max-steps", "3", "--eval-every", "1", "--resume", "--quiet"]) == 0
    log = json.loads((tmp_path / "memorypro-seed3" / "log.json").read_text())
    assert [e["step"] for e in log["evaluations"]] == [0, 1, 2, 3]
    assert main(["evaluate", str(tmp_path / "memorypro-seed3"), "--trials", "8"]) == 0
    assert "MemoryPro" in capsys.readouterr().out


_THREADED_RUN = """
import sys
from pathlib import Path

import numpy as np
from conftest import edit_log
from flexmt.cli import main

out = sys.argv[1]
train = ["train", "--preset", "memorypro", "--out", out, "--max-steps", "1", "--quiet"]
assert main([*train, "--threads", "1", "--batch-splits", "2"]) == 0
assert main(["zoo", "--root", out, "hash", "--write"]) == 0
verify = ["zoo", "--root", out, "verify", "--threads", "1", "--retrain"]
assert main(verify) == 0


def nudge(log):
    cost = log["evaluations"][0]["cost"]
    cost["delaygo"] = float(np.nextafter(cost["delaygo"], 0))


edit_log(Path(out) / "memorypro-seed0", nudge)
sys.exit(main(verify))
"""


def test_threads_are_recorded_and_replay_is_exact_only_on_the_same_count(tmp_path):
    """In a fresh process: TensorFlow's threads can only be set before it starts."""
    done = subprocess.run(
        [sys.executable, "-c", _THREADED_RUN, str(tmp_path)],
        capture_output=True,
        cwd=Path(__file__).parent,
    )
    assert done.returncode == 2, done.stderr.decode()  # the nudged cost fails on one thread
    assert "step 0: cost of MemoryPro logged" in done.stdout.decode()
    folder = tmp_path / "memorypro-seed0"
    config = json.loads((folder / "config.json").read_text())
    assert config["machine"]["tf_threads"] == 1 and config["train"]["batch_splits"] == 2
    assert config["command"].endswith("--threads 1 --batch-splits 2")
    assert zoo.check_replay([folder])[folder.name] == ()  # this process: default threads
