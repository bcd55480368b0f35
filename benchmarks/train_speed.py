"""Training speed: milliseconds per network-step for a group of K networks.

    python benchmarks/train_speed.py --n-rnn 128 --networks 8 --steps 50

Trains a group on the paper's 15-task set at batch 64 (tasks drawn as in training, so the
trial length varies like the real thing) and prints one JSON line. With ``--evals E`` it also
times E regular evaluations and adds the time per step with one every ``eval_every`` steps, as
in training (the confirming evaluation, run only once an evaluation meets the criterion, is not
counted). Not a timed test: run it on a quiet machine and record the numbers in
benchmarks/RESULTS.md.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from flexmt import tasks, training  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-rnn", type=int, default=128)
    parser.add_argument("--networks", type=int, default=1)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=15)
    parser.add_argument("--streams", type=int, help="concurrent parts (default: as training)")
    parser.add_argument("--threads", type=int, help="TensorFlow threads (default: one per core)")
    parser.add_argument("--batch-splits", type=int, default=1, help="see TrainConfig")
    parser.add_argument("--evals", type=int, default=0, help="regular evaluations to time")
    args = parser.parse_args()
    if args.threads is not None:
        training.set_threads(args.threads)
    config = training.TrainConfig(
        tasks=tasks.TASKS, n_rnn=args.n_rnn, batch_splits=args.batch_splits
    )
    seeds = list(range(args.networks))
    state = training.GroupState.start(training.initial_networks(config, seeds))
    trainer = training.GroupTrainer(config, seeds, state, n_streams=args.streams)
    for _ in range(args.warmup):
        trainer.train_step()
    cpu0, start = os.times(), time.perf_counter()
    for _ in range(args.steps):
        trainer.train_step()
    wall = time.perf_counter() - start
    cpu1 = os.times()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    ms_per_network_step = 1000 * wall / args.steps / args.networks
    eval_s = []
    if args.evals:
        trainer.evaluate()  # warm-up: traces the evaluation graph
    for _ in range(args.evals):
        start = time.perf_counter()
        trainer.evaluate()
        eval_s.append(time.perf_counter() - start)
    evals = {}
    if eval_s:
        per_step = 1000 * sum(eval_s) / len(eval_s) / config.eval_every / args.networks
        evals = {
            "eval_s": [round(e, 2) for e in eval_s],
            "eval_every": config.eval_every,
            "ms_per_network_step_with_eval": round(ms_per_network_step + per_step, 2),
        }
    print(
        json.dumps(
            {
                "n_rnn": args.n_rnn,
                "networks": args.networks,
                "steps": args.steps,
                "batch_size": config.batch_size,
                "streams": len(trainer._parts),
                "batch_splits": args.batch_splits,
                "ms_per_step": round(1000 * wall / args.steps, 2),
                "ms_per_network_step": round(ms_per_network_step, 2),
                "cpu_utilisation": round(cpu / wall, 2),
                **evals,
                "machine": training.machine_info(),
            }
        )
    )


if __name__ == "__main__":
    main()
