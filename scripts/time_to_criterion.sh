#!/usr/bin/env bash
# Issue 2's time to a trained 15-task network: one all-softplus network (the paper's settings,
# 128 units) on the fastest one-network setting of benchmarks/RESULTS.md, alone on the machine,
# its step cap raised to the original code's fixed length (1e8 trials = 1,562,500 steps of 64).
# Rerun it in every session: it resumes where the last one stopped. Steps, trials and wall
# time of every evaluation are in runs/time-to-criterion/all-softplus-seed3/log.json.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/flexmt train --preset all-softplus --seeds 3 --out runs/time-to-criterion \
    --max-steps 1562500 --threads 1 --batch-splits 2 --resume --quiet
