"""The leaky rate RNN of Driscoll, Shenoy & Sussillo (2024), as plain numpy arrays.

Dynamics, with input x_t (n_in,), state h_t (N,), output y_t (3,)::

    h_t = (1 - α) h_{t-1} + α f(x_t W_in + h_{t-1} W_rec + b + sqrt(2/α) σ_rec ξ_t)
    y_t = h_t W_out + b_out,        h_0 = 0

Arrays are time-major: x (T, B, n_in), h (T, B, N), y_hat (T, B, 3). Row vectors are
multiplied from the left, so W_in is (n_in, N) and W_rec[i, j] is the weight from unit i
to unit j (the original code's fused kernel is [W_in; W_rec]).

Nothing here imports TensorFlow except :meth:`Network.step_function`, so trained networks
load and run in plain numpy.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

from flexmt import tasks as task_defs


def _softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z) in z's dtype, without overflow (several times faster than logaddexp)."""
    out = np.log1p(np.exp(-np.abs(z)))
    out += np.maximum(z, 0.0)
    return out


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "softplus": _softplus,
    "tanh": np.tanh,
    "retanh": lambda z: np.tanh(np.maximum(z, 0.0)),
    "relu": lambda z: np.maximum(z, 0.0),
}
W_REC_INITS = ("diag", "randgauss", "randortho")
PARAM_NAMES = ("w_in", "w_rec", "b", "w_out", "b_out")


@dataclass(frozen=True)
class Rollout:
    """States and outputs of a run. h: (T, B, N), y_hat: (T, B, 3)."""

    h: np.ndarray
    y_hat: np.ndarray


@dataclass(frozen=True)
class Network:
    """A leaky RNN: its parameters (float32 numpy arrays) and the settings that run it.

    Attributes
    ----------
    w_in : (n_in, N) input weights.
    w_rec : (N, N) recurrent weights, row = presynaptic unit.
    b : (N,) recurrent bias.
    w_out : (N, 3) readout weights.
    b_out : (3,) readout bias.
    activation : one of ``ACTIVATIONS``.
    alpha : dt / τ.
    sigma_rec : recurrent noise σ (scaled by sqrt(2/α) inside the step).
    sigma_x : input noise σ used in training (scaled by sqrt(2/α) in the tasks).
    tasks : code names of the tasks the network was trained on.
    """

    w_in: np.ndarray
    w_rec: np.ndarray
    b: np.ndarray
    w_out: np.ndarray
    b_out: np.ndarray
    activation: str = "softplus"
    alpha: float = task_defs.ALPHA
    sigma_rec: float = 0.05
    sigma_x: float = 0.1
    tasks: tuple[str, ...] = task_defs.TASKS

    def __post_init__(self) -> None:
        check_choice("activation", self.activation, tuple(ACTIVATIONS))
        n_in, n = self.w_in.shape
        expected = {"w_rec": (n, n), "b": (n,), "w_out": (n, 3), "b_out": (3,)}
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                raise ValueError(
                    f"{name} has shape {getattr(self, name).shape}; expected {shape} "
                    f"for w_in of shape {(n_in, n)}"
                )
        for name in PARAM_NAMES:
            value = np.asarray(getattr(self, name), dtype=np.float32)
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{name} contains non-finite values")
            object.__setattr__(self, name, value)

    @property
    def n_rnn(self) -> int:
        """Number of recurrent units N."""
        return self.w_rec.shape[0]

    @property
    def n_input(self) -> int:
        """Number of input channels."""
        return self.w_in.shape[0]

    def params(self) -> dict[str, np.ndarray]:
        """The five parameter arrays by name."""
        return {name: getattr(self, name) for name in PARAM_NAMES}

    def settings(self) -> dict:
        """The non-array settings, JSON-ready."""
        return {
            "activation": self.activation,
            "alpha": self.alpha,
            "sigma_rec": self.sigma_rec,
            "sigma_x": self.sigma_x,
            "tasks": list(self.tasks),
        }

    def replace(self, **changes) -> Network:
        """A copy with some fields changed (e.g. ``sigma_rec=0``)."""
        return dataclasses.replace(self, **changes)

    def run(
        self,
        x: np.ndarray,
        *,
        noise: bool = False,
        rng: np.random.Generator | None = None,
        h0: np.ndarray | None = None,
    ) -> Rollout:
        """Run the network on inputs x (T, B, n_in); recurrent noise only if ``noise``.

        Input noise is the tasks' business (``make_trials(..., sigma_x=...)``).
        ``h0`` (B, N) or (N,) sets the state before the first step (default 0).
        """
        states = run_variants([self], x, noise=noise, rng=rng, h0=h0)[:, 0]
        return Rollout(h=states, y_hat=states @ self.w_out + self.b_out)

    def step_function(self) -> Callable:
        """A TensorFlow step ``step(h, u) -> h_next`` without noise, for fixed points.

        h: (B, N), u: (B, n_in) or (n_in,); float32 tensors.
        """
        import tensorflow as tf

        tf_activations = {
            "softplus": tf.nn.softplus,
            "tanh": tf.tanh,
            "retanh": lambda z: tf.tanh(tf.nn.relu(z)),
            "relu": tf.nn.relu,
        }
        f = tf_activations[self.activation]
        w_in, w_rec, b = (tf.constant(a) for a in (self.w_in, self.w_rec, self.b))
        alpha = self.alpha

        def step(h, u):
            u = tf.reshape(u, (-1, w_in.shape[0]))
            return (1 - alpha) * h + alpha * f(tf.matmul(u, w_in) + tf.matmul(h, w_rec) + b)

        return step

    def lesion(self, units: Sequence[int]) -> Network:
        """A copy with the outgoing recurrent and readout weights of ``units`` set to 0."""
        units = np.asarray(units, dtype=int).ravel()
        if units.size and (units.min() < 0 or units.max() >= self.n_rnn):
            raise ValueError(f"lesioned units must lie in [0, {self.n_rnn}); got {units.tolist()}")
        w_rec, w_out = self.w_rec.copy(), self.w_out.copy()
        w_rec[units, :] = 0.0
        w_out[units, :] = 0.0
        return self.replace(w_rec=w_rec, w_out=w_out)


