"""Fixed points of any differentiable step function, and of a network's task periods.

A fixed point of a map ``h' = F(h, u)`` under a held input ``u`` is a state with F(h*, u) = h*.
Following Golub & Sussillo's FixedPointFinder (used by the paper), we minimise

    q(h) = ½ ‖F(h, u) − h‖²

from many starting states at once with Adam, an adaptive learning rate and adaptive
gradient-norm clipping, then drop outliers, merge duplicates and linearise F at each point.
Every setting is in one table, :class:`FinderSettings`.

Unlike FixedPointFinder, each starting state is optimised on its own: its own learning rate,
its own clipping level and its own stopping decision (Adam's moments are per coordinate
anyway). A state's result therefore does not depend on which other states share its batch,
which lets one call optimise the states of many inputs (``inputs`` of shape (B, n_in)) and
drop each state from the computation as soon as it has converged or stalled.

Conventions: states are rows, ``xstar`` (n, N); the Jacobian ``J[i, a, b] = ∂F_a/∂h_b`` at
point i, so right eigenvectors satisfy J v = λ v. Results are numpy arrays; TensorFlow is
imported only inside the functions that differentiate, and saved results load without it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

from flexmt import checkpoint
from flexmt import tasks as task_defs
from flexmt.network import Network, check_choice

FORMAT_VERSION = 1
STABILITY_CRITERIA = ("magnitude", "real")
DTYPES = ("float32", "float64")
_JACOBIAN_ROWS = 65536  # states × N per backward pass of the Jacobians
_SAVED_ARRAYS = ("xstar", "qstar", "inputs", "n_iters", "x_init", "jacobians")

StepFunction = Callable  # step(h, u) -> h_next on TensorFlow tensors (B, N), (B, n_in) -> (B, N)


@dataclass(frozen=True)
class FinderSettings:
    """Every hyperparameter of :func:`find_fixed_points`, with its default and source.

    ======================  ===========  ===========================================================
    setting                 default      meaning
    ======================  ===========  ===========================================================
    tol_q                   1e-12        a state has converged once its q < tol_q (paper, per
                                         period; use 1e-9 for interpolation sweeps)
    tol_dq                  0.02         a state has stalled, and stops, when the lowest q of its
                                         last ``dq_window`` iterations is not below (1 − tol_dq) ×
                                         the lowest q of the window before (slow points, and
                                         rounding noise at q ≈ 1e-13 in float32); 0 disables
    dq_window               200          iterations per stall window
    max_iters               5000         most Adam iterations per state (FixedPointFinder)
    learning_rate           1.0          initial learning rate of every state (FixedPointFinder)
    lr_decrease             0.95         rate × this whenever the state's q increased
    lr_increase             1/0.95       rate × this after ``lr_patience`` consecutive iterations
                                         without an increase of q (then the count restarts)
    lr_patience             5            see ``lr_increase``
    adam_beta1, adam_beta2  0.9, 0.999   Adam moment decay rates
    adam_epsilon            0.01         Adam ε (FixedPointFinder; large, so that near a fixed
                                         point the update becomes plain gradient descent)
    clip_window             128          the gradient norm of a state is clipped to the
    clip_percentile         95           ``clip_percentile``-th percentile of its own last
                                         ``clip_window`` norms (FixedPointFinder's adaptive clip)
    tol_unique              1e-3         points closer than this (Euclidean) are duplicates; the
                                         one with the lowest q is kept (paper)
    outlier_scale           10.0         outliers lie farther from the centroid of the starting
                                         states than ``outlier_scale`` × the starting states'
                                         mean distance to that centroid (FixedPointFinder)
    keep_all                False        True: return every optimised state (no outlier removal,
                                         no merging)
    stability_threshold     1.0          a point is stable iff max ``|λ|`` (or max Re λ) ≤ this
    stability_criterion     "magnitude"  "magnitude" (``|λ|``, discrete maps) or "real" (Re λ)
    chunk_iters             100          iterations per compiled TensorFlow call; finished states
                                         leave the batch between calls (speed only)
    batch_size              8192         most states per compiled call; more are run as several
                                         batches (speed only: large batches leave the CPU cache)
    dtype                   "float32"    dtype of states and inputs; must match the step function
    ======================  ===========  ===========================================================

    Per-state rules (differences from FixedPointFinder's joint mode, which adapts one rate and
    one clip level on the mean q of all states, and stops all states together on tol_q or an
    absolute tol_dq of the mean): at iteration t a state with q below tol_q, a stall, a
    non-finite q or t = max_iters stops and keeps the lowest-q state it visited. Adam is the
    Kingma & Ba form, x ← x − rate · m̂ / (√v̂ + ε).
    """

    tol_q: float = 1e-12
    tol_dq: float = 0.02
    dq_window: int = 200
    max_iters: int = 5000
    learning_rate: float = 1.0
    lr_decrease: float = 0.95
    lr_increase: float = 1 / 0.95
    lr_patience: int = 5
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 0.01
    clip_window: int = 128
    clip_percentile: float = 95.0
    tol_unique: float = 1e-3
    outlier_scale: float = 10.0
    keep_all: bool = False
    stability_threshold: float = 1.0
    stability_criterion: str = "magnitude"
    chunk_iters: int = 100
    batch_size: int = 8192
    dtype: str = "float32"

    def __post_init__(self) -> None:
        check_choice("stability_criterion", self.stability_criterion, STABILITY_CRITERIA)
        check_choice("dtype", self.dtype, DTYPES)
        positive = ("tol_q", "learning_rate", "adam_epsilon", "tol_unique", "outlier_scale")
        counts = (
            "dq_window",
            "max_iters",
            "lr_patience",
            "clip_window",
            "chunk_iters",
            "batch_size",
        )
        fractions = ("tol_dq", "lr_decrease", "adam_beta1", "adam_beta2")
        bad = [n for n in positive if not getattr(self, n) > 0]
        bad += [n for n in counts if not _is_count(getattr(self, n))]
        bad += [n for n in fractions if not 0 <= getattr(self, n) < 1]
        bad += [] if self.lr_increase >= 1 else ["lr_increase"]
        bad += [] if 0 < self.clip_percentile <= 100 else ["clip_percentile"]
        if bad:
            values = ", ".join(f"{n}={getattr(self, n)!r}" for n in bad)
            raise ValueError(
                f"invalid settings {values}: tol_q, learning_rate, adam_epsilon, tol_unique, "
                "outlier_scale must be > 0; counts positive integers; tol_dq, lr_decrease and "
                "Adam betas in [0, 1); lr_increase >= 1; clip_percentile in (0, 100]"
            )

    @classmethod
    def from_options(cls, options: dict) -> FinderSettings:
        """Settings from keyword options, rejecting unknown names."""
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(options) - set(names))
        if unknown:
            raise ValueError(f"unknown fixed-point options {unknown}; allowed: {', '.join(names)}")
        return cls(**options)


def _is_count(value) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and value > 0


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False, repr=False)
class FixedPoints:
    """Fixed points (or slow points) of a step function and their linearisation.

    Attributes
    ----------
    xstar : (n, N) the points.
    qstar : (n,) q = ½‖F(x*, u) − x*‖² at each point.
    inputs : (n, n_in) the input held while finding each point.
    n_iters : (n,) Adam iterations each point's optimisation took.
    x_init : (n, N) the starting state each point was optimised from (for merged duplicates,
        that of the point kept).
    jacobians : (n, N, N) ``∂F/∂h`` at each point (row = output unit).
    stability_threshold, stability_criterion : define :attr:`is_stable`.

    Eigen-decompositions are computed on first use (numpy, on one BLAS thread) and sorted by
    magnitude, largest first (of a complex-conjugate pair, positive imaginary part first).
    """

    xstar: np.ndarray
    qstar: np.ndarray
    inputs: np.ndarray
    n_iters: np.ndarray
    x_init: np.ndarray
    jacobians: np.ndarray
    stability_threshold: float = 1.0
    stability_criterion: str = "magnitude"

    def __post_init__(self) -> None:
        check_choice("stability_criterion", self.stability_criterion, STABILITY_CRITERIA)
        xstar = np.asarray(self.xstar)
        n, n_units = xstar.shape if xstar.ndim == 2 else (-1, -1)
        n_in = np.shape(self.inputs)[-1] if np.ndim(self.inputs) == 2 else -1
        expected = {
            "xstar": (n, n_units),
            "qstar": (n,),
            "inputs": (n, n_in),
            "n_iters": (n,),
            "x_init": (n, n_units),
            "jacobians": (n, n_units, n_units),
        }
        shapes = {name: np.shape(getattr(self, name)) for name in expected}
        if n < 0 or n_in < 0 or shapes != expected:
            raise ValueError(
                f"inconsistent FixedPoints shapes {shapes}; expected xstar (n, N), qstar (n,), "
                "inputs (n, n_in), n_iters (n,), x_init (n, N), jacobians (n, N, N)"
            )
        for name in _SAVED_ARRAYS:
            kind = np.int64 if name == "n_iters" else None
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=kind))
        object.__setattr__(self, "stability_threshold", float(self.stability_threshold))

    def __len__(self) -> int:
        return self.xstar.shape[0]

    def __repr__(self) -> str:
        q = f", max q {self.qstar.max():.1e}" if len(self) else ""
        return (
            f"FixedPoints(n={len(self)}, N={self.xstar.shape[1]}, n_in={self.inputs.shape[1]}{q})"
        )

    def __getitem__(self, index) -> FixedPoints:
        """The points selected by an integer, slice, index array or boolean mask."""
        rows = np.atleast_1d(np.arange(len(self))[index])
        return dataclasses.replace(
            self, **{name: getattr(self, name)[rows] for name in _SAVED_ARRAYS}
        )

    def select_q(self, max_q: float) -> FixedPoints:
        """The points with q ≤ ``max_q``."""
        return self[self.qstar <= max_q]

    def unique(self, tol_unique: float = FinderSettings.tol_unique) -> FixedPoints:
        """One point per cluster of points within ``tol_unique`` under the same input: the
        lowest-q one. Points under different inputs are never merged."""
        return self[_unique_rows(self.xstar, self.qstar, self.inputs, tol_unique)]

    def drop_outliers(
        self, reference: np.ndarray, outlier_scale: float = FinderSettings.outlier_scale
    ) -> FixedPoints:
        """Drop points with non-finite q and points far from the reference states.

        A point is an outlier if its distance to the centroid of ``reference`` (m, N), e.g.
        the starting states, exceeds ``outlier_scale`` × their mean distance to it.
        """
        reference = np.asarray(reference)
        if reference.ndim != 2 or reference.shape[1] != self.xstar.shape[1] or not len(reference):
            raise ValueError(
                f"reference must be a non-empty (m, {self.xstar.shape[1]}) array; "
                f"got shape {reference.shape}"
            )
        keep = np.isfinite(self.qstar) & ~_outlier_rows(
            self.xstar, self.x_init, self.inputs, outlier_scale, reference
        )
        return self[keep]

    @staticmethod
    def concatenate(parts: Sequence[FixedPoints]) -> FixedPoints:
        """All points of ``parts`` in order (same N and n_in; settings of the first part)."""
        if not parts:
            raise ValueError("concatenate needs at least one FixedPoints")
        dims = {(p.xstar.shape[1], p.inputs.shape[1]) for p in parts}
        if len(dims) > 1:
            raise ValueError(f"cannot concatenate fixed points of different (N, n_in): {dims}")
        arrays = {name: np.concatenate([getattr(p, name) for p in parts]) for name in _SAVED_ARRAYS}
        return dataclasses.replace(parts[0], **arrays)

    def save(self, path: str | Path) -> None:
        """Write an ``.npz`` (no pickles) with a format version; read it with :meth:`load`."""
        arrays = {name: getattr(self, name) for name in _SAVED_ARRAYS}
        checkpoint.write_npz(
            Path(path),
            {
                "format_version": np.array(FORMAT_VERSION),
                "stability_threshold": np.array(self.stability_threshold),
                "stability_criterion": np.array(self.stability_criterion),
                **arrays,
            },
        )

    @classmethod
    def load(cls, path: str | Path) -> FixedPoints:
        """Read a file written by :meth:`save`.

        Raises
        ------
        ValueError
            If the file is missing, corrupt, inconsistent or of another format version.
        """
        names = ("format_version", "stability_threshold", "stability_criterion")
        data = checkpoint.read_npz(Path(path), names + _SAVED_ARRAYS)
        version = data.pop("format_version")
        if version.shape != () or version.item() != FORMAT_VERSION:
            raise ValueError(
                f"{path} holds fixed points in format version {version.tolist()}; "
                f"this flexmt reads version {FORMAT_VERSION}"
            )
        try:
            return cls(
                **{name: data[name] for name in _SAVED_ARRAYS},
                stability_threshold=float(data["stability_threshold"]),
                stability_criterion=str(data["stability_criterion"]),
            )
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path} holds inconsistent fixed points: {err}") from None

    @cached_property
    def _decomposition(self) -> tuple[np.ndarray, np.ndarray]:
        # One BLAS thread: on a busy 2-core machine two-thread LAPACK took 4.5 s per
        # 256 × 256 Jacobian, one thread 0.25 s.
        with threadpool_limits(1, user_api="blas"):
            values, vectors = np.linalg.eig(self.jacobians.astype(np.float64))
        order = np.lexsort((-values.imag, -np.abs(values)), axis=-1)
        return (
            np.take_along_axis(values, order, axis=-1),
            np.take_along_axis(vectors, order[:, None, :], axis=-1),
        )

    @property
    def eigenvalues(self) -> np.ndarray:
        """(n, N) complex eigenvalues of each Jacobian, largest magnitude first."""
        return self._decomposition[0]

    @property
    def right_eigenvectors(self) -> np.ndarray:
        """(n, N, N) complex; ``[i, :, k]`` is the unit right eigenvector of eigenvalue k."""
        return self._decomposition[1]

    @cached_property
    def left_eigenvectors(self) -> np.ndarray:
        """(n, N, N) complex; ``[i, :, k]`` is the left eigenvector l of eigenvalue k
        (lᵀJ = λlᵀ), scaled so that lᵀv = 1 for the matching right eigenvector v."""
        with threadpool_limits(1, user_api="blas"):  # as for the eigen-decomposition
            return np.swapaxes(np.linalg.inv(self.right_eigenvectors), 1, 2)

    @property
    def is_stable(self) -> np.ndarray:
        """(n,) bool: max ``|λ|`` (or max Re λ, per ``stability_criterion``) ≤ threshold."""
        values = self.eigenvalues
        measure = np.abs(values) if self.stability_criterion == "magnitude" else values.real
        return measure.max(axis=1, initial=-np.inf) <= self.stability_threshold


def _groups(inputs: np.ndarray) -> list[np.ndarray]:
    """Row indices of each distinct input row."""
    if len(inputs) == 0:
        return []
    _, label = np.unique(inputs, axis=0, return_inverse=True)
    return [np.flatnonzero(label.ravel() == k) for k in range(label.max() + 1)]


def _unique_rows(x: np.ndarray, q: np.ndarray, inputs: np.ndarray, tol: float) -> np.ndarray:
    """Sorted indices of the lowest-q representative of each duplicate cluster (greedy)."""
    kept = []
    for rows in _groups(inputs):
        representatives: list[int] = []
        for i in rows[np.argsort(q[rows], kind="stable")]:
            if (
                not representatives
                or np.min(np.linalg.norm(x[representatives] - x[i], axis=1)) > tol
            ):
                representatives.append(i)
        kept.extend(representatives)
    return np.sort(np.asarray(kept, dtype=np.int64))


def _outlier_rows(x, x_init, inputs, scale: float, reference) -> np.ndarray:
    """(n,) bool: beyond ``scale`` × the mean distance of the reference states to their centroid."""
    outlier = np.zeros(len(x), dtype=bool)
    for rows in _groups(inputs):
        ref = x_init[rows] if reference is None else np.asarray(reference)
        centroid = ref.mean(axis=0)
        spread = np.linalg.norm(ref - centroid, axis=1).mean()
        outlier[rows] = np.linalg.norm(x[rows] - centroid, axis=1) > scale * spread
    return outlier


# ----------------------------------------------------------------------------- checks
def _validated(step: StepFunction, states, inputs, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """States (B, N) and per-row inputs (B, n_in) as ``dtype`` arrays, checked against ``step``."""
    states = np.asarray(states, dtype=dtype)
    if states.ndim != 2 or 0 in states.shape:
        raise ValueError(
            f"initial states must be a non-empty (B, N) array; got shape {states.shape}"
        )
    inputs = np.asarray(inputs, dtype=dtype)
    if inputs.ndim == 1:
        inputs = np.broadcast_to(inputs, (len(states), inputs.size)).copy()
    if inputs.ndim != 2 or len(inputs) != len(states):
        raise ValueError(
            f"inputs must have shape (n_in,) or (B, n_in) with B = {len(states)} for states of "
            f"shape {states.shape}; got shape {inputs.shape}"
        )
    for name, values in (("initial states", states), ("inputs", inputs)):
        bad = ~np.isfinite(values)
        if bad.any():
            rows = np.flatnonzero(bad.any(axis=1))
            raise ValueError(f"{name} contain {bad.sum()} non-finite values, in rows {rows[:10]}")
    _probe(step, states[:1], inputs[:1])
    return states, inputs


def _probe(step: StepFunction, h: np.ndarray, u: np.ndarray) -> None:
    """Run ``step`` once and check that it maps (1, N) states to (1, N)."""
    import tensorflow as tf

    try:
        out = step(tf.constant(h), tf.constant(u))
    except (tf.errors.OpError, ValueError, TypeError) as err:
        raise ValueError(
            f"step(h, u) fails on h of shape {h.shape} and u of shape {u.shape} "
            f"({h.dtype}); check the state size N, the input size n_in and the dtype: {err}"
        ) from None
    if tuple(out.shape) != h.shape:
        raise ValueError(
            f"step(h, u) returned shape {tuple(out.shape)} for h of shape {h.shape}; "
            "it must return the state's shape (B, N)"
        )


# ----------------------------------------------------------------------------- optimiser
class _Carry(NamedTuple):
    """Optimiser state of B states; rows are states."""

    x: object  # (B, N) current state
    m: object  # (B, N) Adam first moment
    v: object  # (B, N) Adam second moment
    lr: object  # (B,) learning rate
    successes: object  # (B,) int32 iterations since q last increased or the rate last grew
    q_prev: object  # (B,) q at the previous iteration
    norms: object  # (B, clip_window) recent gradient norms (−inf: not yet seen)
    x_best: object  # (B, N) lowest-q state so far
    q_best: object  # (B,)
    window_min: object  # (B,) lowest q in the current stall window
    last_window_min: object  # (B,) lowest q in the previous stall window
    done: object  # (B,) bool
    n_iters: object  # (B,) int32 iteration at which the state stopped


class _Optimised(NamedTuple):
    """Raw optimisation results of B states (numpy)."""

    x_init: np.ndarray
    inputs: np.ndarray
    xstar: np.ndarray
    qstar: np.ndarray
    n_iters: np.ndarray

    def rows(self, index: np.ndarray) -> _Optimised:
        return _Optimised(*(a[index] for a in self))


def _percentile_ranks(s: FinderSettings) -> np.ndarray:
    """Rank from the top (1-based) of the nearest-rank percentile among n = 0..W norms."""
    n = np.arange(s.clip_window + 1)
    return np.maximum(n - np.ceil(s.clip_percentile / 100 * n).astype(int) + 1, 1)


def _iteration(tf, step, s: FinderSettings, ranks, u, c: _Carry, t) -> _Carry:
    """One Adam iteration of every state in the batch; stopped states stay put."""
    dtype = c.x.dtype
    with tf.GradientTape() as tape:
        tape.watch(c.x)
        residual = step(c.x, u) - c.x
        q = 0.5 * tf.reduce_sum(tf.square(residual), axis=1)
    grad = tape.gradient(q, c.x)

    improved = q < c.q_best
    x_best = tf.where(improved[:, None], c.x, c.x_best)
    q_best = tf.where(improved, q, c.q_best)
    window_min = tf.minimum(c.window_min, q)
    at_check = tf.equal(t % s.dq_window, 0)
    stalled = at_check & (window_min > (1 - s.tol_dq) * c.last_window_min)
    last_window_min = tf.where(at_check, window_min, c.last_window_min)
    window_min = tf.where(at_check, tf.fill(tf.shape(q), tf.constant(np.inf, dtype)), window_min)
    stop = (q_best < s.tol_q) | stalled | ~tf.math.is_finite(q) | (t >= s.max_iters)
    n_iters = tf.where(stop & ~c.done, t, c.n_iters)
    done = c.done | stop

    # adaptive clipping: each state's percentile of its own recent gradient norms
    norm = tf.norm(grad, axis=1)
    slot = tf.equal(tf.range(s.clip_window), t % s.clip_window)
    norms = tf.where(slot[None, :], norm[:, None], c.norms)
    rank = tf.gather(ranks, tf.minimum(t + 1, s.clip_window))
    # The clip level (the rank-th largest recent norm) only changes a state's gradient when
    # fewer than `rank` recent norms reach its own; top_k, the costly part, runs on those rows.
    floor = tf.maximum(norm, 1e-30)
    over = tf.where(tf.reduce_sum(tf.cast(norms >= floor[:, None], tf.int32), axis=1) < rank)
    top = tf.math.top_k(tf.gather_nd(norms, over), k=int(ranks.max())).values
    factor = tf.minimum(tf.ones_like(top[:, 0]), top[:, rank - 1] / tf.gather_nd(floor, over))
    grad = grad * tf.tensor_scatter_nd_update(tf.ones_like(norm), over, factor)[:, None]

    # adaptive learning rate: down on failure, up after lr_patience non-failures in a row
    failed = q > c.q_prev
    successes = tf.where(failed, 0, c.successes + 1)
    grow = successes >= s.lr_patience
    lr = tf.where(failed, c.lr * s.lr_decrease, tf.where(grow, c.lr * s.lr_increase, c.lr))
    successes = tf.where(grow, 0, successes)

    m = s.adam_beta1 * c.m + (1 - s.adam_beta1) * grad
    v = s.adam_beta2 * c.v + (1 - s.adam_beta2) * tf.square(grad)
    count = tf.cast(t + 1, dtype)
    m_hat = m / (1 - tf.pow(tf.constant(s.adam_beta1, dtype), count))
    v_hat = v / (1 - tf.pow(tf.constant(s.adam_beta2, dtype), count))
    x = c.x - lr[:, None] * m_hat / (tf.sqrt(v_hat) + s.adam_epsilon)
    x = tf.where(done[:, None], c.x, x)
    return _Carry(
        x, m, v, lr, successes, q, norms, x_best, q_best, window_min, last_window_min, done, n_iters
    )


@functools.lru_cache(maxsize=16)
def _compiled_chunk(step: StepFunction, s: FinderSettings, n_units: int, n_in: int) -> Callable:
    """A tf.function running up to n iterations from iteration t0 (cached per step function)."""
    import tensorflow as tf

    dtype = tf.as_dtype(s.dtype)
    ranks = _percentile_ranks(s).astype(np.int32)

    def spec(*shape, kind=dtype):
        return tf.TensorSpec((None, *shape), kind)

    carry_spec = _Carry(
        *(spec(n_units) for _ in range(3)),
        spec(),
        spec(kind=tf.int32),
        spec(),
        spec(s.clip_window),
        spec(n_units),
        spec(),
        spec(),
        spec(),
        spec(kind=tf.bool),
        spec(kind=tf.int32),
    )
    scalar = tf.TensorSpec((), tf.int32)

    @tf.function(input_signature=[spec(n_in), carry_spec, scalar, scalar])
    def run(u, carry, t0, n):
        for i in tf.range(n):
            carry = _iteration(tf, step, s, ranks, u, carry, t0 + i)
            if tf.reduce_all(carry.done):
                break
        return carry

    return run


def _start(tf, states: np.ndarray, s: FinderSettings) -> _Carry:
    b = len(states)
    x = tf.constant(states)
    zeros = tf.zeros_like(x)
    inf = tf.fill((b,), tf.constant(np.inf, x.dtype))
    return _Carry(
        x=x,
        m=zeros,
        v=zeros,
        lr=tf.fill((b,), tf.constant(s.learning_rate, x.dtype)),
        successes=tf.zeros((b,), tf.int32),
        q_prev=inf,
        norms=tf.fill((b, s.clip_window), tf.constant(-np.inf, x.dtype)),
        x_best=x,
        q_best=inf,
        window_min=inf,
        last_window_min=inf,
        done=tf.zeros((b,), tf.bool),
        n_iters=tf.zeros((b,), tf.int32),
    )


def _batch_sizes(n: int, batch_size: int) -> list[int]:
    """Sizes of the fewest near-equal batches of at most ``batch_size`` that hold n states."""
    count = -(-n // batch_size)
    return [len(b) for b in np.array_split(np.arange(n), count)]


def _split_carry(tf, carry: _Carry, sizes: list[int]) -> list[_Carry]:
    return [_Carry(*parts) for parts in zip(*(tf.split(a, sizes) for a in carry), strict=True)]


def _concat_carry(tf, carries: list[_Carry]) -> _Carry:
    return _Carry(*(tf.concat(parts, axis=0) for parts in zip(*carries, strict=True)))


def _optimise(step: StepFunction, states: np.ndarray, inputs: np.ndarray, s: FinderSettings):
    """Minimise q from every row of ``states`` under the matching row of ``inputs``."""
    import tensorflow as tf

    run = _compiled_chunk(step, s, states.shape[1], inputs.shape[1])
    carry, u = _start(tf, states, s), tf.constant(inputs)
    xstar, qstar = np.empty_like(states), np.empty(len(states), states.dtype)
    n_iters = np.empty(len(states), np.int64)
    active = np.arange(len(states))
    t = 0
    while active.size:
        n = tf.constant(min(s.chunk_iters, s.max_iters + 1 - t))
        sizes = _batch_sizes(len(active), s.batch_size)
        parts = zip(tf.split(u, sizes), _split_carry(tf, carry, sizes), strict=True)
        carry = _concat_carry(tf, [run(u_b, c_b, tf.constant(t), n) for u_b, c_b in parts])
        t += int(n)
        done = carry.done.numpy()
        if not done.any():
            continue
        finished = active[done]
        xstar[finished] = tf.boolean_mask(carry.x_best, done).numpy()
        qstar[finished] = carry.q_best.numpy()[done]
        n_iters[finished] = carry.n_iters.numpy()[done]
        keep = tf.constant(np.flatnonzero(~done))
        carry = _Carry(*(tf.gather(a, keep) for a in carry))
        u, active = tf.gather(u, keep), active[~done]
    return _Optimised(states, inputs, xstar, qstar, n_iters)


def _jacobians(step, states: np.ndarray, inputs: np.ndarray, wrt_input: bool) -> np.ndarray:
    """Batched ∂step/∂h (n, N, N) or ∂step/∂u (n, N, n_in).

    One backward pass per block of states: each state is repeated N times and copy a
    back-propagates output unit a only (rows of ``step`` are independent), so the gradient
    of copy a is row a of the Jacobian.
    """
    import tensorflow as tf

    n_units = states.shape[1]
    per_block = max(1, _JACOBIAN_ROWS // n_units)
    blocks = [np.empty((0, n_units, inputs.shape[1] if wrt_input else n_units), states.dtype)]
    for start in range(0, len(states), per_block):
        rows = slice(start, start + per_block)
        h = tf.constant(np.repeat(states[rows], n_units, axis=0))
        u = tf.constant(np.repeat(inputs[rows], n_units, axis=0))
        selector = tf.tile(tf.eye(n_units, dtype=h.dtype), (len(h) // n_units, 1))
        with tf.GradientTape() as tape:
            tape.watch(u if wrt_input else h)
            picked = tf.reduce_sum(step(h, u) * selector)
        grad = tape.gradient(picked, u if wrt_input else h)
        blocks.append(tf.reshape(grad, (len(h) // n_units, n_units, -1)).numpy())
    return np.concatenate(blocks)


def _finish(
    step: StepFunction,
    run: _Optimised,
    s: FinderSettings,
    reference: np.ndarray | None = None,
    max_q: float | None = None,
    spacing: float | None = None,
) -> FixedPoints:
    """Filter (unless keep_all) and linearise optimised states into :class:`FixedPoints`;
    with ``max_q``, only the points with q ≤ max_q are kept, and with ``spacing`` those are
    merged to at least that far apart (lowest q kept), before they are linearised."""
    if not s.keep_all:
        keep = np.isfinite(run.qstar) & ~_outlier_rows(
            run.xstar, run.x_init, run.inputs, s.outlier_scale, reference
        )
        run = run.rows(np.flatnonzero(keep))
        run = run.rows(_unique_rows(run.xstar, run.qstar, run.inputs, s.tol_unique))
    if max_q is not None:
        run = run.rows(np.flatnonzero(run.qstar <= max_q))
    if spacing is not None:
        run = run.rows(_unique_rows(run.xstar, run.qstar, run.inputs, spacing))
    return FixedPoints(
        xstar=run.xstar,
        qstar=run.qstar,
        inputs=run.inputs,
        n_iters=run.n_iters,
        x_init=run.x_init,
        jacobians=_jacobians(step, run.xstar, run.inputs, wrt_input=False),
        stability_threshold=s.stability_threshold,
        stability_criterion=s.stability_criterion,
    )


# ----------------------------------------------------------------------------- public API
def _check_selection(max_q: float | None, spacing: float | None) -> None:
    """ValueError unless ``max_q`` and ``spacing`` are each None or a number > 0."""
    for name, value in (("max_q", max_q), ("spacing", spacing)):
        if value is not None and not (isinstance(value, int | float) and value > 0):
            raise ValueError(f"{name} must be a number > 0 or None; got {value!r}")


def find_fixed_points(
    step: StepFunction,
    initial_states: np.ndarray,
    inputs: np.ndarray,
    *,
    max_q: float | None = None,
    spacing: float | None = None,
    **options,
) -> FixedPoints:
    """Fixed points of ``step`` found from many starting states at once.

    Parameters
    ----------
    step : TensorFlow-differentiable ``step(h, u) -> h_next`` on (B, N) and (B, n_in) tensors
        of ``dtype``, rows independent (e.g. ``Network.step_function()``).
    initial_states : (B, N) starting states.
    inputs : (n_in,) one input held for all states, or (B, n_in), one per state. Each distinct
        input row is its own system: outliers and duplicates are judged within it.
    max_q : keep only points with q ≤ max_q (default: all).
    spacing : then merge the kept points to at least this far apart, the lowest-q point of
        each group kept (default: only the finder's ``tol_unique``). The same selection as
        ``points.select_q(max_q).unique(spacing)``, made before the points are linearised,
        which saves the time and memory of the dropped points' Jacobians.
    **options : any of :class:`FinderSettings` (e.g. ``tol_q=1e-9``, ``keep_all=True``).

    Returns
    -------
    FixedPoints
        The optimised states with q, Jacobians and stability, in the order of their starting
        states (unless ``keep_all``: outliers dropped, each cluster of duplicates reduced to
        its lowest-q point; then the selection above).

    Raises
    ------
    ValueError
        Shapes that do not fit each other or ``step``, non-finite values, no starting states,
        or unknown or invalid options.
    """
    s = FinderSettings.from_options(options)
    _check_selection(max_q, spacing)
    states, inputs = _validated(step, initial_states, inputs, s.dtype)
    return _finish(step, _optimise(step, states, inputs, s), s, max_q=max_q, spacing=spacing)


def state_jacobian(
    step: StepFunction, states: np.ndarray, inputs: np.ndarray, *, dtype: str = "float32"
) -> np.ndarray:
    """∂step/∂h: (n, N, N) with ``[i, a, b] = ∂step(h, u)_a / ∂h_b`` at row i of ``states``.

    ``inputs`` is (n_in,) or (n, n_in).
    """
    check_choice("dtype", dtype, DTYPES)
    return _jacobians(step, *_validated(step, states, inputs, dtype), wrt_input=False)


def input_jacobian(
    step: StepFunction, states: np.ndarray, inputs: np.ndarray, *, dtype: str = "float32"
) -> np.ndarray:
    """∂step/∂u: (n, N, n_in) with ``[i, a, k] = ∂step(h, u)_a / ∂u_k`` at row i.

    ``inputs`` is (n_in,) or (n, n_in).
    """
    check_choice("dtype", dtype, DTYPES)
    return _jacobians(step, *_validated(step, states, inputs, dtype), wrt_input=True)


# ----------------------------------------------------------------------------- paper helpers
def sample_states(
    states: np.ndarray, n: int, rng: np.random.Generator, *, noise_std: float = 0.05
) -> np.ndarray:
    """``n`` states drawn uniformly (with replacement) from trajectories, plus Gaussian noise.

    Parameters
    ----------
    states : (..., N) e.g. a noise-free rollout ``h`` (T, B, N); all leading axes are pooled.
    n : number of states to draw.
    rng : the source of the draws and of the noise N(0, noise_std²) added to every coordinate.

    Returns
    -------
    (n, N) float32.
    """
    pool = np.asarray(states).reshape(-1, np.shape(states)[-1])
    if len(pool) == 0 or n < 1:
        raise ValueError(f"need n >= 1 and a non-empty pool of states; got n={n}, {pool.shape}")
    draws = pool[rng.integers(0, len(pool), size=n)]
    return (draws + noise_std * rng.standard_normal(draws.shape)).astype(np.float32)


def period_input(trials: task_defs.Trials, period: str, trial: int = 0) -> np.ndarray:
    """(n_in,) the input at the first time step of ``period`` in trial ``trial``."""
    return trials.x[trials.period_slice(period).start, trial]


def _state_before(h: np.ndarray, trials: task_defs.Trials, period: str, trial: int) -> np.ndarray:
    """(N,) the state just before ``period`` starts (zeros at the start of the trial)."""
    start = trials.period_slice(period).start
    return h[start - 1, trial] if start > 0 else np.zeros(h.shape[-1], h.dtype)


def analysed_periods(task: str, include_context: bool = False) -> list[str]:
    """Reader names of a task's periods for fixed-point analysis: all but Context by default
    (49 task periods for the 15 tasks)."""
    return [p for p in task_defs.period_names(task) if include_context or p != "Context"]


def task_period_fixed_points(
    net: Network,
    rng: np.random.Generator,
    *,
    tasks: Sequence[str] | None = None,
    include_context: bool = False,
    n_states: int = 1000,
    noise_std: float = 0.05,
    trial: int = 0,
    **options,
) -> dict[tuple[str, str], FixedPoints]:
    """Fixed points of every (task, period) of a network, optimised together in one batch.

    For each task, the network runs noise-free on the task's "test" trials; each period gets
    ``n_states`` starting states drawn from those trajectories (all periods) plus
    N(0, noise_std²) noise, and holds the input of the period's first step in trial ``trial``.

    Parameters
    ----------
    net : the network (its noise-free step is used).
    rng : source of the starting states.
    tasks : code or paper names; default the network's tasks.
    include_context : also the Context periods.
    **options : :class:`FinderSettings`, applied to every period.

    Returns
    -------
    ``{(code task name, period reader name): FixedPoints}`` in task, then period order.
    """
    s = FinderSettings.from_options(options)
    step = net.step_function()
    labels, states, inputs = [], [], []
    for task in task_defs.canonical_tasks(tasks or net.tasks):
        trials = task_defs.make_trials(task, "test")
        h = net.run(trials.x).h
        for period in analysed_periods(task, include_context):
            labels.append((task, period))
            states.append(sample_states(h, n_states, rng, noise_std=noise_std))
            inputs.append(np.tile(period_input(trials, period, trial), (n_states, 1)))
    states, inputs = _validated(step, np.concatenate(states), np.concatenate(inputs), s.dtype)
    run = _optimise(step, states, inputs, s)
    return {
        label: _finish(step, run.rows(np.arange(k * n_states, (k + 1) * n_states)), s)
        for k, label in enumerate(labels)
    }


# ----------------------------------------------------------------------------- interpolation
@dataclass(frozen=True, eq=False, repr=False)
class Sweep:
    """Fixed points along inputs u_k = u_1 + (k/n)(u_2 − u_1), k = 0 … n (K = n + 1 steps).

    Attributes
    ----------
    alphas : (K,) k/n.
    inputs : (K, n_in) u_k.
    fixed_points : K FixedPoints, one per step.
    rollout_ends : (K, N) end of a rollout under u_k from the sweep's start state.
    relevant : (K,) index in ``fixed_points[k]`` of the point nearest the rollout end
        (−1 if step k has no point).
    """

    alphas: np.ndarray
    inputs: np.ndarray
    fixed_points: tuple[FixedPoints, ...]
    rollout_ends: np.ndarray
    relevant: np.ndarray

    def __repr__(self) -> str:
        counts = [len(f) for f in self.fixed_points]
        return f"Sweep(steps={len(self.alphas)}, points per step={counts})"

    @property
    def relevant_xstar(self) -> np.ndarray:
        """(K, N) the relevant fixed point of each step (NaN where there is none)."""
        return np.stack(
            [
                f.xstar[k] if k >= 0 else np.full(f.xstar.shape[1], np.nan)
                for f, k in zip(self.fixed_points, self.relevant, strict=True)
            ]
        )

    def summary(self) -> dict[str, np.ndarray]:
        """Bifurcation summary, each (K,): ``alpha``; ``n_points``, ``n_stable`` (all points
        of the step); of the relevant point: ``relevant_q``, ``relevant_stable`` (1.0 or 0.0),
        ``relevant_max_abs_eig``, ``relevant_shift`` (distance from the previous step's
        relevant point; NaN at k = 0) and ``rollout_distance`` (from the rollout end).
        Entries about the relevant point are NaN at steps without points."""
        has = self.relevant >= 0

        def relevant(values) -> np.ndarray:
            return np.array(
                [v[k] if k >= 0 else np.nan for v, k in zip(values, self.relevant, strict=True)]
            )

        xstar = self.relevant_xstar
        return {
            "alpha": self.alphas,
            "n_points": np.array([len(f) for f in self.fixed_points]),
            "n_stable": np.array([int(f.is_stable.sum()) for f in self.fixed_points]),
            "relevant_q": relevant([f.qstar for f in self.fixed_points]),
            "relevant_stable": np.where(
                has, relevant([f.is_stable for f in self.fixed_points]), np.nan
            ),
            "relevant_max_abs_eig": relevant(
                [np.abs(f.eigenvalues[:, 0]) for f in self.fixed_points]
            ),
            "relevant_shift": np.r_[np.nan, np.linalg.norm(np.diff(xstar, axis=0), axis=1)],
            "rollout_distance": np.linalg.norm(xstar - self.rollout_ends, axis=1),
        }


@dataclass(frozen=True, eq=False)
class SweepSetup:
    """What one interpolation sweep starts from, besides the step function.

    Attributes
    ----------
    u_1, u_2 : (n_in,) the end inputs.
    initial_states : (B, N) starting states of step 0.
    h_start : (N,) where the rollouts that pick each step's relevant point start.
    rollout_steps : length of those rollouts.
    """

    u_1: np.ndarray
    u_2: np.ndarray
    initial_states: np.ndarray
    h_start: np.ndarray
    rollout_steps: int = 50


def _rollout_ends(step, h0: np.ndarray, inputs: np.ndarray, n_steps: int) -> np.ndarray:
    """(K, N) state after ``n_steps`` steps from ``h0`` (K, N) under fixed inputs (K, n_in)."""
    import tensorflow as tf

    h, u = tf.constant(h0), tf.constant(inputs)
    for _ in range(n_steps):
        h = step(h, u)
    return h.numpy()


def sweep_inputs(setup: SweepSetup, alphas: np.ndarray, dtype: str = "float32") -> np.ndarray:
    """(K, n_in) the inputs u_k = u_1 + α_k (u_2 − u_1) of a sweep at the given α_k (K,)."""
    u_1, u_2 = np.asarray(setup.u_1, dtype), np.asarray(setup.u_2, dtype)
    if u_1.ndim != 1 or u_1.shape != u_2.shape:
        raise ValueError(f"u_1 and u_2 must both have shape (n_in,); got {u_1.shape}, {u_2.shape}")
    return (u_1 + alphas[:, None] * (u_2 - u_1)).astype(dtype)


def _prepared(
    step: StepFunction, setup: SweepSetup, alphas: np.ndarray, dtype: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A setup's checked starting states (B, N), step inputs (K, n_in) and rollout ends (K, N)."""
    inputs = sweep_inputs(setup, alphas, dtype)
    states, _ = _validated(step, setup.initial_states, inputs[0], dtype)
    h_start = np.asarray(setup.h_start, dtype)
    if h_start.shape != states.shape[1:]:
        raise ValueError(f"h_start must have shape {states.shape[1:]}; got {h_start.shape}")
    if not _is_count(setup.rollout_steps):
        raise ValueError(f"rollout_steps must be an integer >= 1; got {setup.rollout_steps!r}")
    ends = _rollout_ends(step, np.tile(h_start, (len(inputs), 1)), inputs, setup.rollout_steps)
    return states, inputs, ends


def _blocks(sizes: Sequence[int]) -> list[np.ndarray]:
    """Row indices of consecutive blocks of the given sizes."""
    bounds = np.cumsum([0, *sizes])
    return [np.arange(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def interpolate(
    step: StepFunction,
    setups: Sequence[SweepSetup],
    *,
    n_interp: int = 20,
    max_q: float | None = None,
    spacing: float | None = None,
    **options,
) -> list[Sweep]:
    """Fixed points along the inputs u_k = u_1 + (k/n)(u_2 − u_1), k = 0 … n_interp, of
    each sweep in ``setups``.

    Step 0 of a sweep starts from its ``initial_states``; step k > 0 from every optimised
    state of its step k − 1 (warm start). Outliers are judged against the sweep's
    ``initial_states`` at every step. The relevant point of a step is the one nearest the end
    of a ``rollout_steps``-step rollout from ``h_start`` under u_k.

    The sweeps run side by side: step k of every sweep is one optimisation, so the slowest
    states of the sweeps overlap in time instead of queueing. Each state is still optimised
    on its own (:func:`find_fixed_points`); only the float rounding of the batched matrix
    products depends on which states share the batch (in float32, enough to move the slow
    points of long optimisations).

    Parameters
    ----------
    step : as for :func:`find_fixed_points`; every setup belongs to this step function.
    setups : the sweeps (:class:`SweepSetup`), e.g. from :func:`tasks_setup`.
    n_interp : interpolation steps n.
    max_q : keep only points with q ≤ max_q (default: all).
    spacing : then merge the kept points of a step to at least this far apart, the lowest-q
        point of each group kept (:meth:`FixedPoints.unique`; default: only the finder's
        ``tol_unique``). Points are dropped and merged before they are linearised, which saves
        time and memory; every optimised state still warm-starts the next step.
    **options : :class:`FinderSettings`; ``tol_q`` defaults to 1e-9 here (paper).

    Returns
    -------
    One :class:`Sweep` per setup, in order.
    """
    s = FinderSettings.from_options({"tol_q": 1e-9, **options})
    if not (isinstance(n_interp, int) and n_interp >= 1):
        raise ValueError(f"n_interp must be an integer >= 1; got {n_interp!r}")
    if not setups:
        raise ValueError("interpolate needs at least one SweepSetup")
    _check_selection(max_q, spacing)
    alphas = np.arange(n_interp + 1) / n_interp
    prepared = [_prepared(step, setup, alphas, s.dtype) for setup in setups]
    warm = [states for states, _, _ in prepared]
    points: list[list[FixedPoints]] = [[] for _ in prepared]
    for k in range(len(alphas)):
        held = [np.tile(u[k], (len(w), 1)) for w, (_, u, _) in zip(warm, prepared, strict=True)]
        run = _optimise(step, np.concatenate(warm), np.concatenate(held), s)
        for i, rows in enumerate(_blocks([len(w) for w in warm])):
            part = run.rows(rows)
            found = _finish(step, part, s, prepared[i][0], max_q=max_q, spacing=spacing)
            points[i].append(found)
            warm[i] = part.xstar
    return [
        Sweep(alphas, inputs, tuple(found), ends, _relevant(found, ends))
        for found, (_, inputs, ends) in zip(points, prepared, strict=True)
    ]


def _relevant(points: Sequence[FixedPoints], ends: np.ndarray) -> np.ndarray:
    """(K,) index of the point of each step nearest that step's rollout end (−1: none)."""
    return np.array(
        [
            int(np.argmin(np.linalg.norm(f.xstar - end, axis=1))) if len(f) else -1
            for f, end in zip(points, ends, strict=True)
        ]
    )


def tasks_setup(
    net: Network,
    task_1: str,
    task_2: str,
    period: str,
    rng: np.random.Generator,
    *,
    trial: int = 0,
    n_states: int = 1000,
    noise_std: float = 0.05,
) -> SweepSetup:
    """A sweep of the rule input from ``task_1`` to ``task_2`` with the same stimulus.

    u_1 is the input at the start of ``period`` in "test" trial ``trial`` of task_1; u_2 is
    u_1 with task_1's rule replaced by task_2's. Starting states come from both tasks'
    noise-free test trajectories; rollouts start where trial ``trial`` of task_1 enters the
    period and last the period's length. Run it with :func:`interpolate`.
    """
    task_1, task_2 = task_defs.canonical_task(task_1), task_defs.canonical_task(task_2)
    trials = task_defs.make_trials(task_1, "test")
    h = net.run(trials.x).h
    h_other = net.run(task_defs.make_trials(task_2, "test").x).h
    pool = np.concatenate([h.reshape(-1, net.n_rnn), h_other.reshape(-1, net.n_rnn)])
    u_1 = period_input(trials, period, trial)
    section = trials.period_slice(period)
    return SweepSetup(
        u_1,
        u_1 - task_defs.rule_input(task_1) + task_defs.rule_input(task_2),
        sample_states(pool, n_states, rng, noise_std=noise_std),
        _state_before(h, trials, period, trial),
        rollout_steps=section.stop - section.start,
    )


def periods_setup(
    net: Network,
    task: str,
    period_1: str,
    period_2: str,
    rng: np.random.Generator,
    *,
    trial: int = 0,
    n_states: int = 1000,
    noise_std: float = 0.05,
) -> SweepSetup:
    """A sweep of the input from the start of ``period_1`` to the start of ``period_2`` of one
    task.

    Inputs are those of "test" trial ``trial``; starting states come from the task's
    noise-free test trajectories; rollouts start where the trial enters period_1 and last as
    long as the longer of the two periods. Run it with :func:`interpolate`.
    """
    trials = task_defs.make_trials(task, "test")
    h = net.run(trials.x).h
    sections = [trials.period_slice(p) for p in (period_1, period_2)]
    return SweepSetup(
        period_input(trials, period_1, trial),
        period_input(trials, period_2, trial),
        sample_states(h, n_states, rng, noise_std=noise_std),
        _state_before(h, trials, period_1, trial),
        rollout_steps=max(sec.stop - sec.start for sec in sections),
    )
