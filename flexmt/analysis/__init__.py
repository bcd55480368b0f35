"""Analyses behind Figs 1–5: numpy and scipy only, results as small dataclasses of arrays.

- :mod:`~flexmt.analysis.variance`: states by task period, cross-period variance explained
  (Figs 1B, 2A) and the unit × task-period variance matrix;
- :mod:`~flexmt.analysis.clusters`: the task-variance atlas, Ward clusters and silhouette
  (Fig. 3A);
- :mod:`~flexmt.analysis.architecture`: atlas statistics compared across networks (Fig. 3B–C);
- :mod:`~flexmt.analysis.context`: Context end states and first stimulus updates (Fig. 4B–C);
- :mod:`~flexmt.analysis.lesions`: cluster lesions and the tasks they impair (Fig. 5).
"""

from flexmt.analysis.architecture import (
    ArchitectureSummary,
    atlas_sparsity,
    correlation_similarity,
    period_correlation,
    summarize_network,
)
from flexmt.analysis.clusters import UnitAtlas, silhouette_samples, unit_atlas
from flexmt.analysis.context import ContextEndStates, LinearFit, context_end_states, linear_fit
from flexmt.analysis.lesions import LesionEffects, UnitGroup, lesion_effects
from flexmt.analysis.variance import (
    CrossPeriodVariance,
    TaskPeriod,
    TaskVariance,
    atlas_periods,
    cross_period_variance,
    explained_variance_matrix,
    period_label,
    period_states,
    task_period,
    task_variance,
)

__all__ = [
    "ArchitectureSummary",
    "ContextEndStates",
    "CrossPeriodVariance",
    "LesionEffects",
    "LinearFit",
    "TaskPeriod",
    "TaskVariance",
    "UnitAtlas",
    "UnitGroup",
    "atlas_periods",
    "atlas_sparsity",
    "context_end_states",
    "correlation_similarity",
    "cross_period_variance",
    "explained_variance_matrix",
    "lesion_effects",
    "linear_fit",
    "period_correlation",
    "period_label",
    "period_states",
    "silhouette_samples",
    "summarize_network",
    "task_period",
    "task_variance",
    "unit_atlas",
]
