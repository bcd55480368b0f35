"""Atlas statistics that compare networks (Figs 3B–C, Supp. Figs 4 and 6).

For one network: how its task periods co-vary across units (a P × P correlation matrix, P = 49
for the 15 tasks), how sparse its atlas is, and how many unit clusters it has. Notebooks
compute these for softplus and tanh (and retanh), trained and untrained, over seeds, average
the correlation matrices within a kind of network and compare kinds with
:func:`correlation_similarity`.

**Sparsity** follows the original code: the fraction of the N × P entries of the normalised
atlas (each unit's task-period variances divided by its largest) that fall below 0.15, where
every entry of a unit left out of the atlas (summed variance ≤ 1e-3) counts as below. It is 0
when every unit varies alike in every task period, (P − 1)/P when every unit varies in a single
task period, and more when units are silent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from flexmt import tasks as task_defs
from flexmt.analysis.clusters import UnitAtlas, unit_atlas
from flexmt.analysis.variance import TaskPeriod, task_variance
from flexmt.network import Network

SPARSITY_THRESHOLD = 0.15


def atlas_sparsity(atlas: UnitAtlas, threshold: float = SPARSITY_THRESHOLD) -> float:
    """Fraction of the N × P normalised atlas entries below ``threshold``, the entries of the
    units left out of the atlas counting as below (see the module notes)."""
    n_units, n_periods = atlas.variance.shape
    dropped = n_units - len(atlas.kept)
    below = np.count_nonzero(atlas.normalised < threshold) + dropped * n_periods
    return below / (n_units * n_periods)


def period_correlation(atlas: UnitAtlas) -> np.ndarray:
    """(P, P) Pearson correlation, across the atlas's units, between the normalised variance
    profiles of two task periods (NaN for a period in which no kept unit varies)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.corrcoef(atlas.normalised, rowvar=False)


def correlation_similarity(first: np.ndarray, second: np.ndarray) -> float:
    """Pearson correlation between the strictly lower triangles of two (P, P) correlation
    matrices, over the entries finite in both (1: the same task-period structure)."""
    if first.shape != second.shape or first.ndim != 2 or first.shape[0] != first.shape[1]:
        raise ValueError(
            f"need two square matrices of one shape; got {first.shape}, {second.shape}"
        )
    lower = np.tril_indices(len(first), k=-1)
    a, b = first[lower], second[lower]
    finite = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[finite], b[finite])[0, 1])


@dataclass(frozen=True)
class ArchitectureSummary:
    """The atlas statistics of one network.

    Attributes
    ----------
    activation : the network's activation function.
    n_units : N.
    n_active : units kept in the atlas (summed variance > 1e-3).
    n_clusters : number of unit clusters (argmax of the silhouette).
    silhouette : mean silhouette of that clustering.
    sparsity : atlas sparsity (see the module notes).
    periods : the P task periods.
    correlation : (P, P) :func:`period_correlation`.
    """

    activation: str
    n_units: int
    n_active: int
    n_clusters: int
    silhouette: float
    sparsity: float
    periods: tuple[TaskPeriod, ...]
    correlation: np.ndarray


def summarize_network(
    net: Network,
    *,
    trials: Mapping[str, task_defs.Trials] | None = None,
    sparsity_threshold: float = SPARSITY_THRESHOLD,
) -> ArchitectureSummary:
    """Atlas of a network (its tasks, noise-free "test" trials unless ``trials`` are given),
    reduced to the numbers compared across architectures."""
    atlas = unit_atlas(task_variance(net, trials=trials))
    return ArchitectureSummary(
        activation=net.activation,
        n_units=net.n_rnn,
        n_active=len(atlas.kept),
        n_clusters=atlas.n_clusters,
        silhouette=float(np.nanmax(atlas.silhouette)),
        sparsity=atlas_sparsity(atlas, sparsity_threshold),
        periods=atlas.periods,
        correlation=period_correlation(atlas),
    )
