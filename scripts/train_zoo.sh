#!/usr/bin/env bash
# Train (or continue) the reference networks shipped in flexmt/zoo, one queue per argument.
#   scripts/train_zoo.sh QUEUE_FILE      where each line of QUEUE_FILE is "PRESET SEED [SEED...]"
# Every command resumes what an earlier session left; rerunning is always safe.
set -euo pipefail
cd "$(dirname "$0")/.."
while read -r preset seeds; do
    [[ -z "$preset" || "$preset" == \#* ]] && continue
    # shellcheck disable=SC2086
    .venv/bin/flexmt train --preset "$preset" --seeds $seeds --out flexmt/zoo --resume --quiet
done < "$1"
