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
# # Fig. 2: MemoryPro and MemoryAnti share one memory ring
#
# **When one network learns MemoryPro and MemoryAnti, does it keep one ring attractor for the
# remembered angle in both, and where do the two tasks' dynamics part?** The two tasks differ
# only in the rule input and in the answer (θ in MemoryPro, θ + π in MemoryAnti). The paper's
# Claims 1–2: the Memory period of both tasks uses the **same ring attractor** — its fixed
# points change continuously when the rule input is interpolated from MemoryAnti's to
# MemoryPro's — while the Response period's fixed-point structure changes, since the same
# memory must now lead to opposite answers.
#
# This page takes a 256-unit softplus network trained on both tasks and
#
# - shows how far its training got;
# - measures how much of each task period's state variance lies in the top two principal
#   components (PCs) of each other task period (Fig. 2A);
# - moves the rule input from MemoryAnti's to MemoryPro's in `n_interp` steps, under the same
#   stimulus (that of "test" trial 0, θ = 0), in the Stimulus, Memory and Response periods,
#   and follows the fixed points (Figs 2B–I): each step starts from the previous step's
#   points; the *relevant* point of a step is the one nearest the end of a rollout under that
#   step's input from the state where MemoryAnti's trial enters the period;
# - measures the continuity of each sweep and the Memory ring at both ends;
# - tests the shared ring in every trained seed of the preset, not this network alone.
#
# Shown and counted are fixed points with q = ½‖F(h, u) − h‖² below `max_q`, merged to at
# least `spacing` apart (a ring attractor is a continuum of slow points).
#
# The network shown is seed 1: seed 0 of the same preset stayed at chance on both tasks for
# 19,000 steps (a plateau the one-task MemoryPro network left after 2,000), see the zoo page.

# %%
import numpy as np
from IPython.display import Markdown, display

from flexmt import analysis, book, plotting, plotting_atlas, zoo
from flexmt import fixed_points as fp
from flexmt import tasks as task_defs
from flexmt.analysis import motifs, pairs

# %% tags=["parameters"]
network = "memorypro-memoryanti-seed1"  # a zoo network or a network folder's path
networks = "zoo"  # the shared ring in every seed: "zoo" (every zoo network of the preset) or names
seed = 0  # seeds the starting states of the sweeps
n_starting_states = 200  # starting states of each sweep (each step warm-starts from the last)
n_interp = 20  # interpolation steps n (the paper's 20)
max_q = 1e-5  # fixed points shown and counted: q below this
spacing = 0.3  # ... and merged to at least this far apart (state units)
quick = False  # True: 50 starting states, 5 steps per sweep, ≤ 500 finder iterations
out_dir = "results"  # numbers are recorded below this folder

# %%
params = book.check_parameters(
    network=network,
    networks=networks,
    seed=seed,
    n_starting_states=n_starting_states,
    n_interp=n_interp,
    max_q=max_q,
    spacing=spacing,
    quick=quick,
    out_dir=out_dir,
)
entry, log, net = zoo.open_folder(params["network"])
motifs.check_trained_on(net, ["MemoryAnti", "MemoryPro"], network)
seed_entries = pairs.select_networks(params["networks"], ["memorypro-memoryanti"])
if params["quick"]:
    params |= {"n_starting_states": 50, "n_interp": 5}
finder = book.QUICK_FINDER if params["quick"] else {}
PERIODS = ("Stimulus", "Memory", "Response")
*period_rngs, rng_seeds = np.random.default_rng(params["seed"]).spawn(len(PERIODS) + 1)
rngs = dict(zip(PERIODS, period_rngs, strict=True))

# %% [markdown]
# ## The network and its training
#
# Performance of each task is the fraction of correct trials, evaluated every 500 training
# steps on 256 trials; training stops once every task reaches the criterion (0.95) there and on
# 2,048 fresh trials, or at the step cap.

# %%
display(Markdown(plotting_atlas.training_note([entry])))
fig = plotting.plot_training_curves({entry.name: log})

# %% [markdown]
# ## Fig. 2A: variance shared across the two tasks' periods
#
# Rows: the task period whose top two PCs are taken; columns: the task period whose variance
# they capture (noise-free "test" trials). Where the two tasks use the same subspace in a
# period, the MemoryAnti–MemoryPro cells of that period are as high as the diagonal.

