"""Figures of the book's Figs 3–5 pages: the atlas, shared motifs and lesions.

Like :mod:`flexmt.plotting`, each function draws one kind of panel from flexmt's plain results
(:class:`~flexmt.analysis.UnitAtlas`, :class:`~flexmt.fixed_points.Sweep`, ...) and returns
the figure; nothing here computes a number that a page then states (a table at most expresses
one in a page's units). Clusters are labelled by their dominant task periods
(:attr:`~flexmt.analysis.UnitAtlas.names`), never by index. The table helpers at the end
describe the networks a page uses, how far each was trained and how their fixed points
measure as rings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from scipy.cluster.hierarchy import dendrogram

from flexmt import zoo
from flexmt.analysis import pairs
from flexmt.analysis.clusters import UnitAtlas
from flexmt.analysis.context import ContextEndStates, LinearFit
from flexmt.analysis.lesions import LesionEffects
from flexmt.analysis.motifs import RingMeasures
from flexmt.analysis.variance import period_label
from flexmt.fixed_points import Sweep
from flexmt.plotting import draw_fixed_points, fixed_point_legend_handles
from flexmt.tasks import PAPER_NAMES, TASKS

if TYPE_CHECKING:
    import pandas as pd

CLUSTER_COLORS = plt.get_cmap("tab20").colors
_LEAF_SPACING = 10  # scipy's dendrogram puts leaf i at 5 + 10 i


def _dendrogram(ax, linkage: np.ndarray, orientation: str) -> None:
    dendrogram(
        linkage,
        ax=ax,
        orientation=orientation,
        no_labels=True,
        link_color_func=lambda _: "0.35",
    )
    ax.set_axis_off()


def plot_atlas(atlas: UnitAtlas, *, title: str = "") -> Figure:
    """Fig. 3A: the normalised unit × task-period variance atlas with both dendrograms.

    Units (rows) and task periods (columns) are in the leaf order of their Ward dendrograms,
    drawn left and above; a colour strip marks the unit clusters, each named on the right by
    its dominant task periods and its number of units.
    """
    n_units, n_periods = atlas.normalised.shape
    height = max(6.0, 0.055 * n_units + 3.0)
    fig = plt.figure(figsize=(14.5, height))
    grid = fig.add_gridspec(
        2,
        4,
        width_ratios=[1.0, 7.0, 0.25, 5.6],
        height_ratios=[1.0, 0.055 * n_units],
        wspace=0.02,
        hspace=0.01,
        left=0.02,
        right=0.99,
        top=0.96 if title else 0.99,
        bottom=2.4 / height,
    )
    ax_units, ax_map = fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])
    ax_periods = fig.add_subplot(grid[0, 1])
    ax_strip, ax_names = fig.add_subplot(grid[1, 2]), fig.add_subplot(grid[1, 3])

    _dendrogram(ax_units, atlas.unit_linkage, "left")
    ax_units.set_ylim(_LEAF_SPACING * n_units, 0)  # first leaf at the top, as the map's row 0
    _dendrogram(ax_periods, atlas.period_linkage, "top")
    ax_periods.set_xlim(0, _LEAF_SPACING * n_periods)

    values = atlas.normalised[np.ix_(atlas.unit_order, atlas.period_order)]
    image = ax_map.imshow(values, aspect="auto", cmap="magma", vmin=0, vmax=1)
    ax_map.set_xticks(
        range(n_periods),
        [period_label(atlas.periods[i]) for i in atlas.period_order],
        rotation=90,
        fontsize=6,
    )
    ax_map.set_yticks([])

    labels = atlas.labels[atlas.unit_order]
    colors = ListedColormap(
        [CLUSTER_COLORS[c % len(CLUSTER_COLORS)] for c in range(labels.max() + 1)]
    )
    ax_strip.imshow(labels[:, None], aspect="auto", cmap=colors, interpolation="nearest")
    ax_strip.set_axis_off()
    _name_blocks(ax_names, labels, atlas.names)

    bar = fig.add_axes([0.02, 0.55 / height, 0.12, 0.12 / height])
    fig.colorbar(image, cax=bar, orientation="horizontal")
    bar.set_xlabel("variance / unit's max", fontsize=7)
    bar.tick_params(labelsize=6)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def _name_blocks(ax, labels: np.ndarray, names: Sequence[str]) -> None:
    """Write each cluster's name beside its block of rows, spread evenly with leader lines."""
    n = len(labels)
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    ends = np.r_[starts[1:], n]
    slots = np.linspace(0, n, len(starts) + 1)
    ax.set_xlim(0, 1)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_axis_off()
    for start, end, slot_start, slot_end in zip(starts, ends, slots[:-1], slots[1:], strict=True):
        cluster = labels[start]
        centre, slot = (start + end - 1) / 2, (slot_start + slot_end) / 2 - 0.5
        color = CLUSTER_COLORS[cluster % len(CLUSTER_COLORS)]
        ax.plot([0, 0.04, 0.08], [centre, centre, slot], color=color, lw=0.8)
        size = end - start
        ax.text(0.09, slot, f"{names[cluster]} ({size})", va="center", fontsize=5.5)


