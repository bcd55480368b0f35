"""Training groups of leaky RNNs on the paper's tasks, with a hand-written backward pass.

A *group* is K networks (usually K seeds of one preset) trained in one process as one
batched computation: every array carries a leading network axis K, recurrent products are
batched matrix products, and each network has its own initialisation, noise, trials and
Adam state. At each step the group draws one task (uniformly from the preset's tasks) and
one timing; each network gets its own B trials of it.

Why a hand-written backward pass: on a CPU the cost of a training step is the time loop.
Automatic differentiation keeps every small op of the loop; here the loop holds only the
recurrent product and a few elementwise ops, and the input projection, readout, weight
gradients and noise are single large products outside it.

Randomness is a pure function of (seeds, step): the trials of step s come from a numpy
Generator seeded with (group seeds, s), and network k's input and recurrent noise from one
seeded with (s, seed_k) alone; a background thread prepares step s + 1's trials and noise
while TensorFlow computes step s. Resuming therefore needs only the step, the parameters and
Adam's moments, and the same command on the same machine gives bit-identical parameters.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from flexmt import checkpoint as ckpt
from flexmt import tasks as task_defs
from flexmt.network import PARAM_NAMES, Network, check_choice, init_network, performance

ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON = 0.9, 0.999, 1e-8
TRAINABLE = ("all", "rule_input")
_STREAM_INIT, _STREAM_TRIALS, _STREAM_NOISE, _STREAM_EVAL, _STREAM_CONFIRM = 1, 2, 3, 4, 5
_EVAL_IN_FLIGHT = 2  # evaluation batches run at once (2.1 s → 1.5 s an evaluation, 2 cores)


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run (the paper's defaults).

    Attributes
    ----------
    tasks : code names of the tasks trained on (one drawn uniformly per step).
    n_rnn : number of recurrent units.
    activation, w_rec_init, w_rec_coeff : network form and initialisation.
    learning_rate : Adam step size (β1 0.9, β2 0.999, ε 1e-8).
    batch_size : trials per step per network.
    sigma_rec, sigma_x : recurrent and input noise (each scaled by sqrt(2/α)).
    l2_h, l2_w : activity and weight regularisation.
    target_perf : stop once every task's performance is at least this, on a regular
        evaluation and on the larger confirming one that follows it.
    max_steps : stop after this many steps in any case.
    eval_every : steps between evaluations (and checkpoints).
    eval_batches, eval_batch_size : evaluation trials per task, each batch with its own timing.
    confirm_batches : batches (of ``eval_batch_size``) per task of the fresh evaluation that
        must confirm the criterion before a network is frozen. One regular evaluation draws
        only ``eval_batches`` timings, so its error is several times binomial, and the first
        evaluation to cross ``target_perf`` is often a lucky one.
    batch_splits : the trials of a step (and of an evaluation batch) are run as this many
        equal parts side by side, each with its own time loop, and their gradients summed:
        one network then keeps every core busy. Results agree to float rounding whatever the
        value, and are bit-identical only for the same value.
    trainable : "all" parameters, or only the "rule_input" rows of ``tasks`` (transfer).
    init_from : start from saved networks instead of a fresh initialisation: a folder path
        with ``{seed}`` standing for each network's seed.
    preset : name of the preset this came from, if any.
    """

    tasks: tuple[str, ...]
    n_rnn: int
    activation: str = "softplus"
    w_rec_init: str = "diag"
    w_rec_coeff: float = 0.8
    learning_rate: float = 10**-3.5
    batch_size: int = 64
    sigma_rec: float = 0.05
    sigma_x: float = 0.1
    l2_h: float = 1e-6
    l2_w: float = 1e-6
    target_perf: float = 0.95
    max_steps: int = 400_000
    eval_every: int = 500
    eval_batches: int = 8
    eval_batch_size: int = 32
    confirm_batches: int = 64
    alpha: float = task_defs.ALPHA
    batch_splits: int = 1
    trainable: str = "all"
    init_from: str | None = None
    preset: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(task_defs.canonical_tasks(self.tasks)))
        if not self.tasks:
            raise ValueError("tasks is empty; give at least one task")
        from flexmt.network import ACTIVATIONS, W_REC_INITS

        check_choice("activation", self.activation, tuple(ACTIVATIONS))
        check_choice("w_rec_init", self.w_rec_init, W_REC_INITS)
        check_choice("trainable", self.trainable, TRAINABLE)
        if self.init_from is not None and "{seed}" not in self.init_from:
            raise ValueError(f"init_from must contain '{{seed}}'; got {self.init_from!r}")
        positive_ints = ("n_rnn", "batch_size", "max_steps", "eval_every", "eval_batches")
        positive_ints += ("confirm_batches", "batch_splits")
        for name in (*positive_ints, "eval_batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        for name in ("learning_rate", "alpha"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0; got {getattr(self, name)!r}")
        for name in ("sigma_rec", "sigma_x", "l2_h", "l2_w"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0; got {getattr(self, name)!r}")
        for name in ("batch_size", "eval_batch_size"):
            if getattr(self, name) % self.batch_splits:
                raise ValueError(
                    f"batch_splits must divide {name} ({getattr(self, name)}); "
                    f"got {self.batch_splits!r}"
                )
        if not 0 <= self.target_perf <= 1:
            raise ValueError(f"target_perf must lie in [0, 1]; got {self.target_perf!r}")

    def to_dict(self) -> dict:
        """JSON-ready dictionary of every setting."""
        out = dataclasses.asdict(self)
        out["tasks"] = list(self.tasks)
        return out

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; allowed: {sorted(known)}")
        return cls(**values)

    def replace(self, **changes) -> TrainConfig:
        """A copy with some settings changed (validated)."""
        return dataclasses.replace(self, **changes)


# Supp. Fig. 10 (reduced): the four held-out tasks of the paper's panels (MemoryAnti,
# ReactMatch2Sample, IntegrationMultimodal, ReactAnti). As in the paper's own leave-one-out runs
# (its job scripts and Supp. Fig. 10 analysis), these networks have 128 units and learn at lr
# 1e-3: the 14-task pretraining, the rule-input learning and the single-task networks alike.
LEAVE_ONE_OUT = ("delayanti", "dmsgo", "multidelaydm", "reactanti")
LEAVE_ONE_OUT_LR = 1e-3

# Steps of the leave-one-out comparison runs (rule-input learning and single task from
# scratch): the paper reads the late cost at 4,608,000 trials, 72,000 steps of 64. Both run
# the full length (target_perf 1: no early stop) so that both curves reach that point.
LEAVE_ONE_OUT_STEPS = 72_000

# Step cap of the 14-task 128-unit pretraining of the leave-one-out comparison. lr 1e-3 needs
# about half the steps of lr 10^-3.5 for the same level (project brief), and the 15-task
# softplus reference network (lr 10^-3.5) gained little after 200,000 steps.
LEAVE_OUT_MAX_STEPS = 100_000

# Step cap of Fig. 6's 14-task 256-unit pretraining, half the default: four seeds are needed,
# each ~105 ms a step alone on the 2-core machine (benchmarks/RESULTS.md), and the 15-task
# softplus reference network gained little after 200,000 steps (mean over tasks 0.93 -> 0.95,
# worst task 0.83 -> 0.87 by 400,000).
PRETRAIN_ALL_BUT_MAX_STEPS = 200_000

# Step cap of Fig. 6's two-task 256-unit pretraining (four seeds of each pair). In both seeds
# of {DelayPro, MemoryPro}, DelayPro was >= 0.98 from step 40,000 while MemoryPro's mean over
# each 10,000 steps stayed between 0.71 and 0.94 from step 20,000 to 91,000 with no trend;
# at ~0.25 s a step for a pair of seeds here, 400,000 steps would take ~28 h per pair.
PRETRAIN_PAIR_MAX_STEPS = 100_000


def leave_out_preset(task: str) -> str:
    """Name of the 14-task pretraining preset without ``task`` (a leave-one-out task)."""
    task = task_defs.canonical_task(task)
    check_choice("held-out task", task, LEAVE_ONE_OUT)
    return f"leave-out-{task_defs.PAPER_NAMES[task].lower()}"


def scratch_preset(task: str) -> str:
    """Name of the preset training ``task`` alone from scratch (a leave-one-out task)."""
    task = task_defs.canonical_task(task)
    check_choice("task learned from scratch", task, LEAVE_ONE_OUT)
    return f"single-{task_defs.PAPER_NAMES[task].lower()}"


def _held_out(task: str) -> list[tuple[str, TrainConfig, str]]:
    """(name, settings, description) of the 14-task pretraining without ``task`` and of
    ``task`` alone from scratch, for the leave-one-out comparison."""
    paper = task_defs.PAPER_NAMES[task]
    names = (leave_out_preset(task), scratch_preset(task))
    common = {"n_rnn": 128, "learning_rate": LEAVE_ONE_OUT_LR}
    return [
        (
            names[0],
            TrainConfig(
                tasks=tuple(t for t in task_defs.TASKS if t != task),
                max_steps=LEAVE_OUT_MAX_STEPS,
                preset=names[0],
                **common,
            ),
            f"Supp. Fig. 10 pretraining: all tasks but {paper}, 128 units, lr 1e-3, "
            f"{LEAVE_OUT_MAX_STEPS:,}-step cap",
        ),
        (
            names[1],
            TrainConfig(
                tasks=(task,),
                max_steps=LEAVE_ONE_OUT_STEPS,
                target_perf=1.0,
                preset=names[1],
                **common,
            ),
            f"Supp. Fig. 10 comparison: {paper} alone from scratch, 128 units, lr 1e-3, "
            f"{LEAVE_ONE_OUT_STEPS:,} steps",
        ),
    ]


PRESETS: dict[str, TrainConfig] = {
    "memorypro": TrainConfig(tasks=("delaygo",), n_rnn=256, preset="memorypro"),
    "memorypro-memoryanti": TrainConfig(
        tasks=("delaygo", "delayanti"), n_rnn=256, preset="memorypro-memoryanti"
    ),
    "all-softplus": TrainConfig(tasks=task_defs.TASKS, n_rnn=128, preset="all-softplus"),
    "all-tanh": TrainConfig(
        tasks=task_defs.TASKS, n_rnn=128, activation="tanh", learning_rate=1e-4, preset="all-tanh"
    ),
    "all-retanh": TrainConfig(
        tasks=task_defs.TASKS,
        n_rnn=128,
        activation="retanh",
        learning_rate=1e-4,
        preset="all-retanh",
    ),
    "pretrain-delaypro-memorypro": TrainConfig(
        tasks=("fdgo", "delaygo"),
        n_rnn=256,
        max_steps=PRETRAIN_PAIR_MAX_STEPS,
        preset="pretrain-delaypro-memorypro",
    ),
    "pretrain-delayanti-memorypro": TrainConfig(
        tasks=("fdanti", "delaygo"),
        n_rnn=256,
        max_steps=PRETRAIN_PAIR_MAX_STEPS,
        preset="pretrain-delayanti-memorypro",
    ),
    "pretrain-all-but-memoryanti": TrainConfig(
        tasks=tuple(t for t in task_defs.TASKS if t != "delayanti"),
        n_rnn=256,
        max_steps=PRETRAIN_ALL_BUT_MAX_STEPS,
        preset="pretrain-all-but-memoryanti",
    ),
    **{name: c for task in LEAVE_ONE_OUT for name, c, _ in _held_out(task)},
}
_PAIR = f", 256 units, {PRETRAIN_PAIR_MAX_STEPS:,}-step cap"
PRESET_DESCRIPTIONS = {
    "memorypro": "Fig. 1: MemoryPro alone, 256 units, softplus",
    "memorypro-memoryanti": "Fig. 2: MemoryPro + MemoryAnti, 256 units, softplus",
    "all-softplus": "Figs. 3-5: all 15 tasks, 128 units, softplus",
    "all-tanh": "Figs. 3-5 comparison: all 15 tasks, 128 units, tanh (lr 1e-4)",
    "all-retanh": "Figs. 3-5 comparison: all 15 tasks, 128 units, retanh (lr 1e-4)",
    "pretrain-delaypro-memorypro": f"Fig. 6 pretraining: DelayPro + MemoryPro{_PAIR}",
    "pretrain-delayanti-memorypro": f"Fig. 6 pretraining: DelayAnti + MemoryPro{_PAIR}",
    "pretrain-all-but-memoryanti": "Fig. 6 pretraining: all tasks but MemoryAnti, 256 units, "
    f"{PRETRAIN_ALL_BUT_MAX_STEPS:,}-step cap",
    **{name: text for task in LEAVE_ONE_OUT for name, _, text in _held_out(task)},
}


def preset(name: str, **overrides) -> TrainConfig:
    """The named preset's configuration, with optional overrides (e.g. ``max_steps``)."""
    check_choice("preset", name, tuple(PRESETS))
    return PRESETS[name].replace(**overrides)


def seed_key(seeds: Sequence[int]) -> tuple[int, ...]:
    """Validate seeds (distinct non-negative integers) and return them as a tuple."""
    seeds = tuple(seeds)
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 0]
    if not seeds or bad or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct non-negative integers; got {list(seeds)}")
    return tuple(int(s) for s in seeds)


