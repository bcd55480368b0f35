"""Speed of the fixed-point finder; prints one JSON object per line.

1. ``single_input``: 1000 starting states of a 256-unit softplus network under one input
   (the Memory period of MemoryPro).
2. ``period_sweep``: every (task, period) of a 15-task 128-unit network (49 task periods,
   1000 starting states each) in one call, with the default filtering and Jacobians; then the
   same starting states again with ``keep_all=True`` to count how many converged.

Reference (Golub & Sussillo's FixedPointFinder, 128 units, 1000 states): ~2.2 ms per
optimisation step, 11–12 s for the full 5000 steps, so ~10 min for a 49-period sweep at worst.
Target here: the whole sweep in ≤ 3 min with ≥ 95% of starting states at q < 1e-6.

Usage::

    python benchmarks/fixed_points_speed.py [--net256 FOLDER] [--net128 FOLDER]

A folder that does not exist is replaced by a stand-in, named in the output: a random
256-unit network, or the paper's original 128-unit network trained 300 steps (test fixture).
Wall times depend on what else runs on the machine: each record has the load average and the
process CPU time (all threads) next to the wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from flexmt import fixed_points as fp
from flexmt import load_network, tasks
from flexmt.network import init_network
from flexmt.training import machine_info

ROOT = Path(__file__).resolve().parents[1]
FPF_SECONDS_PER_STEP = 2.2e-3  # 128 units, 1000 states
FPF_SWEEP_WORST_SECONDS = 49 * 11.5


def _emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def _network(folder: Path, stand_in):
    """The network in ``folder`` and a description, or the stand-in if there is none."""
    if (folder / "params.npz").is_file():
        log = json.loads((folder / "log.json").read_text())
        last = log["evaluations"][-1]
        mean_perf = float(np.mean(list(last["perf"].values())))
        return load_network(folder), (
            f"{folder.name} (step {last['step']}, status {log['status']}, "
            f"mean perf {mean_perf:.2f})"
        )
    return stand_in()


def _convergence(q: np.ndarray, iters: np.ndarray) -> dict:
    return {
        "frac_q_below_1e-6": float(np.mean(q < 1e-6)),
        "frac_q_below_1e-12": float(np.mean(q < 1e-12)),
        "iters_median": float(np.median(iters)),
        "iters_p99": float(np.quantile(iters, 0.99)),
        "iters_max": int(iters.max()),
        "state_iterations": int(iters.sum()),
    }


def single_input(folder: Path) -> dict:
    def stand_in():
        net = init_network(256, rng=np.random.default_rng(0), tasks=("delaygo",))
        return net, "random 256-unit softplus network (diag 0.8 init), no trained one found"

    net, description = _network(folder, stand_in)
    trials = tasks.make_trials("delaygo", "test")
    starts = fp.sample_states(net.run(trials.x).h, 1000, np.random.default_rng(1))
    u = fp.period_input(trials, "Memory")
    step = net.step_function()
    began, cpu = time.perf_counter(), time.process_time()
    found = fp.find_fixed_points(step, starts, u, keep_all=True)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    stats = _convergence(found.qstar, found.n_iters)
    unique = found.drop_outliers(starts).unique()
    return {
        "benchmark": "single_input",
        "network": description,
        "n_units": net.n_rnn,
        "n_states": len(starts),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "load_average_1min": os.getloadavg()[0],
        "us_per_state_iteration": round(1e6 * seconds / stats["state_iterations"], 2),
        "n_unique_points": len(unique),
        "n_stable": int(unique.is_stable.sum()),
        **stats,
    }


def period_sweep(folder: Path) -> list[dict]:
    def stand_in():
        original = ROOT / "tests" / "fixtures" / "original" / "original_net_128"
        return load_network(original), "original code's 128-unit network, 300 training steps"

    net, description = _network(folder, stand_in)
    records = []
    for keep_all in (False, True):
        began, cpu = time.perf_counter(), time.process_time()
        found = fp.task_period_fixed_points(net, np.random.default_rng(2), keep_all=keep_all)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        record = {
            "benchmark": "period_sweep" + ("_keep_all" if keep_all else ""),
            "network": description,
            "n_units": net.n_rnn,
            "n_periods": len(found),
            "n_states": 1000 * len(found),
            "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu, 1),
            "load_average_1min": os.getloadavg()[0],
            "speedup_vs_fpf_worst_case": round(FPF_SWEEP_WORST_SECONDS / seconds, 1),
        }
        if keep_all:
            q = np.concatenate([p.qstar for p in found.values()])
            iters = np.concatenate([p.n_iters for p in found.values()])
            record.update(_convergence(q, iters))
            record["fpf_seconds_for_same_iterations"] = round(
                FPF_SECONDS_PER_STEP * record["state_iterations"] / 1000, 1
            )
        else:
            record["points_per_period_median"] = float(np.median([len(p) for p in found.values()]))
        records.append(record)
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    zoo = ROOT / "flexmt" / "zoo"
    parser.add_argument("--net256", type=Path, default=zoo / "memorypro-seed0")
    parser.add_argument("--net128", type=Path, default=zoo / "all-softplus-seed0")
    args = parser.parse_args()
    _emit(
        {
            "benchmark": "machine",
            **machine_info(),
            "load_average_1min": os.getloadavg()[0],
            "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
        }
    )
    _emit(single_input(args.net256))
    for record in period_sweep(args.net128):
        _emit(record)


if __name__ == "__main__":
    main()
