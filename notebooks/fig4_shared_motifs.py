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
# # Fig. 4: tasks share dynamical motifs
#
# **Do tasks that need the same computation reuse the same fixed-point structure, and does
# the state a task's rule sets up before the stimulus predict what the stimulus then does?**
# Two of the paper's claims:
#
# - Claim 2 (Figs 3D–E, 4D–I): the fixed-point structure of a period changes continuously
#   when the input is interpolated between two tasks that share a motif, and bifurcates
#   between tasks that do not.
# - Claim 6 (Fig. 4B–C): task pairs whose Context-period end states lie close together have
#   small angles between their first stimulus-driven state updates.
#
# Fixed points are found along u_k = u_1 + (k/n)(u_2 − u_1), k = 0 … n, each step warm-started
# from the last (`flexmt.fixed_points.interpolate`); the *relevant* fixed point of a step is
# the one nearest the end of a rollout under u_k. Two pairs share a motif —
# ReactCategoryPro ↔ ReactCategoryAnti in their Stimulus period and IntegrationModality1 ↔
# IntegrationModality2 in their Stimulus1 period — and one does not: the Stimulus period of
# DelayAnti to the Response period of ReactPro.

# %%
import numpy as np
from IPython.display import Markdown, display

from flexmt import analysis, book, plotting_atlas, training, zoo
from flexmt import fixed_points as fp
from flexmt.analysis import pairs

# %% tags=["parameters"]
networks = "zoo"  # "zoo": every zoo network of the preset below; or zoo names / folders
preset = "all-softplus"  # the 15-task softplus networks of Figs 3–5
n_starting_states = 200  # starting states of each sweep (500 doubles the page's time)
n_interp = 20  # interpolation steps n (the paper's 20)
max_q = 1e-6  # fixed points kept: q below this
seed = 0  # seeds the starting states and the splits of the fit
quick = False  # True: 64 starting states, 5 steps, ≤ 500 finder iterations, 100 splits
out_dir = "results"  # numbers are recorded below this folder

# %%
params = book.check_parameters(
    networks=networks,
    preset=preset,
    n_starting_states=n_starting_states,
    n_interp=n_interp,
    max_q=max_q,
    seed=seed,
    quick=quick,
    out_dir=out_dir,
)
entries = pairs.select_networks(params["networks"], [params["preset"]])
quick = params["quick"]
n_states, steps, splits, settle_steps = (
    (64, 5, 100, 200) if quick else (params["n_starting_states"], params["n_interp"], 1000, 1000)
)
finder = book.QUICK_FINDER if quick else {}

# %% [markdown]
# ## The networks

# %%
display(plotting_atlas.network_table(entries))
display(Markdown(plotting_atlas.training_note(entries)))
nets = {e.name: zoo.load(e.name, e.folder.parent) for e in entries}
seeds = {e.name: e.seed for e in entries}
first = entries[0].name

# %% [markdown]
# ## Figs 3D–E, 4D–I: interpolating between task periods
#
# Each sweep's inputs come from trials of each task showing the same stimulus, at 45°
# (`flexmt.analysis.pairs.task_periods_setup`: "explicit" trials of each task, every other
# parameter at the task's default; `n_starting_states` starting states, 200 by default, from
# both tasks' trajectories at eight stimulus angles: with 500, on `all-softplus-seed0` and two
# unfinished seeds, the mean shares of states switching and settled below moved by at most
# 0.03 and the page took 1.8× as long, benchmarks/RESULTS.md). `flexmt.fixed_points` sets up
# sweeps of the rule between two tasks in one period (`tasks_setup`) or of one task's input
# between two periods (`periods_setup`), but has nothing for periods of two tasks; this helper
# builds both end inputs, and `flexmt.fixed_points.interpolate` runs a network's three sweeps
# side by side (each state is optimised on its own; only the rounding of the shared matrix
# products differs). For the two category tasks the inputs differ only in the rule; for the
# integration tasks also in the modality that carries the stimulus (each task's own);
# DelayAnti's Stimulus and ReactPro's Response input both hold fixation and the stimulus on,
# so there too only the rule differs — but the motifs they call for (hold an anti response in
# preparation, respond now toward the stimulus) do not.