def plot_correlation_matrices(
    comparison: pairs.KindComparison, periods: Sequence[tuple[str, str]], order: np.ndarray
) -> Figure:
    """Fig. 3B: each kind's task-period correlation matrix, task periods in ``order``.

    Parameters
    ----------
    comparison : from :func:`flexmt.analysis.pairs.compare_kinds`.
    periods : the P task periods of the matrices.
    order : (P,) the order to draw them in (e.g. a trained network's period dendrogram).
    """
    k = len(comparison.kinds)
    fig, axes = plt.subplots(
        1, k, figsize=(4.6 * k + 2.2, 6.4), squeeze=False, layout="constrained"
    )
    labels = [period_label(periods[i]) for i in order]
    for ax, kind, matrix, sparsity in zip(
        axes[0], comparison.kinds, comparison.correlation, comparison.sparsity, strict=True
    ):
        image = ax.imshow(matrix[np.ix_(order, order)], cmap="RdBu_r", vmin=-1, vmax=1)
        ax.set_title(f"{kind} (n = {len(sparsity)})", fontsize=9)
        ax.set_xticks(range(len(order)), labels, rotation=90, fontsize=4.5)
        ax.set_yticks(range(len(order)), labels if ax is axes[0, 0] else [], fontsize=4.5)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.5, label="correlation across units")
    return fig


