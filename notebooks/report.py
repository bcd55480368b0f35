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
# # Reproduction report
#
# **Which of the paper's claims does this build reproduce, and with which numbers?** Every
# figure page records its key numbers when it runs (`flexmt.book.record`). This page is
# executed last and gathers them: the paper's claim, the quantity measured here, its value in
# this build, and the paper's own value or statement where it gives one.

# %%
from flexmt import book

# %% tags=["parameters"]
quick = False  # no effect: this page only reads the records
out_dir = "results"  # where the figure notebooks wrote records/

# %%
params = book.check_parameters(quick=quick, out_dir=out_dir)

# %%
records = book.read_records(params["out_dir"])
print(f"pages with recorded numbers: {', '.join(r['name'] for r in records) or 'none'}")
book.report_table(records).style.hide(axis="index")