@functools.cache
def _blas() -> ThreadpoolController:
    """The process's BLAS thread pools, found once (finding them reads the process's maps)."""
    return ThreadpoolController()


def _check_variants(nets: Sequence[Network]) -> None:
    """Raise ValueError unless the networks differ in their parameter values only."""
    if not nets:
        raise ValueError("no networks given; expected at least one")
    first = nets[0]
    for k, net in enumerate(nets[1:], 1):
        if net.settings() != first.settings() or net.w_in.shape != first.w_in.shape:
            raise ValueError(
                f"network {k} differs from network 0 in its settings or shapes "
                f"({net.settings()}, w_in {net.w_in.shape} against {first.settings()}, "
                f"w_in {first.w_in.shape}); variants may differ in parameter values only"
            )


def run_variants(
    nets: Sequence[Network],
    x: np.ndarray,
    *,
    noise: bool = False,
    rng: np.random.Generator | None = None,
    h0: np.ndarray | None = None,
) -> np.ndarray:
    """States of K networks that differ in their parameter values only (e.g. lesions of one
    network), run side by side on the same inputs and, with ``noise``, the same noise.

    Network k's states equal ``nets[k].run(x, noise=noise, rng=r, h0=h0).h`` for a copy r
    of ``rng``: one draw of recurrent noise per step serves all K networks. Memory grows
    with K: the input drive and the states are (T, K, B, N) float32 arrays each.

    Parameters
    ----------
    nets : K networks with equal settings and shapes.
    x : (T, B, n_in) inputs.
    noise, rng : recurrent noise on, drawn from this Generator.
    h0 : (B, N) or (N,) state before the first step (default 0).

    Returns
    -------
    (T, K, B, N) float32 states.
    """
    _check_variants(nets)
    first = nets[0]
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 3 or x.shape[2] != first.n_input:
        raise ValueError(f"x has shape {x.shape}; expected (T, B, {first.n_input})")
    if noise and rng is None:
        raise ValueError("noise=True needs a numpy Generator in rng")
    n_steps, batch = x.shape[:2]
    f, alpha = ACTIVATIONS[first.activation], first.alpha
    w_rec = np.stack([n.w_rec for n in nets])
    drive = x[:, None] @ np.stack([n.w_in for n in nets]) + np.stack([n.b for n in nets])[:, None]
    h = np.zeros((batch, first.n_rnn), np.float32) if h0 is None else np.asarray(h0, np.float32)
    h = np.broadcast_to(h, (len(nets), batch, first.n_rnn))
    sigma = np.float32(np.sqrt(2.0 / alpha) * first.sigma_rec)
    states = np.empty((n_steps, len(nets), batch, first.n_rnn), np.float32)
    # small products: a second BLAS thread costs more than it gives, badly so under load
    with _blas().limit(limits=1, user_api="blas"):
        for t in range(n_steps):
            pre = drive[t] + h @ w_rec
            if noise:
                pre += sigma * rng.standard_normal((batch, first.n_rnn), dtype=np.float32)
            h = (1 - alpha) * h + alpha * f(pre)
            states[t] = h
    return states


