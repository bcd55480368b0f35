"""Figures of the book: small functions that draw one kind of panel each.

Every function takes flexmt's plain data (:class:`flexmt.tasks.Trials`, arrays) and returns
the matplotlib objects it made; nothing here computes a result that a figure then states.
Time axes are in ms (``flexmt.tasks.DT`` per step); periods carry the reader names of
:func:`flexmt.tasks.period_names` (Context, Stimulus, Memory, Response, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from flexmt import tasks as task_defs

if TYPE_CHECKING:
    import pandas as pd

    from flexmt.analysis.variance import CrossPeriodVariance
    from flexmt.fixed_points import FixedPoints

# One colour per kind of period; numbered periods (Stimulus1, Memory2) share their kind's.
PERIOD_COLORS = {
    "Context": "#e6e6e6",
    "Stimulus": "#cfe2f3",
    "Memory": "#fff2cc",
    "Response": "#d9ead3",
}
# Every reader period name, in the order periods happen within a trial.
PERIOD_ORDER = (
    "Context",
    "Stimulus",
    "Stimulus1",
    "Memory",
    "Memory1",
    "Stimulus2",
    "Memory2",
    "Response",
)
# Input channels drawn in Supp. Fig. 1: column of Trials.x, label, colour, line style.
INPUT_LINES = (
    (0, "fixation", "black", "-"),
    (1, "modality 1 sin θ", "tab:blue", "-"),
    (2, "modality 1 cos θ", "tab:blue", "--"),
    (3, "modality 2 sin θ", "tab:orange", "-"),
    (4, "modality 2 cos θ", "tab:orange", "--"),
)
TARGET_LINES = (
    (0, "fixation", "black", "-"),
    (1, "sin of response", "tab:purple", "-"),
    (2, "cos of response", "tab:purple", "--"),
)


def period_color(name: str) -> str:
    """Colour of a period given its reader name (``"Memory1"`` has the colour of Memory)."""
    return PERIOD_COLORS[name.rstrip("0123456789")]


def period_spans(trials: task_defs.Trials) -> list[tuple[str, float, float]]:
    """The periods of a batch of trials in time order.

    Parameters
    ----------
    trials : a batch of one task (all its trials share their timing).

    Returns
    -------
    ``(reader name, start ms, end ms)`` for each period, half-open.
    """
    spans = []
    for name in task_defs.period_names(trials.task):
        period = trials.period_slice(name)
        spans.append((name, period.start * task_defs.DT, period.stop * task_defs.DT))
    return spans


def period_table(batches: Sequence[task_defs.Trials]) -> pd.DataFrame:
    """When each period of each batch starts and ends, as a table a page can show.

    Parameters
    ----------
    batches : one batch per task.

    Returns
    -------
    ``pandas.DataFrame``, one row per task (paper name): the trial length in ms, then
    ``"start–end"`` in ms for each period of :data:`PERIOD_ORDER` the task has ("" if not).
    """
    import pandas as pd

    rows = {}
    for trials in batches:
        spans = {name: f"{start:.0f}–{end:.0f}" for name, start, end in period_spans(trials)}
        rows[task_defs.PAPER_NAMES[trials.task]] = {
            "trial (ms)": trials.n_steps * task_defs.DT,
            **{name: spans.get(name, "") for name in PERIOD_ORDER},
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    return table.loc[:, (table != "").any()]


def shade_periods(ax: Axes, trials: task_defs.Trials, *, label: bool = True) -> None:
    """Shade each period of ``trials`` on ``ax`` (time in ms) and name it above the axes.

    Names alternate between two heights so that short neighbouring periods stay legible.
    """
    for k, (name, start, end) in enumerate(period_spans(trials)):
        ax.axvspan(start, end, color=period_color(name), zorder=0, linewidth=0)
        if label:
            ax.text(
                (start + end) / 2,
                1.03 + 0.14 * (k % 2),
                name,
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize=7,
            )
    ax.set_xlim(0, trials.n_steps * task_defs.DT)


def _draw_channels(ax: Axes, values: np.ndarray, lines: Sequence[tuple]) -> None:
    time_ms = np.arange(len(values)) * task_defs.DT
    for column, label, color, style in lines:
        ax.plot(time_ms, values[:, column], color=color, linestyle=style, label=label, lw=1.2)


def plot_trial(
    trials: task_defs.Trials, index: int = 0, *, axes: Sequence[Axes] | None = None
) -> tuple[Axes, Axes]:
    """Inputs (top) and targets (bottom) of one trial, its periods shaded and named.

    Parameters
    ----------
    trials : a batch of one task.
    index : which trial of the batch, ``0 <= index < trials.batch_size``.
    axes : two axes to draw into (inputs, targets); new ones if None.

    Returns
    -------
    The (inputs, targets) axes. The rule input (one-hot, on for the whole trial) is not
    drawn; the title names the task.
    """
    if not 0 <= index < trials.batch_size:
        raise ValueError(f"trial index {index} outside the batch of {trials.batch_size} trials")
    if axes is None:
        _, axes = plt.subplots(2, 1, sharex=True, figsize=(4.5, 3.2), layout="constrained")
    ax_in, ax_out = axes
    for ax, values, lines in (
        (ax_in, trials.x[:, index], INPUT_LINES),
        (ax_out, trials.y[:, index], TARGET_LINES),
    ):
        shade_periods(ax, trials, label=ax is ax_in)
        _draw_channels(ax, values, lines)
        ax.set_ylim(-1.7, 1.7)
        ax.set_yticks([-1, 0, 1])
    ax_in.tick_params(labelbottom=False)
    ax_in.set_title(task_defs.PAPER_NAMES[trials.task], pad=24, fontsize=10)
    ax_in.set_ylabel("input")
    ax_out.set_ylabel("target")
    ax_out.set_xlabel("time (ms)")
    return ax_in, ax_out


def channel_legend_handles() -> list[Line2D]:
    """Legend entries of the input and target lines of :func:`plot_trial`."""
    seen = {}
    for _, label, color, style in INPUT_LINES + TARGET_LINES:
        seen.setdefault(label, Line2D([], [], color=color, linestyle=style, label=label))
    return list(seen.values())


def period_legend_handles() -> list[Patch]:
    """Legend entries of the period colours."""
    return [Patch(color=color, label=name) for name, color in PERIOD_COLORS.items()]


def plot_tasks(batches: Sequence[task_defs.Trials], index: int = 0, *, ncols: int = 3) -> Figure:
    """Supp. Fig. 1: inputs and targets of one trial of each task, in a grid.

    Parameters
    ----------
    batches : one batch per task, drawn in this order.
    index : which trial of each batch.
    ncols : tasks per row.

    Returns
    -------
    The figure: per task an input panel above a target panel, one legend at the top.
    """
    nrows = -(-len(batches) // ncols)
    fig = plt.figure(figsize=(3.7 * ncols, 3.1 * nrows + 0.6), layout="constrained")
    cells = fig.subfigures(nrows, ncols, squeeze=False).ravel()
    for trials, cell in zip(batches, cells, strict=False):
        plot_trial(trials, index, axes=cell.subplots(2, 1, sharex=True))
    handles = channel_legend_handles() + period_legend_handles()
    fig.legend(handles=handles, loc="outside upper center", ncols=6, frameon=False, fontsize=9)
    return fig


def plot_task_schematic(names: Sequence[str] | None = None) -> Figure:
    """Timeline of every task's periods in its "test" trial: one bar per task.

    Parameters
    ----------
    names : tasks to draw (code or paper names); all 15 if None.

    Returns
    -------
    The figure: tasks top to bottom in rule order, periods as coloured segments (ms).
    """
    codes = task_defs.canonical_tasks(names if names is not None else "all")
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(codes) + 1.2))
    for row, code in enumerate(codes):
        trials = task_defs.make_trials(code, "explicit", batch_size=1)
        for name, start, end in period_spans(trials):
            ax.barh(row, end - start, left=start, color=period_color(name), edgecolor="white")
            ax.text((start + end) / 2, row, name, ha="center", va="center", fontsize=6)
    ax.set_yticks(range(len(codes)), [task_defs.PAPER_NAMES[c] for c in codes], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("time in the test trial (ms)")
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.legend(
        handles=period_legend_handles(),
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=4,
        frameon=False,
        fontsize=8,
    )
    fig.tight_layout()
    return fig


def plot_training_curves(logs: dict[str, dict], target: float = 0.95) -> Figure:
    """Worst-task and mean performance against trials, one line pair per network.

    Parameters
    ----------
    logs : network name → its ``log.json`` content (evaluations with ``trials`` and ``perf``).
    target : the training criterion, drawn as a dashed line.
    """
    fig, (worst_ax, mean_ax) = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
    for name, log in logs.items():
        trials = [e["trials"] for e in log["evaluations"]]
        perf = np.array([list(e["perf"].values()) for e in log["evaluations"]])
        worst_ax.plot(trials, perf.min(axis=1), label=name)
        mean_ax.plot(trials, perf.mean(axis=1), label=name)
    for ax, title in ((worst_ax, "worst task"), (mean_ax, "mean over tasks")):
        ax.axhline(target, color="0.5", linestyle="--", linewidth=1)
        ax.set(xlabel="trials", title=title, ylim=(0, 1.02))
    worst_ax.set_ylabel("performance")
    mean_ax.legend(frameon=False, fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- Figs 1–2
# Fixed points: stable filled black, unstable open red (as in flexmt.plotting_atlas).
STABLE_COLOR, UNSTABLE_COLOR = "black", "tab:red"
ANGLE_CMAP = "twilight"  # cyclic, for stimulus angles


def plot_cross_period_variance(result: CrossPeriodVariance, *, ax: Axes | None = None) -> Axes:
    """Figs 1B, 2A: the fraction of each period's variance in the top-k PCs of each other.

    Parameters
    ----------
    result : :func:`flexmt.analysis.cross_period_variance` of some task periods.
    ax : axes to draw into (a new figure if None).

    Returns
    -------
    The axes: rows are the periods whose PCs are used, columns the periods whose variance is
    measured; each cell is written out.
    """
    if ax is None:
        size = 1.5 + 0.55 * len(result.periods)
        _, ax = plt.subplots(figsize=(size + 1.2, size), layout="constrained")
    image = ax.imshow(result.fraction, vmin=0, vmax=1, cmap="Blues")
    for (i, j), value in np.ndenumerate(result.fraction):
        color = "white" if value > 0.6 else "black"
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color=color)
    labels = result.labels
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("variance of this period")
    ax.set_ylabel(f"top {result.k} PCs of this period")
    ax.figure.colorbar(image, ax=ax, label="fraction of variance explained", shrink=0.8)
    return ax


def draw_fixed_points(ax: Axes, xy: np.ndarray, stable: np.ndarray, **style) -> None:
    """Fixed points at ``xy`` (n, 2): stable ones filled black, unstable ones open red."""
    stable = np.asarray(stable, bool)
    style = {"s": 18, "zorder": 4, "linewidths": 0.8, **style}
    ax.scatter(*xy[stable].T, color=STABLE_COLOR, **style)
    ax.scatter(*xy[~stable].T, facecolor="none", edgecolor=UNSTABLE_COLOR, **style)


def fixed_point_legend_handles() -> list[Line2D]:
    """Legend entries of :func:`draw_fixed_points`."""
    return [
        Line2D([], [], marker="o", ls="", color=STABLE_COLOR, label="stable fixed point"),
        Line2D([], [], marker="o", ls="", mfc="none", mec=UNSTABLE_COLOR, label="unstable"),
    ]


def plot_period_dynamics(
    trials: task_defs.Trials,
    h: np.ndarray,
    points: Mapping[str, FixedPoints],
    *,
    held_trial: int = 0,
    modality: int = 1,
) -> Figure:
    """Figs 1C–F: each period's trajectories and fixed points on the period's top two PCs.

    Parameters
    ----------
    trials : a batch of one reach task (e.g. MemoryPro's "test" trials).
    h : (T, B, N) the network's noise-free states on ``trials``.
    points : reader period name → the fixed points under that period's input, one panel
        each, in this order.
    held_trial : the trial whose input was held to find the points (it matters only where
        the input depends on the stimulus; its trajectory is drawn dashed black).
    modality : only trials with the stimulus in this modality are drawn.

    Returns
    -------
    The figure: per period, the trajectories of the period (coloured by stimulus angle θ,
    a dot at the end) and the fixed points (filled black if stable, open red if not), all on
    the top two principal axes of the period's states.
    """
    from flexmt.analysis.pairs import principal_components

    shown = np.flatnonzero(np.asarray(trials.params["modality"]) == modality)
    theta = np.asarray(trials.params["theta"], float)
    cmap = plt.get_cmap(ANGLE_CMAP)
    fig, axes = plt.subplots(
        1, len(points), figsize=(3.3 * len(points) + 0.8, 3.6), layout="constrained"
    )
    for ax, (period, found) in zip(np.atleast_1d(axes), points.items(), strict=True):
        section = trials.period_slice(period)
        pcs = principal_components(h[section], k=2)
        start = max(section.start - 1, 0)  # join each segment to the previous period's end
        xy = pcs.project(h[start : section.stop])
        for b in shown:
            ax.plot(*xy[:, b].T, color=cmap(theta[b] / (2 * np.pi)), lw=0.9, alpha=0.9)
            ax.plot(*xy[-1, b], "o", color=cmap(theta[b] / (2 * np.pi)), ms=2.5)
        ax.plot(*xy[:, held_trial].T, color="black", lw=1.0, ls="--", zorder=3)
        if len(found):
            draw_fixed_points(ax, pcs.project(found.xstar), found.is_stable)
        stable = int(found.is_stable.sum())
        ax.set_title(f"{period}: {len(found)} fixed points ({stable} stable)", fontsize=9)
        explained = ", ".join(f"{100 * e:.0f}%" for e in pcs.explained)
        ax.set(xlabel=f"PC1 ({explained} of the period's variance)", ylabel="PC2")
        ax.xaxis.label.set_fontsize(8)
        ax.spines[["top", "right"]].set_visible(False)
    held = Line2D([], [], color="black", ls="--", label="trial whose input is held")
    fig.legend(
        handles=[*fixed_point_legend_handles(), held],
        loc="outside upper center",
        ncols=3,
        frameon=False,
        fontsize=8,
    )
    mappable = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, 360))
    fig.colorbar(mappable, ax=axes, label="stimulus angle θ (°)", shrink=0.8, ticks=[0, 180, 360])
    return fig


def plot_eigenvalue_magnitudes(values: Mapping[str, np.ndarray], *, ax: Axes | None = None) -> Axes:
    """The largest ``|λ|`` of each fixed point, one column of dots per set of points.

    Parameters
    ----------
    values : label (e.g. a period) → (n,) largest ``|λ|`` of each of its points.
    ax : axes to draw into (a new figure if None).

    Returns
    -------
    The axes, with the stability boundary ``|λ| = 1`` dashed: points of an attractor ring sit on
    it, isolated stable points below it.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 + 0.9 * len(values), 3.0), layout="constrained")
    jitter = np.random.default_rng(0)  # horizontal spread of the dots only
    for i, magnitudes in enumerate(values.values()):
        offsets = jitter.uniform(-0.2, 0.2, len(magnitudes))
        ax.scatter(i + offsets, magnitudes, s=6, color="0.3", alpha=0.6, linewidths=0)
    ax.axhline(1.0, color="0.5", ls="--", lw=0.8)
    ax.set_xticks(range(len(values)), list(values), fontsize=8)
    ax.set_ylabel("max |λ| of each fixed point")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