def stream(seeds: Sequence[int], kind: int, step: int) -> np.random.Generator:
    """The numpy Generator for one purpose (trials, evaluation) at one step of a group."""
    return np.random.default_rng([kind, step, *seeds])


def initial_networks(config: TrainConfig, seeds: Sequence[int]) -> list[Network]:
    """One network per seed to start from: loaded (``init_from``) or freshly initialised.

    A fresh initialisation depends on the seed alone, not on the group.
    """
    if config.init_from is not None:
        return [_start_from(config, config.init_from.format(seed=seed)) for seed in seeds]
    return [
        init_network(
            config.n_rnn,
            rng=np.random.default_rng([_STREAM_INIT, seed]),
            activation=config.activation,
            w_rec_init=config.w_rec_init,
            w_rec_coeff=config.w_rec_coeff,
            alpha=config.alpha,
            sigma_rec=config.sigma_rec,
            sigma_x=config.sigma_x,
            tasks=config.tasks,
        )
        for seed in seeds
    ]


def _start_from(config: TrainConfig, folder: str) -> Network:
    """A saved network, checked against and re-labelled with ``config``'s settings."""
    net = ckpt.load_network(folder)
    settings = {"n_rnn": net.n_rnn, "activation": net.activation, "alpha": net.alpha}
    wanted = {"n_rnn": config.n_rnn, "activation": config.activation, "alpha": config.alpha}
    if settings != wanted:
        raise ValueError(f"{folder} has {settings}; this run needs {wanted}")
    return net.replace(sigma_rec=config.sigma_rec, sigma_x=config.sigma_x, tasks=config.tasks)


