"""The built book: its executed notebooks, pages, figures and API reference, opened in
headless Chromium offline.

Which book: by default a quick book, built once for these tests with every notebook in quick
mode from a copy of the sources in a temporary folder, so these tests need nothing built
beforehand and leave ``_build/html`` alone.
With ``FLEXMT_BOOK_HTML=<root>/_build/html`` they check the existing build of the book root
``<root>`` instead: ``make book`` runs them that way on the full book. Every test that needs
the quick book is in this file, so that ``pytest -n 2 --dist loadfile`` builds it once.

The browser is Debian's Chromium (``make browser`` installs it), driven by Playwright with
``executable_path``; no browser is ever downloaded. A screenshot of the first figure page
of ``SCREENSHOT_PAGES`` is saved to ``_build/screenshots/``.
"""

import importlib
import inspect
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import nbformat
import pytest

from flexmt import book

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The page to photograph: the first notebook whose name starts with one of these.
SCREENSHOT_PAGES = ("fig1", "supp1")
SCREENSHOTS = book.ROOT / "_build" / "screenshots"
FIGURES = [n for n in book.notebook_names() if n != book.REPORT]
# A resource (not a link to follow) loaded from another host.
REMOTE_RESOURCE = re.compile(
    r"<(script|link|img|iframe|source|video|audio)\b[^>]*\b(src|href)\s*=\s*[\"']?(https?:)?//",
    re.IGNORECASE,
)
REDIRECT = re.compile(r"http-equiv=\"refresh\" content=\"\d+;\s*url=([^\"]+)\"", re.IGNORECASE)
REMOTE_CSS = re.compile(r"(url\(\s*[\"']?|@import\s+[\"'])(https?:)?//", re.IGNORECASE)


@pytest.fixture(scope="session")
def book_root(tmp_path_factory) -> Path:
    """Root of the built book (see the module docstring): its executed notebooks are in
    ``book_root / book.GENERATED``, its pages in ``book_root / "_build" / "html"``."""
    given = os.environ.get("FLEXMT_BOOK_HTML")
    if given:
        html = Path(given).resolve()
        assert (html / "index.html").is_file(), f"FLEXMT_BOOK_HTML={given} has no index.html"
        return html.parents[1]
    root = book.stage(tmp_path_factory.mktemp("book"))
    book.build(root, quick=True, jobs=2)  # two notebooks at a time, as `make book` runs them
    return root


@pytest.fixture(scope="session")
def html_dir(book_root) -> Path:
    """Folder of the built HTML book."""
    return book_root / "_build" / "html"


def _pages(html_dir: Path) -> list[Path]:
    return sorted(p for p in html_dir.rglob("*.html") if "_static" not in p.parts)


def _generated_page(html_dir: Path, name: str) -> Path:
    return html_dir / book.GENERATED / f"{name}.html"


def _outputs(nb) -> list:
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]


@pytest.mark.parametrize("name", book.notebook_names())
def test_every_notebook_ran_cleanly(name, book_root):
    out_dir = book_root / book.GENERATED  # the build executed every notebook there
    nb = nbformat.read(out_dir / f"{name}.ipynb", as_version=4)
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.output_type == "error"]
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and all("remove-cell" in c.metadata.tags for c in injected)
    stderr = "".join(o.text for o in outputs if o.get("name") == "stderr")
    assert not re.search(r"tensorflow|oneDNN|absl", stderr, re.IGNORECASE), stderr
    if name in FIGURES:
        assert any("image/png" in o.get("data", {}) for o in outputs), "no inline figure"
        assert (out_dir / book.RECORDS / f"{name}.json").is_file(), "no book.record"


def test_every_figure_page_has_an_image(html_dir):
    for name in FIGURES:
        page = _generated_page(html_dir, name)
        assert page.is_file(), f"no page for notebook {name}"
        assert re.search(r"<img\b[^>]*\bsrc=", page.read_text()), f"{name} shows no image"


