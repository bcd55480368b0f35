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
# # Supp. Fig. 1: the fifteen tasks
#
# **What does each task show the network, what must it answer, and when?** All fifteen tasks
# share one input and one output format, and they are built from a few kinds of period:
# *Context* (fixate while the rule is on), *Stimulus* (one or two angles are shown),
# *Memory* (the stimulus is gone; keep it in mind) and *Response* (report an angle, or keep
# fixating). This page draws one trial of each task with its periods shaded and named, then
# prints when each period starts and ends.
#
# Inputs: fixation, and (sin θ, cos θ) × strength of a stimulus in each of two modalities;
# the one-hot rule input (on for the whole trial) is not drawn. Targets: fixation (0.8 while
# the network must fixate) and (sin, cos) of the response angle. See
# [Methods: tasks](../methods/tasks.md) for the timing of each period.

# %%
import numpy as np
from IPython.display import display

from flexmt import book, plotting
from flexmt import tasks as task_defs

# %% tags=["parameters"]
tasks = "all"  # "all", or a list of paper or code names
mode = "random"  # "random": training timing; "test": the original's grid
seed = 0  # task k draws from default_rng([seed, k])
quick = False  # no effect: this page runs in seconds
out_dir = "results"  # numbers are recorded below this folder

# %%
params = book.check_parameters(tasks=tasks, mode=mode, seed=seed, quick=quick, out_dir=out_dir)

# %% [markdown]
# ## One trial of each task
#
# The first trial of a batch of each task (with `mode="random"`, every period's duration is
# drawn once per batch, as in training; `mode="test"` uses the original code's fixed grid).

# %% tags=["full-width"]
batches = [
    task_defs.make_trials(
        code,
        params["mode"],
        rng=np.random.default_rng([params["seed"], task_defs.TASKS.index(code)]),
        batch_size=16,
    )
    for code in params["tasks"]
]
fig = plotting.plot_tasks(batches)

# %% [markdown]
# ## When each period starts and ends
#
# Start–end of each period in ms, and the length of the trial drawn above.

# %% tags=["full-width"]
table = plotting.period_table(batches)
display(table)

# %%
lengths = table["trial (ms)"]
task_periods = sum(len(task_defs.period_names(code)) - 1 for code in params["tasks"])
print(f"{len(batches)} tasks, {batches[0].x.shape[2]} inputs, {batches[0].y.shape[2]} outputs")
print(f"trials last {lengths.min()}–{lengths.max()} ms ({task_defs.DT} ms per step)")
print(f"{task_periods} task periods besides Context (the rows of the Fig. 3A variance atlas)")

# %%
recorded = book.record(
    "supp1_tasks",
    "Supp. Fig. 1: fifteen tasks built from Context, Stimulus, Memory and Response periods "
    "on shared inputs and outputs",
    {
        "tasks drawn": len(batches),
        "input channels": batches[0].x.shape[2],
        "output channels": batches[0].y.shape[2],
        "task periods besides Context": task_periods,
        "trial lengths drawn (ms)": f"{lengths.min()}–{lengths.max()}",
    },
    params["out_dir"],
    paper={
        "tasks drawn": "15",
        "input channels": "20: fixation, 2 modalities × (sin θ, cos θ), 15 rules",
        "output channels": "3: fixation, sin, cos of the response",
        "task periods besides Context": "49 task periods in the variance atlas (Fig. 3A)",
    },
)