# %%
task_periods = [(t, p) for t in ("MemoryAnti", "MemoryPro") for p in task_defs.period_names(t)]
variance = analysis.cross_period_variance(net, task_periods, k=2)
ax = plotting.plot_cross_period_variance(variance)
n = len(task_defs.period_names("MemoryPro"))
between = {
    p: variance.fraction[i, n + i] for i, p in enumerate(task_defs.period_names("MemoryPro"))
}
for period, value in between.items():
    print(f"{period}: MemoryAnti's top 2 PCs hold {value:.2f} of MemoryPro's variance")

# %% [markdown]
# ## Figs 2B–I: interpolating the rule input from MemoryAnti to MemoryPro
#
# One row per period. Left: every step's fixed points on their top two PCs, coloured by the
# interpolation fraction α (0: MemoryAnti, 1: MemoryPro), the relevant points joined. Middle:
# the bifurcation diagram, PC1 of the fixed points against α, stable filled black, unstable
# open red, the relevant point's path in blue. Right: the relevant point's largest |λ|.
# A shared motif shows as a relevant point drifting smoothly with α; a change of structure
# as a jump, or as points appearing or vanishing.

# %% tags=["full-width"]
setups = [
    fp.tasks_setup(
        net, "MemoryAnti", "MemoryPro", period, rngs[period], n_states=params["n_starting_states"]
    )
    for period in PERIODS
]
found = fp.interpolate(
    net.step_function(),
    setups,
    n_interp=params["n_interp"],
    max_q=params["max_q"],
    spacing=params["spacing"],
    **finder,
)
sweeps = dict(zip(PERIODS, found, strict=True))
fig = plotting_atlas.plot_sweeps({f"{p}: MemoryAnti → MemoryPro": s for p, s in sweeps.items()})

# %% [markdown]
# ## Continuity of each sweep
#
# *max shift / norm*: the largest step-to-step move of the relevant point, over the typical
# norm of the relevant points (it shrinks as 1/n along a smooth path); *jump ratio*: that move
# over the median move (≈ 1–2 on a smooth path, far above where the point jumps);
# *count changes*: steps at which the number of fixed points changes (along a ring, a
# continuum of slow points, counts also move with the sampling of the ring).

# %%
continuity = {p: pairs.sweep_continuity(s) for p, s in sweeps.items()}
display(plotting_atlas.continuity_table(continuity))
for period, s in sweeps.items():
    summary = s.summary()
    print(f"{period}: fixed points per step {' '.join(map(str, summary['n_points']))}")

# %% [markdown]
# ## The Memory ring at both ends
#
# The Memory period's fixed points under MemoryAnti's rule (α = 0) and MemoryPro's (α = 1),
# measured as rings: planar (variance in the top two PCs), round (spread of the radius), closed
# (widest empty arc), marginally stable (largest |λ| ≈ 1). If the ring is shared, the two sets
# lie on top of each other: the mean distance from a point of one to the nearest point of the
# other is small compared with the ring's radius.

# %%
memory = sweeps["Memory"]
ends = {"MemoryAnti": memory.fixed_points[0], "MemoryPro": memory.fixed_points[-1]}
rings = {task: motifs.ring_measures(points) for task, points in ends.items()}
for task, ring in rings.items():
    if ring.n_points < 3:
        print(f"{task}: {ring.n_points} fixed point(s) in the Memory period: no ring (yet)")
        continue
    print(
        f"{task}: {ring.n_points} points ({ring.n_stable} stable), top-2 PC variance "
        f"{ring.plane_variance:.3f}, radius {ring.radius:.2f} (spread {ring.radius_spread:.2f}), "
        f"widest empty arc {ring.largest_gap:.0f}°, max |λ| {ring.eigenvalue_summary()}"
    )
distance = motifs.ring_distance(*ends.values())
relative = motifs.relative_ring_distance(*ends.values())
print(
    f"mean nearest distance between the two sets: {distance:.2f} state units"
    + (f" = {relative:.2f} × the ring radius" if np.isfinite(relative) else " (no ring yet)")
)

