"""The task-variance atlas (Fig. 3A): units clustered by their task-period variance profiles.

From a :class:`~flexmt.analysis.variance.TaskVariance` (N units × P task periods):

1. keep the units whose variance summed over the P task periods exceeds ``min_total`` (1e-3);
2. divide each kept unit's profile by its maximum over the task periods (every profile peaks at 1);
3. Ward-link the kept units (Euclidean distance between normalised profiles), and likewise the
   task periods (the columns);
4. cut the unit tree into k clusters for k = 3 … min(n − 1, ``max_clusters`` = 40), n kept
   units, and keep the k of highest mean silhouette (the silhouette is undefined for k = n,
   hence n − 1; the original code's ``range(3, min(n, 40))`` stopped at 39);
5. describe each cluster by its *dominant task periods*: those where the cluster's mean
   normalised variance is at least ``dominance`` (0.5) times its largest.

Clusters are numbered in the order they first appear along the unit dendrogram's leaves, so an
atlas drawn in leaf order shows them as consecutive blocks 0, 1, …. The numbers mean nothing
across networks: refer to a cluster by what it does, :attr:`UnitAtlas.names`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, leaves_list, linkage
from scipy.spatial.distance import pdist, squareform

from flexmt.analysis.lesions import UnitGroup
from flexmt.analysis.variance import TaskPeriod, TaskVariance, period_label
from flexmt.tasks import TASKS

MIN_CLUSTERS = 3
_NAMED_PERIODS = 3  # dominant periods spelled out in a cluster's name


def silhouette_samples(distances: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Silhouette of each sample, as ``sklearn.metrics.silhouette_samples`` computes it.

    s(i) = (b − a) / max(a, b), with a the mean distance from i to the other members of its
    cluster and b the smallest mean distance from i to the members of another cluster;
    s(i) = 0 for a sample alone in its cluster (and where a = b = 0).

    Parameters
    ----------
    distances : (n, n) symmetric distances between samples, zero diagonal.
    labels : (n,) cluster label of each sample; between 2 and n − 1 distinct labels.

    Returns
    -------
    (n,) float64 in [−1, 1].
    """
    ids, cluster = np.unique(np.asarray(labels), return_inverse=True)
    n = len(cluster)
    if not 2 <= len(ids) <= n - 1:
        raise ValueError(f"silhouette needs 2 … {n - 1} clusters of {n} samples; got {len(ids)}")
    member = np.eye(len(ids))[cluster]  # (n, C) one-hot
    sizes = member.sum(axis=0)
    mean_to = np.asarray(distances, dtype=np.float64) @ member / sizes  # (n, C)
    rows = np.arange(n)
    own_size = sizes[cluster]
    a = mean_to[rows, cluster] * own_size / np.maximum(own_size - 1, 1)  # excluding itself
    mean_to[rows, cluster] = np.inf
    b = mean_to.min(axis=1)
    with np.errstate(invalid="ignore"):
        s = np.nan_to_num((b - a) / np.maximum(a, b))
    return np.where(own_size > 1, s, 0.0)


def _best_cut(tree: np.ndarray, distances: np.ndarray, k_values: np.ndarray) -> tuple:
    """Mean silhouette of the tree cut into each k (NaN where the cut is degenerate), and the
    labels of the best cut."""
    cuts = [fcluster(tree, k, criterion="maxclust") for k in k_values]
    n = len(distances)
    scores = np.array(
        [
            silhouette_samples(distances, c).mean() if 2 <= len(np.unique(c)) < n else np.nan
            for c in cuts
        ]
    )
    if np.all(np.isnan(scores)):
        raise ValueError("no cut of the unit tree gives between 2 and n − 1 clusters")
    return scores, cuts[int(np.nanargmax(scores))]


def _number_by_leaves(labels: np.ndarray, leaf_order: np.ndarray) -> np.ndarray:
    """Relabel clusters 0, 1, … in the order they first appear along the dendrogram's leaves."""
    along = labels[leaf_order]
    ids = along[np.sort(np.unique(along, return_index=True)[1])]
    lookup = np.empty(labels.max() + 1, dtype=int)
    lookup[ids] = np.arange(len(ids))
    return lookup[labels]


