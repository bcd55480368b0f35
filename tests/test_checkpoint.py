"""Checkpoint folders: atomic files, clear errors, nothing ever unpickled."""

import json

import numpy as np
import pytest

from flexmt import checkpoint, load_network, training


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    config = training.TrainConfig(
        tasks=("fdgo",), n_rnn=8, max_steps=2, eval_every=1, eval_batches=1, preset="tiny"
    )
    (path,) = training.train(config, [0], tmp_path_factory.mktemp("run"), progress=False)
    return path


def test_folder_contents(folder):
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "params.npz", "log.json", "resume.npz"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    config = json.loads((folder / "config.json").read_text())
    assert config["format_version"] == checkpoint.FORMAT_VERSION
    assert config["train"]["tasks"] == ["fdgo"] and config["seed"] == 0
    log = checkpoint.read_log(folder)
    assert [e["step"] for e in log["evaluations"]] == [0, 1, 2]
    assert log["evaluations"][-1]["trials"] == 2 * config["train"]["batch_size"]


def _copy(folder, tmp_path):
    target = tmp_path / "copy"
    target.mkdir()
    for p in folder.iterdir():
        (target / p.name).write_bytes(p.read_bytes())
    return target


def test_newer_format_is_refused(folder, tmp_path):
    copy = _copy(folder, tmp_path)
    config = json.loads((copy / "config.json").read_text())
    config["format_version"] = checkpoint.FORMAT_VERSION + 1
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(checkpoint.CheckpointError, match="newer flexmt"):
        load_network(copy)


def test_corrupt_and_missing_files(folder, tmp_path):
    copy = _copy(folder, tmp_path)
    (copy / "params.npz").write_bytes(b"not a zip file")
    with pytest.raises(checkpoint.CheckpointError, match="corrupt array file"):
        load_network(copy)
    (copy / "config.json").write_text("{ truncated")
    with pytest.raises(checkpoint.CheckpointError, match="corrupt JSON"):
        load_network(copy)
    with pytest.raises(checkpoint.CheckpointError, match="not a network folder"):
        load_network(tmp_path / "nowhere")


def test_pickled_arrays_are_never_loaded(folder, tmp_path):
    copy = _copy(folder, tmp_path)
    arrays = dict(np.load(copy / "params.npz"))
    arrays["w_in"] = np.array([{"evil": 1}], dtype=object)
    np.savez(copy / "params.npz", **arrays)
    with pytest.raises(checkpoint.CheckpointError, match="corrupt array file"):
        load_network(copy)


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    path = tmp_path / "data.json"
    checkpoint.write_json(path, {"a": 1})

    def explode(handle):
        handle.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        checkpoint._atomic_write(path, explode)
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]


def test_a_folder_in_training_is_locked(tmp_path):
    with checkpoint.training_lock(tmp_path / "net"):
        with pytest.raises(ValueError, match="being trained by another process"):
            with checkpoint.training_lock(tmp_path / "net"):
                pass
    with checkpoint.training_lock(tmp_path / "net"):  # released on exit
        pass
