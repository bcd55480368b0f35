"""The 15 tasks of Driscoll, Shenoy & Sussillo (2024) as one declarative table.

Each task is a row of :data:`_TABLE`: its code name (as in the original code), its paper name,
its periods in time order with their timing (``U(lo, hi)`` ms for training trials, a fixed
duration for the deterministic "test" grid) and a few flags. Three families share one
parameter sampler each and one renderer:

- **reach** (DelayPro/Anti, ReactPro/Anti, MemoryPro/Anti): one stimulus at angle θ; respond
  at θ (pro) or θ + π (anti).
- **integration** (IntegrationModality1/2, ContextIntModality1/2, IntegrationMultimodal): two
  stimuli 90–270° apart, one after the other; respond at the one whose strength, summed over
  the attended modalities, is larger.
- **match** (ReactMatch2Sample, ReactNonMatch2Sample, ReactCategoryPro/Anti): a sample, then a
  test stimulus that stays on; saccade to the test stimulus on a (non-)match, else fixate.

Encoding (all arrays time-major, T × B): inputs (T, B, 20) = fixation, modality 1
(sin θ, cos θ)·strength, modality 2 (sin θ, cos θ)·strength, one-hot rule (columns 5–19, on the
whole trial); targets (T, B, 3) = fixation (0.8 while fixating), sin, cos of the response angle.
Time steps are ``DT`` = 20 ms; every duration in ms is floored to whole steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

DT = 20  # ms per time step
ALPHA = 0.2  # dt / tau, tau = 100 ms
N_INPUT = 20
N_OUTPUT = 3
RULE_START = 5  # first rule column of the input
FIXATION_TARGET = 0.8
MODES = ("random", "test", "explicit")

_TWO_PI = 2 * np.pi
_UNCHECKED_MS = 100  # the cost mask ignores the first 100 ms and 100 ms after the go cue


@dataclass(frozen=True)
class _Task:
    """One row of the task table (timing entries are (key, lo_ms, hi_ms, test_ms))."""

    code: str
    paper: str
    family: str
    timing: tuple[tuple[str, float, float, float], ...]
    stim_periods: tuple[str, ...] = ()  # reach: periods during which the stimulus is shown
    anti: bool = False  # reach: respond at θ + π
    react: bool = False  # fixation input never goes off: the stimulus onset is the go cue
    shown: tuple[int, ...] = ()  # integration: modalities that carry the two stimuli
    attended: tuple[int, ...] = ()  # integration: modalities whose strengths are compared
    category: bool = False  # match: compare categories (θ < π) instead of locations
    go_on_match: bool = True  # match: respond on a match (else on a non-match)


# (key, U(lo, hi) ms for "random", duration ms in "test"); go1 is always last.
_DELAY = (("fix1", 300, 700, 500), ("stim1", 200, 1500, 1000), ("go1", 300, 700, 500))
_REACT = (("fix1", 500, 2500, 2000), ("go1", 300, 1700, 500))
_MEMORY = (
    ("fix1", 300, 700, 500),
    ("stim1", 200, 1600, 500),
    ("delay1", 200, 1600, 1000),
    ("go1", 300, 700, 500),
)
_INTEGRATION = (
    ("fix1", 200, 600, 500),
    ("stim1", 200, 1600, 500),
    ("delay1", 200, 1600, 1000),
    ("stim2", 200, 1600, 500),
    ("delay2", 100, 300, 200),
    ("go1", 300, 700, 300),
)
# The original's test grid of the two-modality integration tasks has longer final periods.
_INT2 = _INTEGRATION[:4] + (("delay2", 100, 300, 500), ("go1", 300, 700, 500))
_MATCH = (
    ("fix1", 200, 600, 500),
    ("stim1", 200, 1600, 500),
    ("delay1", 200, 1600, 1200),
    ("go1", 300, 700, 500),
)

_R, _I, _M = "reach", "integration", "match"
_TABLE = (
    _Task("fdgo", "DelayPro", _R, _DELAY, stim_periods=("stim1", "go1")),
    _Task("reactgo", "ReactPro", _R, _REACT, stim_periods=("go1",), react=True),
    _Task("delaygo", "MemoryPro", _R, _MEMORY, stim_periods=("stim1",)),
    _Task("fdanti", "DelayAnti", _R, _DELAY, stim_periods=("stim1", "go1"), anti=True),
    _Task("reactanti", "ReactAnti", _R, _REACT, stim_periods=("go1",), react=True, anti=True),
    _Task("delayanti", "MemoryAnti", _R, _MEMORY, stim_periods=("stim1",), anti=True),
    _Task("delaydm1", "IntegrationModality1", _I, _INTEGRATION, shown=(1,), attended=(1,)),
    _Task("delaydm2", "IntegrationModality2", _I, _INTEGRATION, shown=(2,), attended=(2,)),
    _Task("contextdelaydm1", "ContextIntModality1", _I, _INT2, shown=(1, 2), attended=(1,)),
    _Task("contextdelaydm2", "ContextIntModality2", _I, _INT2, shown=(1, 2), attended=(2,)),
    _Task("multidelaydm", "IntegrationMultimodal", _I, _INT2, shown=(1, 2), attended=(1, 2)),
    _Task("dmsgo", "ReactMatch2Sample", _M, _MATCH, react=True),
    _Task("dmsnogo", "ReactNonMatch2Sample", _M, _MATCH, react=True, go_on_match=False),
    _Task("dmcgo", "ReactCategoryPro", _M, _MATCH, react=True, category=True),
    _Task("dmcnogo", "ReactCategoryAnti", _M, _MATCH, react=True, category=True, go_on_match=False),
)
_SPECS = {t.code: t for t in _TABLE}

TASKS: tuple[str, ...] = tuple(t.code for t in _TABLE)
PAPER_NAMES: dict[str, str] = {t.code: t.paper for t in _TABLE}
# Exact spellings first: "delayanti" (code of MemoryAnti) and "DelayAnti" (paper name of fdanti)
# differ only by case, so a case-insensitive lookup must refuse that ambiguity.
_EXACT = {**{c: c for c in TASKS}, **{p: c for c, p in PAPER_NAMES.items()}}
_FOLDED: dict[str, set[str]] = {}
for _name, _code in _EXACT.items():
    _FOLDED.setdefault(_name.lower(), set()).add(_code)

_READER_ONE_STIMULUS = {
    "fix1": "Context",
    "stim1": "Stimulus",
    "delay1": "Memory",
    "go1": "Response",
}
_READER_TWO_STIMULI = {
    "fix1": "Context",
    "stim1": "Stimulus1",
    "delay1": "Memory1",
    "stim2": "Stimulus2",
    "delay2": "Memory2",
    "go1": "Response",
}


# ----------------------------------------------------------------------------- names
def canonical_task(name: str) -> str:
    """Code name of a task given its code or paper name.

    Exact spellings win; otherwise the name is matched case-insensitively. Beware that the code
    name ``delayanti`` is MemoryAnti while the paper name ``DelayAnti`` is ``fdanti``: a spelling
    that is neither exactly (e.g. ``"DELAYANTI"``) is ambiguous and raises.

    >>> canonical_task("MemoryAnti"), canonical_task("DelayAnti"), canonical_task("reactpro")
    ('delayanti', 'fdanti', 'reactgo')
    """
    if isinstance(name, str):
        if name in _EXACT:
            return _EXACT[name]
        codes = _FOLDED.get(name.lower(), set())
        if len(codes) == 1:
            return next(iter(codes))
        if codes:
            options = " or ".join(f"{c!r} ({PAPER_NAMES[c]})" for c in sorted(codes))
            raise ValueError(f"task {name!r} is ambiguous: {options}; spell it exactly")
    allowed = ", ".join(f"{c} ({PAPER_NAMES[c]})" for c in TASKS)
    raise ValueError(f"unknown task {name!r}; allowed: {allowed}")


def canonical_tasks(names: str | Iterable[str]) -> list[str]:
    """Code names of several tasks; the string ``"all"`` means all 15 in rule order."""
    if isinstance(names, str):
        return list(TASKS) if names.lower() == "all" else [canonical_task(names)]
    return [canonical_task(n) for n in names]


def _keys(task: str) -> list[str]:
    return [key for key, *_ in _SPECS[canonical_task(task)].timing]


def _reader_map(task: str) -> dict[str, str]:
    keys = _keys(task)
    return {k: (_READER_TWO_STIMULI if "stim2" in keys else _READER_ONE_STIMULUS)[k] for k in keys}


def period_names(task: str) -> list[str]:
    """Reader names of a task's periods in time order, e.g. ``['Context', 'Response']``."""
    return list(_reader_map(task).values())