# %%
SWEEPS = {
    "ReactCategoryPro → ReactCategoryAnti, Stimulus (shared)": (
        ("ReactCategoryPro", "Stimulus"),
        ("ReactCategoryAnti", "Stimulus"),
    ),
    "IntegrationModality1 → IntegrationModality2, Stimulus1 (shared)": (
        ("IntegrationModality1", "Stimulus1"),
        ("IntegrationModality2", "Stimulus1"),
    ),
    "DelayAnti Stimulus → ReactPro Response (not shared)": (
        ("DelayAnti", "Stimulus"),
        ("ReactPro", "Response"),
    ),
}
sweeps, setups = {}, {}
for network, net in nets.items():
    for k, (name, (start, end)) in enumerate(SWEEPS.items()):
        rng = np.random.default_rng([params["seed"], k])
        setups[network, name] = pairs.task_periods_setup(net, start, end, rng, n_states=n_states)
    found = fp.interpolate(
        net.step_function(),
        [setups[network, name] for name in SWEEPS],
        n_interp=steps,
        max_q=params["max_q"],
        **finder,
    )
    sweeps.update({(network, name): sweep for name, sweep in zip(SWEEPS, found, strict=True)})
continuity = {key: pairs.sweep_continuity(sweep) for key, sweep in sweeps.items()}
fig = plotting_atlas.plot_sweeps({name: sweeps[first, name] for name in SWEEPS})

# %% [markdown]
# How continuous is each sweep? *max shift*: the largest step of the relevant fixed point
# between consecutive α, over the typical norm of the states (with n steps, a smooth path
# gives about its length / n); *jump ratio*: that largest step over the median step (near 1
# for a steady path, a few for a smooth but uneven one, tens or more at a jump); changes in
# the number of distinct fixed points (points within 1% of the state norm merged) and in
# stability, counted over the n steps, and their sum as a share of the 2n possible.
#
# A sweep *bifurcates* if any count or stability changes. That verdict only tests claim 2 if
# the changes are rare: a saddle-node bifurcation changes each count once (a share of 1/n),
# a structure that holds changes none. Where the share is near 1 in shared and not-shared
# pairs alike, the set of points the search finds changes at almost every step, and the
# verdict is "bifurcates" for any pair: compare the shares, not the verdicts.
#
# Read the shift and the jump ratio of one sweep as rough: they follow a single relevant
# point, whose path among slow points can turn on float32 rounding. When which states shared
# a batch changed (and nothing else), the IntegrationModality1 → 2 sweep of
# `all-softplus-seed0` went from jump ratio 14.8 to 4.9 (benchmarks/RESULTS.md, session 14);
# the bifurcation counts did not change.

# %%
display(plotting_atlas.continuity_table({f"{n}: {name}": c for (n, name), c in continuity.items()}))

# %% [markdown]
# ### Where the states settle
#
# The counts above depend on which slow points the search reaches. A second test follows
# only attractors, found by simulation (`flexmt.analysis.pairs.attractor_switches`): each
# sweep's starting states run for 1,000 steps under every u_k, and a state whose settled
# state moves more than a quarter of the typical state norm between consecutive steps has
# changed attractor. While the attractors deform continuously, few states switch at any step
# (those near a moving basin boundary); when an attractor vanishes, its whole basin switches
# at once. The number is the largest share switching at one step. The least share of states
# settled (moving less than 1% of the norm in 50 more steps) says whether the states reach
# attractors at all: where they do not, they still drift, and the switches compare states in
# motion rather than attractors.

# %%
switches = {
    key: pairs.attractor_switches(
        nets[key[0]].step_function(), setup, n_interp=steps, n_steps=settle_steps
    )
    for key, setup in setups.items()
}
display(plotting_atlas.switch_table({f"{n}: {name}": s for (n, name), s in switches.items()}))

# %% [markdown]
# ## Fig. 4B–C: Context end states and first stimulus updates
#
# Every task receives the same stimuli (MemoryPro's explicit trials at eight angles with the
# rule swapped, `flexmt.analysis.context`); the end state of the Context period and the
# update two steps into the stimulus are compared between all 105 pairs of tasks. The line is
# fitted to all pairs; its R² is also measured on held-out pairs over random 90/10 splits. An
# untrained network of the same preset and seed is the control: a relation it shows too
# comes from the input weights, not from training.

# %%
fits, controls = {}, {}
for k, (network, net) in enumerate(nets.items()):
    states = analysis.context_end_states(net)
    fits[network] = (
        states,
        analysis.linear_fit(
            *states.pairs(), rng=np.random.default_rng([params["seed"], 10 + k]), n_splits=splits
        ),
    )
    untrained = training.initial_networks(training.preset(params["preset"]), [seeds[network]])[0]
    controls[network] = analysis.linear_fit(
        *analysis.context_end_states(untrained).pairs(),
        rng=np.random.default_rng([params["seed"], 20 + k]),
        n_splits=splits,
    )