def update_masks(config: TrainConfig) -> dict[str, np.ndarray] | None:
    """Which parameter entries Adam may change: None for all, else name → 0/1 array.

    For ``rule_input`` only the rows of W_in fed by the rule inputs of ``config.tasks`` move.
    """
    if config.trainable == "all":
        return None
    rows = np.zeros((task_defs.N_INPUT, 1), np.float32)
    for task in config.tasks:
        rows[task_defs.RULE_START + task_defs.TASKS.index(task)] = 1.0
    return {"w_in": rows}


@dataclass
class GroupState:
    """Parameters and Adam moments of K networks, stacked on a leading axis.

    params, adam_m, adam_v: name → (K, ...) float32 arrays; step: completed updates;
    active: (K,) bool, False for networks frozen (criterion met, or diverged).
    """

    params: dict[str, np.ndarray]
    adam_m: dict[str, np.ndarray]
    adam_v: dict[str, np.ndarray]
    step: int = 0
    active: np.ndarray = field(default_factory=lambda: np.ones(0, bool))

    @classmethod
    def start(cls, networks: Sequence[Network]) -> GroupState:
        """Fresh state (step 0, zero moments) for the given networks."""
        params = {n: np.stack([getattr(net, n) for net in networks]) for n in PARAM_NAMES}
        zeros = {n: np.zeros_like(a) for n, a in params.items()}
        return cls(
            params,
            zeros,
            {n: a.copy() for n, a in zeros.items()},
            0,
            np.ones(len(networks), bool),
        )


def _tf_activation(tf, name: str) -> tuple[Callable, Callable]:
    """f and its derivative written in terms of the rate r = f(z) (so z need not be kept)."""
    if name == "softplus":
        return tf.nn.softplus, lambda r: -tf.math.expm1(-r)
    if name == "tanh":
        return tf.tanh, lambda r: 1 - r**2
    if name == "retanh":
        return (lambda z: tf.tanh(tf.nn.relu(z))), lambda r: tf.where(r > 0, 1 - r**2, 0.0)
    return tf.nn.relu, lambda r: tf.cast(r > 0, tf.float32)


