# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Fig. 5: lesioning a cluster of units impairs the tasks that use it
#
# **If clusters of units implement shared motifs, does silencing one cluster impair the tasks
# that use its motif and spare the others?** The paper's claim 4: lesioning a cluster causes
# modular deficits — large drops on the tasks of its dominant task periods, small drops
# elsewhere.
#
# The clusters are those of the task-variance atlas (Fig. 3A), each named by its dominant
# task periods; a cluster's *own tasks* are the tasks of those periods. A lesion zeroes the
# outgoing recurrent and readout weights of the cluster's units
# (`flexmt.network.Network.lesion`). Every network, intact and lesioned, is scored on the
# same fresh random trials with the network's own noise (`flexmt.analysis.lesions`). For two
# clusters picked by their dominant periods — the one most selective for the Memory periods
# and the one most selective for the anti-reach tasks — we then compare the trajectories and
# fixed points of one of their task periods with and without the lesion.

# %%
import numpy as np
from IPython.display import Markdown, display

from flexmt import analysis, book, plotting_atlas, zoo
from flexmt.analysis import pairs
from flexmt.tasks import PAPER_NAMES

# %% tags=["parameters"]
networks = "zoo"  # "zoo": every zoo network of the preset below; or zoo names / folders
preset = "all-softplus"  # the 15-task softplus networks of Figs 3–5
trials = 256  # random trials per task to score each lesion (the paper's 256)
n_starting_states = 500  # starting states of each fixed-point search
max_q = 1e-6  # fixed points kept: q below this
seed = 0  # seeds the trials, their noise and the starting states
quick = False  # True: 32 trials per task, 64 states (≤ 500 finder iterations), atlas
#   from 32 random trials
out_dir = "results"  # numbers are recorded below this folder

# %%
params = book.check_parameters(
    networks=networks,
    preset=preset,
    trials=trials,
    n_starting_states=n_starting_states,
    max_q=max_q,
    seed=seed,
    quick=quick,
    out_dir=out_dir,
)
entries = pairs.select_networks(params["networks"], [params["preset"]])
quick = params["quick"]
n_trials, n_states = (32, 64) if quick else (params["trials"], params["n_starting_states"])
finder = book.QUICK_FINDER if quick else {}

# %% [markdown]
# ## The networks

# %%
display(plotting_atlas.network_table(entries))
display(Markdown(plotting_atlas.training_note(entries)))
nets = {e.name: zoo.load(e.name, e.folder.parent) for e in entries}
first = entries[0].name

# %% [markdown]
# ## Δperformance of every task when each cluster is lesioned
#
# Rows: the clusters of the network's atlas (noise-free "test" trials), named by their
# dominant task periods and ordered as in the atlas; columns: the tasks, the cluster's own
# tasks outlined. Right: each cluster's mean drop on its own tasks against that on the other
# tasks; a modular lesion lies above the diagonal.

# %%
atlases, effects = {}, {}
for k, (network, net) in enumerate(nets.items()):
    rng = np.random.default_rng([params["seed"], k])
    atlas_trials = pairs.seeded_trials("all", rng.spawn(1)[0]) if quick else None
    atlases[network] = analysis.unit_atlas(analysis.task_variance(net, trials=atlas_trials))
    effects[network] = analysis.lesion_effects(
        net, atlases[network].groups(), rng=rng, trials=n_trials
    )
fig = plotting_atlas.plot_lesion_effects(effects[first])

# %%
for network, e in effects.items():
    modular = np.nanmean(e.own_drop - e.other_drop)
    above = np.mean(e.own_drop > e.other_drop)
    print(
        f"{network}: {len(e.groups)} clusters; mean drop on own tasks "
        f"{np.nanmean(e.own_drop):.3f}, on other tasks {np.nanmean(e.other_drop):.3f}; "
        f"own − other {modular:+.3f} on average; own > other for {100 * above:.0f}% of clusters"
    )
    strongest = np.argsort(-(e.own_drop - e.other_drop))[:3]
    for c in strongest:
        print(
            f"  {e.groups[c]}: own {e.own_drop[c]:.2f}, other {e.other_drop[c]:.2f} "
            f"(intact performance on own tasks {e.baseline[e.own[c]].mean():.2f})"
        )