fig = plotting_atlas.plot_context_end_states(*fits[first])
for network, (_, fit) in fits.items():
    control = controls[network]
    print(
        f"{network}: angle ≈ {fit.slope:.1f}°/unit distance {fit.intercept:+.1f}°, R² "
        f"{fit.r2:.2f} in sample, {fit.r2_mean:.2f} ± {fit.r2_std:.2f} held out; untrained "
        f"control: slope {control.slope:.1f}, held-out R² {control.r2_mean:.2f} ± "
        f"{control.r2_std:.2f}"
    )

# %% [markdown]
# ## The numbers that test claims 2 and 6
#
# Over all networks used (mean ± sd, n networks).

# %%
numbers = {}
for name in SWEEPS:
    values = [continuity[network, name] for network in nets]
    numbers[f"max shift / norm, {name}"] = plotting_atlas.mean_sd([c.max_shift for c in values])
    numbers[f"jump ratio, {name}"] = plotting_atlas.mean_sd([c.jump_ratio for c in values])
    numbers[f"count + stability changes, {name}"] = plotting_atlas.mean_sd(
        [c.count_changes + c.stability_changes for c in values]
    )
changed = {name: sum(continuity[network, name].bifurcates for network in nets) for name in SWEEPS}
shared, not_shared = list(SWEEPS)[:2], list(SWEEPS)[2]
for label, names in (("shared pairs", shared), ("not-shared pair", [not_shared])):
    numbers[f"share of the 2n possible count + stability changes, {label}"] = (
        plotting_atlas.mean_sd([continuity[net, n].change_share for net in nets for n in names])
    )
for name in SWEEPS:
    values = [switches[network, name] for network in nets]
    numbers[f"largest share of states switching attractor at one step, {name}"] = (
        plotting_atlas.mean_sd([v.max_switch for v in values])
    )
    numbers[f"least share of states settled, {name}"] = plotting_atlas.mean_sd(
        [v.min_settled for v in values]
    )
numbers["sweeps with a bifurcation, shared pairs"] = (
    f"{sum(changed[n] for n in shared)} of {len(shared) * len(nets)}"
)
numbers["sweeps with a bifurcation, not-shared pair"] = f"{changed[not_shared]} of {len(nets)}"
numbers["interpolation steps n"] = steps
fit_values = [fit for _, fit in fits.values()]
numbers["slope (° per unit distance)"] = plotting_atlas.mean_sd([f.slope for f in fit_values])
numbers["held-out R², trained"] = plotting_atlas.mean_sd([f.r2_mean for f in fit_values])
numbers["held-out R², untrained control"] = plotting_atlas.mean_sd(
    [c.r2_mean for c in controls.values()]
)
numbers["networks (status)"] = plotting_atlas.status_summary(entries)
for quantity, value in numbers.items():
    print(f"{quantity}: {value}")

# %%
recorded = book.record(
    "fig4_shared_motifs",
    "Fig. 4 (and 3D–E): tasks that share a motif have continuous fixed-point structure "
    "between them, others bifurcate (claim 2); nearby Context end states go with small "
    "angles between first stimulus updates (claim 6)",
    numbers,
    params["out_dir"],
    paper={
        "sweeps with a bifurcation, shared pairs": "none: continuous (Fig. 3D–E)",
        "sweeps with a bifurcation, not-shared pair": "all: bifurcation (Fig. 4D–I)",
        "share of the 2n possible count + stability changes, shared pairs": (
            "0: continuous (Fig. 3D–E)"
        ),
        "share of the 2n possible count + stability changes, not-shared pair": (
            "1/n per bifurcation (Fig. 4D–I)"
        ),
        **{
            f"largest share of states switching attractor at one step, {name}": (
                "≈ 0: attractors deform continuously (Fig. 3D–E)"
                if "(shared)" in name
                else "a basin's share: an attractor vanishes (Fig. 4D–I)"
            )
            for name in SWEEPS
        },
        "slope (° per unit distance)": "positive (Fig. 4C)",
        "held-out R², trained": "high: distance predicts angle (Fig. 4C)",
        "networks (status)": "paper: trained to 0.95–0.999 mean performance",
    },
)