class GroupTrainer:
    """TensorFlow graphs for one group: a training step and a noisy forward pass.

    The K networks are split into ``n_streams`` contiguous parts, each a stacked, batched
    computation of its own; parts share no data, so TensorFlow runs them concurrently on
    separate cores. On the 2-core CPU of benchmarks/RESULTS.md one network per part (the
    default) was fastest: concurrency pays, batching small products does not.

    Parameters
    ----------
    config : the training settings.
    seeds : one seed per network; together they also key the group's trials.
    state : starting parameters, Adam moments, step and active mask.
    n_streams : concurrent parts (default K: one per network).
    """

    def __init__(
        self,
        config: TrainConfig,
        seeds: Sequence[int],
        state: GroupState,
        n_streams: int | None = None,
    ) -> None:
        import tensorflow as tf

        self._tf = tf
        self.config = config
        self.seeds = seed_key(seeds)
        k = len(self.seeds)
        n_streams = min(k, n_streams or k)
        bounds = np.linspace(0, k, n_streams + 1).round().astype(int)
        self._parts = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        self._vars = [self._variables(state, part) for part in self._parts]
        self.step = state.step
        self._prefetch = ThreadPoolExecutor(max_workers=1)
        self._eval_pool = ThreadPoolExecutor(max_workers=_EVAL_IN_FLIGHT)
        self._pending: tuple[int, Future] | None = None
        self._rollout, self._train_step, self.gradients = self._build()

    def _variables(self, state: GroupState, part: slice) -> dict:
        tf = self._tf
        return {
            "w": {n: tf.Variable(a[part]) for n, a in state.params.items()},
            "m": {n: tf.Variable(a[part]) for n, a in state.adam_m.items()},
            "v": {n: tf.Variable(a[part]) for n, a in state.adam_v.items()},
            "active": tf.Variable(state.active[part].astype(np.float32)),
        }

    def state(self) -> GroupState:
        """The current state as numpy arrays."""

        def gather(kind):
            return {
                n: np.concatenate([v[kind][n].numpy() for v in self._vars]) for n in PARAM_NAMES
            }

        active = np.concatenate([v["active"].numpy() for v in self._vars]) > 0
        return GroupState(gather("w"), gather("m"), gather("v"), self.step, active)

    @property
    def active(self) -> np.ndarray:
        """(K,) bool: networks still being trained."""
        return np.concatenate([v["active"].numpy() for v in self._vars]) > 0

    def freeze(self, k: int) -> None:
        """Stop updating network k (it met the criterion or diverged)."""
        for part, v in zip(self._parts, self._vars, strict=True):
            if part.start <= k < part.stop:
                active = v["active"].numpy()
                active[k - part.start] = 0.0
                v["active"].assign(active)

    def _noise(self, kind: int, step: int, index: int, shape: tuple[int, int]) -> tuple:
        """Standard normal input and recurrent noise, (T, K, B, n_in) and (T, K, B, N).

        Network k's noise comes from a Generator keyed by (kind, step, index, seed_k) alone.
        """
        x_noise, rec_noise = [], []
        for seed in self.seeds:
            rng = np.random.default_rng([kind, step, index, seed])
            x_noise.append(rng.standard_normal((*shape, task_defs.N_INPUT), np.float32))
            rec_noise.append(rng.standard_normal((*shape, self.config.n_rnn), np.float32))
        return np.stack(x_noise, 1), np.stack(rec_noise, 1)

    def _step_inputs(self, step: int) -> tuple[str, list[np.ndarray]]:
        """Trials and noise of a training step: a pure function of (seeds, step)."""
        cfg, k = self.config, len(self.seeds)
        rng = stream(self.seeds, _STREAM_TRIALS, step)
        task = cfg.tasks[rng.integers(len(cfg.tasks))]
        trials = task_defs.make_trials(task, "random", rng=rng, batch_size=k * cfg.batch_size)
        split = lambda a: a.reshape(a.shape[0], k, cfg.batch_size, -1)  # noqa: E731
        noise = self._noise(_STREAM_NOISE, step, 0, (trials.n_steps, cfg.batch_size))
        return task, [split(trials.x), *noise, split(trials.y), split(trials.c_mask)]

    def _inputs_for(self, step: int) -> tuple[str, list[np.ndarray]]:
        """This step's inputs (prepared in the background) and start preparing the next."""
        if self._pending is None or self._pending[0] != step:
            self._pending = (step, self._prefetch.submit(self._step_inputs, step))
        ready = self._pending[1]
        self._pending = (step + 1, self._prefetch.submit(self._step_inputs, step + 1))
        return ready.result()

    def train_step(self) -> tuple[str, np.ndarray]:
        """One Adam step of every active network. Returns the task and (K,) cost_lsq.

        A part whose networks are all frozen is not computed (its cost is NaN), so a group
        spends nothing on networks that met the criterion.
        """
        task, inputs = self._inputs_for(self.step)
        cost = self._train_step(*inputs, np.float32(self.step + 1))
        self.step += 1
        return task, cost.numpy()

    def outputs(self, x: np.ndarray, index: int = 0, kind: int = _STREAM_EVAL) -> np.ndarray:
        """Noisy outputs of every network on shared inputs x (T, B, n_in) → (K, T, B, 3).

        ``index`` selects independent noise for different batches at the same step, ``kind``
        the stream (regular or confirming evaluation).
        """
        x = np.broadcast_to(x[:, None], (x.shape[0], len(self.seeds), *x.shape[1:]))
        noise = self._noise(kind, self.step, index, (x.shape[0], x.shape[2]))
        return np.moveaxis(self._rollout(x, *noise).numpy(), 1, 0)

    def evaluate(self, confirm: bool = False) -> dict[str, dict[str, np.ndarray]]:
        """Performance and cost_lsq per task, each (K,), on fresh seeded trials with noise.

        Every network sees the same ``eval_batches × eval_batch_size`` trials per task (with
        ``confirm``, ``confirm_batches × eval_batch_size`` others); each batch has its own
        timing. A task's trials are drawn in order from one stream; its batches then run
        ``_EVAL_IN_FLIGHT`` at a time (one's noise is drawn while another's rollout runs),
        which changes no number.
        """
        cfg = self.config
        kind, batches = (
            (_STREAM_CONFIRM, cfg.confirm_batches) if confirm else (_STREAM_EVAL, cfg.eval_batches)
        )
        rng = stream(self.seeds, kind, self.step)

        def score(index: int, trials: task_defs.Trials) -> tuple[np.ndarray, np.ndarray]:
            y_hat = self.outputs(trials.x, index=index, kind=kind)
            cost = (((y_hat - trials.y) * trials.c_mask) ** 2).mean(axis=(1, 2, 3))
            return performance(y_hat, trials.y_loc).mean(axis=-1), cost

        result = {"perf": {}, "cost": {}}
        for i, task in enumerate(cfg.tasks):
            indices = range(i * batches + 1, (i + 1) * batches + 1)
            trials = [
                task_defs.make_trials(task, "random", rng=rng, batch_size=cfg.eval_batch_size)
                for _ in indices
            ]
            perf, cost = zip(*self._eval_pool.map(score, indices, trials), strict=True)
            result["perf"][task] = np.mean(perf, axis=0)
            result["cost"][task] = np.mean(cost, axis=0)
        return result

    def _build(self):
        tf = self._tf
        cfg = self.config
        alpha = float(cfg.alpha)
        x_std = float(cfg.sigma_x * math.sqrt(2 / alpha))
        rec_std = float(cfg.sigma_rec * math.sqrt(2 / alpha))
        f, fprime = _tf_activation(tf, cfg.activation)
        k = len(self.seeds)

        def spec(n):
            return tf.TensorSpec([None, k, None, n], tf.float32)

        noisy_spec = [spec(task_defs.N_INPUT), spec(task_defs.N_INPUT), spec(cfg.n_rnn)]
        step_spec = [*noisy_spec, spec(task_defs.N_OUTPUT), spec(task_defs.N_OUTPUT)]

        def noisy_drive(w, x, x_noise, rec_noise):
            """Noisy inputs and the drive x W_in + b + recurrent noise, (T, K, B, N)."""
            x = x + x_std * x_noise
            return x, tf.matmul(x, w["w_in"]) + w["b"][None, :, None, :] + rec_std * rec_noise

        def forward(w, drive):
            """The time loop: states h, (T, K, B, N). Only h is kept (see ``rates``)."""
            n_steps = tf.shape(drive)[0]
            hs = tf.TensorArray(tf.float32, size=n_steps)
            h = tf.zeros_like(drive[0])
            for t in tf.range(n_steps):
                h = (1 - alpha) * h + alpha * f(drive[t] + tf.matmul(h, w["w_rec"]))
                hs = hs.write(t, h)
            return hs.stack()

        def rates(h, h_prev):
            """f(pre-activation) recovered from consecutive states, outside the loop.

            Exact where f = 0 (the same float32 product (1 − α)h_prev is subtracted), so
            the derivative masks of relu and retanh are exact too.
            """
            return (h - (1 - alpha) * h_prev) / alpha

        def backward(w, d_h, gain):
            """Backpropagation through time: dL/d(pre-activation), (T, K, B, N)."""
            n_steps = tf.shape(d_h)[0]
            ds = tf.TensorArray(tf.float32, size=n_steps)
            carry = tf.zeros_like(d_h[0])
            for i in tf.range(n_steps):
                t = n_steps - 1 - i
                g = d_h[t] + carry
                d = g * gain[t]
                carry = (1 - alpha) * g + tf.matmul(d, w["w_rec"], transpose_b=True)
                ds = ds.write(t, d)
            return ds.stack()

        def by_network(a):
            """(T, K, B, n) → (K, T·B, n), so weight gradients are one product per network."""
            k_part = a.shape[1]
            if k_part > 1:
                a = tf.transpose(a, [1, 0, 2, 3])
            return tf.reshape(a, [k_part, -1, a.shape[-1]])

        def readout(w, h):
            return tf.matmul(h, w["w_out"]) + w["b_out"][None, :, None, :]

        def split_trials(arrays):
            """``batch_splits`` groups of (T, K, B / batch_splits, n) arrays, one per part."""
            if cfg.batch_splits == 1:
                return [arrays]
            pieces = [tf.split(a, cfg.batch_splits, axis=2) for a in arrays]
            return list(zip(*pieces, strict=True))

        def data_terms(w, x, x_noise, rec_noise, y, c_mask, n_trials):
            """These trials' share of cost_lsq (K,), a mean over all ``n_trials`` of the step,
            and the gradients of that share and of their activity penalty."""
            x, drive = noisy_drive(w, x, x_noise, rec_noise)
            h = forward(w, drive)
            h_prev = tf.concat([tf.zeros_like(h[:1]), h[:-1]], 0)
            shape = tf.shape(x)
            scale = 1.0 / tf.cast(shape[0] * n_trials * task_defs.N_OUTPUT, tf.float32)
            err = (readout(w, h) - y) * c_mask
            d_y = 2.0 * scale * err * c_mask
            d_h = tf.matmul(d_y, w["w_out"], transpose_b=True) + cfg.l2_h * h
            d_pre = backward(w, d_h, alpha * fprime(rates(h, h_prev)))
            cost = scale * tf.reduce_sum(err**2, axis=[0, 2, 3])
            d_pre, h, h_prev, x, d_y = (by_network(a) for a in (d_pre, h, h_prev, x, d_y))
            grads = {
                "w_in": tf.matmul(x, d_pre, transpose_a=True),
                "w_rec": tf.matmul(h_prev, d_pre, transpose_a=True),
                "b": tf.reduce_sum(d_pre, axis=1),
                "w_out": tf.matmul(h, d_y, transpose_a=True),
                "b_out": tf.reduce_sum(d_y, axis=1),
            }
            return cost, grads

        def loss_and_grads(w, *arrays):
            """cost_lsq (K,) and the gradient of the whole objective for every parameter,
            the parts of the trials (``split_trials``) computed side by side and summed."""
            n_trials = tf.shape(arrays[0])[2]
            parts = [data_terms(w, *a, n_trials) for a in split_trials(arrays)]
            cost = tf.add_n([c for c, _ in parts])
            grads = {n: tf.add_n([g[n] for _, g in parts]) for n in PARAM_NAMES}
            for name in ("w_in", "w_rec", "w_out"):
                grads[name] += cfg.l2_w * w[name]
            return cost, grads

        masks = update_masks(cfg)

        def adam(v, grads, t):
            lr = cfg.learning_rate * tf.sqrt(1 - ADAM_BETA2**t) / (1 - ADAM_BETA1**t)
            for name, g in grads.items():
                if masks is not None and name not in masks:
                    continue  # frozen: its gradient is never computed (pruned from the graph)
                on = tf.reshape(v["active"], [-1] + [1] * (len(g.shape) - 1))
                if masks is not None:
                    on = on * masks[name]
                m = v["m"][name].assign(
                    on * (ADAM_BETA1 * v["m"][name] + (1 - ADAM_BETA1) * g)
                    + (1 - on) * v["m"][name]
                )
                s = v["v"][name].assign(
                    on * (ADAM_BETA2 * v["v"][name] + (1 - ADAM_BETA2) * g**2)
                    + (1 - on) * v["v"][name]
                )
                v["w"][name].assign_sub(on * lr * m / (tf.sqrt(s) + ADAM_EPSILON))

        def per_part(fn, arrays):
            """Apply fn(variables, *arrays of its networks) to every part."""
            return [
                fn(v, *(a[:, part] for a in arrays))
                for part, v in zip(self._parts, self._vars, strict=True)
            ]

        @tf.function(input_signature=noisy_spec)
        def rollout(*arrays):
            def run(v, *arrays):
                outs = [
                    readout(v["w"], forward(v["w"], noisy_drive(v["w"], *a)[1]))
                    for a in split_trials(arrays)
                ]
                return outs[0] if len(outs) == 1 else tf.concat(outs, 2)

            return tf.concat(per_part(run, arrays), 1)

        @tf.function(input_signature=step_spec)
        def gradients(*arrays):
            parts = per_part(lambda v, *a: loss_and_grads(v["w"], *a), arrays)
            cost = tf.concat([c for c, _ in parts], 0)
            return cost, {n: tf.concat([g[n] for _, g in parts], 0) for n in PARAM_NAMES}

        @tf.function(input_signature=[*step_spec, tf.TensorSpec([], tf.float32)])
        def train_step(*arrays):
            *arrays, t = arrays

            def update(v, *a):
                def step():
                    cost, grads = loss_and_grads(v["w"], *a)
                    adam(v, grads, t)
                    return cost

                def skip():
                    return tf.fill(tf.shape(v["active"]), float("nan"))

                return tf.cond(tf.reduce_any(v["active"] > 0), step, skip)

            return tf.concat(per_part(update, arrays), 0)

        return rollout, train_step, gradients


