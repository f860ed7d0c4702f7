"""The progress display on a real terminal (a pty) 80 and 160 columns wide: every drawn line
fits, the bar keeps its width, the loss and accuracy stay readable, and each epoch ends with
its full line of logs."""
import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

import mlplab

SRC = str(Path(mlplab.__file__).resolve().parents[1])  # the mlplab this test imports
SCRIPT = """
import numpy as np, mlplab
rng = np.random.default_rng(0)
x = rng.normal(size=(4000, 20)).astype("float32")
y = (x[:, 0] + x[:, 1] > 0).astype("int64")
model = mlplab.Sequential([mlplab.Input((20,)), mlplab.Dense(64, activation="relu"),
                           mlplab.Dense(2, activation="softmax")], seed=0)
model.compile(mlplab.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, batch_size=1, epochs=2, validation_split=0.1, verbose=1)
"""


def run_in_pty(columns: int) -> str:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {**os.environ, "PYTHONPATH": SRC, "COLUMNS": str(columns)}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], stdin=slave, stdout=slave,
                            stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=300)
    os.close(master)
    assert proc.returncode == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode("utf-8", errors="replace")


@pytest.mark.parametrize("columns", [80, 160])
def test_progress_fits_the_terminal(columns):
    text = run_in_pty(columns)
    drawn = [re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", part) for part in re.split(r"[\r\n]", text)]
    drawn = [part.rstrip() for part in drawn if part.strip()]
    bars = [part for part in drawn if "%|" in part]
    assert bars, text
    for part in bars:
        assert len(part) <= columns - 1, part                # tqdm leaves the last column
    late = [part for part in bars if "acc=" in part]
    assert late, bars[-5:]                                  # loss and accuracy beside the bar
    width = len(re.search(r"\|(.*)\|", late[-1]).group(1))
    assert width >= (10 if columns == 80 else 60), late[-1]  # not shrunk to one character
    assert re.search(r"loss=\d\.\d{4}, acc=\d\.\d{4}$", late[-1]), late[-1]
    finals = [part for part in drawn if re.match(r"Epoch \d/2 - [\d.]+s - loss: ", part)]
    assert len(finals) == 2 and all("val_accuracy: " in f for f in finals), finals
