"""The README and every docs/*.md page stay true: each ```bash and ```python block runs as
written, and so does every example script.

How the blocks run:
- in a scratch folder laid out like a checkout (links to src/, examples/, benchmarks/,
  docs/ ...) with ``../shared`` beside it, so relative paths such as
  ``../shared/data/mnist`` mean what they mean in the README; files the commands write
  (``model.npz``) land there;
- the ``mlplab`` command is the installed console script when there is one, else a shim
  that runs ``python -m mlplab`` (the same ``main``);
- a page's python blocks run in order in one interpreter (one reader's session), each
  compiled under its own ``FILE:LINE`` name so a failure names the block;
- the README's two set-up lines ``python -m venv .venv && . .venv/bin/activate && pip
  install -e ...`` are what ``.ci/run`` itself runs on a fresh clone (it runs the README's
  test command literally); here the venv/pip prefix is dropped and the rest of the line
  (``mlplab train --data ...``) is run. The test command (``... && python -m pytest -q``)
  is this very suite and is not run again from inside it (SETUP_BLOCKS).
- examples/mnist.py runs with --epochs 1 (EXAMPLE_ARGS); the others exactly as listed;
- a block preceded by ``<!-- skip-test: reason -->`` is not run (long benchmarks, the
  playground's server, which runs until Ctrl-C and has its own browser tests, the suite);
  the skips are listed by test_skips_are_few_and_listed.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"(?:<!--\s*skip-test:\s*(?P<skip>.*?)\s*-->\s*\n)?```(?P<lang>bash|python)"
                   r"\n(?P<code>.*?)\n```", re.S)
SETUP = re.compile(r"^python -m venv \.venv && \. \.venv/bin/activate && pip install -e \S+"
                   r"(?: && (?P<rest>.*))?$")
SETUP_BLOCKS = {"python -m pytest -q": ".ci/run runs it: this suite"}
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
#: Arguments for the one slow example: one epoch of the 10, to keep CI short (its full run is
#: the README's main job, the same network, which runs as written above).
EXAMPLE_ARGS = {"mnist.py": ["--epochs", "1"]}


def blocks(page: Path):
    text = page.read_text()
    for m in FENCE.finditer(text):
        line = text.count("\n", 0, m.start("code")) + 1
        yield m.group("lang"), m.group("code"), line, m.group("skip")


def all_blocks():
    return [(page, *b) for page in PAGES for b in blocks(page)]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory, mnist_dir):
    """A scratch copy of the checkout's layout: links to the repository's entries, with the
    shared folder beside it; the mlplab command on PATH."""
    base = tmp_path_factory.mktemp("docs")
    work = base / "mlplab"
    work.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in (".git", ".venv", "build") and not entry.name.startswith("."):
            (work / entry.name).symlink_to(entry)
    shared = ROOT.parent / "shared"
    (base / "shared").symlink_to(shared if shared.is_dir() else mnist_dir.parents[1])
    bin_dir = base / "bin"
    bin_dir.mkdir()
    if shutil.which("mlplab") is None:
        shim = bin_dir / "mlplab"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mlplab "$@"\n')
        shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}"
           f"{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": str(ROOT / "src"), "MLPLAB_DATA": str(mnist_dir),
           "MPLBACKEND": "Agg"}
    return work, env


def run(cmd, cwd, env, what):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{what} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def shell_lines(code):
    """The block's commands, the set-up prefix dropped (see the module docstring)."""
    for line in code.splitlines():
        line = line.split("  #")[0].strip() if "  #" in line else line.strip()
        if not line or line.startswith("#"):
            continue
        setup = SETUP.match(line)
        if setup:
            line = setup.group("rest") or ""
        if line and line not in SETUP_BLOCKS:
            yield line


#: Runs a page's blocks in one namespace; a doctest-style block (>>> lines) is run by doctest,
#: so its shown outputs are checked too (ELLIPSIS and NORMALIZE_WHITESPACE).
DRIVER = """
import doctest, sys
ns = {"__name__": "__main__"}

def block(code, name, line):
    if not code.lstrip().startswith(">>>"):
        exec(compile(code, name, "exec"), ns)
        return
    test = doctest.DocTestParser().get_doctest(code, ns, name, name, line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test, clear_globs=False)
    if runner.failures:
        sys.exit(f"{name}: {runner.failures} doctest example(s) failed")
"""

BASH = [(p, code, line) for p, lang, code, line, skip in all_blocks()
        if lang == "bash" and not skip]
PYTHON_PAGES = sorted({p for p, lang, _, _, skip in all_blocks() if lang == "python"})


# The python blocks run first: a page's shell lines may use the files its code wrote.
@pytest.mark.parametrize("page", PYTHON_PAGES, ids=[p.name for p in PYTHON_PAGES])
def test_python_blocks(page, checkout, tmp_path):
    work, env = checkout
    found = [(code, line) for lang, code, line, skip in blocks(page)
             if lang == "python" and not skip]
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER + 'if __name__ == "__main__":  # not in a spawned worker (Dask)\n' +
                      "".join(f"    block({code!r}, {f'{page.name}:{line}'!r}, {line})\n"
                              for code, line in found))
    run([sys.executable, str(driver)], work, env, page.name)


@pytest.mark.parametrize("page, code, line", BASH,
                         ids=[f"{p.name}:{line}" for p, _, line in BASH])
def test_bash_block(page, code, line, checkout):
    work, env = checkout
    for command in shell_lines(code):
        run(["bash", "-e", "-c", command], work, env, f"{page.name}:{line}: {command}")


@pytest.mark.parametrize("script", EXAMPLES, ids=[s.name for s in EXAMPLES])
def test_example_script(script, checkout):
    work, env = checkout
    run([sys.executable, f"examples/{script.name}", *EXAMPLE_ARGS.get(script.name, [])], work,
        env, script.name)


PLOTTING = ["perceptron_learning.py", "neurons_adaline.py", "neurons_madaline.py",
            "neurons_single_layer.py"]


@pytest.mark.parametrize("name", PLOTTING)
def test_example_without_matplotlib(name, checkout, tmp_path):
    """Without the [plot] extra the examples still run: the figure is skipped, with a note."""
    work, env = checkout
    stub = tmp_path / "matplotlib"
    stub.mkdir()
    (stub / "__init__.py").write_text("raise ImportError('no matplotlib here')\n")
    env = {**env, "PYTHONPATH": f"{tmp_path}{os.pathsep}{env['PYTHONPATH']}"}
    out = run([sys.executable, f"examples/{name}"], work, env, name)
    assert "skipped: matplotlib is not installed" in out and "mlplab[plot]" in out


def test_skips_are_few_and_listed():
    skipped = [f"{p.name}:{line} ({skip})" for p, _, _, line, skip in all_blocks() if skip]
    print("blocks not run:", *skipped, sep="\n  ")
    assert len(skipped) <= 8, skipped
    for entry in skipped:  # benchmarks, a server that runs until stopped, the suite itself
        assert re.search(r"\((?:.*minute|.*benchmark|.*server that runs until|.*part of the "
                         r"suite).*\)", entry), entry