def network_folder(out: str | Path, config: TrainConfig, seed: int) -> Path:
    """Where network ``seed`` of a run is saved: ``OUT/<preset>-seed<seed>``."""
    return Path(out) / f"{config.preset or 'custom'}-seed{seed}"


def cpu_model() -> str:
    """The CPU's model name with its family, model and stepping (from Linux's /proc/cpuinfo;
    elsewhere the platform's processor string): floating-point results are bit-identical only
    on the same CPU. A VM may report one generic name ("AMD EPYC") for several generations,
    hence the numbers."""
    import platform

    cpuinfo = Path("/proc/cpuinfo")
    fields: dict[str, str] = {}
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    if "model name" not in fields:
        return platform.processor() or platform.machine()
    numbers = [f"{k} {fields[k]}" for k in ("cpu family", "model", "stepping") if k in fields]
    return f"{fields['model name']} ({', '.join(numbers)})" if numbers else fields["model name"]


def set_threads(n: int) -> None:
    """Run each of this process's TensorFlow operations on ``n`` threads.

    Call before TensorFlow starts. The thread count changes how sums are split, so results
    are bit-identical only for the same count (and CPU model). Independent operations still
    run side by side on TensorFlow's default pool (one thread per core), which does not
    change any result. Two 256-unit training processes side by side on two cores each ran
    faster on one thread than on TensorFlow's default of one per core; two 128-unit ones
    slightly slower; one network split in two parts of its trials (``batch_splits``) runs
    fastest on one thread per part (benchmarks/RESULTS.md).
    """
    import tensorflow as tf

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"threads must be a positive integer; got {n!r}")
    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
    except RuntimeError:
        raise ValueError(
            f"threads: TensorFlow already runs on {tf_threads() or 'its default'} threads in "
            "this process; set them before it starts"
        ) from None


