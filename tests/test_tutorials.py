"""The lecture notebooks: each executes end to end (fast mode) with figures and the lecture's
numbers beside mlplab's; a failing cell fails; ``mlplab tutorial`` lists and copies them."""
import base64
import io
import json

import nbformat
import pytest

from mlplab import tutorials
from mlplab.cli import main as cli_main

NAMES = tutorials.names()


def test_one_notebook_per_lecture():
    assert [n[:11] for n in NAMES] == [f"lecture_{k:03d}" for k in range(5)]


def _outputs(nb, kind):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if o.output_type == kind]


def _text(nb):
    return "".join(o.get("text", "") for o in _outputs(nb, "stream"))


@pytest.mark.parametrize("name", NAMES)
def test_notebook_executes_with_figures_and_the_lecture_numbers(name, executed_notebooks):
    nb = executed_notebooks(name)
    assert not _outputs(nb, "error")
    images = [o for kind in ("display_data", "execute_result") for o in _outputs(nb, kind)
              if "image/png" in o.get("data", {})]
    assert len(images) >= 2, "each lecture's figures are drawn"
    for image in images:                         # real PNGs with content, not empty figures
        png = base64.b64decode(image["data"]["image/png"])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    markdown = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "The lecture's numbers and mlplab's" in markdown


def test_lecture_numbers_come_out_as_stated(executed_notebooks):
    assert "softmax([1.60, 0.55, 0.98]) = [[0.53  0.185 0.285]]" in \
        _text(executed_notebooks("lecture_001_history_activations_backprop"))
    out = _text(executed_notebooks("lecture_002_backprop_mnist_optimizers"))
    assert "| MNIST 784-512-10 | 407,050 | 407,050 |" in out
    accuracy = float(out.split("MNIST 784-512-10: test accuracy ")[1].split("%")[0])
    assert accuracy > 90.0                       # 20,000 images, 3 epochs
    out = _text(executed_notebooks("lecture_004_chain_rule_circles_regularization"))
    assert "+ L2 1e-3, decay 0.99, 300 epochs: train 1.000, test 0.983, boundary closed: True" \
        in out                                   # the lecture: 0.943 / 0.917


def test_a_failing_cell_fails_the_run(tmp_path):
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell("assert x == 2, 'wrong'")])
    with pytest.raises(CellExecutionError, match="wrong"):
        tutorials.execute(nb, timeout=60, cwd=tmp_path)


def test_cli_lists_the_tutorials(capsys):
    assert cli_main(["tutorial"]) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        assert name in out and tutorials.title(name) in out


def test_cli_copies_a_notebook_and_keeps_an_existing_copy(tmp_path, capsys):
    assert cli_main(["tutorial", "lecture_004", "--dest", str(tmp_path)]) == 0
    path = tmp_path / "lecture_004_chain_rule_circles_regularization.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    source = tutorials.source("lecture_004")
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code and all(cell in source for cell in code)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    path.write_text(json.dumps({"edited": True}))
    assert cli_main(["tutorial", "4", "--dest", str(tmp_path)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert json.loads(path.read_text()) == {"edited": True}
    assert cli_main(["tutorial", "4", "--dest", str(tmp_path), "--force"]) == 0
    assert nbformat.read(path, as_version=4).cells


def test_unknown_or_ambiguous_name_is_a_clear_error(capsys):
    assert cli_main(["tutorial", "lecture_9"]) == 2
    err = capsys.readouterr().err
    assert "'lecture_9' matches none" in err and "lecture_000_backprop_keras_xor" in err
    with pytest.raises(ValueError, match="matches lecture_000"):
        tutorials.resolve("lecture_")


@pytest.mark.parametrize("fast", [True, False])
def test_fast_mode_and_this_mlplab_reach_the_kernel(fast, tmp_path, monkeypatch):
    monkeypatch.delenv(tutorials.FAST_ENV, raising=False)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, mlplab; print(os.environ['MLPLAB_TUTORIAL_FAST'], mlplab.__file__)")])
    out = "".join(o.get("text", "") for o in
                  tutorials.execute(nb, timeout=60, fast=fast, cwd=tmp_path).cells[0].outputs)
    flag, path = out.split()
    assert flag == ("1" if fast else "0")
    assert path == tutorials.__file__.replace("tutorials/__init__.py", "__init__.py")