@dataclass(frozen=True)
class UnitAtlas:
    """The clustered task-variance atlas of one network (Fig. 3A).

    n kept units, P task periods, C clusters, m candidate cluster counts.

    Attributes
    ----------
    periods : the P task periods, ``(code name, reader name)``.
    variance : (N, P) raw variance of every unit (kept or not).
    kept : (n,) indices of the units whose summed variance exceeds the threshold.
    normalised : (n, P) variance of the kept units, each divided by its maximum.
    unit_linkage : (n − 1, 4) Ward linkage of the kept units (rows of ``normalised``).
    period_linkage : (P − 1, 4) Ward linkage of the task periods (columns of ``normalised``).
    unit_order : (n,) dendrogram leaf order of the kept units (positions in ``kept``).
    period_order : (P,) dendrogram leaf order of the task periods.
    k_values : (m,) candidate numbers of clusters.
    silhouette : (m,) mean silhouette of the cut into each candidate k (NaN if degenerate).
    labels : (n,) cluster of each kept unit, 0 … C − 1 in dendrogram leaf order.
    cluster_profiles : (C, P) mean normalised variance of each cluster's units.
    dominant : for each cluster, its dominant task periods, strongest first.
    """

    periods: tuple[TaskPeriod, ...]
    variance: np.ndarray
    kept: np.ndarray
    normalised: np.ndarray
    unit_linkage: np.ndarray
    period_linkage: np.ndarray
    unit_order: np.ndarray
    period_order: np.ndarray
    k_values: np.ndarray
    silhouette: np.ndarray
    labels: np.ndarray
    cluster_profiles: np.ndarray
    dominant: tuple[tuple[TaskPeriod, ...], ...]

    @property
    def n_clusters(self) -> int:
        """Number of clusters C in the cut of highest mean silhouette."""
        return len(self.dominant)

    @property
    def names(self) -> list[str]:
        """A reader name for each cluster: its strongest dominant periods, e.g.
        ``"MemoryPro Memory + MemoryAnti Memory"``."""
        return [
            " + ".join(period_label(p) for p in d[:_NAMED_PERIODS])
            + (" + …" if len(d) > _NAMED_PERIODS else "")
            for d in self.dominant
        ]

    def cluster_units(self, cluster: int) -> np.ndarray:
        """(n_c,) network indices of the units in ``cluster``."""
        if not 0 <= cluster < self.n_clusters:
            raise ValueError(f"cluster must lie in [0, {self.n_clusters}); got {cluster!r}")
        return self.kept[self.labels == cluster]

    def own_tasks(self, cluster: int) -> tuple[str, ...]:
        """Code names of the tasks of a cluster's dominant periods, in rule order."""
        tasks = {task for task, _ in self.dominant[cluster]}
        return tuple(t for t in TASKS if t in tasks)

    def groups(self) -> list[UnitGroup]:
        """Each cluster as a :class:`UnitGroup` (name, units, own tasks) for lesioning."""
        return [
            UnitGroup(name, self.cluster_units(c), self.own_tasks(c))
            for c, name in enumerate(self.names)
        ]


def unit_atlas(
    variance: TaskVariance,
    *,
    min_total: float = 1e-3,
    max_clusters: int = 40,
    dominance: float = 0.5,
) -> UnitAtlas:
    """Normalise, Ward-cluster and describe a unit × task-period variance matrix.

    Parameters
    ----------
    variance : from :func:`~flexmt.analysis.variance.task_variance`.
    min_total : units whose variance summed over task periods is at most this are left out.
    max_clusters : largest number of clusters tried.
    dominance : a task period is dominant for a cluster when the cluster's mean normalised
        variance there is at least this fraction of its largest.
    """
    if not 0 < dominance <= 1:
        raise ValueError(f"dominance must lie in (0, 1]; got {dominance!r}")
    periods, raw = variance.periods, variance.variance
    if len(periods) < 2:
        raise ValueError(f"the atlas needs at least 2 task periods; got {len(periods)}")
    kept = np.flatnonzero(raw.sum(axis=1) > min_total)
    k_values = np.arange(MIN_CLUSTERS, min(len(kept) - 1, max_clusters) + 1)
    if not len(k_values):
        raise ValueError(
            f"{len(kept)} units have summed variance > {min_total} and max_clusters is "
            f"{max_clusters}; clustering into >= {MIN_CLUSTERS} clusters needs at least "
            f"{MIN_CLUSTERS + 1} units and max_clusters >= {MIN_CLUSTERS}"
        )
    normalised = raw[kept] / raw[kept].max(axis=1, keepdims=True)
    unit_tree, period_tree = linkage(normalised, "ward"), linkage(normalised.T, "ward")
    unit_order = leaves_list(unit_tree)
    scores, best = _best_cut(unit_tree, squareform(pdist(normalised)), k_values)
    labels = _number_by_leaves(best, unit_order)
    profiles = np.stack([normalised[labels == c].mean(axis=0) for c in range(labels.max() + 1)])
    dominant = tuple(
        tuple(periods[i] for i in np.argsort(-p, kind="stable") if p[i] >= dominance * p.max())
        for p in profiles
    )
    return UnitAtlas(
        periods=tuple(periods),
        variance=raw,
        kept=kept,
        normalised=normalised,
        unit_linkage=unit_tree,
        period_linkage=period_tree,
        unit_order=unit_order,
        period_order=leaves_list(period_tree),
        k_values=k_values,
        silhouette=scores,
        labels=labels,
        cluster_profiles=profiles,
        dominant=dominant,
    )
