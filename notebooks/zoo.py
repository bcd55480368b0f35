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
# exact command that reproduces it. Every build of this page re-checks all of this (below:
# config–log agreement, parameter hash, fresh evaluation, replay of the first evaluation:
# exact on the CPU model a network was trained on, to float32 rounding on another, since
# the same arithmetic rounds differently on different CPUs) and stops the build if any
# network fails. The machine column names every CPU model a network trained on, its start's
# and its resumptions'.

# %%
from IPython.display import Markdown, display

from flexmt import book, plotting, zoo
from flexmt.checkpoint import read_log
from flexmt.tasks import PAPER_NAMES

# %% tags=["parameters"]
quick = False  # True: check records and hashes only, without running any network
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

# %% [markdown]
# ## Verified in this build
#
# `flexmt.zoo.verify` on every network: its records (config, log and recorded command agree;
# the status follows from the log) and, once finished, its parameter hash and a fresh
# evaluation of 256 noisy trials per task against its logged final performance (binomial
# tolerance); then each group re-initialised from its recorded config and seeds must
# reproduce its logged step-0 evaluation. `flexmt zoo verify --retrain NAME` also replays
# the first training steps (done when a network is shipped).

# %%
problems = zoo.verify(recompute=not params["quick"])


def checks(e: zoo.ZooEntry) -> str:
    """The checks run on one network here."""
    done = ["records"] + (["hash"] if e.finished else [])
    if not params["quick"]:
        done += (["fresh evaluation"] if e.finished else []) + ["step-0 replay"]
    return ", ".join(done) + ("" if e.finished else " (unfinished: no final parameters yet)")


def result(e: zoo.ZooEntry) -> str:
    """'ok', or the problems found, as one table cell."""
    return "; ".join(problems[e.name]).replace("|", "\\|") or "ok"


display(
    Markdown(
        "| network | checked | result |\n|---|---|---|\n"
        + "\n".join(f"| {e.name} | {checks(e)} | {result(e)} |" for e in entries)
    )
)
failed = {name: found for name, found in problems.items() if found}
if failed:
    raise RuntimeError(
        "shipped networks failed verification: "
        + "; ".join(f"{name}: {', '.join(found)}" for name, found in failed.items())
    )

# %%
finished = [e for e in entries if e.status == "criterion"]
book.record(
    "zoo",
    "The reference networks: trained by flexmt until every task reaches 0.95",
    {
        "networks shipped": len(entries),
        "criterion met": len(finished),
        "still training or capped": len(entries) - len(finished),
        "networks verified in this build": (
            f"{len(problems)} ({'records and hashes only, quick' if params['quick'] else 'full'})"
        ),
    },
    params["out_dir"],
    paper={"criterion met": "paper's networks: 0.95–0.999 mean performance"},
)