def plot_kind_statistics(comparison: pairs.KindComparison) -> Figure:
    """Fig. 3C: sparsity, number of clusters and best silhouette of each kind of network.

    One dot per network, a bar at each kind's mean.
    """
    quantities = (
        ("sparsity", "atlas sparsity"),
        ("n_clusters", "unit clusters"),
        ("silhouette", "mean silhouette"),
    )
    fig, axes = plt.subplots(1, len(quantities), figsize=(11, 3.4))
    x = np.arange(len(comparison.kinds))
    for ax, (quantity, label) in zip(axes, quantities, strict=True):
        for i, values in enumerate(comparison.values(quantity).values()):
            jitter = np.linspace(-0.12, 0.12, len(values)) if len(values) > 1 else np.zeros(1)
            ax.scatter(i + jitter, values, color=CLUSTER_COLORS[2 * i], s=22, zorder=3)
            ax.hlines(np.mean(values), i - 0.25, i + 0.25, color="black", lw=1.5)
        ax.set_xticks(x, [k.replace(", ", "\n") for k in comparison.kinds], fontsize=8)
        ax.set_title(label, fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def plot_sweeps(sweeps: Mapping[str, Sweep]) -> Figure:
    """Figs 3D–E, 4D–I: fixed points along interpolated inputs, one row per sweep.

    Per sweep: (left) every fixed point on the top two principal axes of the sweep's points
    and rollout ends (so a sweep with fewer than two points still has a plane), coloured by the
    interpolation step α, the relevant points joined; (middle) the bifurcation diagram, PC1 of
    every point against α, stable points filled black, unstable open red, the relevant point's
    path in blue; (right) ``max |λ|`` of the relevant point against α.
    """
    fig = plt.figure(figsize=(12, 3.6 * len(sweeps)), layout="constrained")
    cmap = plt.get_cmap("viridis")
    handles = [
        *fixed_point_legend_handles(),
        Line2D([], [], color="tab:blue", label="relevant point"),
    ]
    for subfig, (name, sweep) in zip(
        np.atleast_1d(fig.subfigures(len(sweeps), 1)), sweeps.items(), strict=True
    ):
        plane, diagram, eigen = subfig.subplots(1, 3)
        everything = [f.xstar for f in sweep.fixed_points] + [sweep.rollout_ends]
        pcs = pairs.principal_components(np.concatenate(everything), k=2)
        relevant = pcs.project(sweep.relevant_xstar)
        for alpha, points in zip(sweep.alphas, sweep.fixed_points, strict=True):
            if not len(points):
                continue
            xy = pcs.project(points.xstar)
            plane.scatter(*xy.T, color=cmap(alpha), s=14, zorder=3)
            steps = np.column_stack([np.full(len(points), alpha), xy[:, 0]])
            draw_fixed_points(diagram, steps, points.is_stable, s=14, zorder=3)
        plane.plot(*relevant.T, color="0.6", lw=0.8, zorder=2)
        diagram.plot(sweep.alphas, relevant[:, 0], color="tab:blue", lw=1.0, zorder=2)
        eigen.plot(
            sweep.alphas, sweep.summary()["relevant_max_abs_eig"], "o-", color="tab:blue", ms=3
        )
        eigen.axhline(1.0, color="0.5", ls="--", lw=0.8)
        explained = ", ".join(f"{100 * e:.0f}%" for e in pcs.explained)
        plane.set(xlabel=f"PC1 (PCs explain {explained})", ylabel="PC2")
        diagram.set(xlabel="interpolation α", ylabel="PC1 of fixed points")
        eigen.set(xlabel="interpolation α", ylabel="max |λ| of the relevant point")
        diagram.legend(handles=handles, fontsize=7, frameon=False)
        subfig.colorbar(plt.cm.ScalarMappable(cmap=cmap), ax=plane, label="α", shrink=0.8)
        subfig.suptitle(name, fontsize=10)
        for ax in (plane, diagram, eigen):
            ax.spines[["top", "right"]].set_visible(False)
    return fig


def _task_colors(tasks: Sequence[str]) -> list:
    families = {t: i for i, t in enumerate(TASKS)}
    return [plt.get_cmap("tab20")(families[t] % 20) for t in tasks]


def plot_context_end_states(states: ContextEndStates, fit: LinearFit) -> Figure:
    """Fig. 4B–C: Context end states of every task (PCA), and for task pairs the angle between
    their first stimulus-driven updates against the distance between their end states, with
    the least-squares line and its held-out R²."""
    fig, (ax_pca, ax_fit) = plt.subplots(1, 2, figsize=(11, 4.4))
    ends = states.end_states.mean(axis=1)  # the Context period shows no stimulus yet
    pcs = pairs.principal_components(ends, k=2)
    xy = pcs.project(ends)
    ax_pca.scatter(*xy.T, c=_task_colors(states.tasks), s=40, zorder=3)
    for (x, y), task in zip(xy, states.tasks, strict=True):
        ax_pca.annotate(
            PAPER_NAMES[task], (x, y), fontsize=6.5, xytext=(3, 3), textcoords="offset points"
        )
    explained = ", ".join(f"{100 * e:.0f}%" for e in pcs.explained)
    ax_pca.set(xlabel="PC1", ylabel="PC2", title=f"Context end states (PCs explain {explained})")

    distance, angle = states.pairs()
    ax_fit.scatter(distance, angle, s=14, color="0.3")
    line = np.linspace(np.nanmin(distance), np.nanmax(distance), 2)
    ax_fit.plot(line, fit.slope * line + fit.intercept, color="tab:red")
    ax_fit.set(
        xlabel="distance between Context end states",
        ylabel="angle between first stimulus updates (°)",
        title=(
            f"{len(distance)} task pairs: R² {fit.r2:.2f} in sample, "
            f"{fit.r2_mean:.2f} ± {fit.r2_std:.2f} held out ({len(fit.r2_splits)} splits)"
        ),
    )
    for ax in (ax_pca, ax_fit):
        ax.title.set_fontsize(9)
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def plot_lesion_effects(effects: LesionEffects) -> Figure:
    """Fig. 5: Δperformance of each task (columns) when each cluster (rows, named by its
    dominant task periods) is lesioned, the cluster's own tasks outlined; and each cluster's
    mean drop on its own tasks against that on the other tasks."""
    n_groups, n_tasks = effects.delta.shape
    height = max(4.0, 0.19 * n_groups + 2.2)
    fig, (ax_map, ax_own) = plt.subplots(
        1, 2, figsize=(14, height), width_ratios=[2.4, 1.0], layout="constrained"
    )
    image = ax_map.imshow(effects.delta, cmap="RdBu", vmin=-1, vmax=1, aspect="auto")
    for row, col in zip(*np.nonzero(effects.own), strict=True):
        ax_map.add_patch(
            Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="black", lw=0.8)
        )
    ax_map.set_xticks(
        range(n_tasks), [PAPER_NAMES[t] for t in effects.tasks], rotation=90, fontsize=7
    )
    ax_map.set_yticks(range(n_groups), effects.groups, fontsize=5.5)
    fig.colorbar(image, ax=ax_map, shrink=0.5, label="Δ performance (lesioned − intact)")
    ax_map.set_title("lesioned cluster × task (outlined: the cluster's own tasks)", fontsize=9)

    own, other = effects.own_drop, effects.other_drop
    ax_own.scatter(other, own, s=18, color="0.2", zorder=3)
    top = np.nanmax(np.r_[own, other, 0.05]) * 1.05
    ax_own.plot([0, top], [0, top], color="0.5", ls="--", lw=0.8)
    ax_own.set(
        xlabel="mean drop on other tasks",
        ylabel="mean drop on own tasks",
        title="one dot per cluster (above the line: modular)",
    )
    ax_own.title.set_fontsize(9)
    ax_own.spines[["top", "right"]].set_visible(False)
    return fig