def period_key(task: str, period: str) -> str:
    """Code key (``fix1``, ``stim1``, ``delay1``, ``stim2``, ``delay2``, ``go1``) of a period.

    ``period`` is a reader name (case-insensitive) or a code key of ``task``.
    """
    reader = _reader_map(task)
    for key, name in reader.items():
        if period in (key, name) or str(period).lower() == name.lower():
            return key
    allowed = ", ".join(f"{n} ({k})" for k, n in reader.items())
    raise ValueError(f"unknown period {period!r} of task {task!r}; allowed: {allowed}")


def attended_modalities(task: str) -> tuple[int, ...]:
    """The modalities whose strengths an integration task compares (empty for other tasks)."""
    return _SPECS[canonical_task(task)].attended


def rule_input(task: str) -> np.ndarray:
    """The rule part of the input for ``task``: (20,) float32, one-hot at ``RULE_START + index``."""
    u = np.zeros(N_INPUT, dtype=np.float32)
    u[RULE_START + TASKS.index(canonical_task(task))] = 1.0
    return u


def task_table() -> list[tuple[int, str, str, list[str]]]:
    """Rows ``(rule index, code name, paper name, reader period names)`` of the 15 tasks."""
    return [(i, c, PAPER_NAMES[c], period_names(c)) for i, c in enumerate(TASKS)]