# ----------------------------------------------------------------------------- Fig. 6
def plot_learning_curves(
    curves: Mapping[str, Sequence[tuple[np.ndarray, np.ndarray]]],
    level: float,
    *,
    ax: Axes | None = None,
) -> Axes:
    """Performance on the learned task against trials, one colour per starting point.

    Parameters
    ----------
    curves : condition → one ``(trials, perf)`` pair of (n_eval,) arrays per seed (a
        condition without runs keeps its colour; a panel without any run says so).
    level : the performance whose first crossing is counted, drawn as a dashed line.
    ax : axes to draw into (default: a new figure).
    """
    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    for color, (condition, runs) in zip(plt.cm.tab10.colors, curves.items(), strict=False):
        for k, (trials, perf) in enumerate(runs):
            label = f"{condition} ({len(runs)} seeds)" if k == 0 else None
            ax.plot(trials, perf, color=color, linewidth=1.2, alpha=0.8, label=label)
    ax.axhline(level, color="0.5", linestyle="--", linewidth=1)
    ax.set(xlabel="trials", ylabel="performance", ylim=(0, 1.02))
    if any(curves.values()):
        ax.legend(frameon=False, fontsize=7, loc="lower right")
    else:
        ax.text(0.5, 0.5, "no finished run yet", transform=ax.transAxes, ha="center", color="0.4")
    return ax
