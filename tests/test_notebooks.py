"""The book's notebooks: each stops at once on a bad parameter and follows the conventions
of ``flexmt.book`` (every ``notebooks/*.py`` is picked up). That each runs in quick mode is
checked in tests/test_book.py, on the quick book.
"""

import json
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest

from flexmt import book, cli, zoo

NAMES = book.notebook_names()
# A value no notebook accepts, for each parameter the notebooks validate.
BAD_VALUES = {
    "task": "NoSuchTask",
    "tasks": ["MemoryPro", "NoSuchTask"],
    "period": "NoSuchPeriod",
    "periods": ["Memory", "NoSuchPeriod"],
    "network": "no-such-network",
    "networks": ["no-such-network"],
    "preset": "no-such-preset",
    "mode": "no-such-mode",
}
BAD_CASES = [(n, p) for n in NAMES for p in book.notebook_parameters(n) if p in BAD_VALUES]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_follows_the_conventions(name):
    nb = book.read_notebook(name)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert set(book.REQUIRED_PARAMETERS) <= set(book.notebook_parameters(name))
    assert "book.check_parameters(" in book.validation_cell(name)
    source = "\n".join(cell.source for cell in nb.cells)
    assert "matplotlib.use(" not in source, "figures must appear inline"
    toc = (book.ROOT / "_toc.yml").read_text()
    assert f"file: book/_generated/{name}\n" in toc, f"add book/_generated/{name} to _toc.yml"


@pytest.mark.parametrize(("name", "parameter"), BAD_CASES)
def test_bad_parameter_stops_at_the_first_cell(name, parameter, tmp_path):
    with pytest.raises(book.NotebookError, match=r"ValueError: .*allowed: ") as err:
        book.execute(name, tmp_path, {parameter: BAD_VALUES[parameter], "quick": True})
    assert err.value.cell_source.strip() == book.validation_cell(name).strip()
    assert "\n" not in str(err.value)


def test_build_stops_at_a_failing_notebook(tmp_path, monkeypatch, capsys):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    head = '# %% [markdown]\n# # {}\n\n# %% tags=["parameters"]\nquick = False\nout_dir = "."\n'
    (notebooks / "fig0_fails.py").write_text(
        head.format("Fails") + '\n# %%\nraise RuntimeError("the motif is missing")\n'
    )
    (notebooks / "fig1_sleeps.py").write_text(
        head.format("Sleeps")
        + "\n# %%\nimport os\nimport time\n\ntime.sleep(3)\n"
        + 'print(os.environ["TF_NUM_INTRAOP_THREADS"], os.environ["TF_NUM_INTEROP_THREADS"])\n'
    )
    monkeypatch.setattr(book, "NOTEBOOKS", notebooks)
    root = book.stage(tmp_path / "root")
    assert book.main(["--root", str(root), "--quick", "--jobs", "0"]) == 1
    assert "jobs must be an integer >= 1; got 0" in capsys.readouterr().err
    assert book.main(["--root", str(root), "--quick", "--jobs", "2"]) == 1
    error = capsys.readouterr().err
    assert "'fig0_fails' stopped: RuntimeError: the motif is missing" in error
    assert not (root / "_build").exists()
    # the notebook running beside the failing one ran to its end, on its share of the cores
    run = nbformat.read(root / book.GENERATED / "fig1_sleeps.ipynb", as_version=4)
    assert run.metadata.papermill.end_time and not run.metadata.papermill.exception
    threads = str(book.kernel_threads(2))
    assert run.cells[-1].outputs[0].text.split() == [threads, threads]


