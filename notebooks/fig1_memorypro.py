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
# # Fig. 1: MemoryPro's memory is a ring attractor
#
# **How does a network trained on MemoryPro alone hold a stimulus angle in memory, and how does
# that memory become a response?** The paper's Claim 1: in the Memory period the network's
# state sits on a **ring attractor**, a closed curve of (marginally) stable fixed points, one
# for each remembered angle. This page trains nothing: it takes a 256-unit softplus network
# trained on MemoryPro and
#
# - shows how far its training got;
# - measures how much of each period's state variance lies in the top two principal
#   components (PCs) of each other period (Fig. 1B);
# - finds the fixed points under each period's input and draws them with the state
#   trajectories, on the top two PCs of the period's states (Figs 1C–F): stable points filled,
#   unstable ones open;
# - measures the Memory period's fixed points as a ring: how many, how planar, how round, how
#   completely they go around, and how close their largest eigenvalue |λ| is to 1 — in this
#   network and in every other shipped seed of its preset;
# - interpolates the input from the Memory period's to the Response period's and follows the
#   fixed points (Figs 1G–H), the relevant one (nearest where the state goes) highlighted.
#
# Fixed points minimise q(h) = ½‖F(h, u) − h‖² for the noise-free step F under a held input u
# (see `flexmt.fixed_points`). Shown and counted are those with q below `max_q`, merged to at
# least `spacing` apart: along a ring attractor the finder returns a continuum of slow points,
# one per starting state, so counts are only meaningful at a stated resolution.

# %%
import numpy as np
from IPython.display import Markdown, display

from flexmt import analysis, book, plotting, plotting_atlas, zoo
from flexmt import fixed_points as fp
from flexmt import tasks as task_defs
from flexmt.analysis import motifs, pairs

# %% tags=["parameters"]
network = "memorypro-seed0"  # a zoo network, or the path of a network folder; trained on MemoryPro
networks = "zoo"  # the ring in every seed: "zoo" (every MemoryPro zoo network) or names / folders
seed = 0  # seeds the starting states of the fixed-point searches
n_starting_states = 1000  # starting states per period (the paper's 1000)
n_sweep_states = 200  # starting states of the interpolation (each step warm-starts from the last)
n_interp = 20  # interpolation steps n (the paper's 20)
max_q = 1e-5  # fixed points shown and counted: q below this
spacing = 0.3  # ... and merged to at least this far apart (state units)
quick = False  # True: 100 / 50 starting states, 5 steps, ≤ 500 finder iterations per state
out_dir = "results"  # numbers are recorded below this folder

# %%
params = book.check_parameters(
    network=network,
    networks=networks,
    seed=seed,
    n_starting_states=n_starting_states,
    n_sweep_states=n_sweep_states,
    n_interp=n_interp,
    max_q=max_q,
    spacing=spacing,
    quick=quick,
    out_dir=out_dir,
)
entry, log, net = zoo.open_folder(params["network"])
motifs.check_trained_on(net, ["MemoryPro"], network)
seed_entries = pairs.select_networks(params["networks"], ["memorypro"])
if params["quick"]:
    params |= {"n_starting_states": 100, "n_sweep_states": 50, "n_interp": 5}
finder = book.QUICK_FINDER if params["quick"] else {}
rng_periods, rng_sweep, rng_seeds = np.random.default_rng(params["seed"]).spawn(3)

# %% [markdown]
# ## The network and its training
#
# Performance is the fraction of correct trials (the response angle within 0.1π of the target
# at the last step, or fixation held), evaluated every 500 training steps on 256 trials;
# training stops once it reaches the criterion (0.95) there and on 2,048 fresh trials, or at
# the step cap.

# %%
display(Markdown(plotting_atlas.training_note([entry])))
fig = plotting.plot_training_curves({entry.name: log})

# %% [markdown]
# ## Fig. 1B: each period occupies its own subspace
#
# Rows: the period whose top two PCs are taken; columns: the period whose variance they
# capture (noise-free "test" trials, 40 angles × 2 modalities). The diagonal is each period's
# own two-PC share.

