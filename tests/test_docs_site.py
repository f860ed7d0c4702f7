"""The documentation site: builds with warnings as errors, every formula links to a function
that exists and to a test that exists, and a real headless Chromium shows rendered formulas,
the notebooks' figures, and resolves those links."""
import ast
import contextlib
import functools
import http.server
import os
import re
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINK_PAGES = ["formulas", "errata"]
SOURCE_ROOTS = {"mlplab": ROOT / "src" / "mlplab", "tests": ROOT / "tests",
                "examples": ROOT / "examples"}


@pytest.fixture(scope="session")
def site(tmp_path_factory, executed_notebooks):
    pytest.importorskip("mkdocs")               # the dev extra installs it; CI never skips
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, MLPLAB_DOCS_NOTEBOOKS=str(executed_notebooks.folder()),
               NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    return out, proc


def test_site_builds_with_warnings_as_errors(site):
    out, proc = site
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "WARNING" not in proc.stderr
    for page in ["index", "formulas", "errata", "tutorials", "api",
                 "tutorials/lecture_004_chain_rule_circles_regularization"]:
        assert (out / page / "index.html").exists() if page != "index" else (out / "index.html").exists()


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.ids, self._row, self._in_article = [], set(), None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "tr":
            self._row = []
        elif tag == "a" and self._row is not None and "href" in attrs:
            self._row.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None


def parse(path):
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


@functools.lru_cache(maxsize=None)
def defined_names(path):
    names = set()

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(prefix + child.name)
                if isinstance(child, ast.ClassDef):
                    visit(child, prefix + child.name + ".")

    visit(ast.parse(Path(path).read_text(encoding="utf-8")), "")
    return names


def source_links(out, page):
    """(row, [(href, repo file, qualified name)]) for each table row of a built page."""
    html_dir = out / page
    rows = []
    for row in parse(html_dir / "index.html").rows:
        links = []
        for href in row:
            m = re.match(r"(?:\.\./)+source/(mlplab|tests|examples)/(.+\.py)/#(.+)$", href)
            if m:
                links.append((href, SOURCE_ROOTS[m[1]] / m[2], m[3]))
        if links:
            rows.append((row, links))
    return rows


@pytest.mark.parametrize("page", LINK_PAGES)
def test_every_formula_links_to_its_code_and_its_test_and_they_exist(site, page):
    out, _ = site
    rows = source_links(out, page)
    assert len(rows) >= (30 if page == "formulas" else 10)
    for row, links in rows:
        kinds = {"test" if path.parent.name == "tests" else "code" for _, path, _ in links}
        assert kinds == {"code", "test"}, f"{page}: a row without code or test link: {row}"
        for href, path, name in links:
            assert path.exists(), href
            assert name in defined_names(path), f"{href}: {name} is not defined in {path}"
            if path.parent.name == "tests":
                assert name.startswith("test_"), href
            target = (out / page / href.split("#")[0]).resolve() / "index.html"
            assert name in parse(target).ids, f"{href}: no anchor #{name} in the built page"


def test_source_pages_anchor_the_definitions_the_errata_rely_on(site):
    """A broken anchor would be caught: the parser sees Dense.backward in the page for dense.py
    and not a name that is not defined there."""
    out, _ = site
    ids = parse(out / "source" / "mlplab" / "layers" / "dense.py" / "index.html").ids
    assert "Dense.backward" in ids and "Dense.no_such_method" not in ids
    assert "Dense.no_such_method" not in defined_names(ROOT / "src/mlplab/layers/dense.py")


def test_the_site_loads_nothing_from_outside(site):
    out, _ = site
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"<(script|link)[^>]+(src|href)=\"(https?:)?//", text), page


@contextlib.contextmanager
def serve(folder):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")   # installed by the dev extra
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=os.environ.get("MLPLAB_CHROMIUM", "/usr/bin/chromium"),
                              args=["--no-sandbox", "--disable-gpu",
                                    "--disable-background-networking",
                                    "--disable-component-update", "--disable-sync",
                                    "--no-first-run"])
        yield b
        b.close()


def test_in_chromium_formulas_render_figures_show_and_links_resolve(site, browser, tmp_path):
    out, _ = site
    shots = Path(os.environ.get("MLPLAB_SCREENSHOTS", tmp_path))
    with serve(out) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route(re.compile(r"^(?!http://127\.0\.0\.1).*"), lambda route: route.abort())
        page.goto(f"{base}/formulas/")
        page.wait_for_selector(".katex", state="attached", timeout=20_000)
        assert page.locator("article .katex").count() >= 40
        article = page.inner_text("article")
        assert "\\frac" not in article and "\\Delta" not in article and "\\(" not in article
        page.screenshot(path=str(shots / "formulas.png"))
        hrefs = [a.get_attribute("href") for a in page.locator("article table a").all()]
        hrefs = sorted({h for h in hrefs if "source/" in h})
        assert len(hrefs) >= 20
        for href in hrefs:                     # follow every link from a formula
            page.goto(f"{base}/formulas/{href}")
            anchor = href.split("#")[1]
            assert page.locator(f'[id="{anchor}"]').count() == 1, href
            assert page.evaluate("location.hash") == f"#{anchor}"

        page.goto(f"{base}/tutorials/lecture_004_chain_rule_circles_regularization/")
        page.wait_for_load_state("load")
        sizes = page.evaluate("""() => [...document.querySelectorAll('article img')]
            .map(i => [i.naturalWidth, i.naturalHeight, i.getBoundingClientRect().width])""")
        assert len(sizes) >= 4 and all(w > 100 and h > 100 and shown > 100 for w, h, shown in sizes)
        page.wait_for_selector("article .katex", state="attached", timeout=20_000)
        assert page.locator("article .katex").count() >= 10
        text = page.inner_text("article")
        assert "\\frac" not in text and "\\lambda" not in text
        page.locator("article img").nth(0).scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "notebook.png"))
        page.close()


def test_api_reference_documents_sequential_with_its_inherited_training_methods(site):
    out, _ = site
    ids = parse(out / "api" / "index.html").ids
    for name in ["compile", "fit", "evaluate", "predict", "train_on_batch", "compute_gradients",
                 "add", "summary", "get_weights"]:
        assert f"mlplab.Sequential.{name}" in ids, name
    assert {"mlplab.layers.Dense", "mlplab.activations", "mlplab.losses",
            "mlplab.optimizers"} <= ids
