"""docs/plots.md: its figure command writes every picture the page shows, and its code blocks
run as written (python blocks in order in one namespace, then the `mlplab plot` commands)."""
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from mlplab.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "plots.md").read_text()


def test_make_figures_writes_every_picture_of_the_page(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "docs" / "make_figures.py"), "--out",
                          str(tmp_path)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src"),
                              "MPLBACKEND": "Agg"})
    shown = re.findall(r"!\[[^]]*\]\(img/([^)]+)\)", PAGE)
    assert len(shown) == 11
    for name in shown:
        assert (tmp_path / name).stat().st_size > 10_000, name
        assert (ROOT / "docs" / "img" / name).exists(), f"docs/img/{name} is not committed"
    # the numbers the page quotes are the ones the command prints
    assert "sigmoid: |dE/dW_1| / |dE/dW_6| = 0.000529 before training, 0.00531" in out.stdout
    assert "relu: |dE/dW_1| / |dE/dW_6| = 1.12 before training, 1.74" in out.stdout
    assert "**5.3e-4**" in PAGE and "**1.12**" in PAGE


def test_code_blocks_run_as_written(tmp_path, monkeypatch, capsys):
    import matplotlib
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in re.findall(r"```python\n(.*?)```", PAGE, flags=re.S):
        exec(compile(block, "docs/plots.md", "exec"), namespace)
    assert (tmp_path / "out" / "moons.gif").exists()
    for block in re.findall(r"```bash\n(.*?)```", PAGE, flags=re.S):
        for line in block.splitlines():
            argv = shlex.split(line, comments=True)
            if argv[0] == "mlplab":
                assert main(argv[1:]) == 0, line
    assert (tmp_path / "curves.png").exists() and (tmp_path / "network.png").exists()