def tf_threads() -> int:
    """TensorFlow's threads within an operation in this process (0: its default, one per core)."""
    import tensorflow as tf

    return tf.config.threading.get_intra_op_parallelism_threads()


def machine_info() -> dict:
    """The machine a run happened on (for logs and benchmarks)."""
    import platform

    import tensorflow as tf

    return {
        "node": platform.node(),
        "processor": platform.processor() or platform.machine(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "tf_threads": tf_threads(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
    }


def train(
    config: TrainConfig,
    seeds: Sequence[int],
    out: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    command: str = "",
) -> list[Path]:
    """Train one network per seed as one batched group; save each in its own folder.

    Evaluates every ``eval_every`` steps (and at step 0); a network whose every task reaches
    ``target_perf`` is evaluated again on ``confirm_batches × eval_batch_size`` fresh trials
    per task (logged as the evaluation's "confirmation"), and if every task reaches it there
    too, frozen and marked ``criterion``. A network whose evaluation cost is not finite
    (its training diverged; the paper's settings clip no gradient) is frozen and marked
    ``diverged``. The run ends when all are frozen or at ``max_steps`` (status
    ``max_steps``). With ``resume``, continues from the last step every network of the group
    has saved (or starts them, if none exists yet); ``max_steps`` may be raised on resume.

    Returns
    -------
    The network folders, in the order of ``seeds``.
    """
    seeds = seed_key(seeds)
    folders = [network_folder(out, config, s) for s in seeds]
    if config.init_from is not None:  # a missing start must fail before any folder is made
        for seed in seeds:
            _start_from(config, config.init_from.format(seed=seed))
    with contextlib.ExitStack() as locks:
        for folder in folders:
            locks.enter_context(ckpt.training_lock(folder))
        _train_locked(config, seeds, folders, resume, progress, command)
    return folders


def _train_locked(config, seeds, folders, resume, progress, command) -> None:
    if resume and not any((f / ckpt.CONFIG).exists() for f in folders):
        resume = False  # nothing to resume yet: start, so one command serves every session
    if resume:
        state, logs, elapsed = _resume_group(config, seeds, folders)
    else:
        taken = [str(f) for f in folders if set(p.name for p in f.iterdir()) - {ckpt.LOCK}]
        if taken:
            raise ValueError(
                f"network folders already exist: {taken}; use --resume or another --out"
            )
        state, logs, elapsed = GroupState.start(initial_networks(config, seeds)), None, 0.0
        machine = machine_info()
        for folder, seed in zip(folders, seeds, strict=True):
            doc = ckpt.config_document(config.to_dict(), seed, list(seeds), command)
            ckpt.write_json(folder / ckpt.CONFIG, {**doc, "machine": machine})
        logs = [{"status": "running", "evaluations": []} for _ in seeds]
    trainer = GroupTrainer(config, seeds, state)
    pending = [_needs_evaluation(log, trainer.step, config.target_perf) for log in logs]
    if np.any(trainer.active & pending):
        _evaluate_and_save(trainer, folders, logs, elapsed)
    bar = tqdm(total=config.max_steps, initial=trainer.step, disable=not progress, unit="step")
    start = time.perf_counter() - elapsed
    while trainer.step < config.max_steps and trainer.active.any():
        trainer.train_step()
        bar.update(1)
        if trainer.step % config.eval_every == 0 or trainer.step == config.max_steps:
            worst = _evaluate_and_save(trainer, folders, logs, time.perf_counter() - start)
            bar.set_postfix(worst_task_perf=f"{worst:.3f}")
    bar.close()
    for folder, log, active in zip(folders, logs, trainer.active, strict=True):
        if active:
            log["status"] = "max_steps"
            ckpt.write_json(folder / ckpt.LOG, log)


def _last_logged_step(log: dict) -> int:
    """Step of a network's last logged evaluation (−1 before the first)."""
    return log["evaluations"][-1]["step"] if log["evaluations"] else -1


def criterion_met(record: dict, target_perf: float) -> bool:
    """Whether every task of an evaluation record reached ``target_perf``.

    ``record`` is a log entry or its "confirmation": a dict with "perf", task → performance.
    """
    return min(record["perf"].values()) >= target_perf


def diverged(record: dict) -> bool:
    """Whether an evaluation record's cost is not finite for some task (NaN or infinite)."""
    return not all(math.isfinite(c) for c in record["cost"].values())


def _diverged_log(log: dict) -> bool:
    """Whether the log's last evaluation has a cost that is not finite."""
    return bool(log["evaluations"]) and diverged(log["evaluations"][-1])


def _confirmed(log: dict, target_perf: float) -> bool:
    """Whether the log's last evaluation met the criterion and its confirmation did too."""
    last = log["evaluations"][-1] if log["evaluations"] else {}
    return "confirmation" in last and criterion_met(last["confirmation"], target_perf)


def training_ended(log: dict, config: TrainConfig) -> bool:
    """Whether a network's training ended under ``config``: its last evaluation met the
    criterion and was confirmed, its cost stopped being finite (``diverged``), or it
    stopped at ``config.max_steps``.

    A network frozen without a confirmation (by a flexmt before confirmations) has not
    ended: resuming it confirms the criterion or trains on.
    """
    if log["status"] == "criterion":
        return _confirmed(log, config.target_perf)
    if log["status"] == "diverged":
        return _diverged_log(log)
    return log["status"] == "max_steps" and _last_logged_step(log) == config.max_steps


def _needs_evaluation(log: dict, step: int, target_perf: float) -> bool:
    """Whether the log lacks the evaluation at ``step``, or has one that met the criterion
    and still awaits its confirmation."""
    if _last_logged_step(log) < step:
        return True
    last = log["evaluations"][-1]
    return criterion_met(last, target_perf) and "confirmation" not in last


def _record(result: dict, k: int, tasks: Sequence[str]) -> dict:
    """Network k's cost and performance per task from :meth:`GroupTrainer.evaluate`."""
    return {key: {t: float(result[key][t][k]) for t in tasks} for key in ("cost", "perf")}


def _evaluate_and_save(trainer: GroupTrainer, folders, logs, elapsed: float) -> float:
    """Evaluate and log; freeze the networks whose cost is not finite, and those that met
    the criterion and a larger evaluation confirms; checkpoint. Returns the worst active
    performance."""
    cfg = trainer.config
    result = trainer.evaluate()
    active = trainer.active
    for k, log in enumerate(logs):
        if active[k] and _last_logged_step(log) < trainer.step:  # (a resume may have it)
            log["evaluations"].append(
                {
                    "step": trainer.step,
                    "trials": trainer.step * cfg.batch_size,
                    "wall_time": round(elapsed, 3),
                    **_record(result, k, cfg.tasks),
                }
            )
            if _diverged_log(log):
                trainer.freeze(k)
                log["status"] = "diverged"
    active = trainer.active
    pending = [
        k
        for k in np.flatnonzero(active)
        if _needs_evaluation(logs[k], trainer.step, cfg.target_perf)
    ]
    if pending:
        confirmation = trainer.evaluate(confirm=True)
        for k in pending:
            logs[k]["evaluations"][-1]["confirmation"] = {
                "trials_per_task": cfg.confirm_batches * cfg.eval_batch_size,
                **_record(confirmation, k, cfg.tasks),
            }
            if _confirmed(logs[k], cfg.target_perf):
                trainer.freeze(k)
                logs[k]["status"] = "criterion"
    state = trainer.state()
    for k, (folder, log) in enumerate(zip(folders, logs, strict=True)):
        net_state = {
            kind: {n: a[k] for n, a in getattr(state, kind).items()}
            for kind in ("params", "adam_m", "adam_v")
        }
        ckpt.write_resume(folder, net_state, trainer.step, bool(state.active[k]), elapsed)
        ckpt.write_npz(folder / ckpt.PARAMS, net_state["params"])
        ckpt.write_json(folder / ckpt.LOG, log)
    worst = [min(result["perf"][t][k] for t in cfg.tasks) for k in np.flatnonzero(state.active)]
    return float(min(worst)) if worst else 1.0


def _resume_group(config: TrainConfig, seeds: tuple[int, ...], folders: list[Path]):
    """Rebuild a group's state from its folders at the last step all of them have."""
    saved, logs = [], []
    for folder in folders:
        doc = ckpt.read_config(folder)
        stored = TrainConfig.from_dict(doc["train"])
        if stored.replace(max_steps=config.max_steps) != config or doc["group_seeds"] != list(
            seeds
        ):
            raise ValueError(
                f"{folder} was trained with other settings or seeds; resume with the "
                f"same preset, settings and --seeds {' '.join(map(str, doc['group_seeds']))}"
            )
        saved.append(ckpt.read_resume_states(folder))
        logs.append(ckpt.read_log(folder))
    common = set.intersection(*(set(s) for s in saved))
    if not common:
        raise ValueError(f"no training state that every folder of the group has in {folders}")
    step = max(common)
    states = [s[step] for s in saved]
    machine = machine_info()
    for folder, log, saved_state in zip(folders, logs, states, strict=True):
        log["evaluations"] = [e for e in log["evaluations"] if e["step"] <= step]
        _check_reopenable(folder, log, saved_state["active"], step)
        log["status"] = _resumed_status(log, config.target_perf)
        doc = ckpt.read_config(folder)
        doc["train"]["max_steps"] = config.max_steps
        if log["status"] == "running" and step < config.max_steps:
            doc["resumes"] = [*doc.get("resumes", []), {"step": step, "machine": machine}]
        ckpt.write_json(folder / ckpt.CONFIG, doc)
    stack = lambda kind: {  # noqa: E731
        n: np.stack([s[kind][n] for s in states]) for n in PARAM_NAMES
    }
    state = GroupState(
        stack("params"),
        stack("adam_m"),
        stack("adam_v"),
        step,
        np.array([log["status"] == "running" for log in logs]),
    )
    return state, logs, states[0]["elapsed"]


def _resumed_status(log: dict, target_perf: float) -> str:
    """A resumed network's status: ``criterion`` (confirmed), ``diverged`` or ``running``."""
    if _confirmed(log, target_perf):
        return "criterion"
    return "diverged" if _diverged_log(log) else "running"


def _check_reopenable(folder: Path, log: dict, active: bool, step: int) -> None:
    """Refuse to resume a network frozen before ``step`` on an unconfirmed evaluation.

    Such a network (frozen by a flexmt that did not yet confirm the criterion) kept its
    parameters while its group trained on; training it again from ``step`` would not be what
    the recorded command now does. One frozen at ``step`` itself resumes exactly.
    """
    frozen_at = _last_logged_step(log)
    if not active and log["status"] == "criterion" and frozen_at < step:
        if "confirmation" not in log["evaluations"][-1]:
            raise ValueError(
                f"{folder} was frozen at step {frozen_at} on an evaluation no larger "
                f"evaluation confirmed, and its group went on to step {step}: it cannot "
                "resume exactly; train its group again in a new --out"
            )