def test_report_has_a_row_per_number_of_every_figure_page(html_dir):
    text = _generated_page(html_dir, book.REPORT).read_text()
    body = text[text.index("<tbody>") : text.index("</tbody>")]
    assert body.count("<tr>") >= len(FIGURES)
    for name in FIGURES:
        title = re.search(r"<h1>(.*?)<a", _generated_page(html_dir, name).read_text()).group(1)
        figure = title.split(":")[0]  # "Supp. Fig. 1": claims start with their figure
        assert figure in body, f"the report lacks the numbers of {name} ({figure})"


def test_api_page_documents_every_public_function(html_dir):
    api_source = (book.ROOT / "book" / "api.md").read_text()
    modules = re.findall(r"^(flexmt(?:\.\w+)+)$", api_source, re.MULTILINE)
    assert {"flexmt.tasks", "flexmt.network", "flexmt.training", "flexmt.checkpoint"} <= set(
        modules
    )
    html = (html_dir / "book" / "api.html").read_text()
    for name in modules:
        module = importlib.import_module(name)
        assert f'id="module-{name}"' in html
        for attr, value in vars(module).items():
            public = not attr.startswith("_") and inspect.getdoc(value)
            if public and inspect.isfunction(value) and value.__module__ == name:
                assert f'id="{name}.{attr}"' in html, f"{name}.{attr} is not documented"


def test_no_page_loads_anything_from_another_host(html_dir):
    for page in _pages(html_dir):
        match = REMOTE_RESOURCE.search(page.read_text())
        assert not match, f"{page.relative_to(html_dir)} loads {match.group(0)}"
    for sheet in (html_dir / "_static").rglob("*.css"):
        match = REMOTE_CSS.search(sheet.read_text(errors="replace"))
        assert not match, f"{sheet.relative_to(html_dir)} loads {match.group(0)}"


def _check_page(context, path: Path) -> list[str]:
    """Open one page; return what is wrong with it."""
    problems = []

    def console(message) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text}")

    page = context.new_page()
    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("requestfailed", lambda r: problems.append(f"failed to load {r.url}"))
    page.goto(path.as_uri(), wait_until="load")
    redirect = REDIRECT.search(path.read_text())
    if redirect:  # index.html sends the reader to the first page
        page.wait_for_url(urljoin(path.as_uri(), redirect.group(1)))
        page.wait_for_load_state("load")
    if "math notranslate" in path.read_text():
        page.wait_for_selector("mjx-container", state="attached", timeout=20_000)
    broken = page.evaluate(
        "() => Array.from(document.images)"
        ".filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    problems += [f"image does not decode: {src}" for src in broken]
    for href in page.evaluate("() => Array.from(document.links).map(a => a.href)"):
        target = urlsplit(href)
        if target.scheme == "file" and not Path(unquote(target.path)).exists():
            problems.append(f"broken link: {href}")
    page.close()
    return problems


def test_every_page_renders_offline_in_chromium(html_dir):
    if not CHROMIUM.is_file():
        pytest.fail("Debian's Chromium is missing: `make browser` installs it")
    from playwright.sync_api import sync_playwright

    requests = []

    def refuse(route):
        requests.append(route.request.url)
        route.abort()

    problems = {}
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            context.route(re.compile(r"^(https?|wss?|ftp)://"), refuse)
            for path in _pages(html_dir):
                problems[str(path.relative_to(html_dir))] = _check_page(context, path)
            _screenshot(context, html_dir)
        finally:
            context.close()
    assert not requests, f"pages asked the network for {requests}"
    assert not {page: found for page, found in problems.items() if found}
    assert "book/methods/network.html" in problems  # the page with MathJax was checked


def _screenshot(context, html_dir: Path) -> None:
    name = next(n for prefix in SCREENSHOT_PAGES for n in FIGURES if n.startswith(prefix))
    page = context.new_page()
    page.goto(_generated_page(html_dir, name).as_uri(), wait_until="load")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.close()
