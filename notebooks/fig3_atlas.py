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
# # Fig. 3: clusters of units serve groups of task periods
#
# **Does a network trained on all fifteen tasks implement its dynamical motifs with dedicated
# groups of units, and does that depend on the activation function?** The paper's claim 3:
# with a positive activation (softplus) the unit × task-period variance atlas has a block
# structure (clusters of units, each active in a few task periods); with tanh much less so.
#
# For each unit and each of the 49 task periods (every period of every task but Context) we
# take the variance of the unit's activity over time and trials of noise-free trials,
# normalise each unit by its largest, and Ward-cluster units and task periods; the number of
# unit clusters maximises the mean silhouette (`flexmt.analysis.clusters`). Fig. 3A draws the
# atlas of one trained softplus network, clusters named by the task periods they are most
# active in. Fig. 3B–C compares kinds of network (softplus and tanh, trained and untrained):
# the 49 × 49 correlation of task periods' variance profiles across units, the atlas's
# sparsity (share of unit × task-period entries below 0.15 of the unit's maximum) and the
# number of clusters (`flexmt.analysis.architecture`).

# %%
import numpy as np
from IPython.display import Markdown, display

from flexmt import analysis, book, plotting_atlas, zoo
from flexmt.analysis import pairs
from flexmt.tasks import PAPER_NAMES
from flexmt.training import initial_networks, preset

# %% tags=["parameters"]
networks = "zoo"  # "zoo": every zoo network of the presets below; or zoo names / folders
presets = ["all-softplus", "all-tanh"]  # the kinds of network compared
seeds = [0, 1, 2]  # untrained networks of each preset: these seeds and the trained ones'
seed = 0  # seeds the random trials of quick mode
quick = False  # True: the atlas from 32 random trials per task instead of the test grid
out_dir = "results"  # numbers are recorded below this folder

# %%
params = book.check_parameters(
    networks=networks, seeds=seeds, seed=seed, quick=quick, out_dir=out_dir
)
presets = [book.check_parameters(preset=name)["preset"] for name in presets]
entries = pairs.select_networks(params["networks"], presets)

# %% [markdown]
# ## The networks
#
# Trained networks come from the zoo (`flexmt/zoo`); their training status is stated here
# because every number below depends on it. Untrained networks are the same presets'
# initial weights (`flexmt.training.initial_networks`), which depend on the seed alone.

# %%
display(plotting_atlas.network_table(entries))
display(Markdown(plotting_atlas.training_note(entries)))
missing = [name for name in presets if not any(e.preset == name for e in entries)]
if missing:
    display(
        Markdown(
            f"**No trained network of {', '.join(missing)} is in the zoo yet**, so this page "
            "cannot compare trained networks across activation functions. It compares what "
            "exists: the trained networks above against untrained networks of every preset."
        )
    )

# %%
quick = params["quick"]
trials = pairs.seeded_trials("all", np.random.default_rng(params["seed"])) if quick else None
untrained_seeds = sorted(set(params["seeds"]) | {e.seed for e in entries})
labelled = {}  # kind → [(label, network)]
for e in entries:
    net = zoo.load(e.name, e.folder.parent)
    labelled.setdefault(f"{net.activation}, trained", []).append((e.name, net))
for name in presets:
    config = preset(name)
    kind = f"{config.activation}, untrained"
    for s, net in zip(untrained_seeds, initial_networks(config, untrained_seeds), strict=True):
        labelled.setdefault(kind, []).append((f"{name} seed {s} (untrained)", net))
print(f"atlas trials: {'32 random trials per task (quick)' if quick else 'the test grid'}")
for kind, nets in labelled.items():
    print(f"{kind}: {', '.join(label for label, _ in nets)}")

# %% [markdown]
# ## Fig. 3A: the task-variance atlas
#
# Units (rows) and task periods (columns) in the leaf order of their Ward dendrograms. Each
# unit cluster is named by its dominant task periods (those where the cluster's mean
# normalised variance is at least half its largest; the three strongest are spelled out) and
# its number of units.

