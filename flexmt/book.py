"""The companion book: run its notebooks, record their numbers, build the HTML.

The book is a Jupyter Book 1.x (Sphinx) configured by ``_config.yml`` and ``_toc.yml`` at the
top of the repository. Prose pages are MyST Markdown files in ``book/``; every figure is a
notebook in ``notebooks/``, stored as a Jupytext ``py:percent`` file. ``make book`` runs
``python -m flexmt.book``, which

1. draws the prose pages' figures (the task schematic) into ``book/_generated/figures``;
2. executes every notebook with papermill (read by Jupytext in memory) into
   ``book/_generated/<name>.ipynb`` -- figure notebooks in name order, ``--jobs`` of them at
   a time, each kernel on its share of the cores (:func:`kernel_threads`), then ``report``,
   which gathers the numbers the others recorded;
3. runs ``jupyter-book build`` with notebook execution off and Sphinx warnings as errors,
   writing ``_build/html``.

A notebook that raises stops the build with :class:`NotebookError`, whose one-line message
names the notebook, the error and the cell. One notebook with other parameters::

    flexmt notebook supp1_tasks -p tasks "[MemoryPro, MemoryAnti]" -p seed 3 --out runs/nb

To write a figure notebook, copy ``notebooks/supp1_tasks.py`` (the tests pick up every
``notebooks/*.py`` by themselves) and keep its shape:

- The first cell is Markdown: the figure's title and the question the page answers; then a
  code cell of imports.
- One code cell is tagged ``parameters`` (``# %% tags=["parameters"]``) and assigns every
  knob a literal default. ``quick`` (bool) and ``out_dir`` (str) are required: the tests run
  every notebook with ``quick=True`` (keep that under a minute), and files the notebook
  writes go below ``out_dir``. The build injects ``out_dir`` in a hidden cell.
- The next code cell validates them: ``params = book.check_parameters(network=network, ...)``
  raises ``ValueError`` naming the allowed values, so a bad parameter stops the notebook
  there with one clear message.
- Computation lives in ``flexmt``; draw with :mod:`flexmt.plotting`; never call
  ``matplotlib.use`` (figures must appear inline).
- The notebook ends with :func:`record`, whose numbers appear on the Reproduction report
  page beside the paper's values::

      book.record("fig1_memorypro", "Fig. 1: MemoryPro's memory period is a ring attractor",
                  {"fixed points on the ring": n_ring, "max |λ| on the ring": max_abs_eig},
                  params["out_dir"], paper={"max |λ| on the ring": "≈ 1 (marginally stable)"})

- Add the page to ``_toc.yml`` (``book/_generated/<name>``) under "Figures".
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from flexmt import tasks as task_defs

if TYPE_CHECKING:
    import nbformat
    import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
GENERATED = Path("book", "_generated")  # below a book root; git-ignored
BOOK_SOURCES = ("_config.yml", "_toc.yml", "book")
REPORT = "report"  # the notebook that gathers every record; executed last
RECORDS, FIGURES = "records", "figures"
REQUIRED_PARAMETERS = ("quick", "out_dir")
MODES = ("test", "random")  # the trial modes a notebook's ``mode`` parameter may take
# Notebook parameters that are counts (integers >= 1) and sizes (numbers > 0).
COUNT_PARAMETERS = ("n_starting_states", "n_sweep_states", "n_interp", "trials", "n_pcs")
POSITIVE_PARAMETERS = ("max_q", "spacing")
# Fixed-point finder settings of quick mode: at most 500 Adam iterations per state (default
# 5000; most states stop after 1,400-2,400). Enough to run every step of a page, not to
# converge as far as its numbers need.
QUICK_FINDER = {"max_iters": 500}
KERNEL_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "2",  # TensorFlow's start-up lines never reach a page
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # the kernel's debugger warning on frozen modules
}
# Lines that C++ libraries print on stderr (captured by the kernel) and that are no content.
_NOISE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] "  # TensorFlow's C++ log
    r"|[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ "  # absl log
    r"|WARNING: All log messages before absl::InitializeLog"
    r"|.*(oneDNN custom operations|TensorFlow binary is optimized|appropriate compiler flags"
    r"|Unable to register cu\w+ factory|cuda drivers on your machine))"
)


class NotebookError(ValueError):
    """A notebook that raised: the message names the notebook, the error and the cell.

    Attributes
    ----------
    cell_source : source of the cell that raised.
    """

    def __init__(self, message: str, cell_source: str = "") -> None:
        super().__init__(message)
        self.cell_source = cell_source


# ----------------------------------------------------------------------------- notebooks
def notebook_names() -> list[str]:
    """Names of the notebooks (``notebooks/*.py`` stems) in build order: ``report`` last."""
    names = sorted(path.stem for path in NOTEBOOKS.glob("*.py"))
    return [n for n in names if n != REPORT] + [n for n in names if n == REPORT]


def notebook_path(name: str | Path) -> Path:
    """Path of a notebook given its name (``supp1_tasks``) or a path to a ``.py`` file."""
    path = Path(name)
    if path.suffix == ".py" and path.is_file():
        return path
    path = NOTEBOOKS / f"{name}.py"
    if path.is_file():
        return path
    raise ValueError(f"unknown notebook {str(name)!r}; allowed: {', '.join(notebook_names())}")


def read_notebook(name: str | Path) -> nbformat.NotebookNode:
    """The notebook as an ``nbformat.NotebookNode``, converted from py:percent by Jupytext."""
    import jupytext

    return jupytext.read(notebook_path(name))


def _tagged(nb: nbformat.NotebookNode, tag: str) -> int:
    for index, cell in enumerate(nb.cells):
        if tag in cell.metadata.get("tags", []):
            return index
    raise ValueError(f"notebook has no cell tagged {tag!r}")


def _parameters_of(nb: nbformat.NotebookNode) -> dict[str, object]:
    defaults = {}
    for node in ast.parse(nb.cells[_tagged(nb, "parameters")].source).body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if isinstance(target, ast.Name) and node.value is not None:
            defaults[target.id] = ast.literal_eval(node.value)
    return defaults


def notebook_parameters(name: str | Path) -> dict[str, object]:
    """The parameters of a notebook and their defaults, read from its ``parameters`` cell."""
    return _parameters_of(read_notebook(name))


def validation_cell(name: str | Path) -> str:
    """Source of the first code cell after the ``parameters`` cell (where a notebook checks
    its parameters)."""
    nb = read_notebook(name)
    later = nb.cells[_tagged(nb, "parameters") + 1 :]
    return next(cell.source for cell in later if cell.cell_type == "code")


class _KernelEnvironment:
    """Environment inherited by kernels: quiet TensorFlow, matplotlib's inline backend, and
    optionally TensorFlow's thread counts.

    Set while any notebook of this process runs (several may, on threads, and must then ask
    for the same environment) and restored when the last one ends.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._current: dict[str, str] = {}
        self._saved: dict[str, str | None] = {}

    @contextlib.contextmanager
    def __call__(self, extra: Mapping[str, str]) -> Iterator[None]:
        wanted = {**KERNEL_ENVIRONMENT, **extra}
        with self._lock:
            if not self._running:
                keys = (*wanted, "MPLBACKEND")
                self._saved = {key: os.environ.get(key) for key in keys}
                os.environ.update(wanted)
                os.environ.pop("MPLBACKEND", None)  # a forced backend would hide the figures
                self._current = wanted
            elif wanted != self._current:
                raise RuntimeError(
                    f"notebooks running at once must share one kernel environment; {wanted} "
                    f"asked for while {self._current} is set"
                )
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if not self._running:
                    for key, value in self._saved.items():
                        if value is None:
                            os.environ.pop(key, None)
                        else:
                            os.environ[key] = value


_kernel_environment = _KernelEnvironment()


def _quiet(output: dict) -> dict | None:
    """An output without library noise on stderr; None if nothing else was in it."""
    if output.get("output_type") != "stream" or output.get("name") != "stderr":
        return output
    lines = [line for line in output["text"].splitlines(True) if not _NOISE.match(line)]
    if not "".join(lines).strip():
        return None
    return {**output, "text": "".join(lines)}


def _tidy(path: Path) -> None:
    """Hide the injected-parameters cell and drop stderr noise of an executed notebook."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
        if cell.cell_type == "code":
            cell.outputs = [nbformat.from_dict(o) for o in map(_quiet, cell.outputs) if o]
    nbformat.write(nb, path)


def execute(
    name: str | Path,
    out_dir: str | Path,
    parameters: Mapping[str, object] | None = None,
    *,
    threads: int | None = None,
) -> Path:
    """Execute one notebook with papermill, in memory from its py:percent file.

    Parameters
    ----------
    name : notebook name (``supp1_tasks``) or path to its ``.py`` file.
    out_dir : folder that receives ``<name>.ipynb`` and everything the notebook writes (it is
        injected as the notebook's ``out_dir`` parameter).
    parameters : values for the notebook's other parameters, e.g. ``{"quick": True}``. The
        kernel runs in the caller's working directory, so a relative path among them (a
        network folder) means what it means to the caller.
    threads : TensorFlow threads of the kernel, within and across operations (None:
        TensorFlow's default, one per core). Notebooks run side by side should share out the
        cores (:func:`kernel_threads`).

    Returns
    -------
    Path of the executed notebook.

    Raises
    ------
    ValueError
        For an unknown notebook or parameter, or a bad thread count.
    NotebookError
        When a cell raises (the executed notebook is still written, up to that cell).
    """
    import papermill
    from traitlets.config import Config

    path = notebook_path(name)
    if threads is not None:
        _natural("threads", threads, 1)
    nb = read_notebook(path)
    defaults = _parameters_of(nb)
    missing = [p for p in REQUIRED_PARAMETERS if p not in defaults]
    if missing:
        raise ValueError(f"notebook {path.stem!r} lacks the required parameters {missing}")
    parameters = dict(parameters or {})
    unknown = sorted(p for p in parameters if p not in defaults or p == "out_dir")
    if unknown:
        allowed = ", ".join(p for p in defaults if p != "out_dir")
        raise ValueError(
            f"unknown parameter {unknown[0]!r} of notebook {path.stem!r}; allowed: {allowed} "
            "(the output folder is the out_dir argument, --out on the command line)"
        )
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / f"{path.stem}.ipynb"
    try:
        with _kernel_environment(_thread_environment(threads)):
            papermill.execute_notebook(
                nb,
                str(output),
                parameters={**parameters, "out_dir": str(out_dir)},
                kernel_name="python3",
                language="python",
                cwd=str(Path.cwd()),
                progress_bar=False,
                # Encrypted kernel channels; the kernel warns on every start otherwise.
                config=Config({"KernelManager": {"transport_encryption": "auto"}}),
                # jupyter_client interrupts the kernel before shutting it down, which it may
                # log as an error; cell errors reach the notebook whatever this level.
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            )
    except papermill.PapermillExecutionError as err:
        first_line = err.source.strip().splitlines()[0] if err.source.strip() else ""
        raise NotebookError(
            f"notebook {path.stem!r} stopped: {err.ename}: {err.evalue} "
            f"(in the cell starting {first_line!r}; see {output})",
            err.source,
        ) from None
    finally:
        if output.is_file():
            _tidy(output)
    return output


# ----------------------------------------------------------------------------- parameters
def resolve_network(name: str | Path) -> Path:
    """Folder of a network given its path or the name of a reference network (:mod:`flexmt.zoo`).

    Raises ValueError naming the reference networks.
    """
    from flexmt import zoo

    path = Path(name)
    if (path / "config.json").is_file() or (path / "hp.json").is_file():
        return path
    available = zoo.names()
    if str(name) in available:
        return zoo.folder(str(name))
    raise ValueError(
        f"unknown network {str(name)!r}: not a network folder; allowed: "
        f"{', '.join(available) or 'no reference network yet'}, or a network folder's path"
    )


def _natural(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def _positive(name: str, value) -> float:
    numeric = isinstance(value, int | float | np.integer | np.floating)
    if isinstance(value, bool) or not numeric or not value > 0:
        raise ValueError(f"{name} must be a number > 0 (e.g. 1e-6); got {value!r}")
    return float(value)


def _counts(name: str, values) -> list[int]:
    if not isinstance(values, list | tuple) or not values:
        raise ValueError(f"{name} must be a non-empty list of integers >= 1; got {values!r}")
    return [_natural(name, v, 1) for v in values]


def _fraction(name: str, value) -> float:
    if _positive(name, value) > 1:
        raise ValueError(f"{name} must be a number in (0, 1] (e.g. 0.9); got {value!r}")
    return float(value)


def _check_choice(name: str, value, allowed: Sequence) -> object:
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; allowed: {', '.join(map(str, allowed))}")
    return value


def _check_preset(value: str) -> str:
    from flexmt.training import PRESETS

    return _check_choice("preset", value, tuple(PRESETS))


def _check_seeds(name: str, value) -> list[int]:
    seeds = [value] if isinstance(value, int) else list(value)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"{name} must be distinct integers >= 0; got {value!r}")
    return [_natural("seed", s, 0) for s in seeds]


def _check_seeds_by_source(value) -> dict[str, list[int]]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError(
            f"seeds_by_source must map starting points to lists of seeds; got {value!r}"
        )
    return {source: _check_seeds(f"seeds_by_source[{source!r}]", v) for source, v in value.items()}


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return value


_CHECKS = {
    "task": task_defs.canonical_task,
    "tasks": task_defs.canonical_tasks,
    "network": resolve_network,
    "preset": _check_preset,
    "seed": lambda v: _natural("seed", v, 0),
    **{name: functools.partial(_check_seeds, name) for name in ("seeds", "scratch_seeds")},
    "seeds_by_source": _check_seeds_by_source,
    "mode": lambda v: _check_choice("mode", v, MODES),
    **{name: functools.partial(_natural, name, minimum=1) for name in COUNT_PARAMETERS},
    **{name: functools.partial(_positive, name) for name in POSITIVE_PARAMETERS},
    "level": functools.partial(_fraction, "level"),
    "early_trials": functools.partial(_counts, "early_trials"),
    "quick": lambda v: _check_bool("quick", v),
    "recompute": lambda v: _check_bool("recompute", v),
    "out_dir": Path,
}


def check_parameters(**values) -> dict[str, object]:
    """Validate a notebook's parameters and return them normalised.

    Call it in the first code cell after the ``parameters`` cell with every parameter, so a
    bad value stops the notebook there with one message naming the allowed values.

    Parameters
    ----------
    **values : parameters by name. Checked by name: ``task`` and ``tasks`` (code or paper
        names, or ``"all"``; returned as code names), ``period`` and ``periods`` (reader names
        or code keys, checked against ``task``/``tasks``; returned as reader names),
        ``network`` (a path or a reference network of ``flexmt/zoo``; returned as a Path),
        ``preset``, ``seed``, ``seeds`` and ``scratch_seeds``, ``seeds_by_source`` (starting
        point → seeds), ``mode`` (``"test"`` or
        ``"random"``), the counts ``n_starting_states``, ``n_sweep_states``, ``n_interp``
        (interpolation steps), ``trials`` and ``n_pcs`` (principal components; integers >= 1,
        returned as int), the sizes ``max_q`` (q threshold of fixed points) and ``spacing``
        (merging distance of fixed points; numbers > 0, returned as float), ``level`` (a
        performance in (0, 1]), ``early_trials`` (a list of trial counts), the flags ``quick``
        and ``recompute``, ``out_dir`` (returned as a Path). Other names
        are returned unchanged.

    Returns
    -------
    The values by name, normalised.

    Raises
    ------
    ValueError
        Naming the bad value and the allowed ones.
    """
    out = {name: _CHECKS.get(name, lambda v: v)(value) for name, value in values.items()}
    codes = [out["task"]] if "task" in out else out.get("tasks", [])
    for key, many in (("period", False), ("periods", True)):
        if key in out:
            if not codes:
                raise ValueError(f"{key} needs the task or tasks it belongs to")
            names = out[key] if many else [out[key]]
            readers = [_reader_name(code, period) for period in names for code in codes]
            out[key] = list(dict.fromkeys(readers)) if many else readers[0]
    return out


def _reader_name(task: str, period: str) -> str:
    key = task_defs.period_key(task, period)
    return next(n for n in task_defs.period_names(task) if task_defs.period_key(task, n) == key)


# ----------------------------------------------------------------------------- records
def _plain(value) -> object:
    value = value.item() if isinstance(value, np.generic) else value
    if not isinstance(value, bool | int | float | str):
        raise ValueError(f"recorded numbers must be numbers or text; got {type(value).__name__}")
    return value


def record(
    name: str,
    claim: str,
    numbers: Mapping[str, object],
    out_dir: str | Path,
    *,
    paper: Mapping[str, str] | None = None,
) -> Path:
    """Write a notebook's key numbers for the Reproduction report page.

    Parameters
    ----------
    name : the notebook's name (``supp1_tasks``).
    claim : the paper's claim the page tests, one sentence starting with the figure, e.g.
        ``"Fig. 1: MemoryPro's memory period is a ring attractor"``.
    numbers : quantity → measured value (number or short text; numpy scalars are accepted).
    out_dir : the notebook's ``out_dir``; the record goes to ``out_dir/records/<name>.json``.
    paper : quantity → the paper's value or statement, shown beside the measured one (a key
        of ``numbers`` each; quantities without one show "—").

    Returns
    -------
    Path of the JSON file.
    """
    from flexmt.checkpoint import write_json

    paper = dict(paper or {})
    stray = sorted(set(paper) - set(numbers))
    if stray:
        raise ValueError(f"paper values {stray} have no measured number; numbers: {list(numbers)}")
    document = {
        "name": name,
        "claim": claim,
        "numbers": {str(k): _plain(v) for k, v in numbers.items()},
        "paper": {str(k): str(v) for k, v in paper.items()},
    }
    path = Path(out_dir) / RECORDS / f"{name}.json"
    write_json(path, document)
    return path


def read_records(out_dir: str | Path) -> list[dict]:
    """The records written below ``out_dir``, in build order (see :func:`notebook_names`)."""
    paths = {p.stem: p for p in (Path(out_dir) / RECORDS).glob("*.json")}
    order = notebook_names()
    ranked = sorted(paths, key=lambda n: (order.index(n) if n in order else len(order), n))
    return [json.loads(paths[n].read_text()) for n in ranked]


def _text(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def report_table(records: Sequence[dict]) -> pd.DataFrame:
    """The records as one table, a row per number.

    Returns
    -------
    ``pandas.DataFrame`` with columns "paper's claim" (given on the first row of each record
    only), "quantity", "measured here" and "paper" (text; "—" where the paper gives none).
    """
    import pandas as pd

    rows = [
        ("" if k else rec["claim"], quantity, _text(value), rec["paper"].get(quantity, "—"))
        for rec in records
        for k, (quantity, value) in enumerate(rec["numbers"].items())
    ]
    return pd.DataFrame(rows, columns=["paper's claim", "quantity", "measured here", "paper"])


# ----------------------------------------------------------------------------- build
def draw_prose_figures(folder: str | Path) -> list[Path]:
    """Draw the figures of the prose pages (the task schematic) as PNG files into ``folder``."""
    import matplotlib.pyplot as plt

    from flexmt import plotting

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "task_schematic.png"
    fig = plotting.plot_task_schematic()
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return [path]


def stage(dest: str | Path) -> Path:
    """Copy the book's sources (configuration and prose, not generated files) to ``dest``,
    to build the book elsewhere (the tests build a quick book in a temporary folder)."""
    dest = Path(dest)
    for source in BOOK_SOURCES:
        src = ROOT / source
        if src.is_dir():
            shutil.copytree(
                src, dest / source, ignore=shutil.ignore_patterns("_generated"), dirs_exist_ok=True
            )
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / source)
    return dest


def _jupyter_book(root: Path) -> None:
    executable = Path(sys.executable).with_name("jupyter-book")
    command = [
        str(executable if executable.is_file() else "jupyter-book"),
        "build",
        str(root),
        "--config",
        str(root / "_config.yml"),
        "--toc",
        str(root / "_toc.yml"),
        "--builder",
        "html",
        "--all",  # re-read every page, so no warning hides in a cached one
        "-W",  # warnings are errors; no --keep-going
    ]
    result = subprocess.run(command, env={**os.environ, **KERNEL_ENVIRONMENT}, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed (exit {result.returncode}): see above")


def build(root: str | Path = ROOT, *, quick: bool = False, jobs: int = 1) -> Path:
    """Execute every notebook and build the HTML book.

    Parameters
    ----------
    root : folder holding ``_config.yml``, ``_toc.yml`` and ``book/`` (see :func:`stage`).
    quick : run the notebooks with ``quick=True`` (for tests).
    jobs : figure notebooks executed at once, each in its own kernel with
        :func:`kernel_threads` TensorFlow threads; the report runs last, alone. A failing
        notebook stops the build once the notebooks running beside it end.

    Returns
    -------
    Path of the HTML folder, ``root/_build/html``.
    """
    threads = kernel_threads(jobs)
    root = Path(root).resolve()
    generated = root / GENERATED
    for stale in (generated, root / "_build" / "html"):  # no page of an earlier build survives
        shutil.rmtree(stale, ignore_errors=True)
    draw_prose_figures(generated / FIGURES)
    parameters = {"quick": True} if quick else {}
    names = notebook_names()
    figures = [n for n in names if n != REPORT]
    with ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(_timed_execute, n, generated, parameters, threads) for n in figures]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in done if f.exception()), None)
        if failed:
            pool.shutdown(cancel_futures=True)
            raise failed.exception()
    if REPORT in names:
        _check_records(generated, figures)
        _timed_execute(REPORT, generated, parameters, threads)
    _jupyter_book(root)
    return root / "_build" / "html"


def _thread_environment(threads: int | None) -> dict[str, str]:
    """Kernel environment variables that set TensorFlow's thread counts (none for None)."""
    if threads is None:
        return {}
    return {"TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": str(threads)}


def kernel_threads(jobs: int) -> int:
    """TensorFlow threads for each of ``jobs`` kernels run at once: the cores this process may
    use, shared out (at least one).

    With more threads than cores, TensorFlow's thread pools spend CPU waiting on each other:
    beside two busy processes on two cores, the Fig. 4 notebook used 1.5x the CPU on two
    threads that it used on one (benchmarks/RESULTS.md).
    """
    return max(1, len(os.sched_getaffinity(0)) // _natural("jobs", jobs, 1))


def _timed_execute(
    name: str, out_dir: Path, parameters: Mapping[str, object], threads: int
) -> None:
    start = time.perf_counter()
    execute(name, out_dir, parameters, threads=threads)
    print(f"flexmt.book: {name} executed in {time.perf_counter() - start:.0f} s", flush=True)


def _check_records(out_dir: Path, names: Sequence[str]) -> None:
    missing = [n for n in names if not (out_dir / RECORDS / f"{n}.json").is_file()]
    if missing:
        raise NotebookError(f"notebooks {missing} ran but recorded no numbers (book.record)")


def setup(app) -> dict:
    """Sphinx extension (listed in ``_config.yml``): the ``api-modules`` directive.

    In ``book/api.md``, each line of an ``api-modules`` block names a module, documented by
    autodoc under a heading of its own, so adding a module to the API page is one line.
    """
    app.add_directive("api-modules", _api_modules_directive())
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def _api_modules_directive() -> type:
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective

    class ApiModules(SphinxDirective):
        has_content = True

        def run(self) -> list:
            sections = []
            for name in filter(None, (line.strip() for line in self.content)):
                section = nodes.section(ids=[nodes.make_id(f"api {name}")])
                section += nodes.title(text=name)
                # autodoc writes reST, which a MyST page parses only inside eval-rst.
                rst = ["```{eval-rst}", f".. automodule:: {name}", "```"]
                body = StringList(rst, source=self.get_source_info()[0])
                self.state.nested_parse(body, self.content_offset, section)
                sections.append(section)
            return sections

    return ApiModules


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m flexmt.book [--quick] [--root DIR]``: build the book (``make book``)."""
    parser = argparse.ArgumentParser(
        prog="python -m flexmt.book", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="run notebooks with quick=True")
    parser.add_argument("--root", default=str(ROOT), help="book root (default: the repository)")
    parser.add_argument(
        "--jobs", type=int, default=1, help="notebooks executed at once (default: 1)"
    )
    args = parser.parse_args(argv)
    try:
        html = build(args.root, quick=args.quick, jobs=args.jobs)
    except (ValueError, RuntimeError) as err:
        print(f"flexmt.book: error: {err}", file=sys.stderr)
        return 1
    print(f"flexmt.book: built {html / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
