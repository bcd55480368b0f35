"""The networks shipped with flexmt, and the checks that prove where each came from.

Every sub-folder ``<preset>-seed<k>`` of this package folder is a network folder (see
:mod:`flexmt.checkpoint`) trained by the command recorded in its ``config.json`` (run from the
repository root with ``--out flexmt/zoo``). A finished one also holds ``provenance.json``,
written at ship time by ``flexmt zoo hash --write``: the sha256 of its parameters. ::

    from flexmt import zoo
    net = zoo.load("all-softplus-seed0")    # a flexmt.network.Network
    rows = zoo.list()                        # one ZooEntry per folder
    print(zoo.table_markdown())              # the table of ``flexmt zoo``, for the book

Parameter hash: sha256 over the arrays of ``params.npz`` in the order w_in, w_rec, b, w_out,
b_out; for each array its name, dtype (e.g. ``<f4``), shape and little-endian C-order bytes.
It depends on the numbers only, not on the zip container (timestamps, compression).

:func:`verify` checks, for each network,

- that config and log agree (tasks, steps, trials = steps × batch_size, every evaluation that
  met target_perf confirmed on a larger one, the status against target_perf and max_steps)
  and that the recorded command parses to the recorded config;
- for finished networks: the stored hash against the arrays, and the logged final performance
  against a fresh evaluation (binomial tolerance, see :func:`performance_bound`);
- that re-initialising the group from the recorded config and seeds reproduces the step-0
  evaluation, and with ``retrain`` also the first evaluation after ``eval_every`` training
  steps: exactly on the CPU model and TensorFlow thread count the group was trained with
  (``config.json`` "machine": "cpu", "tf_threads"); otherwise, or where they were not
  recorded, to float32 rounding (see :data:`REPLAY_COST_RTOL`), because the same arithmetic
  rounds differently on different CPUs and sums split over different numbers of threads.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from flexmt import checkpoint as ckpt
from flexmt import cli
from flexmt.network import PARAM_NAMES, Network, evaluate
from flexmt.tasks import PAPER_NAMES
from flexmt.training import (
    GroupState,
    GroupTrainer,
    TrainConfig,
    cpu_model,
    criterion_met,
    diverged,
    initial_networks,
    network_folder,
    tf_threads,
)

ROOT = Path(__file__).parent
# Replay on another CPU model or thread count than training's: each logged cost must match
# to this relative tolerance and each performance to within one trial. Measured on
# 2026-11-28: networks trained on an Intel Xeon, replayed on an AMD EPYC, differed by at most
# 1.2e-7 relative in cost (step 0 and after 500 training steps) and not at all in
# performance; one thread against the default, by at most 1.4e-7 relative in cost.
REPLAY_COST_RTOL = 1e-5
PROVENANCE = "provenance.json"
FINISHED = ("criterion", "max_steps")
STATUS_TEXT = {
    "criterion": "criterion met",
    "max_steps": "max_steps (criterion not met)",
    "running": "running (unfinished)",
    "diverged": "diverged (cost not finite)",
}
HASH_DEFINITION = (
    "sha256 over params.npz arrays in the order w_in, w_rec, b, w_out, b_out: for each, "
    "name, dtype, shape and little-endian C-order bytes"
)
# Re-evaluation tolerance: |Δ| ≤ Z·(binomial standard error of the difference) + FLOOR.
PERF_Z, PERF_FLOOR = 4.0, 0.01


@dataclass(frozen=True)
class ZooEntry:
    """One shipped network, summarised from its folder.

    Attributes
    ----------
    name : folder name, ``<preset>-seed<k>``.
    folder : the network folder.
    preset, seed, group_seeds : what was trained, and with which seeds in one group.
    status : ``criterion``, ``max_steps``, ``running`` (unfinished) or ``diverged``.
    steps, trials : training steps and trials at the last evaluation.
    wall_time : seconds of training at the last evaluation.
    machine : the machine its training started on (``config.json`` "machine").
    cpu_models : every CPU model it trained on, in order: the starting machine's and those of
        later resumes (``config.json`` "resumes"); "CPU model not recorded" before flexmt
        recorded it.
    perf : code task name → performance at the last evaluation (empty before the first); its
        confirming evaluation's, where it has one.
    perf_trials : trials per task behind ``perf``.
    command : the command that trained it.
    params_sha256 : hash of the parameters (None before the first checkpoint).
    """

    name: str
    folder: Path
    preset: str
    seed: int
    group_seeds: tuple[int, ...]
    status: str
    steps: int
    trials: int
    wall_time: float
    machine: dict
    cpu_models: tuple[str, ...]
    perf: dict[str, float]
    perf_trials: int
    command: str
    params_sha256: str | None

    @property
    def finished(self) -> bool:
        """True once training ended (criterion met or step cap reached)."""
        return self.status in FINISHED

    @property
    def worst_task(self) -> str | None:
        """Code name of the task with the lowest final performance."""
        return min(self.perf, key=self.perf.get) if self.perf else None

    @property
    def mean_perf(self) -> float | None:
        """Mean final performance over tasks."""
        return float(np.mean([*self.perf.values()])) if self.perf else None

    @property
    def status_text(self) -> str:
        """The status in words (:data:`STATUS_TEXT`), e.g. ``"criterion met"``."""
        return STATUS_TEXT.get(self.status, self.status)

    def worst_text(self, digits: int = 3) -> str:
        """The worst task's paper name and final performance, e.g. ``"MemoryAnti 0.951"``
        (``"not yet evaluated"`` before the first evaluation)."""
        if not self.perf:
            return "not yet evaluated"
        return f"{PAPER_NAMES[self.worst_task]} {self.perf[self.worst_task]:.{digits}f}"

    @property
    def status_line(self) -> str:
        """How far the network was trained, in one line for a page's record, e.g.
        ``"memorypro-seed0: criterion met, step 17,500, worst-task performance MemoryPro
        0.953"``."""
        return (
            f"{self.name}: {self.status_text}, step {self.steps:,}, "
            f"worst-task performance {self.worst_text()}"
        )

    def to_dict(self) -> dict:
        """JSON-ready dictionary, with the worst task and the mean performance."""
        out = dataclasses.asdict(self)
        out.update(
            folder=str(self.folder),
            group_seeds=[*self.group_seeds],
            worst_task=self.worst_task,
            mean_perf=self.mean_perf,
        )
        return out