# %%
periods = task_defs.period_names("MemoryPro")
variance = analysis.cross_period_variance(net, [("MemoryPro", p) for p in periods], k=2)
ax = plotting.plot_cross_period_variance(variance)
off_diagonal = variance.fraction[~np.eye(len(periods), dtype=bool)]
print(
    f"own top-2 PCs hold {variance.fraction.diagonal().min():.2f}–"
    f"{variance.fraction.diagonal().max():.2f} of a period's variance; another period's, "
    f"{off_diagonal.min():.2f}–{off_diagonal.max():.2f} (mean {off_diagonal.mean():.2f})"
)

# %% [markdown]
# ## Figs 1C–F: fixed points and trajectories in each period
#
# Trajectories of the 40 modality-1 test trials, coloured by stimulus angle, each from the
# end of the previous period to the end of this one; fixed points under the period's input
# (that of trial 0, θ = 0, dashed black, where the input shows the stimulus). In MemoryPro
# the Context and Memory periods receive the same input (fixation and rule, no stimulus), so
# they have the same fixed points: the network starts each trial on the memory ring and the
# stimulus moves it along the ring.

# %% tags=["full-width"]
found = motifs.period_fixed_points(
    net, "MemoryPro", rng_periods, n_states=params["n_starting_states"], **finder
)
points = motifs.select_periods(found, params["max_q"], params["spacing"])
trials = task_defs.make_trials("MemoryPro", "test")
h = net.run(trials.x).h
fig = plotting.plot_period_dynamics(trials, h, points)
shared = [p for p in periods if p != "Memory" and points[p] is points["Memory"]]
print(f"periods sharing the Memory period's fixed points: {', '.join(shared) or 'none'}")

# %%
magnitudes = {p: motifs.max_abs_eigenvalue(points[p]) for p in periods if p != "Context"}
ax = plotting.plot_eigenvalue_magnitudes(magnitudes)
ax.set_title("largest |λ| of each fixed point", fontsize=9)

# %% [markdown]
# ## The Memory period's fixed points as a ring
#
# A ring attractor's points lie in a plane (their top two PCs hold nearly all their
# variance), at a common distance from their centroid (small spread), all the way around it
# (no wide empty arc), and each is marginally stable: its largest |λ| is ≈ 1 (the direction
# along the ring), the rest below 1. Such points fall on either side of |λ| = 1 by small
# amounts, so the stable/unstable split along a ring says little; the distance of |λ| from 1
# says more.

# %%
ring = motifs.ring_measures(points["Memory"])
raw_memory = found["Memory"]
n_below = int((raw_memory.qstar <= params["max_q"]).sum())
typical = motifs.typical_norm(net, ["MemoryPro"])
print(
    f"{len(raw_memory)} fixed points found from {params['n_starting_states']} starting states; "
    f"{n_below} with q ≤ {params['max_q']:g}; {ring.n_points} at least {params['spacing']:g} "
    f"apart, {ring.n_stable} of them stable ({ring.fraction_stable:.0%})"
)
print(f"variance of the points in their top 2 PCs: {ring.plane_variance:.3f}")
print(
    f"ring radius {ring.radius:.2f} state units = {ring.radius / typical:.2f} × the typical "
    f"state norm ({typical:.2f}); spread (sd / mean) {ring.radius_spread:.2f}"
)
print(f"widest empty arc around the centroid: {ring.largest_gap:.0f}°")
print(f"max |λ|: {ring.eigenvalue_summary()}; {ring.fraction_marginal():.0%} within 0.01 of 1")

# %% [markdown]
# ### The ring in every seed
#
# The same measures for every network of `networks`, each from its own `n_starting_states`
# starting states (the network above keeps its numbers). One seed could have found a ring by
# chance; the claim is that training on MemoryPro finds one.

# %%
display(plotting_atlas.network_table(seed_entries))
rings, typical_norms = {}, {}
selection = {"max_q": params["max_q"], "spacing": params["spacing"], **finder}
for e, rng in zip(seed_entries, rng_seeds.spawn(len(seed_entries)), strict=True):
    if e.folder.resolve() == entry.folder.resolve():
        rings[e.name], typical_norms[e.name] = ring, typical
        continue
    seed_net = zoo.load(e.name, e.folder.parent)
    motifs.check_trained_on(seed_net, ["MemoryPro"], e.name)
    (memory_points,) = motifs.period_points(
        seed_net, ["MemoryPro"], "Memory", rng, n_states=params["n_starting_states"], **selection
    ).values()
    rings[e.name] = motifs.ring_measures(memory_points)
    typical_norms[e.name] = motifs.typical_norm(seed_net, ["MemoryPro"])