# %% [markdown]
# ### The shared ring in every seed
#
# The same test for every network of `networks` whose training ended (criterion met or step
# cap), the network above included; networks still training are listed but not measured. Here
# each task's Memory fixed points are searched on their own, from the same `n_starting_states`
# starting states drawn from both tasks' trajectories (above, MemoryPro's end of the sweep
# starts from the previous step's points, so it could inherit MemoryAnti's ring): the rows are
# the rings of each network under each rule, with their radius in units of the typical state
# norm; below them, the distance between each network's two sets over the ring radius. Well
# below 1, the two rules' points sample one ring; about 1 or more, the ring moves by about its
# own radius when the rule changes (two rings of one shape, or two different rings: the
# interpolation sweep above is what tells these apart).

# %%
display(plotting_atlas.network_table(seed_entries))
trained = [e for e in seed_entries if e.status != "running"]
seed_rings, typical_norms, shared = {}, {}, {}
TASK_PAIR = ["MemoryAnti", "MemoryPro"]
selection = {"max_q": params["max_q"], "spacing": params["spacing"], **finder}
for e, rng in zip(trained, rng_seeds.spawn(len(trained)), strict=True):
    seed_net = zoo.load(e.name, e.folder.parent)
    motifs.check_trained_on(seed_net, TASK_PAIR, e.name)
    found_ends = motifs.period_points(
        seed_net, TASK_PAIR, "Memory", rng, n_states=params["n_starting_states"], **selection
    )
    seed_ends = list(found_ends.values())
    norm = motifs.typical_norm(seed_net, TASK_PAIR)
    for task, points in zip(TASK_PAIR, seed_ends, strict=True):
        seed_rings[f"{e.name}, {task}"] = motifs.ring_measures(points)
        typical_norms[f"{e.name}, {task}"] = norm
    shared[e.name] = motifs.relative_ring_distance(*seed_ends)
seed_table = plotting_atlas.ring_table(seed_rings, typical_norms)
display(seed_table.round(3))
for name, value in shared.items():
    print(f"{name}: distance between the MemoryAnti and MemoryPro rings / radius {value:.2f}")

# %%
numbers = {
    "network (training status)": entry.status_line,
    "starting states, steps, max q, spacing": f"{params['n_starting_states']}, "
    f"{params['n_interp']}, {params['max_q']:g}, {params['spacing']:g}",
    "Memory: MemoryAnti PCs hold MemoryPro variance": float(between["Memory"]),
    "Response: MemoryAnti PCs hold MemoryPro variance": float(between["Response"]),
    "Memory ring points (MemoryAnti, MemoryPro)": f"{rings['MemoryAnti'].n_points}, "
    f"{rings['MemoryPro'].n_points}",
    "Memory ring max |λ|, MemoryAnti": rings["MemoryAnti"].eigenvalue_summary(),
    "Memory ring max |λ|, MemoryPro": rings["MemoryPro"].eigenvalue_summary(),
    "Memory rings' distance / radius": relative,
    "every seed: networks measured (status)": plotting_atlas.status_summary(trained),
    "every seed: Memory rings' distance / radius": plotting_atlas.mean_sd(list(shared.values())),
    **{
        f"every seed, both rules: {column}": plotting_atlas.mean_sd(seed_table.get(column, []))
        for column in ("variance in top 2 PCs", "widest empty arc (°)", "median max |λ| − 1")
    },
}
for period, c in continuity.items():
    numbers[f"{period}: largest relevant shift / norm"] = c.max_shift
    numbers[f"{period}: jump ratio"] = c.jump_ratio
    numbers[f"{period}: steps where the point count changes"] = c.count_changes
recorded = book.record(
    "fig2_memorypro_memoryanti",
    "Fig. 2: MemoryPro and MemoryAnti share the Memory ring attractor; their Response "
    "periods differ",
    numbers,
    params["out_dir"],
    paper={
        "Memory rings' distance / radius": "one shared ring (small)",
        "every seed: Memory rings' distance / radius": "one shared ring in every network (small)",
        "Memory ring max |λ|, MemoryAnti": "≈ 1 (ring attractor)",
        "Memory ring max |λ|, MemoryPro": "≈ 1 (the same ring)",
        "Memory: jump ratio": "continuous: the ring persists along the interpolation (≈ 1–2)",
        "Response: jump ratio": "structure changes between the tasks (large)",
    },
)
