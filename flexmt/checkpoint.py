"""One folder per network: what is written, how it is written safely, and how it is read.

A flexmt network folder holds

- ``config.json``: every training setting, the seed and its group, flexmt version, format version;
- ``params.npz``: w_in, w_rec, b, w_out, b_out (``allow_pickle=False``);
- ``log.json``: one entry per evaluation (step, trials, wall time, cost and performance per
  task; where every task met the criterion, also the larger "confirmation" evaluation) and
  the status (``running``, ``criterion``, ``max_steps`` or ``diverged``);
- ``resume.npz``: parameters, Adam moments and step, for ``--resume``.

Every file is written to a temporary name and renamed into place, so a run killed at any
moment leaves each file either old or new, never half-written.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from flexmt import __version__
from flexmt.network import PARAM_NAMES, Network, load_original

FORMAT_VERSION = 1
CONFIG, PARAMS, LOG, RESUME = "config.json", "params.npz", "log.json", "resume.npz"
LOCK = ".lock"
PREVIOUS_RESUME = "resume-prev.npz"
RESUME_KINDS = ("params", "adam_m", "adam_v")


class CheckpointError(ValueError):
    """A folder that is missing, corrupt, or written by a newer flexmt."""


@contextlib.contextmanager
def training_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on a network folder while training it (created if absent).

    The operating system releases the lock when the process ends, however it ends, so a
    killed run never blocks its own resume; two live runs on one folder are refused.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"{folder} is being trained by another process") from None
        yield


def _atomic_write(path: Path, write) -> None:
    """Call ``write(file_object)`` on a temporary file, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: dict) -> None:
    """Atomically write ``data`` as indented JSON."""
    text = json.dumps(data, indent=1, sort_keys=False) + "\n"
    _atomic_write(Path(path), lambda f: f.write(text.encode()))


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Atomically write arrays to an uncompressed ``.npz``."""
    _atomic_write(Path(path), lambda f: np.savez(f, **arrays))


def read_json(path: Path) -> dict:
    """Read a JSON file, with one clear error if it is missing or corrupt."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"missing file {path}")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"corrupt JSON file {path}: {err}") from None


def read_npz(path: Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Read the named arrays from an ``.npz`` without unpickling anything."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"missing file {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [n for n in names if n not in data.files]
            if missing:
                raise CheckpointError(f"{path} lacks arrays {missing}; has {data.files}")
            return {n: data[n] for n in names}
    except CheckpointError:
        raise
    except Exception as err:  # numpy raises several types for damaged archives
        raise CheckpointError(f"corrupt array file {path}: {err}") from None


def config_document(train_config: dict, seed: int, group_seeds: list[int], command: str) -> dict:
    """The content of ``config.json``."""
    return {
        "format_version": FORMAT_VERSION,
        "flexmt_version": __version__,
        "seed": seed,
        "group_seeds": group_seeds,
        "command": command,
        "train": train_config,
    }


def read_config(folder: Path) -> dict:
    """Read and check ``config.json`` of a flexmt folder."""
    config = read_json(Path(folder) / CONFIG)
    version = config.get("format_version")
    if not isinstance(version, int):
        raise CheckpointError(f"{Path(folder) / CONFIG} has no integer format_version")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{folder} was written in format {version} by a newer flexmt; this flexmt "
            f"{__version__} reads formats up to {FORMAT_VERSION}"
        )
    return config


def load_network(path: str | Path) -> Network:
    """Load a network from a flexmt folder or from a folder of the paper's original code.

    A flexmt folder has ``config.json`` and ``params.npz``; an original one has
    ``hp.json`` and ``model_params.npz``.
    """
    folder = Path(path)
    if (folder / CONFIG).is_file():
        train = read_config(folder)["train"]
        params = read_npz(folder / PARAMS, PARAM_NAMES)
        return Network(
            **params,
            activation=train["activation"],
            alpha=train["alpha"],
            sigma_rec=train["sigma_rec"],
            sigma_x=train["sigma_x"],
            tasks=tuple(train["tasks"]),
        )
    if (folder / "hp.json").is_file() and (folder / "model_params.npz").is_file():
        return load_original(folder)
    raise CheckpointError(
        f"{folder} is not a network folder: expected {CONFIG} + {PARAMS} (flexmt) "
        "or hp.json + model_params.npz (original code)"
    )


def read_log(folder: Path) -> dict:
    """Read ``log.json`` of a flexmt folder."""
    return read_json(Path(folder) / LOG)


def _resume_arrays(state: dict[str, np.ndarray], step: int, active: bool, elapsed: float):
    arrays = {f"{kind}/{name}": a for kind, group in state.items() for name, a in group.items()}
    arrays.update(step=np.int64(step), active=np.bool_(active), elapsed=np.float64(elapsed))
    return arrays


def write_resume(
    folder: Path, state: dict[str, dict[str, np.ndarray]], step: int, active: bool, elapsed: float
) -> None:
    """Save one network's training state, keeping the previous one as ``resume-prev.npz``.

    ``state`` maps "params", "adam_m", "adam_v" to name → array. Keeping the previous state
    lets a group whose networks were saved at different steps (a kill in between) restart
    from the last step every network has.
    """
    folder = Path(folder)
    current = folder / RESUME
    if current.is_file():
        os.replace(current, folder / PREVIOUS_RESUME)
    write_npz(current, _resume_arrays(state, step, active, elapsed))


def read_resume_states(folder: Path) -> dict[int, dict]:
    """The saved training states of a folder by step (current and previous, if readable)."""
    names = tuple(f"{kind}/{n}" for kind in RESUME_KINDS for n in PARAM_NAMES)
    states = {}
    for filename in (RESUME, PREVIOUS_RESUME):
        path = Path(folder) / filename
        if not path.is_file():
            continue
        try:
            data = read_npz(path, (*names, "step", "active", "elapsed"))
        except CheckpointError:
            continue
        state = {kind: {n: data[f"{kind}/{n}"] for n in PARAM_NAMES} for kind in RESUME_KINDS}
        state.update(active=bool(data["active"]), elapsed=float(data["elapsed"]))
        states[int(data["step"])] = state
    return states