seed_rings = plotting_atlas.ring_table(rings, typical_norms)
display(seed_rings.round(3))

# %% [markdown]
# ## Figs 1G–H: from the Memory period to the Response period
#
# The input is moved in `n_interp` steps from the Memory period's (fixation on) to the
# Response period's (fixation off); each step's fixed points are found starting from the
# previous step's. Left: every step's fixed points on their top two PCs, coloured by the
# interpolation fraction α, the relevant points (nearest where a rollout under that step's
# input from the start of the Memory period ends) joined. Middle: the bifurcation diagram,
# PC1 of the fixed points against α, stable filled black, unstable open red, the relevant
# point's path in blue. Right: the relevant point's largest |λ|.

# %% tags=["full-width"]
setup = fp.periods_setup(
    net, "MemoryPro", "Memory", "Response", rng_sweep, n_states=params["n_sweep_states"]
)
(shown,) = fp.interpolate(
    net.step_function(),
    [setup],
    n_interp=params["n_interp"],
    max_q=params["max_q"],
    spacing=params["spacing"],
    **finder,
)
fig = plotting_atlas.plot_sweeps({"MemoryPro: Memory → Response": shown})

# %%
continuity = pairs.sweep_continuity(shown)
summary = shown.summary()
display(plotting_atlas.continuity_table({"Memory → Response": continuity}))
print(f"fixed points per step: {' '.join(map(str, summary['n_points']))}")
print(f"stable per step:       {' '.join(map(str, summary['n_stable']))}")
print(
    f"relevant point: largest shift {continuity.max_shift:.3f} × the typical norm "
    f"({continuity.typical_norm:.2f}), {continuity.jump_ratio:.1f} × the median shift; "
    f"stable at {int(np.nansum(summary['relevant_stable']))} of {len(summary['alpha'])} steps"
)

# %%
recorded = book.record(
    "fig1_memorypro",
    "Fig. 1: MemoryPro's Memory period is a ring attractor",
    {
        "network (training status)": entry.status_line,
        "starting states, max q, spacing": f"{params['n_starting_states']}, "
        f"{params['max_q']:g}, {params['spacing']:g}",
        "Memory fixed points with q below max q": n_below,
        "Memory fixed points after merging": ring.n_points,
        "fraction stable (|λ| ≤ 1)": ring.fraction_stable,
        "max |λ| on the ring": ring.eigenvalue_summary(),
        "fraction with max |λ| within 0.01 of 1": ring.fraction_marginal(),
        "ring variance in its top 2 PCs": ring.plane_variance,
        "ring radius / typical state norm": ring.radius / typical,
        "ring radius spread (sd / mean)": ring.radius_spread,
        "widest empty arc of the ring (°)": ring.largest_gap,
        "mean cross-period variance in top 2 PCs": float(off_diagonal.mean()),
        "Memory → Response: largest relevant shift / norm": continuity.max_shift,
        "Memory → Response: jump ratio": continuity.jump_ratio,
        "Memory → Response: steps where the point count changes": continuity.count_changes,
        "every seed: networks (status)": plotting_atlas.status_summary(seed_entries),
        **{f"every seed: {k}": plotting_atlas.mean_sd(v) for k, v in seed_rings.items()},
    },
    params["out_dir"],
    paper={
        "Memory fixed points after merging": "a continuum of fixed points (ring attractor)",
        "max |λ| on the ring": "≈ 1 (marginally stable along the ring)",
        "ring variance in its top 2 PCs": "ring in a plane (Fig. 1E)",
        "widest empty arc of the ring (°)": "ring closes around all angles",
        "every seed: variance in top 2 PCs": "a planar ring in every network",
        "every seed: share of max |λ| within 0.01 of 1": "≈ 1 in every network",
    },
)