def params_sha256(arrays: Mapping[str, np.ndarray]) -> str:
    """The parameter hash (see the module docstring) of name → array."""
    digest = hashlib.sha256()
    for name in PARAM_NAMES:
        array = np.asarray(arrays[name])
        array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
        shape = ",".join(map(str, array.shape))
        digest.update(f"{name}\0{array.dtype.str}\0{shape}\0".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def names(root: str | Path | None = None) -> tuple[str, ...]:
    """Names of the network folders under ``root`` (default: the shipped zoo)."""
    root = Path(root or ROOT)
    return tuple(sorted(p.name for p in root.iterdir() if (p / ckpt.CONFIG).is_file()))


def folder(name: str, root: str | Path | None = None) -> Path:
    """The folder of network ``name``; ValueError naming the available ones if unknown."""
    available = names(root)
    if name not in available:
        raise ValueError(
            f"unknown zoo network {name!r}; available: {', '.join(available) or 'none'}"
        )
    return Path(root or ROOT) / name


def load(name: str, root: str | Path | None = None) -> Network:
    """Load network ``name`` (e.g. ``"all-softplus-seed0"``) from the zoo."""
    return ckpt.load_network(folder(name, root))


def open_folder(path: str | Path) -> tuple[ZooEntry, dict, Network]:
    """Entry, ``log.json`` content and network of one network folder, read one after another
    (a network still training gets a new log and new parameters every evaluation)."""
    path = Path(path)
    return entry(path.name, path.parent), read_folder(path)[1], ckpt.load_network(path)


def list(root: str | Path | None = None) -> tuple[ZooEntry, ...]:
    """One :class:`ZooEntry` per network folder under ``root``, sorted by name."""
    return tuple(entry(name, root) for name in names(root))


def entry(name: str, root: str | Path | None = None) -> ZooEntry:
    """The :class:`ZooEntry` of network ``name``."""
    path = folder(name, root)
    doc, log = read_folder(path)
    last = log["evaluations"][-1] if log["evaluations"] else {}
    config = TrainConfig.from_dict(doc["train"])
    final = last.get("confirmation", last)
    return ZooEntry(
        name=name,
        folder=path,
        preset=doc["train"]["preset"],
        seed=doc["seed"],
        group_seeds=tuple(doc["group_seeds"]),
        status=log["status"],
        steps=last.get("step", 0),
        trials=last.get("trials", 0),
        wall_time=last.get("wall_time", 0.0),
        machine=doc.get("machine", {}),
        cpu_models=_cpu_models(doc),
        perf=final.get("perf", {}),
        perf_trials=final.get("trials_per_task", config.eval_batches * config.eval_batch_size),
        command=doc["command"],
        params_sha256=_folder_sha256(path) if (path / ckpt.PARAMS).is_file() else None,
    )


def _cpu_models(doc: dict) -> tuple[str, ...]:
    """The distinct CPU models of a config document's starting machine and resumes."""
    machines = [doc.get("machine", {}), *(r["machine"] for r in doc.get("resumes", []))]
    return tuple(dict.fromkeys(m.get("cpu", "CPU model not recorded") for m in machines))


def read_folder(path: str | Path) -> tuple[dict, dict]:
    """config.json and log.json of a network folder (a log not yet written counts as running)."""
    path = Path(path)
    doc = ckpt.read_config(path)
    if not (path / ckpt.LOG).is_file():
        return doc, {"status": "running", "evaluations": []}
    return doc, ckpt.read_log(path)


def _folder_sha256(path: Path) -> str:
    return params_sha256(ckpt.read_npz(path / ckpt.PARAMS, PARAM_NAMES))


def table_markdown(root: str | Path | None = None) -> str:
    """The zoo as a Markdown table (one row per network), for the command line and the book."""
    header = (
        "| network | status | steps | trials | wall time | machine | worst task | mean perf "
        "| params sha256 | command |"
    )
    rows = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for e in list(root):
        worst = e.worst_text() if e.perf else "—"
        mean = f"{e.mean_perf:.3f}" if e.perf else "—"
        cells = (
            e.name,
            e.status_text,
            f"{e.steps:,}",
            f"{e.trials:,}",
            _duration(e.wall_time),
            _machine(e),
            worst,
            mean,
            f"`{e.params_sha256[:12]}`" if e.params_sha256 else "—",
            f"`{e.command}`",
        )
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def _machine(e: ZooEntry) -> str:
    if not e.machine:
        return "—"
    cpus = "; ".join(e.cpu_models)
    n = e.machine.get("tf_threads")
    threads = f"{n} thread{'s' * (n != 1)}" if n else "default threads"
    return (
        f"{e.machine['node']}, {e.machine['cpus']} CPUs ({cpus}), TF {e.machine['tensorflow']}"
        f" on {threads}"
    )


def write_provenance(root: str | Path | None = None) -> tuple[ZooEntry, ...]:
    """Write ``provenance.json`` (the parameter hash) into every finished network's folder.

    Returns
    -------
    The entries written; unfinished networks are left alone.
    """
    finished = tuple(e for e in list(root) if e.finished)
    for e in finished:
        record = {"params_sha256": e.params_sha256, "hash": HASH_DEFINITION, "status": e.status}
        ckpt.write_json(e.folder / PROVENANCE, record)
    return finished


def verify(
    selected: Sequence[str] | None = None,
    *,
    root: str | Path | None = None,
    trials: int = 256,
    seed: int = 0,
    retrain: bool = False,
    recompute: bool = True,
) -> dict[str, tuple[str, ...]]:
    """Check the provenance of every (or each selected) network; see the module docstring.

    Parameters
    ----------
    selected : network names (default: all under ``root``).
    root : the zoo folder (default: the shipped zoo).
    trials : fresh trials per task for the re-evaluation of finished networks.
    seed : seed of the re-evaluation's generator.
    retrain : also replay the first ``eval_every`` training steps of each group.
    recompute : run the networks (fresh evaluation, step-0 replay); False checks the records
        and hashes only, which costs no network run.

    Returns
    -------
    name → problems found (empty when every check passed).
    """
    if retrain and not recompute:
        raise ValueError("retrain=True replays training, which needs recompute=True")
    entries = [entry(name, root) for name in (selected or names(root))]
    problems = {e.name: [*check_records(e.folder)] for e in entries}
    for e in (e for e in entries if e.finished):
        problems[e.name] += check_hash(e)
        if recompute:
            problems[e.name] += check_performance(e, trials=trials, seed=seed)
    groups: dict[tuple, list[Path]] = {}
    for e in entries:
        groups.setdefault((e.preset, e.group_seeds, e.folder.parent), []).append(e.folder)
    for folders in groups.values() if recompute else ():
        for name, found in check_replay(folders, retrain=retrain).items():
            problems[name] += found
    return {name: tuple(found) for name, found in problems.items()}


def check_records(path: str | Path) -> tuple[str, ...]:
    """Problems in the agreement of a folder's config.json, log.json and recorded command."""
    path = Path(path)
    doc, log = read_folder(path)
    config = TrainConfig.from_dict(doc["train"])
    problems = [*_command_problems(doc, config)]
    if network_folder(path.parent, config, doc["seed"]) != path:
        problems.append(f"folder name does not match preset {config.preset}, seed {doc['seed']}")
    if doc["seed"] not in doc["group_seeds"]:
        problems.append(f"seed {doc['seed']} is not in its group {doc['group_seeds']}")
    problems += _evaluation_problems(log["evaluations"], config)
    problems += _status_problems(log, config)
    return tuple(problems)


def _command_problems(doc: dict, config: TrainConfig) -> list[str]:
    """The recorded command must be a ``flexmt train`` or ``flexmt transfer`` giving this
    config and group."""
    argv = shlex.split(doc["command"])
    if argv[:2] not in (["flexmt", "train"], ["flexmt", "transfer"]):
        return [
            f"recorded command {doc['command']!r} is not a `flexmt train` or `transfer` command"
        ]
    try:
        args = cli.build_parser().parse_args(argv[1:])
    except SystemExit:
        return [f"recorded command {doc['command']!r} does not parse"]
    # max_steps may have been raised by a later --resume; config.json holds the current cap
    recorded = cli.run_config(args).replace(max_steps=config.max_steps)
    if _in_own_zoo(recorded, Path()) != _in_own_zoo(config, Path()):
        return [f"recorded command {doc['command']!r} gives other settings than config.json"]
    if args.seeds != doc["group_seeds"]:
        return [f"recorded command {doc['command']!r} has seeds other than {doc['group_seeds']}"]
    return []


def _in_own_zoo(config: TrainConfig, zoo: Path) -> TrainConfig:
    """``config`` with its starting networks (``init_from``) looked up in ``zoo``.

    A shipped transfer run starts from networks shipped beside it; its config.json holds the
    absolute path of the zoo it was learned in, which differs from machine to machine.
    """
    if config.init_from is None:
        return config
    return config.replace(init_from=str(zoo / Path(config.init_from).name))


def _evaluation_problems(evaluations: Sequence[dict], config: TrainConfig) -> list[str]:
    problems = []
    steps = [e["step"] for e in evaluations]
    if steps and steps[0] != 0:
        problems.append(f"first evaluation at step {steps[0]}, not 0")
    if any(b <= a for a, b in pairwise(steps)):
        problems.append(f"evaluation steps are not increasing: {steps}")
    off_grid = [s for s in steps if s % config.eval_every and s != config.max_steps]
    if off_grid:
        problems.append(f"evaluations at steps {off_grid}, off eval_every {config.eval_every}")
    n_confirm = config.confirm_batches * config.eval_batch_size
    tasks = sorted(config.tasks)
    for e in evaluations:
        if e["trials"] != e["step"] * config.batch_size:
            problems.append(f"step {e['step']}: trials {e['trials']} ≠ step × batch_size")
        records = [e, e["confirmation"]] if "confirmation" in e else [e]
        if any(sorted(r["perf"]) != tasks or sorted(r["cost"]) != tasks for r in records):
            problems.append(f"step {e['step']}: tasks differ from the config's {config.tasks}")
        if criterion_met(e, config.target_perf) != ("confirmation" in e):
            problems.append(
                f"step {e['step']}: a confirming evaluation must follow exactly the evaluations "
                f"that met target_perf {config.target_perf}"
            )
        elif "confirmation" in e and e["confirmation"]["trials_per_task"] != n_confirm:
            problems.append(
                f"step {e['step']}: confirmation on {e['confirmation']['trials_per_task']} "
                f"trials per task, not confirm_batches × eval_batch_size = {n_confirm}"
            )
    return problems


def _status_problems(log: dict, config: TrainConfig) -> list[str]:
    """The status must follow from the evaluations, target_perf and max_steps."""
    status, evaluations = log["status"], log["evaluations"]
    if status not in STATUS_TEXT:
        return [f"unknown status {status!r}"]
    met = [
        "confirmation" in e and criterion_met(e["confirmation"], config.target_perf)
        for e in evaluations
    ]
    last_step = evaluations[-1]["step"] if evaluations else 0
    if any(met[:-1]):
        return [f"criterion met before the last evaluation, yet training went on ({status})"]
    expected = {
        "criterion": bool(met) and met[-1],
        "max_steps": bool(met) and not met[-1] and last_step == config.max_steps,
        "running": not any(met) and last_step <= config.max_steps,
        "diverged": bool(evaluations) and diverged(evaluations[-1]),
    }[status]
    if not expected:
        return [
            f"status {status!r} contradicts the last evaluation (step {last_step}, max_steps "
            f"{config.max_steps}, target_perf {config.target_perf})"
        ]
    return []


def check_hash(e: ZooEntry) -> tuple[str, ...]:
    """The hash stored in provenance.json must match the parameter arrays."""
    path = e.folder / PROVENANCE
    if not path.is_file():
        return (f"no {PROVENANCE}; run `flexmt zoo hash --write` when shipping",)
    stored = ckpt.read_json(path).get("params_sha256")
    if stored != e.params_sha256:
        return (f"params sha256 {e.params_sha256} ≠ stored {stored}",)
    return ()


def performance_bound(p_log, n_log: int, p_new, n_new: int) -> np.ndarray:
    """Largest ``|p_log − p_new|`` attributed to sampling: Z·SE + FLOOR, elementwise.

    SE is the binomial standard error of the difference of two independent estimates of the
    pooled proportion, from ``n_log`` and ``n_new`` trials.
    """
    p_log, p_new = np.asarray(p_log, float), np.asarray(p_new, float)
    pooled = (p_log * n_log + p_new * n_new) / (n_log + n_new)
    return PERF_Z * np.sqrt(pooled * (1 - pooled) * (1 / n_log + 1 / n_new)) + PERF_FLOOR


def check_performance(e: ZooEntry, *, trials: int = 256, seed: int = 0) -> tuple[str, ...]:
    """The logged final performance must match a fresh evaluation, per task and on average.

    The network is evaluated with noise on (as in training) on ``trials`` fresh seeded trials
    per task in batches of ``eval_batch_size`` (each batch with its own timing, as in the log's
    evaluation of ``eval_batches × eval_batch_size`` trials).
    """
    config = TrainConfig.from_dict(ckpt.read_config(e.folder)["train"])
    net = ckpt.load_network(e.folder)
    fresh = evaluate(
        net, rng=np.random.default_rng(seed), trials=trials, batch_size=config.eval_batch_size
    )
    n_log = e.perf_trials
    tasks = sorted(e.perf)
    logged = np.array([e.perf[t] for t in tasks])
    new = np.array([fresh[t] for t in tasks])
    bound = performance_bound(logged, n_log, new, trials)
    problems = [
        f"{PAPER_NAMES[t]}: logged perf {p:.3f}, fresh {q:.3f} (|Δ| > {b:.3f})"
        for t, p, q, b in zip(tasks, logged, new, bound, strict=True)
        if abs(p - q) > b
    ]
    mean_bound = np.sqrt(np.sum((bound - PERF_FLOOR) ** 2)) / len(tasks) + PERF_FLOOR
    mean_log, mean_new = logged.mean(), new.mean()
    if abs(mean_log - mean_new) > mean_bound:
        problems.append(
            f"mean perf: logged {mean_log:.3f}, fresh {mean_new:.3f} (|Δ| > {mean_bound:.3f})"
        )
    return tuple(problems)


def check_replay(folders: Sequence[Path], *, retrain: bool = False) -> dict[str, tuple[str, ...]]:
    """Replay one group from its recorded config and seeds; compare its evaluations exactly
    if this machine's CPU model and this process's thread count are the recorded ones, else
    to :data:`REPLAY_COST_RTOL` in cost and one trial in performance.

    Parameters
    ----------
    folders : folders of networks of one group (same config.json "train" and group_seeds).
    retrain : also train up to the second logged evaluation (at most ``eval_every`` steps)
        and compare it.

    Returns
    -------
    name → problems.
    """
    records = {Path(f).name: read_folder(Path(f)) for f in folders}
    doc = next(iter(records.values()))[0]
    config = _in_own_zoo(TrainConfig.from_dict(doc["train"]), Path(folders[0]).parent)
    seeds = doc["group_seeds"]
    logged = {name: log["evaluations"][: 1 + retrain] for name, (_, log) in records.items()}
    steps = sorted({e["step"] for evaluations in logged.values() for e in evaluations})
    replayed = {}
    if steps:
        trainer = GroupTrainer(config, seeds, GroupState.start(initial_networks(config, seeds)))
        for step in (s for s in steps if s <= config.eval_every):
            while trainer.step < step:
                trainer.train_step()
            replayed[step] = trainer.evaluate()
    machine = doc.get("machine", {})
    exact = (machine.get("cpu"), machine.get("tf_threads", 0)) == (cpu_model(), tf_threads())
    trials = config.eval_batches * config.eval_batch_size
    return {
        name: tuple(
            problem
            for e in logged[name]
            for problem in _differences(
                e, replayed.get(e["step"]), seeds.index(doc["seed"]), exact, trials
            )
        )
        for name, (doc, _) in records.items()
    }


_ELSEWHERE = "trained on another CPU model or thread count"


def _differences(logged: dict, result: dict | None, k: int, exact: bool, trials: int) -> list[str]:
    """Where a logged evaluation (of ``trials`` trials per task) differs from network k's
    replayed one: at all if ``exact``, else by more than float32 rounding can explain."""
    if result is None:
        return [f"evaluation at step {logged['step']} lies beyond eval_every; not replayed"]
    problems = []
    for quantity in ("perf", "cost"):
        for task, value in logged[quantity].items():
            new = float(result[quantity][task][k])
            bound = 1 / trials if quantity == "perf" else REPLAY_COST_RTOL * abs(value)
            if not abs(value - new) <= (0.0 if exact else bound):
                problems.append(
                    f"step {logged['step']}: {quantity} of {PAPER_NAMES[task]} logged "
                    f"{value!r}, replayed {new!r}"
                    + ("" if exact else f" (|Δ| > {bound:.3g}; {_ELSEWHERE})")
                )
    return problems