# ----------------------------------------------------------------------------- trials
@dataclass(frozen=True)
class Trials:
    """A batch of trials of one task (time-major: T steps of ``DT`` ms, B trials).

    Attributes
    ----------
    task : code name.
    x : (T, B, 20) float32 inputs.
    y : (T, B, 3) float32 targets (fixation, sin, cos).
    y_loc : (T, B) float32, −1 while fixation is required, else the response angle (rad).
    c_mask : (T, B, 3) float32 cost-mask weights.
    epochs : code key → (start, end) time steps, half-open, absolute (0 ≤ start ≤ end ≤ T).
    params : per-trial stimulus parameters, each (B,) (angles in rad, strengths, modalities,
        match flags, and ``target``: the response angle, or −1 when the trial is a no-go).
    """

    task: str
    x: np.ndarray
    y: np.ndarray
    y_loc: np.ndarray
    c_mask: np.ndarray
    epochs: dict[str, tuple[int, int]]
    params: dict[str, np.ndarray]

    @property
    def n_steps(self) -> int:
        return self.x.shape[0]

    @property
    def batch_size(self) -> int:
        return self.x.shape[1]

    def period_slice(self, period: str) -> slice:
        """Time slice of a period given by reader name or code key."""
        return slice(*self.epochs[period_key(self.task, period)])

    def epochs_original(self, open_end: int | None = None) -> dict[str, tuple]:
        """Epochs in the original code's convention, where the first period has no start and the
        last (``go1``) no end: those are written as ``open_end`` (None, as in the original code;
        pass ``-1`` to compare with the fixtures' ``epochs_json``)."""
        keys = list(self.epochs)
        out = {k: tuple(v) for k, v in self.epochs.items()}
        out[keys[0]] = (open_end, out[keys[0]][1])
        out[keys[-1]] = (out[keys[-1]][0], open_end)
        return out


# A stimulus presentation: (θ (B,), strength (B,) or scalar, modality (B,) in {1, 2}, periods).
_Stim = tuple[np.ndarray, "np.ndarray | float", np.ndarray, tuple[str, ...]]