# %%
shown_kind = "softplus, trained" if "softplus, trained" in labelled else next(iter(labelled))
shown_label, shown_net = labelled[shown_kind][0]
atlas = analysis.unit_atlas(analysis.task_variance(shown_net, trials=trials))
fig = plotting_atlas.plot_atlas(atlas, title=f"{shown_label} ({shown_kind})")

# %%
best = np.nanargmax(atlas.silhouette)
print(
    f"{shown_label}: {len(atlas.kept)} of {atlas.variance.shape[0]} units vary "
    f"(summed variance > 1e-3); {atlas.n_clusters} clusters (silhouette "
    f"{atlas.silhouette[best]:.3f}, best of k = {atlas.k_values[0]}…{atlas.k_values[-1]})"
)
if atlas.k_values[best] >= atlas.k_values[-1] - 1:
    print(
        "  the silhouette is highest at the edge of the k searched: the atlas has no clear "
        "number of clusters (no pronounced block structure)"
    )
for c, name in enumerate(atlas.names):
    tasks = ", ".join(PAPER_NAMES[t] for t in atlas.own_tasks(c))
    print(f"  {len(atlas.cluster_units(c)):3d} units: {name}  [tasks: {tasks}]")

# %% [markdown]
# ## Fig. 3B–C: softplus and tanh, trained and untrained
#
# Each kind's 49 × 49 correlation of task-period variance profiles (averaged over its
# networks; task periods in the order of the atlas above), then each network's sparsity,
# cluster count and silhouette. A block structure shows as blocks of correlated task
# periods, a higher sparsity (units silent in most task periods) and well separated
# clusters (a higher silhouette).

# %%
summaries = {
    kind: [analysis.summarize_network(net, trials=trials) for _, net in nets]
    for kind, nets in labelled.items()
}
comparison = pairs.compare_kinds(summaries)
fig = plotting_atlas.plot_correlation_matrices(comparison, atlas.periods, atlas.period_order)

# %%
fig = plotting_atlas.plot_kind_statistics(comparison)
display(plotting_atlas.kind_table(comparison))

# %% [markdown]
# ## The numbers that test claim 3
#
# Claim 3 compares trained softplus with trained tanh networks. Where a kind is missing, the
# comparison says so; the untrained networks separate what training adds from what the
# activation function alone gives.

# %%
numbers = {}
for kind in comparison.kinds:
    numbers[f"sparsity, {kind}"] = plotting_atlas.mean_sd(comparison.values("sparsity")[kind])
    numbers[f"unit clusters, {kind}"] = plotting_atlas.mean_sd(
        comparison.values("n_clusters")[kind]
    )
    numbers[f"silhouette, {kind}"] = plotting_atlas.mean_sd(comparison.values("silhouette")[kind])
comparisons = {
    "softplus − tanh, trained": ("softplus, trained", "tanh, trained"),
    "trained − untrained, softplus": ("softplus, trained", "softplus, untrained"),
    "softplus − tanh, untrained": ("softplus, untrained", "tanh, untrained"),
}
for label, (first, second) in comparisons.items():
    absent = [kind for kind in (first, second) if kind not in comparison.kinds]
    for quantity in ("sparsity", "silhouette"):
        delta = comparison.mean_difference(quantity, first, second)
        numbers[f"Δ {quantity}, {label}"] = (
            f"not measured: no {' and no '.join(absent)} network" if absent else round(delta, 4)
        )
for quantity, value in numbers.items():
    print(f"{quantity}: {value}")

# %%
numbers["trained networks (status)"] = plotting_atlas.status_summary(entries)
recorded = book.record(
    "fig3_atlas",
    "Fig. 3A–C: with softplus, units form clusters that serve groups of task periods "
    "(block structure in the variance atlas); with tanh much less so",
    numbers,
    params["out_dir"],
    paper={
        "unit clusters, softplus, trained": "distinct clusters, each active in a few task "
        "periods (Fig. 3A)",
        "Δ sparsity, softplus − tanh, trained": "softplus atlas sparser, block-structured "
        "(Fig. 3B–C, Supp. Fig. 4)",
        "Δ silhouette, softplus − tanh, trained": "clearer unit clusters with softplus than "
        "with tanh",
        "trained networks (status)": "paper: trained to 0.95–0.999 mean performance",
    },
)
