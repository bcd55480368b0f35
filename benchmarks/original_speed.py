"""The paper's own code on this machine: its training step and its evaluation.

    python benchmarks/original_speed.py --stepnet PATH/flexible_multitask/stepnet --n-rnn 128

Needs a checkout of lauradriscoll/flexible_multitask (timed at 2482af0); nothing of it is part
of flexmt. Builds the original ``Model`` under ``tf.compat.v1`` at the paper's 15-task settings
(softplus, diag init × 0.8, lr 10^-3.5, L2 1e-6 on activity and weights, σ_x 0.1, σ_rec 0.05,
batch 64), times ``--steps`` training steps after ``--warmup``, then ``--evals`` calls of the
original's own evaluation (``train.do_eval``: ``batch_size_test`` trials per task, in ``n_rep``
batches, and a checkpoint). Prints one JSON line, including the time per step with one
evaluation every ``--display-step`` steps (10,000 in the paper's training scripts). Not a
timed test: run it on a quiet machine and record the numbers in benchmarks/RESULTS.md.
"""

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
import types
from collections import defaultdict

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def original_modules(stepnet: str):
    """Import the original ``train``, ``task`` and ``network`` modules from ``stepnet``.

    Their ``task`` module loads a ``.env`` file through python-dotenv (not a flexmt
    dependency) for a ``HOME_DIR`` path that training never reads; a stand-in module answers.
    (That module also makes ``np.load`` unpickle, which is why this runs in its own process
    and imports nothing of flexmt.)
    """
    sys.modules.setdefault("dotenv", types.SimpleNamespace(load_dotenv=lambda *a, **k: False))
    os.environ.setdefault("HOME_DIR", tempfile.gettempdir())
    sys.path.insert(0, stepnet)
    import network
    import task
    import train

    return train, task, network


def paper_hp(train, task, n_rnn: int, seed: int, rng) -> dict:
    """The original's settings dict for the paper's 15-task networks, trials from ``rng``."""
    hp = train.get_default_hp("all")
    hp.update(
        activation="softplus",
        w_rec_init="diag",
        w_rec_coeff=0.8,
        learning_rate=10**-3.5,
        l2_h=1e-6,
        l2_weight=1e-6,
        sigma_x=0.1,
        sigma_rec=0.05,
        n_rnn=n_rnn,
        seed=seed,
        rng=rng,
        rule_trains=task.rules_dict["all"],
        rules=task.rules_dict["all"],
        rule_probs=[1 / 15] * 15,
    )
    return hp


def require_positive(parser: argparse.ArgumentParser, args, names: tuple[str, ...]) -> None:
    """Exit with a usage error naming the first of ``names`` whose value is below 1."""
    for name in names:
        value = getattr(args, name)
        if value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1; got {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stepnet", required=True, help="the original code's stepnet/ folder")
    parser.add_argument("--n-rnn", type=int, default=128)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--evals", type=int, default=1)
    parser.add_argument("--display-step", type=int, default=10_000)
    args = parser.parse_args()
    require_positive(parser, args, ("steps", "evals", "display_step"))
    if not os.path.isfile(os.path.join(args.stepnet, "train.py")):
        parser.error(f"--stepnet {args.stepnet!r} has no train.py: give the stepnet/ folder")
    train, task, network = original_modules(args.stepnet)
    import numpy as np
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    hp = paper_hp(train, task, args.n_rnn, 0, np.random.RandomState(0))
    with tempfile.TemporaryDirectory() as model_dir:
        model = network.Model(model_dir, hp=hp)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(args.warmup):
                sess.run(model.train_step)
            start = time.perf_counter()
            for _ in range(args.steps):
                sess.run(model.train_step)
            ms_per_step = 1000 * (time.perf_counter() - start) / args.steps
            eval_s = []
            for _ in range(args.evals):
                log = defaultdict(list, model_dir=model_dir, trials=[0], times=[0.0])
                start = time.perf_counter()
                with contextlib.redirect_stdout(io.StringIO()):
                    train.do_eval(sess, model, log, hp["rule_trains"])
                eval_s.append(time.perf_counter() - start)
    with_eval = ms_per_step + 1000 * float(np.mean(eval_s)) / args.display_step
    print(
        json.dumps(
            {
                "original": True,
                "n_rnn": args.n_rnn,
                "steps": args.steps,
                "ms_per_step": round(ms_per_step, 2),
                "eval_trials_per_task": hp["batch_size_test"],
                "eval_s": [round(s, 2) for s in eval_s],
                "display_step": args.display_step,
                "ms_per_step_with_eval": round(with_eval, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
