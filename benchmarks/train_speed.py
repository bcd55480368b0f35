"""Training speed: milliseconds per network-step for a group of K networks.

    python benchmarks/train_speed.py --n-rnn 128 --networks 8 --steps 50

Trains a group on the paper's 15-task set at batch 64 (tasks drawn as in training, so the
trial length varies like the real thing) and prints one JSON line. Not a timed test: run it on a
quiet machine and record the numbers in benchmarks/RESULTS.md.
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
                "ms_per_network_step": round(1000 * wall / args.steps / args.networks, 2),
                "cpu_utilisation": round(cpu / wall, 2),
                "machine": training.machine_info(),
            }
        )
    )


if __name__ == "__main__":
    main()
