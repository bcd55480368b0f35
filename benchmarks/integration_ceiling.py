"""How well the integration tasks can be done at all under the paper's input noise.

    python benchmarks/integration_ceiling.py --evaluations 500 --seed 0

An observer that knows both stimulus directions and periods averages each stimulus's noisy
input (training trials, σ_x 0.1 scaled as in training) over its period, projected on its
direction, sums the attended modalities and picks the larger; with a symmetric prior on the
strength difference this is the best decision from the inputs alone, so no network (which also
has recurrent noise and must hold the first stimulus through the delay) can do better on
average. Evaluations are drawn as training draws them: ``eval_batches`` batches of
``eval_batch_size`` trials, each batch with its own timing. Prints one JSON line per task: the
observer's mean performance and the share of evaluations in which it reaches ``target_perf``.
Not a timed test: record the numbers in benchmarks/RESULTS.md.
"""

import argparse
import json

import numpy as np

from flexmt import tasks
from flexmt.training import TrainConfig

ATTENDED = {t: tasks.attended_modalities(t) for t in tasks.TASKS if tasks.attended_modalities(t)}


def observer_correct(trials: tasks.Trials, attended: tuple[int, ...]) -> np.ndarray:
    """(B,) bool: whether the observer picks the target of each noisy trial."""
    totals = []
    for i in (1, 2):
        period = trials.period_slice(f"stim{i}")
        theta = trials.params[f"theta{i}"]
        direction = np.stack([np.sin(theta), np.cos(theta)], axis=-1)  # (B, 2)
        mean_input = trials.x[period].mean(axis=0)  # (B, 20)
        totals.append(
            sum(np.sum(mean_input[:, 2 * m - 1 : 2 * m + 1] * direction, axis=1) for m in attended)
        )
    choice = np.where(totals[0] > totals[1], trials.params["theta1"], trials.params["theta2"])
    return choice == trials.params["target"]


def ceiling(task: str, config: TrainConfig, evaluations: int, rng: np.random.Generator) -> dict:
    """The observer's performance on ``evaluations`` regular evaluations of ``task``."""
    scores = np.empty((evaluations, config.eval_batches))
    for e in range(evaluations):
        for b in range(config.eval_batches):
            trials = tasks.make_trials(
                task, "random", rng=rng, batch_size=config.eval_batch_size, sigma_x=config.sigma_x
            )
            scores[e, b] = observer_correct(trials, ATTENDED[task]).mean()
    per_evaluation = scores.mean(axis=1)
    return {
        "task": task,
        "paper_name": tasks.PAPER_NAMES[task],
        "mean_perf": round(float(scores.mean()), 4),
        "share_of_evaluations_at_target": round(
            float(np.mean(per_evaluation >= config.target_perf)), 4
        ),
        "evaluations": evaluations,
        "trials_per_evaluation": config.eval_batches * config.eval_batch_size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    config = TrainConfig(tasks=tasks.TASKS, n_rnn=128)
    rng = np.random.default_rng(args.seed)
    for task in ATTENDED:
        print(json.dumps(ceiling(task, config, args.evaluations, rng)))


if __name__ == "__main__":
    main()