def test_kernel_threads_share_out_the_cores(tmp_path, monkeypatch):
    cores = len(os.sched_getaffinity(0))
    assert [book.kernel_threads(j) for j in (1, 2, cores + 1)] == [cores, max(1, cores // 2), 1]
    with pytest.raises(ValueError, match="threads must be an integer >= 1; got 0"):
        book.execute("supp1_tasks", tmp_path, threads=0)
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    with book._kernel_environment({"TF_NUM_INTRAOP_THREADS": "1"}):
        assert os.environ["TF_NUM_INTRAOP_THREADS"] == "1"
        with pytest.raises(RuntimeError, match="must share one kernel environment"):
            with book._kernel_environment({"TF_NUM_INTRAOP_THREADS": "2"}):
                pass
    assert "TF_NUM_INTRAOP_THREADS" not in os.environ
    assert not list(tmp_path.iterdir())


def test_a_relative_network_path_means_what_it_means_to_the_caller(tmp_path, monkeypatch):
    probe = tmp_path / "probe.py"
    probe.write_text(
        '# %% [markdown]\n# # Probe\n\n# %% tags=["parameters"]\nnetwork = "none"\n'
        'quick = False\nout_dir = "."\n\n# %%\nfrom flexmt import book\n\n'
        "params = book.check_parameters(network=network, out_dir=out_dir)\n"
    )
    (tmp_path / "runs" / "mynet").mkdir(parents=True)
    (tmp_path / "runs" / "mynet" / "config.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    book.execute(probe, "out", {"network": "runs/mynet"})
    assert (tmp_path / "out" / "probe.ipynb").is_file()
    assert not (tmp_path / "out" / "runs").exists()


def test_unknown_notebook_and_parameter_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown notebook 'fig99'; allowed: .*supp1_tasks"):
        book.execute("fig99", tmp_path)
    with pytest.raises(ValueError, match="unknown parameter 'colour' .*allowed: .*quick"):
        book.execute("supp1_tasks", tmp_path, {"colour": "red"})
    with pytest.raises(ValueError, match="unknown parameter 'out_dir'"):
        book.execute("supp1_tasks", tmp_path, {"out_dir": "elsewhere"})
    assert not list(tmp_path.iterdir())


def test_cli_notebook_reports_one_line_errors(tmp_path, capsys):
    assert cli.main(["notebook", "supp1_tasks", "-p", "tasks", "[DelayPro", "--out", "x"]) == 2
    assert cli.main(["notebook", "supp1_tasks", "-p", "colour", "red"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2 and all(e.startswith("flexmt: error: ") for e in errors)
    assert "is not YAML" in errors[0] and "unknown parameter 'colour'" in errors[1]


def test_check_parameters_normalises_and_names_allowed_values():
    params = book.check_parameters(
        tasks=["MemoryPro", "delayanti"], periods=["memory", "stim1"], seeds=[0, 2], quick=False
    )
    assert params["tasks"] == ["delaygo", "delayanti"]
    assert params["periods"] == ["Memory", "Stimulus"]
    assert book.check_parameters(seeds_by_source={"untrained": 4}) == {
        "seeds_by_source": {"untrained": [4]}
    }
    assert book.check_parameters(task="IntegrationModality1", period="stim2")["period"] == (
        "Stimulus2"
    )
    assert book.check_parameters(out_dir="x", colour="red") == {
        "out_dir": Path("x"),
        "colour": "red",
    }
    bad = [
        ({"tasks": ["MemoryPro"], "period": "Stimulus2"}, "unknown period 'Stimulus2'.*Memory"),
        ({"period": "Memory"}, "period needs the task"),
        ({"network": "nowhere"}, "unknown network 'nowhere'.*allowed: "),
        ({"preset": "fig9"}, "unknown preset 'fig9'; allowed: memorypro"),
        ({"seeds": [1, 1]}, "distinct"),
        ({"seeds_by_source": [0, 1]}, "seeds_by_source must map starting points"),
        ({"seeds_by_source": {"untrained": [2, 2]}}, r"seeds_by_source\['untrained'\] must"),
        ({"n_starting_states": 0}, "integer >= 1"),
        ({"quick": "yes"}, "True or False"),
        ({"mode": "train"}, "allowed: test, random"),
    ]
    for values, message in bad:
        with pytest.raises(ValueError, match=message):
            book.check_parameters(**values)


def test_check_parameters_takes_counts_and_sizes_as_int_and_float():
    params = book.check_parameters(
        n_interp=np.int64(20), n_sweep_states=50, trials=256, max_q=1e-5, spacing=1
    )
    assert params == {
        "n_interp": 20,
        "n_sweep_states": 50,
        "trials": 256,
        "max_q": 1e-5,
        "spacing": 1.0,
    }
    assert [type(params[k]) for k in ("n_interp", "spacing")] == [int, float]
    for name, bad in (("n_interp", 0), ("n_sweep_states", 2.5), ("trials", True)):
        with pytest.raises(ValueError, match=f"{name} must be an integer >= 1; got {bad!r}"):
            book.check_parameters(**{name: bad})
    for name, bad in (("max_q", 0.0), ("spacing", "0.3"), ("max_q", -1e-5), ("spacing", False)):
        with pytest.raises(ValueError, match=f"{name} must be a number > 0 .*; got {bad!r}"):
            book.check_parameters(**{name: bad})
    assert book.check_parameters(level=1, recompute=True) == {"level": 1.0, "recompute": True}
    for bad in (0, 1.5, "0.9"):
        with pytest.raises(ValueError, match=f"level must be a number .*; got {bad!r}"):
            book.check_parameters(level=bad)
    with pytest.raises(ValueError, match="recompute must be True or False; got 'yes'"):
        book.check_parameters(recompute="yes")
    assert book.check_parameters(early_trials=[64, np.int64(128)]) == {"early_trials": [64, 128]}
    for bad in ([], 64, [64, 0]):
        with pytest.raises(ValueError, match="early_trials must be .*integers? >= 1"):
            book.check_parameters(early_trials=bad)


def test_resolve_network_finds_original_and_reference_folders(original_dir):
    assert book.resolve_network(original_dir) == original_dir
    for name in zoo.names():
        assert book.resolve_network(name) == zoo.folder(name)


def test_records_round_trip_into_the_report_table(tmp_path):
    book.record(
        "supp1_tasks",
        "Supp. Fig. 1: claim",
        {"tasks drawn": np.int64(15), "ratio": 0.123456, "range": "1–2"},
        tmp_path,
        paper={"tasks drawn": "15"},
    )
    record = json.loads((tmp_path / "records" / "supp1_tasks.json").read_text())
    assert record["numbers"] == {"tasks drawn": 15, "ratio": 0.123456, "range": "1–2"}
    table = book.report_table(book.read_records(tmp_path))
    assert table.values.tolist() == [
        ["Supp. Fig. 1: claim", "tasks drawn", "15", "15"],
        ["", "ratio", "0.1235", "—"],
        ["", "range", "1–2", "—"],
    ]
    with pytest.raises(ValueError, match="have no measured number"):
        book.record("x", "claim", {"a": 1}, tmp_path, paper={"b": "2"})
    with pytest.raises(ValueError, match="numbers or text"):
        book.record("x", "claim", {"a": [1, 2]}, tmp_path)


def test_library_noise_is_dropped_from_stderr():
    # What TensorFlow 2.21 prints on import when the kernel's environment does not quiet it.
    noise = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1795811872.099837   20705 port.cc:153] oneDNN custom operations are on.\n"
        "I0000 00:00:1795811872.135796   20705 cpu_feature_guard.cc:227] This TensorFlow binary "
        "is optimized to use available CPU instructions in performance-critical operations.\n"
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild "
        "TensorFlow with the appropriate compiler flags.\n"
        "2025-01-01 10:00:00.123456: I tensorflow/core/util/port.cc:113] oneDNN custom ops\n"
    )
    assert book._quiet({"output_type": "stream", "name": "stderr", "text": noise}) is None
    kept = book._quiet({"output_type": "stream", "name": "stderr", "text": noise + "100%|##|\n"})
    assert kept["text"] == "100%|##|\n"
    stdout = {"output_type": "stream", "name": "stdout", "text": noise}
    assert book._quiet(stdout) == stdout
