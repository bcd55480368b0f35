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
# # The reference networks
#
# **Which trained networks does this book stand on, how far did each get, and how can anyone
# retrain it?** The paper's own networks sit in a store we cannot reach, so flexmt trains its
# own with `flexmt train` and ships them in `flexmt/zoo`. The table lists every shipped
# network: its status (the criterion is every task ≥ 0.95 at an evaluation of 256 trials per
# task and again on 2,048 fresh ones; a network still training is marked so and is never
# called trained), steps and trials, wall time and machine, worst-task and mean performance at
# its last evaluation (the 2,048-trial one where it has one), a hash of its parameters, and the
# exact command that reproduces it. `tests/test_zoo.py` re-checks all of this on every test run
# (fresh evaluation, config–log agreement, parameter hash, replay of the first evaluation:
# exact on the CPU model a network was trained on, to float32 rounding on another, since
# the same arithmetic rounds differently on different CPUs). The machine column names every
# CPU model a network trained on, its start's and its resumptions'.

# %%
from IPython.display import Markdown, display

from flexmt import book, plotting, zoo
from flexmt.checkpoint import read_log
from flexmt.tasks import PAPER_NAMES

# %% tags=["parameters"]
quick = False  # no effect: this page only reads the zoo's logs
out_dir = "results"  # numbers are recorded below this folder

# %%
params = book.check_parameters(quick=quick, out_dir=out_dir)

# %%
display(Markdown(zoo.table_markdown()))

# %% [markdown]
# ## Training curves
#
# Performance at every evaluation (256 noisy trials per task) against trials seen.

# %%
entries = zoo.list()
fig = plotting.plot_training_curves({e.name: read_log(e.folder) for e in entries})

# %% [markdown]
# ## Per-task performance at the last evaluation

# %%
for e in entries:
    cells = ", ".join(f"{PAPER_NAMES[t]} {p:.2f}" for t, p in e.perf.items())
    print(f"{e.name} ({e.status}, step {e.steps}): {cells}")

# %%
finished = [e for e in entries if e.status == "criterion"]
book.record(
    "zoo",
    "The reference networks: trained by flexmt until every task reaches 0.95",
    {
        "networks shipped": len(entries),
        "criterion met": len(finished),
        "still training or capped": len(entries) - len(finished),
    },
    params["out_dir"],
    paper={"criterion met": "paper's networks: 0.95–0.999 mean performance"},
)
