"""Shared test helpers: the original code's fixtures (see fixtures/original/PROVENANCE.md)."""

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

ORIGINAL = Path(__file__).parent / "fixtures" / "original"


@pytest.fixture(scope="session")
def original_dir() -> Path:
    """Folder of the paper's 128-unit network (hp.json + model_params.npz + rollouts)."""
    return ORIGINAL / "original_net_128"


def load_fixture(name: str) -> dict[str, np.ndarray]:
    """All arrays of one fixture file."""
    with np.load(ORIGINAL / name, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def edit_log(folder: Path, edit) -> None:
    """Rewrite a network folder's log.json after ``edit(log)`` changed it in place."""
    from flexmt import checkpoint

    log = checkpoint.read_log(folder)
    edit(log)
    checkpoint.write_json(folder / checkpoint.LOG, log)
