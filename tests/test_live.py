"""LivePlot: inside a real notebook kernel (nbclient) fit produces a picture that is updated
epoch after epoch; outside one it does nothing."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mlplab
from mlplab.layers import Dense, Input
from mlplab.live import LivePlot, in_notebook

SRC = str(Path(mlplab.__file__).resolve().parents[1])

CELL = f"""
import sys
sys.path.insert(0, {SRC!r})
import numpy as np
import mlplab
from mlplab.layers import Dense, Input
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 2))
y = (x[:, 0] * x[:, 1] > 0).astype(float)
model = mlplab.Sequential([Input((2,)), Dense(8, activation="tanh"),
                           Dense(1, activation="sigmoid")], seed=0)
model.compile("adam", "binary_crossentropy")
live = mlplab.LivePlot(boundary=(x, y))
model.fit(x, y, epochs=4, verbose=0, validation_data=(x, y), callbacks=[live])
print("active", live.active, "updates", live.updates)
"""


def test_live_plot_updates_its_picture_in_a_notebook_kernel():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    messages = []

    class Client(nbclient.NotebookClient):
        def process_message(self, msg, cell, cell_index):
            if msg["msg_type"] in ("display_data", "update_display_data", "stream"):
                messages.append((msg["msg_type"], msg["content"]))
            return super().process_message(msg, cell, cell_index)

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(CELL))
    Client(nb, timeout=120, kernel_name="python3").execute()
    kinds = [kind for kind, _ in messages]
    assert kinds.count("display_data") == 1          # the picture is shown once ...
    assert kinds.count("update_display_data") == 3   # ... and replaced after epochs 2, 3, 4
    ids = {c["transient"]["display_id"] for k, c in messages if "display" in k}
    assert len(ids) == 1                             # always the same output
    for kind, content in messages:
        if "display" in kind:
            assert content["data"]["image/png"]     # a PNG each time
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data", "stream"]
    assert outputs[1].text.strip() == "active True updates 4"


def test_outside_a_notebook_it_prints_nothing_and_has_no_batch_hook(capfd):
    assert not in_notebook()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 2))
    y = (x[:, :1] > 0).astype(float)
    model = mlplab.Sequential([Input((2,)), Dense(1, activation="sigmoid")], seed=0)
    model.compile("sgd", "binary_crossentropy")
    live = LivePlot(boundary=(x, y))
    model.fit(x, y, epochs=3, verbose=0, callbacks=[live])
    assert capfd.readouterr() == ("", "")
    assert not live.active and live.updates == 0
    from mlplab.callbacks import CallbackList
    assert not CallbackList([live], model, {}).wants_batch_logs   # fit never calls it per batch


def test_outside_a_notebook_nothing_heavy_is_imported():
    code = ("import sys, numpy as np, mlplab\n"
            "from mlplab.layers import Dense, Input\n"
            "m = mlplab.Sequential([Input((2,)), Dense(1)], seed=0); m.compile('sgd', 'mse')\n"
            "m.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=2, verbose=0,"
            " callbacks=[mlplab.LivePlot()])\n"
            "print('IPython' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False False" and out.stderr == ""


def test_live_plot_arguments_are_checked():
    with pytest.raises(ValueError, match="every_epochs must be a positive int"):
        LivePlot(every_epochs=0)
    with pytest.raises(ValueError, match=r"x must have shape \(n_samples, 2\), received "
                                         r"\(4, 3\)"):
        LivePlot(boundary=(np.zeros((4, 3)), np.zeros(4)))