def plot_lesion_dynamics(
    dynamics: Mapping[str, pairs.LesionDynamics], *, n_trials: int = 8
) -> Figure:
    """Fig. 5: trajectories and fixed points of a task period, intact (left) and with a cluster
    lesioned (right), one row per cluster; both on the intact period states' top two PCs.

    ``n_trials`` trials, evenly spaced in the batch, run from the start of the trial (grey) to
    the end of the period (blue); the first trial, whose input holds the fixed points, is
    darker. Fixed points are filled black if stable, open red if unstable.
    """
    fig = plt.figure(figsize=(10, 4.4 * len(dynamics)), layout="constrained")
    for subfig, (name, d) in zip(
        np.atleast_1d(fig.subfigures(len(dynamics), 1)), dynamics.items(), strict=True
    ):
        axes = subfig.subplots(1, 2, sharex=True, sharey=True)
        section = d.trials.period_slice(d.period)
        pcs = pairs.principal_components(d.intact[section], k=2)
        count = min(n_trials, d.trials.batch_size)
        shown = np.linspace(0, d.trials.batch_size - 1, count).astype(int)
        for ax, h, points, label in (
            (axes[0], d.intact, d.intact_points, "intact"),
            (axes[1], d.lesioned, d.lesioned_points, f"{len(d.units)} units lesioned"),
        ):
            xy = pcs.project(h[: section.stop, shown])
            for b in range(len(shown)):
                dark = shown[b] == 0
                ax.plot(*xy[: section.start + 1, b].T, color="0.55" if dark else "0.8", lw=0.7)
                ax.plot(*xy[section.start :, b].T, color="navy" if dark else "tab:blue", lw=1)
            if len(points):
                draw_fixed_points(ax, pcs.project(points.xstar), points.is_stable, s=26)
            stable = int(points.is_stable.sum())
            ax.set_title(f"{label}: {len(points)} fixed points ({stable} stable)", fontsize=9)
            ax.set(xlabel="PC1", ylabel="PC2")
            ax.spines[["top", "right"]].set_visible(False)
        subfig.suptitle(f"{name}\n{PAPER_NAMES[d.task]} {d.period}", fontsize=10)
    return fig


