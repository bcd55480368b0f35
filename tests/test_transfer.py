"""Transfer through the rule input alone: frozen weights stay bit-identical, motifs speed it up."""

import json
import shutil

import numpy as np
import pytest
from conftest import edit_log

from flexmt import load_network, training, transfer
from flexmt.cli import main
from flexmt.network import init_network
from flexmt.tasks import RULE_START, TASKS


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A small network that learned MemoryPro (its folder template, with {seed})."""
    config = training.TrainConfig(
        tasks=("delaygo",),
        n_rnn=64,
        learning_rate=3e-3,
        max_steps=1500,
        eval_every=250,
        target_perf=0.9,
        preset="pre",
    )
    out = tmp_path_factory.mktemp("zoo")
    (folder,) = training.train(config, [0], out, progress=False)
    assert training.ckpt.read_log(folder)["evaluations"][-1]["perf"]["delaygo"] >= 0.15
    return str(out / "pre-seed{seed}")


def _learn_delaypro(out, init_from, steps=300):
    config = training.TrainConfig(
        tasks=("fdgo",),
        n_rnn=64,
        learning_rate=3e-3,
        max_steps=steps,
        eval_every=50,
        trainable="rule_input",
        init_from=init_from,
        preset="learn",
    )
    (folder,) = training.train(config, [0], out, progress=False)
    return folder


def test_only_the_rule_row_changes(pretrained, tmp_path):
    before = load_network(pretrained.format(seed=0))
    after = load_network(_learn_delaypro(tmp_path, pretrained, steps=20))
    row = RULE_START + TASKS.index("fdgo")
    for name, value in before.params().items():
        if name == "w_in":
            others = np.delete(np.arange(value.shape[0]), row)
            np.testing.assert_array_equal(after.w_in[others], value[others])
            assert not np.array_equal(after.w_in[row], value[row])
        else:
            np.testing.assert_array_equal(getattr(after, name), value, err_msg=name)


def test_motifs_make_transfer_fast(pretrained, tmp_path):
    """MemoryPro holds the motifs DelayPro needs: through its rule row alone, even a partly
    trained MemoryPro network learns DelayPro far faster than an untrained network can."""
    fast = transfer.learning_curve(_learn_delaypro(tmp_path / "a", pretrained))[1]
    slow = transfer.learning_curve(_learn_delaypro(tmp_path / "b", None))[1]
    assert fast[-1] > slow[-1] + 0.2 and fast.mean() > slow.mean() + 0.15, (fast, slow)
    assert fast[-1] > fast[0] + 0.1  # it learned, not just started higher


def test_trials_to_reach_and_performance_at():
    trials, perf = np.array([0, 64, 128, 192]), np.array([0.1, 0.5, 0.92, 0.95])
    assert transfer.trials_to_reach(trials, perf, 0.9) == 128
    assert np.isnan(transfer.trials_to_reach(trials, perf, 0.99))
    at = transfer.performance_at(trials, perf, [0, 100, 128, 192, 193])
    np.testing.assert_array_equal(at, [0.1, 0.5, 0.92, 0.95, np.nan])


def test_transfer_config_and_cli_errors(capsys, tmp_path):
    config = transfer.transfer_config("pretrain-delaypro-memorypro", "MemoryAnti")
    assert config.tasks == ("delayanti",) and config.trainable == "rule_input"
    assert config.init_from.endswith("pretrain-delaypro-memorypro-seed{seed}")
    assert (config.max_steps, config.target_perf, config.learning_rate) == (20_000, 0.95, 10**-3.5)
    held_out = transfer.transfer_config("leave-out-reactanti", "ReactAnti", max_steps=9)
    assert (held_out.max_steps, held_out.target_perf, held_out.n_rnn) == (9, 1.0, 128)
    held_out = transfer.transfer_config("leave-out-reactanti", "ReactAnti")
    assert (held_out.max_steps, held_out.learning_rate) == (72_000, 1e-3)
    with pytest.raises(ValueError, match="already trained on delaygo"):
        transfer.transfer_config("pretrain-delaypro-memorypro", "MemoryPro")
    argv = ["transfer", "--from", "nowhere", "--task", "MemoryAnti", "--out", str(tmp_path)]
    assert main(argv) == 2
    assert "unknown source 'nowhere'" in capsys.readouterr().err
    argv = [
        "transfer",
        "--from",
        "pretrain-delaypro-memorypro",
        "--task",
        "MemoryAnti",
        "--zoo",
        str(tmp_path),
        "--out",
        str(tmp_path / "out"),
    ]
    assert main(argv) == 2
    assert "no finished network to start from at" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_untrained_transfer_from_the_command_line(tmp_path):
    argv = [
        "transfer",
        "--from",
        "untrained",
        "--task",
        "DelayPro",
        "--n-rnn",
        "16",
        "--seeds",
        "0",
        "1",
        "--out",
        str(tmp_path),
        "--max-steps",
        "4",
        "--eval-every",
        "2",
        "--quiet",
    ]
    assert main(argv) == 0
    curve = transfer.learning_curve(tmp_path / "transfer-untrained-fdgo-seed1")
    np.testing.assert_array_equal(curve[0], [0, 128, 256])


def test_a_pretrained_network_is_ready_only_when_its_training_ended(pretrained, tmp_path):
    folder = tmp_path / "pretrain-delaypro-memorypro-seed0"
    shutil.copytree(pretrained.format(seed=0), folder)
    assert transfer.source_ready("pretrain-delaypro-memorypro", 0, tmp_path)
    assert not transfer.source_ready("pretrain-delaypro-memorypro", 1, tmp_path)
    log = json.loads((folder / "log.json").read_text())
    (folder / "log.json").write_text(json.dumps(log | {"status": "running"}))
    assert not transfer.source_ready("pretrain-delaypro-memorypro", 0, tmp_path)
    nan_cost = {t: float("nan") for t in log["evaluations"][-1]["cost"]}
    log["evaluations"][-1]["cost"] = nan_cost
    (folder / "log.json").write_text(json.dumps(log | {"status": "diverged"}))
    assert not transfer.source_ready("pretrain-delaypro-memorypro", 0, tmp_path)
    assert transfer.source_ready("untrained", 0, tmp_path)
    config = transfer.transfer_config("pretrain-delaypro-memorypro", "MemoryAnti", zoo=tmp_path)
    with pytest.raises(ValueError, match="seed0: transfer starts only from a network whose"):
        transfer.learn(config, [0], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_runs_are_loaded_when_shipped_or_learned_from_ready_networks(tmp_path):
    zoo_dir, out = tmp_path / "zoo", tmp_path / "out"
    zoo_dir.mkdir()
    kept = {"zoo": zoo_dir, "recompute": True}
    assert transfer.runs("pretrain-delaypro-memorypro", "MemoryAnti", [0], out, **kept) == {}
    assert not out.exists()
    small = {"n_rnn": 16, "max_steps": 4, "eval_every": 2}
    learned = transfer.runs("untrained", "MemoryAnti", [0, 1], out, **kept, **small)
    assert sorted(learned) == [0, 1]
    assert learned[1] == out / transfer.run_name("untrained", "delayanti", 1)
    shutil.copytree(learned[1], zoo_dir / learned[1].name)
    shipped = transfer.runs("untrained", "MemoryAnti", [0, 1], out, zoo=zoo_dir)
    assert shipped == {1: zoo_dir / learned[1].name}
    unfinished = shutil.copytree(learned[0], zoo_dir / learned[0].name)

    def still_learning(log):
        del log["evaluations"][-1]
        log["status"] = "running"

    edit_log(unfinished, still_learning)
    assert transfer.runs("untrained", "MemoryAnti", [0, 1], out, zoo=zoo_dir) == shipped
    scratch = transfer.runs("scratch", "MemoryAnti", [0], out, **kept, **small)
    assert scratch == {0: out / "single-memoryanti-seed0"}
    assert load_network(scratch[0]).n_rnn == 16
    with pytest.raises(ValueError, match="from scratch 'delaygo'; allowed: delayanti"):
        transfer.run_name("scratch", "MemoryPro", 0)
    with pytest.raises(ValueError, match="unknown source 'nowhere'"):
        transfer.check_sources(["untrained", "nowhere"])
    with pytest.raises(ValueError, match="non-empty list"):
        transfer.check_sources("untrained")


def test_variance_in_pretrained_pcs():
    net = init_network(32, rng=np.random.default_rng(0))
    everything = transfer.variance_in_pretrained_pcs(net, ["MemoryPro"], "MemoryAnti", 32)
    assert everything == pytest.approx(1.0, abs=1e-9)
    own = transfer.variance_in_pretrained_pcs(net, ["MemoryAnti"], "MemoryAnti", 2)
    other = transfer.variance_in_pretrained_pcs(net, ["DelayPro"], "MemoryAnti", 2)
    assert 0 < other < own < 1  # a task's own top PCs hold the most of its variance