# %% [markdown]
# ## Trajectories and fixed points with a cluster lesioned
#
# The *Memory* cluster is the cluster most selective for the Memory periods (its mean
# normalised variance there minus elsewhere, `flexmt.analysis.pairs.rank_clusters`), shown
# in MemoryPro's Memory period; the *Anti* cluster is the one most selective for the
# periods of DelayAnti, ReactAnti and MemoryAnti, shown in the anti-task period where it is
# most active. Trajectories of eight test trials (grey before the period, blue in it; the
# first trial darker) and the fixed points under that first trial's input at the start of
# the period (filled: stable; open red: unstable), intact and lesioned, on the intact
# states' top two principal axes.

# %%
atlas = atlases[first]
memory_periods = [p for p in atlas.periods if p[1].startswith("Memory")]
anti_periods = [p for p in atlas.periods if p[0] in ("fdanti", "reactanti", "delayanti")]
memory = int(pairs.rank_clusters(atlas, memory_periods)[0])
anti = next(int(c) for c in pairs.rank_clusters(atlas, anti_periods) if c != memory)
anti_profile = atlas.cluster_profiles[anti]
anti_period = max(anti_periods, key=lambda p: anti_profile[atlas.periods.index(p)])
picked = {
    f"Memory cluster: {atlas.names[memory]}": (memory, ("delaygo", "Memory")),
    f"Anti cluster: {atlas.names[anti]}": (anti, anti_period),
}
dynamics = {
    name: pairs.lesion_dynamics(
        nets[first],
        atlas.cluster_units(cluster),
        task,
        period,
        np.random.default_rng([params["seed"], 100 + k]),
        n_states=n_states,
        max_q=params["max_q"],
        **finder,
    )
    for k, (name, (cluster, (task, period))) in enumerate(picked.items())
}
fig = plotting_atlas.plot_lesion_dynamics(dynamics)

# %%
lesion_numbers = {}
for name, (cluster, (task, period)) in picked.items():
    d, e = dynamics[name], effects[first]
    column = e.tasks.index(task)
    label = f"{name.split(':')[0]} ({PAPER_NAMES[task]} {period})"
    lesion_numbers[label] = (
        f"{len(d.units)} units; {PAPER_NAMES[task]} performance {e.baseline[column]:.2f} → "
        f"{e.performance[cluster, column]:.2f}; fixed points {len(d.intact_points)} "
        f"({int(d.intact_points.is_stable.sum())} stable) → {len(d.lesioned_points)} "
        f"({int(d.lesioned_points.is_stable.sum())} stable); trajectories move "
        f"{d.divergence:.2f}× the period's spread"
    )
    print(f"{label}: {lesion_numbers[label]}")

# %% [markdown]
# ## The numbers that test claim 4
#
# Over all networks used (mean ± sd, n networks): a cluster's mean drop on its own tasks,
# on the other tasks, their difference averaged over clusters, and the share of clusters
# whose own drop is the larger. A lesion cannot lower performance on a task the intact
# network fails anyway, so a network that has not learned all its tasks understates the
# drops on the tasks it has not learned.

# %%
values = effects.values()
numbers = {
    "drop on own tasks (mean over clusters)": plotting_atlas.mean_sd(
        [np.nanmean(e.own_drop) for e in values]
    ),
    "drop on other tasks (mean over clusters)": plotting_atlas.mean_sd(
        [np.nanmean(e.other_drop) for e in values]
    ),
    "own − other drop (mean over clusters)": plotting_atlas.mean_sd(
        [np.nanmean(e.own_drop - e.other_drop) for e in values]
    ),
    "share of clusters with own > other": plotting_atlas.mean_sd(
        [np.mean(e.own_drop > e.other_drop) for e in values]
    ),
    "clusters lesioned": plotting_atlas.mean_sd([len(e.groups) for e in values]),
    "trials per task": n_trials,
    **lesion_numbers,
    "networks (status)": plotting_atlas.status_summary(entries),
}
for quantity, value in numbers.items():
    print(f"{quantity}: {value}")

# %%
recorded = book.record(
    "fig5_lesions",
    "Fig. 5: lesioning a cluster of units causes modular deficits — large drops on the tasks "
    "that use its motif, small drops elsewhere (claim 4)",
    numbers,
    params["out_dir"],
    paper={
        "drop on own tasks (mean over clusters)": "large (Fig. 5)",
        "drop on other tasks (mean over clusters)": "small (Fig. 5)",
        "own − other drop (mean over clusters)": "clearly > 0: modular deficits (Fig. 5)",
        "share of clusters with own > other": "most clusters (Fig. 5)",
        "networks (status)": "paper: trained to 0.95–0.999 mean performance",
    },
)