def check_choice(name: str, value, allowed: Sequence) -> None:
    """Raise ValueError unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; allowed: {', '.join(map(str, allowed))}")


def init_network(
    n_rnn: int,
    *,
    rng: np.random.Generator,
    activation: str = "softplus",
    w_rec_init: str = "diag",
    w_rec_coeff: float = 0.8,
    n_input: int = task_defs.N_INPUT,
    **settings,
) -> Network:
    """A freshly initialised network, as in the paper.

    W_in ~ N(0, 1)/sqrt(n_in); W_rec = c·I ("diag"), c·N(0, 1)/sqrt(N) ("randgauss") or c times
    a Haar-random orthogonal matrix ("randortho"); b = 0; W_out Glorot-uniform; b_out = 0.
    ``settings`` go to :class:`Network` (alpha, sigma_rec, sigma_x, tasks).
    """
    if not isinstance(n_rnn, int | np.integer) or n_rnn < 1:
        raise ValueError(f"n_rnn must be a positive integer; got {n_rnn!r}")
    check_choice("w_rec_init", w_rec_init, W_REC_INITS)
    w_in = rng.standard_normal((n_input, n_rnn)) / np.sqrt(n_input)
    if w_rec_init == "diag":
        w_rec = np.eye(n_rnn)
    elif w_rec_init == "randgauss":
        w_rec = rng.standard_normal((n_rnn, n_rnn)) / np.sqrt(n_rnn)
    else:
        q, r = np.linalg.qr(rng.standard_normal((n_rnn, n_rnn)))
        w_rec = q * np.sign(np.diag(r))
    limit = np.sqrt(6.0 / (n_rnn + task_defs.N_OUTPUT))
    w_out = rng.uniform(-limit, limit, (n_rnn, task_defs.N_OUTPUT))
    return Network(
        w_in=w_in,
        w_rec=w_rec_coeff * w_rec,
        b=np.zeros(n_rnn),
        w_out=w_out,
        b_out=np.zeros(task_defs.N_OUTPUT),
        activation=activation,
        **settings,
    )


def objective(
    net: Network, trials: task_defs.Trials, *, l2_h: float = 1e-6, l2_w: float = 1e-6
) -> tuple[float, float]:
    """The paper's two cost terms on a batch, noise off.

    Returns ``(cost_lsq, cost_reg)``: mean over T·B·3 of ((y − ŷ)·c_mask)², and
    l2_h·½Σh² + l2_w·½(ΣW_in² + ΣW_rec² + ΣW_out²).
    """
    rollout = net.run(trials.x)
    h = rollout.h.astype(np.float64)
    cost_lsq = np.mean(((trials.y - rollout.y_hat) * trials.c_mask).astype(np.float64) ** 2)
    weights = sum(np.sum(w.astype(np.float64) ** 2) for w in (net.w_in, net.w_rec, net.w_out))
    cost_reg = l2_h * 0.5 * np.sum(h**2) + l2_w * 0.5 * weights
    return float(cost_lsq), float(cost_reg)


def performance(y_hat: np.ndarray, y_loc: np.ndarray) -> np.ndarray:
    """The paper's per-trial performance, judged at the last time step only.

    A trial that requires fixation (y_loc < 0) is correct iff ŷ_fix > 0.5; otherwise iff
    ŷ_fix ≤ 0.5 and atan2(ŷ_sin, ŷ_cos) is within 0.1π of y_loc.

    Parameters
    ----------
    y_hat : (T, B, 3) or (..., T, B, 3) outputs.
    y_loc : (T, B) targets (−1 for fixation).

    Returns
    -------
    (B,) or (..., B) float array of 0/1.
    """
    last, loc = y_hat[..., -1, :, :], y_loc[-1]
    fixating = last[..., 0] > 0.5
    angle = np.mod(np.arctan2(last[..., 1], last[..., 2]), 2 * np.pi)
    dist = np.abs(loc - angle)
    on_target = np.minimum(dist, 2 * np.pi - dist) < 0.1 * np.pi
    should_fix = loc < 0
    return np.where(should_fix, fixating, on_target & ~fixating).astype(np.float64)


def load_original(folder: str | Path) -> Network:
    """Load a network saved by the paper's code: ``hp.json`` + ``model_params.npz``.

    The npz holds the fused kernel ``w_in`` = [W_in; W_rec] of shape (n_in + N, N),
    ``b_in`` (N,), ``w_out`` (N, 3) and ``b_out`` (3,).
    """
    folder = Path(folder)
    hp = json.loads((folder / "hp.json").read_text())
    rnn_type = hp.get("rnn_type", "LeakyRNN")
    if rnn_type != "LeakyRNN":
        raise ValueError(f"unsupported rnn_type {rnn_type!r} in {folder}; allowed: LeakyRNN")
    with np.load(folder / "model_params.npz", allow_pickle=False) as data:
        kernel, b_in, w_out, b_out = (data[k] for k in ("w_in", "b_in", "w_out", "b_out"))
    n_in = int(hp["n_input"])
    return Network(
        w_in=kernel[:n_in],
        w_rec=kernel[n_in:],
        b=b_in,
        w_out=w_out,
        b_out=b_out,
        activation=hp["activation"],
        alpha=float(hp["alpha"]),
        sigma_rec=float(hp["sigma_rec"]),
        sigma_x=float(hp["sigma_x"]),
        tasks=tuple(task_defs.canonical_tasks(hp.get("rule_trains", task_defs.TASKS))),
    )


def evaluate(
    net: Network,
    *,
    rng: np.random.Generator,
    trials: int = 512,
    batch_size: int = 32,
    noise: bool = True,
    tasks: Sequence[str] | None = None,
) -> dict[str, float]:
    """Performance per task on fresh random trials: :func:`evaluate_variants` of one network.

    Returns
    -------
    code task name → fraction of correct trials.
    """
    return evaluate_variants(
        [net], rng=rng, trials=trials, batch_size=batch_size, noise=noise, tasks=tasks
    )[0]


def evaluate_variants(
    nets: Sequence[Network],
    *,
    rng: np.random.Generator,
    trials: int = 512,
    batch_size: int = 32,
    noise: bool = True,
    tasks: Sequence[str] | None = None,
) -> list[dict[str, float]]:
    """Performance per task of K variants of a network, all on the very same random trials.

    Trials come in batches, each with its own timing. With ``noise`` (the default, as in
    training and the original evaluation) the networks' own σ_x and σ_rec are on, and every
    network gets the same noise (:func:`run_variants`). Network k's result equals
    ``evaluate(nets[k], rng=r)`` for a copy r of ``rng``.

    Parameters
    ----------
    nets : K networks with equal settings and shapes (:func:`run_variants`).
    rng : draws the trials and the noise.
    trials : random trials per task.
    batch_size : trials per batch.
    noise : input and recurrent noise on.
    tasks : code or paper names (default: the first network's tasks).

    Returns
    -------
    per network: code task name → fraction of correct trials.
    """
    if trials < 1 or batch_size < 1:
        raise ValueError(f"trials and batch_size must be positive; got {trials}, {batch_size}")
    _check_variants(nets)
    sigma_x = nets[0].sigma_x if noise else 0.0
    w_out, b_out = np.stack([n.w_out for n in nets]), np.stack([n.b_out for n in nets])
    results: list[dict[str, float]] = [{} for _ in nets]
    for task in task_defs.canonical_tasks(tasks or nets[0].tasks):
        correct = []
        for start in range(0, trials, batch_size):
            batch = min(batch_size, trials - start)
            trial = task_defs.make_trials(
                task, "random", rng=rng, batch_size=batch, sigma_x=sigma_x
            )
            last = run_variants(nets, trial.x, noise=noise, rng=rng)[-1]
            y_last = last @ w_out + b_out[:, None]
            correct.append(performance(y_last[:, None], trial.y_loc[-1:]))
        for result, c in zip(results, np.concatenate(correct, axis=-1), strict=True):
            result[task] = float(np.mean(c))
    return results