def _grid(shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """Row-major indices of a parameter grid, as the original's ``np.unravel_index``."""
    return np.unravel_index(np.arange(int(np.prod(shape))), shape)


def _flip(theta: np.ndarray) -> np.ndarray:
    return (theta + np.pi) % _TWO_PI


# ---- reach family: params theta, modality
def _reach_random(spec: _Task, rng: np.random.Generator, b: int) -> dict:
    return {"theta": rng.uniform(0, _TWO_PI, b), "modality": np.full(b, rng.integers(1, 3))}


def _reach_test(spec: _Task) -> dict:
    loc, mod = _grid((40, 2))
    return {"theta": 2 * np.pi * loc / 40, "modality": mod + 1}


def _reach_defaults(spec: _Task, b: int) -> dict:
    return {"theta": _TWO_PI * np.arange(b) / b, "modality": np.ones(b, int)}


def _reach_build(spec: _Task, p: dict) -> tuple[list[_Stim], np.ndarray]:
    target = _flip(p["theta"]) if spec.anti else p["theta"]
    return [(p["theta"], 1.0, p["modality"], spec.stim_periods)], target


# ---- integration family: params theta1, theta2, strength{1,2}_mod{m} for m in shown
def _two_strengths(rng: np.random.Generator, b: int, coherences: np.ndarray) -> tuple:
    """Strengths mean ± coherence of the two stimuli, mean ~ U(0.8, 1.2)."""
    mean = rng.uniform(0.8, 1.2, b)
    signed = rng.choice(coherences, b) * rng.choice([1, -1], b)
    return mean + signed, mean - signed


def _integration_random(spec: _Task, rng: np.random.Generator, b: int) -> dict:
    theta1 = rng.uniform(0, _TWO_PI, b)
    theta2 = (theta1 + rng.uniform(0.5 * np.pi, 1.5 * np.pi, b) * rng.choice([1, -1], b)) % _TWO_PI
    # The original drew this set of 100 coherences from the global RNG; we use ``rng``.
    coherences = rng.uniform(0.005, 0.8, 100)
    p = {"theta1": theta1, "theta2": theta2}
    if spec.attended == spec.shown and len(spec.shown) == 2:
        # Multimodal: each stimulus's total is split unevenly between the modalities.
        for i, s in enumerate(_two_strengths(rng, b, coherences), start=1):
            diff = s * rng.uniform(0.005, 0.8, b) * rng.choice([1, -1], b)
            p[f"strength{i}_mod1"], p[f"strength{i}_mod2"] = s + diff / 2, s - diff / 2
    else:
        for m in spec.shown:
            p[f"strength1_mod{m}"], p[f"strength2_mod{m}"] = _two_strengths(rng, b, coherences)
    return p


def _integration_test(spec: _Task) -> dict:
    if len(spec.shown) == 1:
        loc, k = _grid((40, 4))
        s1 = {spec.shown[0]: 1.0 * k / 4 + 0.5}
    else:
        loc, k1, k2 = _grid((40, 4, 4))
        s1 = {1: 0.4 * k1 / 4 + 0.8, 2: 0.4 * k2 / 4 + 0.8}
    theta1 = 2 * np.pi * loc / 40
    p = {"theta1": theta1, "theta2": _flip(theta1)}
    for m, s in s1.items():
        p[f"strength1_mod{m}"], p[f"strength2_mod{m}"] = s, 2 - s
    return p


def _integration_defaults(spec: _Task, b: int) -> dict:
    theta1 = _TWO_PI * np.arange(b) / b
    p = {"theta1": theta1, "theta2": _flip(theta1)}
    for m in spec.shown:
        p[f"strength1_mod{m}"], p[f"strength2_mod{m}"] = np.full(b, 1.1), np.full(b, 0.9)
    return p


def _integration_build(spec: _Task, p: dict) -> tuple[list[_Stim], np.ndarray]:
    total = {i: sum(p[f"strength{i}_mod{m}"] for m in spec.attended) for i in (1, 2)}
    # Ties go to the second stimulus, as in the original.
    target = np.where(total[1] > total[2], p["theta1"], p["theta2"])
    stims = []
    for m in spec.shown:
        mod = np.full(len(target), m)
        stims.append((p["theta1"], p[f"strength1_mod{m}"], mod, ("stim1",)))
        stims.append((p["theta2"], p[f"strength2_mod{m}"], mod, ("stim2",)))
    return stims, target


# ---- match family: params theta1, theta2, modality1, modality2, match
def _is_match(spec: _Task, theta1: np.ndarray, theta2: np.ndarray) -> np.ndarray:
    if spec.category:
        return (theta1 < np.pi) == (theta2 < np.pi)
    # Locations "match" within 5 degrees, as in the original's psychometric trials.
    d = np.abs(theta1 - theta2) % _TWO_PI
    return np.minimum(d, _TWO_PI - d) < np.pi / 36


def _match_random(spec: _Task, rng: np.random.Generator, b: int) -> dict:
    mods = {
        "modality1": np.full(b, rng.integers(1, 3)),
        "modality2": np.full(b, rng.integers(1, 3)),
    }
    theta1 = rng.uniform(0, _TWO_PI, b)
    if spec.category:  # independent locations: categories match about half the time
        theta2 = rng.uniform(0, _TWO_PI, b)
        match = _is_match(spec, theta1, theta2)
    else:  # match with p = 0.5, otherwise 20–340 degrees away
        match = rng.integers(0, 2, b).astype(bool)
        dist = rng.uniform(np.pi / 9, 17 * np.pi / 9, b) * rng.choice([1, -1], b)
        theta2 = (theta1 + dist * ~match) % _TWO_PI
    return {"theta1": theta1, "theta2": theta2, **mods, "match": match}


def _match_test(spec: _Task) -> dict:
    loc, m1, m2 = _grid((40, 2, 2))
    if spec.category:  # 20 angles inside each category, away from the boundary
        half = 0.8 * np.arange(20) / 20
        theta1 = (np.concatenate((0.1 + half, 1.1 + half)) * np.pi)[loc]
    else:
        theta1 = 2 * np.pi * loc / 40
    # Every test trial is a "go" trial: a match if the task responds on a match.
    theta2 = (theta1 + np.pi * (1 - float(spec.go_on_match))) % _TWO_PI
    match = _is_match(spec, theta1, theta2) if spec.category else np.full(160, spec.go_on_match)
    return {
        "theta1": theta1,
        "theta2": theta2,
        "modality1": m1 + 1,
        "modality2": m2 + 1,
        "match": match,
    }


def _match_defaults(spec: _Task, b: int) -> dict:
    return {
        "theta1": _TWO_PI * np.arange(b) / b,
        "modality1": np.ones(b, int),
        "modality2": np.ones(b, int),
        "match": np.full(b, spec.go_on_match),
    }


def _match_build(spec: _Task, p: dict) -> tuple[list[_Stim], np.ndarray]:
    go = p["match"] == spec.go_on_match
    stims = [
        (p["theta1"], 1.0, p["modality1"], ("stim1",)),
        (p["theta2"], 1.0, p["modality2"], ("go1",)),
    ]
    return stims, np.where(go, p["theta2"], -1.0)


_FAMILIES = {
    "reach": (_reach_random, _reach_test, _reach_defaults, _reach_build),
    "integration": (
        _integration_random,
        _integration_test,
        _integration_defaults,
        _integration_build,
    ),
    "match": (_match_random, _match_test, _match_defaults, _match_build),
}


def explicit_params(task: str) -> list[str]:
    """Names of the per-trial keyword parameters ``make_trials(task, "explicit", ...)`` accepts
    (besides ``durations``)."""
    spec = _SPECS[canonical_task(task)]
    keys = list(_FAMILIES[spec.family][2](spec, 1))
    return keys + ["theta2"] if spec.family == "match" else keys


# ----------------------------------------------------------------------------- assembly
def _epochs(steps: list[int], keys: list[str]) -> dict[str, tuple[int, int]]:
    ends = np.cumsum(steps)
    return {k: (int(e - s), int(e)) for k, s, e in zip(keys, steps, ends, strict=True)}


def _random_steps(spec: _Task, rng: np.random.Generator) -> list[int]:
    # One draw per period and per batch: all trials of a batch share their timing.
    return [int(rng.uniform(lo, hi) / DT) for _, lo, hi, _ in spec.timing]


def _explicit_steps(spec: _Task, durations: dict | None) -> list[int]:
    ms = {key: test for key, _, _, test in spec.timing}
    for period, value in (durations or {}).items():
        key = period_key(spec.code, period)
        if not np.isscalar(value) or value < 0:
            raise ValueError(f"durations[{period!r}] = {value!r} must be a number of ms >= 0")
        ms[key] = value
    return [int(ms[key] / DT) for key in ms]


def _explicit_params(spec: _Task, batch_size: int, given: dict) -> dict:
    allowed = explicit_params(spec.code)
    bad = [k for k in given if k not in allowed]
    if bad:
        raise ValueError(
            f"parameter {bad[0]!r} does not apply to task {spec.code!r}; allowed: "
            f"{', '.join(allowed + ['durations'])}"
        )
    if spec.family == "match" and "theta2" in given and "match" in given:
        raise ValueError("give either 'theta2' or 'match' for a match task, not both")
    arrays = {}
    for k, v in given.items():
        a = np.asarray(v, dtype=bool if k == "match" else float)
        if a.ndim > 1:
            raise ValueError(f"parameter {k!r} must be a scalar or shape (B,); got {a.shape}")
        if k.startswith("modality") and not np.isin(a, (1, 2)).all():
            raise ValueError(f"parameter {k!r} must be 1 or 2; got {np.unique(a)}")
        arrays[k] = a.astype(int) if k.startswith("modality") else a
    lengths = {len(a) for a in arrays.values() if a.ndim == 1}
    if len(lengths) > 1:
        raise ValueError(f"per-trial parameters have different lengths {sorted(lengths)}")
    b = lengths.pop() if lengths else batch_size
    p = _FAMILIES[spec.family][2](spec, b)
    p.update({k: np.broadcast_to(a, (b,)).copy() for k, a in arrays.items()})
    if "theta1" in p and "theta2" not in given:  # derived from the (given) theta1
        flipped = _flip(p["theta1"])
        p["theta2"] = np.where(p["match"], p["theta1"], flipped) if "match" in p else flipped
    if spec.family == "match":
        p["match"] = _is_match(spec, p["theta1"], p["theta2"])
    return p


def _render(spec: _Task, epochs: dict, stims: list[_Stim], target: np.ndarray) -> tuple:
    """x, y, y_loc, c_mask of a batch whose periods are ``epochs``."""
    n_t, b = epochs["go1"][1], len(target)
    go_on = epochs["go1"][0]
    x = np.zeros((n_t, b, N_INPUT), np.float32)
    x[: n_t if spec.react else go_on, :, 0] = 1.0
    x[:, :, RULE_START + TASKS.index(spec.code)] = 1.0
    for theta, strength, mod, periods in stims:
        vec = np.stack([np.sin(theta), np.cos(theta)], axis=-1) * np.reshape(strength, (-1, 1))
        cols = np.zeros((b, 4))  # both modalities; each trial fills its own
        first = (mod == 1)[:, None]
        cols[:, :2], cols[:, 2:] = np.where(first, vec, 0.0), np.where(first, 0.0, vec)
        x[epochs[periods[0]][0] : epochs[periods[-1]][1], :, 1:5] += cols

    go = target >= 0
    y = np.zeros((n_t, b, N_OUTPUT), np.float32)
    y[:go_on, :, 0] = FIXATION_TARGET
    y[go_on:, :, 0] = np.where(go, 0.0, FIXATION_TARGET)
    y[go_on:, :, 1] = np.where(go, np.sin(target), 0.0)
    y[go_on:, :, 2] = np.where(go, np.cos(target), 0.0)
    y_loc = np.full((n_t, b), -1.0, np.float32)
    y_loc[go_on:] = target  # -1 on no-go trials

    # Cost: nothing in the first 100 ms, 1 until the go cue, nothing for a 100 ms grace
    # period, 5 afterwards; the fixation output counts twice.
    unchecked = int(_UNCHECKED_MS / DT)
    weight = np.zeros(n_t, np.float32)
    weight[go_on + unchecked :] = 5.0
    weight[unchecked:go_on] = 1.0
    c_mask = weight[:, None, None] * np.array([2.0, 1.0, 1.0], np.float32)
    return x, y, y_loc, np.ascontiguousarray(np.broadcast_to(c_mask, (n_t, b, N_OUTPUT)))


def make_trials(
    task: str,
    mode: str = "random",
    *,
    rng: np.random.Generator | None = None,
    batch_size: int = 64,
    sigma_x: float = 0.0,
    durations: dict[str, float] | None = None,
    **params,
) -> Trials:
    """Generate a batch of trials of one task.

    Parameters
    ----------
    task : code or paper name (see :data:`TASKS`, :data:`PAPER_NAMES`).
    mode : ``"random"`` (training trials: each period's duration drawn once per batch from its
        ``U(lo, hi)`` ms, stimuli drawn per trial; needs ``rng``), ``"test"`` (the original
        code's deterministic grid; its batch size is fixed by the grid: 80 for reach tasks, 160
        for single-modality integration and match tasks, 640 for two-modality integration) or
        ``"explicit"`` (trials from the keyword parameters below, for analyses).
    rng : the only source of randomness (training draws and input noise).
    batch_size : B for ``"random"``, and for ``"explicit"`` when no per-trial array is given.
    sigma_x : input noise σ; adds N(0, (σ·sqrt(2/ALPHA))²) to all 20 inputs (the original's
        scaling), drawn from ``rng``.
    durations : ``"explicit"`` only: period → duration in ms (reader names or code keys, e.g.
        ``{"Memory": 1600}``); missing periods keep their "test" grid duration.
    **params : ``"explicit"`` only: per-trial parameters, each a scalar or shape (B,):

        - reach tasks: ``theta`` (stimulus angle, rad; default 2πk/B), ``modality`` (1 or 2;
          default 1). The target is θ (pro) or θ + π (anti).
        - integration tasks: ``theta1``, ``theta2`` (default 2πk/B and θ1 + π), and
          ``strength1_mod{m}``, ``strength2_mod{m}`` for each modality m shown by the task
          (default 1.1 and 0.9, so stimulus 1 wins). Ties go to stimulus 2, as in the original.
        - match tasks: ``theta1`` (default 2πk/B), ``modality1``, ``modality2`` (default 1), and
          either ``theta2`` (the match is then computed: same category, or within 5° for
          location tasks) or ``match`` (bool; θ2 = θ1 on a match, θ1 + π otherwise; default:
          every trial requires a response).

    Returns
    -------
    Trials with ``x`` (T, B, 20), ``y`` (T, B, 3), ``y_loc`` (T, B), ``c_mask`` (T, B, 3), all
    float32, plus ``epochs`` and the per-trial ``params``.
    """
    spec = _SPECS[canonical_task(task)]
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; allowed: {', '.join(MODES)}")
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int | np.integer)
        or batch_size < 1
    ):
        raise ValueError(f"batch_size must be an integer >= 1; got {batch_size!r}")
    if not isinstance(sigma_x, int | float | np.number) or not sigma_x >= 0:
        raise ValueError(f"sigma_x must be a number >= 0; got {sigma_x!r}")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    if rng is None and (mode == "random" or sigma_x > 0):
        raise ValueError(f"mode {mode!r} with sigma_x={sigma_x} needs rng (a numpy Generator)")
    if mode != "explicit" and (params or durations is not None):
        given = ", ".join(sorted(params) + (["durations"] if durations is not None else []))
        raise ValueError(f"parameters ({given}) only apply to mode='explicit', not {mode!r}")

    sample_random, sample_test, _, build = _FAMILIES[spec.family]
    keys = [key for key, *_ in spec.timing]
    if mode == "random":
        steps, p = _random_steps(spec, rng), sample_random(spec, rng, batch_size)
    elif mode == "test":
        steps, p = [int(test / DT) for *_, test in spec.timing], sample_test(spec)
    else:
        steps, p = _explicit_steps(spec, durations), _explicit_params(spec, batch_size, params)
    epochs = _epochs(steps, keys)
    stims, target = build(spec, p)
    x, y, y_loc, c_mask = _render(spec, epochs, stims, target)
    if sigma_x > 0:
        noise = rng.standard_normal(x.shape, dtype=np.float32)
        x += np.float32(sigma_x * np.sqrt(2 / ALPHA)) * noise
    return Trials(spec.code, x, y, y_loc, c_mask, epochs, {**p, "target": target})
