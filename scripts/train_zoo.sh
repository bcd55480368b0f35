#!/usr/bin/env bash
# Train (or continue) the reference networks and transfer runs shipped in flexmt/zoo, one
# queue per argument:
#   scripts/train_zoo.sh QUEUE_FILE
# where each line of QUEUE_FILE is either
#   PRESET SEED [SEED...]                   one group of networks trained with flexmt train
#   transfer SOURCE TASK SEED [SEED...]     one group learning TASK with flexmt transfer
# Every command resumes what an earlier session left; rerunning is always safe. A transfer
# line must come after the lines training its SOURCE networks in the same queue. Two queues
# run at once on the 2-core machine, so each runs TensorFlow on one thread (faster for both
# than two threads each; benchmarks/RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
common=(--out flexmt/zoo --resume --quiet --threads 1)
while read -r first rest; do
    [[ -z "$first" || "$first" == \#* ]] && continue
    if [[ "$first" == transfer ]]; then
        read -r source task seeds <<< "$rest"
        # shellcheck disable=SC2086
        .venv/bin/flexmt transfer --from "$source" --task "$task" --seeds $seeds "${common[@]}" \
            --zoo flexmt/zoo
    else
        # shellcheck disable=SC2086
        .venv/bin/flexmt train --preset "$first" --seeds $rest "${common[@]}"
    fi
done < "$1"
