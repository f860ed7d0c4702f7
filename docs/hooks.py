"""mkdocs hooks: what the site adds to docs/ at build time, without writing into the tree.

* KaTeX (npm's ``katex`` package, fetched once by ``npm pack`` into ``build/katex``) is served
  from the site itself, so formulas render offline.
* The lecture notebooks: executed copies from ``$MLPLAB_DOCS_NOTEBOOKS`` when set (the tests
  pass the ones they ran), else executed here in fast mode into ``build/notebooks``; mkdocs-jupyter
  renders them with their outputs. Outputs are never committed.
* A page per source file (``source/<path>.md``) with an anchor per function, class and
  method (``#Class.method``), so formulas link to the exact code and test.
"""
from __future__ import annotations

import ast
import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
import tarfile
import warnings
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
KATEX_VERSION = "0.16.22"
SOURCE_TREES = [("src/mlplab", "mlplab"), ("tests", "tests"), ("examples", "examples")]
# docs/*.md link to ../src/mlplab/x.py, ../tests/x.py, ../examples/x.py (right on a clone);
# in the site they point to the generated source pages instead.
REPO_LINK = re.compile(r"\]\(\.\./(src/mlplab|tests|examples)/([^)#\s]+\.py)\)")


def katex_dir() -> Path:
    """``build/katex`` with katex.min.js, katex.min.css, contrib/auto-render.min.js, fonts/."""
    target = BUILD / f"katex-{KATEX_VERSION}"
    if (target / "katex.min.js").exists():
        return target
    BUILD.mkdir(exist_ok=True)
    tgz = BUILD / f"katex-{KATEX_VERSION}.tgz"
    if not tgz.exists():
        subprocess.run(["npm", "pack", f"katex@{KATEX_VERSION}", "--pack-destination", str(BUILD)],
                       check=True, capture_output=True)
    tmp = target.with_suffix(".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(tgz) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith("package/dist/")
                   and (m.name.endswith((".min.js", ".min.css")) or "/fonts/" in m.name)]
        tar.extractall(tmp, members=members, filter="data")
    (tmp / "package" / "dist").rename(target)
    shutil.rmtree(tmp)
    return target


def notebooks_dir() -> Path:
    given = os.environ.get("MLPLAB_DOCS_NOTEBOOKS")
    if given:
        return Path(given)
    sys.path.insert(0, str(ROOT / "src"))
    import nbformat

    from mlplab import tutorials

    out = BUILD / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    for name in tutorials.names():            # re-run a notebook when its source changed
        path = out / f"{name}.ipynb"
        digest = hashlib.sha256(tutorials.source(name).encode()).hexdigest()
        if path.exists() and nbformat.read(path, as_version=4).metadata.get("mlplab_source") == digest:
            continue
        nb = tutorials.execute(tutorials.notebook(name), fast=True, cwd=out)
        nb.metadata["mlplab_source"] = digest
        nbformat.write(nb, path)
    return out


def definitions(code: str) -> dict[int, list[str]]:
    """Line number -> qualified names defined there (functions, classes, methods)."""
    found: dict[int, list[str]] = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + child.name
                line = min([child.lineno] + [d.lineno for d in child.decorator_list])
                found.setdefault(line, []).append(name)
                if isinstance(child, ast.ClassDef):
                    visit(child, name + ".")

    with warnings.catch_warnings():            # a test file's regex strings are not our concern
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        visit(ast.parse(code), "")
    return found


def source_page(rel: str, code: str) -> str:
    """Markdown (a raw HTML block) showing ``code`` with line and definition anchors."""
    defs = definitions(code)
    lines = []
    for number, line in enumerate(code.splitlines(), start=1):
        anchors = "".join(f'<span id="{name}" class="mlplab-def"></span>'
                          for name in defs.get(number, []))
        lines.append(f'<span id="L{number}">{anchors}{html.escape(line)}</span>')
    index = " · ".join(f'<a href="#{name}">{name}</a>'
                       for number in sorted(defs) for name in defs[number])
    return (f"# `{rel}`\n\n<p class=\"mlplab-defs\">{index}</p>\n\n"
            f'<div class="highlight mlplab-source"><pre><code>' + "\n".join(lines)
            + "</code></pre></div>\n")


def on_page_markdown(markdown, page, config, files):
    if "/" in page.file.src_uri:        # only docs/*.md use ../ links into the repository
        return markdown
    prefix = {"src/mlplab": "mlplab", "tests": "tests", "examples": "examples"}
    return REPO_LINK.sub(lambda m: f"](source/{prefix[m[1]]}/{m[2]}.md)", markdown)


@event_priority(100)          # before mkdocs-jupyter, so that it converts the notebooks added
def on_files(files, config):
    katex = katex_dir()
    for path in sorted(katex.rglob("*")):
        if path.is_file():
            files.append(File.generated(config, f"assets/katex/{path.relative_to(katex).as_posix()}",
                                        abs_src_path=str(path)))
    staged = BUILD / "docs-notebooks"          # mkdocs-jupyter wants real files under a src_dir
    shutil.rmtree(staged, ignore_errors=True)
    (staged / "tutorials").mkdir(parents=True)
    for path in sorted(notebooks_dir().glob("lecture_*.ipynb")):
        shutil.copyfile(path, staged / "tutorials" / path.name)
        files.append(File(f"tutorials/{path.name}", src_dir=str(staged),
                          dest_dir=config.site_dir, use_directory_urls=config.use_directory_urls))
    for folder, prefix in SOURCE_TREES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "notebooks" in path.parts:
                continue
            rel = f"{prefix}/{path.relative_to(ROOT / folder).as_posix()}"
            files.append(File.generated(config, f"source/{rel}.md",
                                        content=source_page(rel, path.read_text(encoding="utf-8"))))
    return files
