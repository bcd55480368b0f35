"""Train the paper's own code to the criterion on this machine, resuming across sessions.

    python benchmarks/original_to_criterion.py --stepnet PATH/stepnet --out runs/original-ttc

The original training loop (``stepnet/train.py``) cannot resume, and a session here is cut
after three hours. This runs the same loop on the original's own pieces: its ``Model`` and
training step at the paper's 15-task settings (as ``original_speed.py``), its evaluation
``train.do_eval`` (8,192 trials per task) before the first step and every ``--display-step``
steps (10,000 in the paper's scripts), and its stopping rule: the worst task's performance
above ``--target-perf``. ``--max-hours`` ends a run at that much logged wall time, so that it
can be raced against a known time (a run still short of the criterion then has taken longer).
Left out: the gradient-norm op the original adds to its graph at each
evaluation, for its log only. Every ``--save-every`` steps it saves every variable (weights and
Adam moments) with a TensorFlow checkpoint, then ``progress.json`` (step, wall time so far,
evaluations), written atomically; a rerun resumes from there, losing at most that many steps
and none of the logged wall time. The original draws its trials from a NumPy ``RandomState``,
reseeded at a resume with (seed, step): the trials after a resume are drawn as in training but
are not the ones an unbroken run would have drawn. Imports nothing of flexmt (see
``original_speed.original_modules``). Not a test: a run takes about a day here.
"""

import argparse
import contextlib
import io
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

from original_speed import original_modules, paper_hp, require_positive

PROGRESS = "progress.json"


def write_progress(folder: Path, progress: dict) -> None:
    """Write ``progress.json`` atomically (temporary file, then rename)."""
    tmp = folder / (PROGRESS + ".tmp")
    tmp.write_text(json.dumps(progress, indent=1))
    os.replace(tmp, folder / PROGRESS)


def evaluate(train, sess, model, hp: dict, folder: Path) -> dict[str, float]:
    """The original's ``do_eval``: performance per task (its printout is dropped)."""
    log = defaultdict(list, model_dir=str(folder), trials=[0], times=[0.0])
    with contextlib.redirect_stdout(io.StringIO()):
        train.do_eval(sess, model, log, hp["rule_trains"])
    return {rule: float(log["perf_" + rule][-1]) for rule in hp["rule_trains"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stepnet", required=True, help="the original code's stepnet/ folder")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--n-rnn", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target-perf", type=float, default=0.95)
    parser.add_argument("--max-steps", type=int, default=1_562_500, help="1e8 trials of 64")
    parser.add_argument("--display-step", type=int, default=10_000)
    parser.add_argument("--save-every", type=int, default=1_000)
    parser.add_argument("--eval-trials", type=int, default=8192, help="per task, in 32s")
    parser.add_argument("--max-hours", type=float, default=float("inf"), help="of wall time")
    args = parser.parse_args()
    require_positive(parser, args, ("max_steps", "display_step", "save_every", "eval_trials"))
    if not args.max_hours > 0:
        parser.error(f"--max-hours must be above 0; got {args.max_hours}")
    if args.eval_trials % 32:
        parser.error(f"--eval-trials must be a multiple of 32; got {args.eval_trials}")
    train, task, network = original_modules(args.stepnet)
    import numpy as np
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / PROGRESS
    progress = json.loads(path.read_text()) if path.exists() else None
    settings = {k: getattr(args, k) for k in ("n_rnn", "seed", "target_perf", "display_step")}
    settings["eval_trials"] = args.eval_trials
    if progress is not None and progress["settings"] != settings:
        sys.exit(f"{path} was run with {progress['settings']}; got {settings}")
    if progress is None:
        progress = {"settings": settings, "step": 0, "wall_time": 0.0, "evaluations": []}
    raised = {
        "max_steps": progress["step"] < args.max_steps,
        "max_hours": progress["wall_time"] < 3600 * args.max_hours,
    }
    if raised.get(progress.get("status"), False):
        del progress["status"]  # its cap was raised: train on
    step = progress["step"]
    hp = paper_hp(train, task, args.n_rnn, args.seed, np.random.RandomState([args.seed, step]))
    hp.update(batch_size_test=args.eval_trials, n_rep=args.eval_trials // 32)
    model = network.Model(str(args.out), hp=hp)
    saver = tf.train.Saver(tf.global_variables(), max_to_keep=2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        if step:
            saver.restore(sess, str(args.out / f"state-{step}"))
        saved = step if step else -1  # never rewrite the checkpoint just restored
        start = time.perf_counter() - progress["wall_time"]
        done = bool(progress["evaluations"]) and progress["evaluations"][-1]["step"] == step
        while not progress.get("status"):
            if step % args.display_step == 0 and not done:
                perf = evaluate(train, sess, model, hp, args.out)
                wall = time.perf_counter() - start
                progress["evaluations"].append({"step": step, "wall_time": wall, "perf": perf})
                if min(perf.values()) > args.target_perf:
                    progress["status"] = "criterion"
            if not progress.get("status"):
                if step == args.max_steps:
                    progress["status"] = "max_steps"
                elif time.perf_counter() - start >= 3600 * args.max_hours:
                    progress["status"] = "max_hours"
            if (step % args.save_every == 0 or progress.get("status")) and step != saved:
                saver.save(sess, str(args.out / f"state-{step}"), write_meta_graph=False)
                saved = step
                progress.update(step=step, wall_time=time.perf_counter() - start)
                write_progress(args.out, progress)
            if progress.get("status"):
                break
            sess.run(model.train_step)
            step, done = step + 1, False
    print(json.dumps({k: progress[k] for k in ("step", "wall_time", "status")}))


if __name__ == "__main__":
    main()