# ----------------------------------------------------------------------------- tables
def mean_sd(values: Sequence[float], digits: int = 3) -> str:
    """``"m ± s (mean ± sd, n = k)"`` of the finite values; ``"m (n = 1)"`` for one value."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if not finite.size:
        return "— (no finite value)"
    if finite.size == 1:
        return f"{finite[0]:.{digits}g} (n = 1, no spread)"
    mean, sd = finite.mean(), finite.std(ddof=1)
    return f"{mean:.{digits}g} ± {sd:.{digits}g} (mean ± sd, n = {finite.size})"


def kind_table(comparison: pairs.KindComparison) -> pd.DataFrame:
    """Each kind's atlas statistics as text, mean ± sd over its networks (Fig. 3C).

    Returns
    -------
    ``pandas.DataFrame``, one row per kind: networks, sparsity, unit clusters, silhouette,
    active units, how alike its networks' correlation matrices are, and how alike its average
    matrix is to the first kind's.
    """
    import pandas as pd

    first = comparison.kinds[0]
    rows = {
        kind: {
            "networks": len(comparison.sparsity[k]),
            "sparsity": mean_sd(comparison.sparsity[k]),
            "unit clusters": mean_sd(comparison.n_clusters[k]),
            "silhouette": mean_sd(comparison.silhouette[k]),
            "active units": mean_sd(comparison.n_active[k]),
            "similarity within kind": "—"
            if np.isnan(comparison.within[k])
            else f"{comparison.within[k]:.2f}",
            f"similarity to {first}": f"{comparison.similarity[0, k]:.2f}",
        }
        for k, kind in enumerate(comparison.kinds)
    }
    return pd.DataFrame.from_dict(rows, orient="index")


def continuity_table(continuity: Mapping[str, pairs.SweepContinuity]) -> pd.DataFrame:
    """The continuity numbers of several sweeps (Figs 3D–E, 4D–I), one row per sweep."""
    import pandas as pd

    rows = {
        name: {
            "max shift / norm": f"{c.max_shift:.3f}",
            "jump ratio": f"{c.jump_ratio:.2f}",
            "count changes": c.count_changes,
            "stability changes": c.stability_changes,
            "share of 2n": f"{c.change_share:.2f}",
            "steps without a point": c.missing,
        }
        for name, c in continuity.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index")


def switch_table(switches: Mapping[str, pairs.AttractorSwitches]) -> pd.DataFrame:
    """The attractor-switch numbers of several sweeps (Figs 3D–E, 4D–I), one row per sweep."""
    import pandas as pd

    rows = {
        name: {
            "largest share switching at one step": f"{s.max_switch:.2f}",
            "at step k": int(np.argmax(s.switch_share)) + 1,
            "least share settled": f"{s.min_settled:.2f}",
        }
        for name, s in switches.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index")


def ring_table(
    rings: Mapping[str, RingMeasures], typical_norms: Mapping[str, float]
) -> pd.DataFrame:
    """The ring-attractor measures of several networks' fixed points (Fig. 1E), one row each.

    Parameters
    ----------
    rings : network name → :func:`flexmt.analysis.motifs.ring_measures` of its points.
    typical_norms : network name → its typical state norm, the unit of its ring's radius.

    Returns
    -------
    ``pandas.DataFrame`` of numbers (NaN where a ring has fewer than three points), one row per
    network: points, variance in their top 2 PCs, radius / typical norm, radius spread,
    widest empty arc, median largest ``|λ|`` minus 1, and the share of points whose largest
    ``|λ|`` lies within 0.01 of 1.
    """
    import pandas as pd

    rows = {
        name: {
            "points": r.n_points,
            "variance in top 2 PCs": r.plane_variance,
            "radius / typical norm": r.radius / typical_norms[name],
            "radius spread (sd / mean)": r.radius_spread,
            "widest empty arc (°)": r.largest_gap,
            "median max |λ| − 1": r.median_max_abs_eig - 1,
            "share of max |λ| within 0.01 of 1": r.fraction_marginal(),
        }
        for name, r in rings.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index")


_VERDICTS = {
    "criterion": "trained: every task reached the criterion",
    "max_steps": "stopped at the step cap without reaching the criterion",
    "running": "under-trained: still training; numbers will change as training continues",
}


def network_table(entries: Sequence[zoo.ZooEntry]) -> pd.DataFrame:
    """The networks a page uses and how far each was trained (from :mod:`flexmt.zoo`).

    Returns
    -------
    ``pandas.DataFrame``, one row per network: preset, training status, step, worst task with
    its performance, mean performance (at the last evaluation), and what that means here.
    """
    import pandas as pd

    rows = [
        {
            "network": e.name,
            "preset": e.preset,
            "status": e.status_text,
            "step": f"{e.steps:,}",
            "worst task": e.worst_text(2) if e.perf else "—",
            "mean perf": f"{e.mean_perf:.2f}" if e.perf else "—",
            "verdict": _VERDICTS.get(e.status, e.status),
        }
        for e in entries
    ]
    return pd.DataFrame(rows).set_index("network")


def status_summary(entries: Sequence[zoo.ZooEntry]) -> str:
    """One line for a page's record: each network's status, step and worst task
    (:attr:`~flexmt.zoo.ZooEntry.status_line`), separated by semicolons."""
    return "; ".join(e.status_line for e in entries) or "none"


def training_note(entries: Sequence[zoo.ZooEntry]) -> str:
    """Markdown: one sentence per network on whether its numbers are final."""
    lines = []
    for e in entries:
        worst = (
            f"worst task {e.worst_text(2)}, mean {e.mean_perf:.2f}" if e.perf else e.worst_text()
        )
        lines.append(
            f"- **{e.name}**: {e.status_text} at step {e.steps:,} ({worst}) — "
            f"{_VERDICTS.get(e.status, e.status)}."
        )
    return "\n".join(lines) if lines else "No network of these presets is in the zoo yet."
