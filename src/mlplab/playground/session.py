"""One browser tab's training session: its data, its mlplab ``Sequential``, and the frames.

A frame is what the page draws after an epoch: the epoch, the training and test losses (by
``model.evaluate``), accuracy and confusion matrix, the 100 x 100 output heatmap, a 10 x 10
heatmap per neuron, and the weights. Heatmaps travel as base64 ``uint8`` arrays, the value
v in [-1, 1] coded as round((v + 1) * 127.5), the playground's orange (-1) to blue (+1) scale.

Training is ``model.fit(x_train, y_train, epochs=1, batch_size=..., verbose=0)`` once per
epoch, exactly what the exported snippet runs, so the snippet reproduces the page's numbers.
"""
from __future__ import annotations

import base64
import os
import tempfile

import numpy as np

from . import setup as setup_mod
from .classic import ClassicRun
from .setup import SetupError

BOUNDARY = 100  # heatmap samples per side, as the TensorFlow Playground's DENSITY
NEURON = 10     # per-neuron heatmap samples per side (DENSITY / 10 there)
# Changing these keeps the run going; every other set-up change starts it afresh.
LIVE_KEYS = ("maxEpochs", "lossThreshold", "patience", "epochsPerFrame")


def _b64(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype=np.uint8).tobytes()).decode()


def _code(v: np.ndarray) -> np.ndarray:
    """[-1, 1] -> 0..255 (values outside are clipped)."""
    return np.rint((np.clip(v, -1.0, 1.0) + 1.0) * 127.5)


def _grid(dom, n: int) -> np.ndarray:
    """n x n points over the domain, row by row from the top (largest x2) down."""
    x1 = np.linspace(dom[0][0], dom[0][1], n)
    x2 = np.linspace(dom[1][1], dom[1][0], n)
    g1, g2 = np.meshgrid(x1, x2)
    return np.column_stack([g1.ravel(), g2.ravel()])


class Session:
    """The state behind one tab. ``configure`` first; then ``train``, ``frame``, edits."""

    def __init__(self):
        self.setup: dict | None = None
        self.upload: dict | None = None
        self.model = None    # the Sequential, or
        self.classic = None  # a recorded Perceptron / Adaline run (classic.py)
        self.epoch = 0
        self.stop_reason: str | None = None
        self.edited = False  # a weight edited by hand: the snippet cannot replay that
        self.new_upload = False  # a CSV arrived since the last set-up: start afresh

    # -------------------------------------------------------------------- set-up
    def configure(self, raw: dict) -> dict:
        """Check ``raw``, then build data and model (all or nothing); returns the "data"
        message: the points, the domain, the feature heatmaps and the resolved set-up."""
        s = setup_mod.check_setup(raw)
        if self.setup is not None and not self.new_upload and all(
                s[k] == self.setup[k] for k in s if k not in LIVE_KEYS):
            self.setup = s
            return {"type": "setup", "setup": s, "reset": False}
        x, y, n_classes = setup_mod.raw_data(s, self.upload)
        out, loss, _ = setup_mod.resolve_output(s, n_classes)
        X = setup_mod.features(x, s["features"])
        D = setup_mod.targets(y, out, n_classes)
        n = setup_mod.n_train(s, self.upload)
        if s["model"] == "mlp":
            model, classic = setup_mod.build_model(s, n_classes, X.shape[1]), None
        else:  # the whole run is recorded here, then played back
            model, classic = None, ClassicRun(s, X[:n], y[:n], n_classes)
            out, loss = ("sign", "fraction misclassified") if s["model"] == "perceptron" \
                else ("linear", "mean squared error (-1/+1 targets)")
        dom = setup_mod.domain(s, self.upload)
        # -- all checks passed
        self.setup, self.model, self.classic = s, model, classic
        self.new_upload = False
        self.n_classes, self.out = n_classes, out
        self.x, self.y, self.n_train_ = x, y, n
        self.X_train, self.D_train, self.X_test, self.D_test = X[:n], D[:n], X[n:], D[n:]
        self.domain = dom
        self.grid = setup_mod.features(_grid(dom, BOUNDARY), s["features"])
        self.small_grid_raw = _grid(dom, NEURON)
        self.small_grid = setup_mod.features(self.small_grid_raw, s["features"])
        self._restart()
        notes = setup_mod.config_notes(model, self.X_train, self.D_train) if model else []
        scale = [max(abs(a), abs(b)) for a, b in dom]
        inputs = [_b64(_code(setup_mod.features(self.small_grid_raw, [f])[:, 0]
                             / self._feature_scale(f, scale))) for f in s["features"]]
        return {"type": "data", "setup": s, "domain": dom, "nClasses": n_classes,
                "classes": (self.upload["classes"] if s["dataset"] == "upload" and n_classes
                            else None),
                "output": out, "loss": loss, "problem": s["problem"],
                "train": self._points(x[:n], y[:n]), "test": self._points(x[n:], y[n:]),
                "inputs": inputs, "layers": [W.shape[1] for W, _, _ in self._layers()],
                "nInputs": X.shape[1], "notes": notes, "reset": True}

    @staticmethod
    def _feature_scale(name, scale):
        a, b = scale
        return {"x1": a, "x2": b, "x1sq": a * a, "x2sq": b * b, "x1x2": a * b}.get(name, 1.0)

    @staticmethod
    def _points(x, y):
        return [[round(float(a), 4), round(float(b), 4), round(float(c), 4)]
                for (a, b), c in zip(x, y)]

    def _restart(self):
        self.epoch, self.stop_reason, self.edited = 0, None, False
        self.best = (float("inf"), 0)
        self._losses()

    def reset(self) -> None:
        """A fresh model from the same seed: epoch 0, the run starts again."""
        self._require()
        if self.classic is None:
            self.model = setup_mod.build_model(self.setup, self.n_classes,
                                               self.X_train.shape[1])
        self._restart()

    def set_upload(self, text) -> dict:
        if not isinstance(text, str):
            raise SetupError("upload: expected the CSV file's text.")
        self.upload = setup_mod.parse_upload(text)
        self.new_upload = True
        u = self.upload
        return {"type": "uploaded", "rows": len(u["x"]), "columns": u["columns"],
                "classes": u["classes"],
                "problem": "classification" if u["classes"] else "regression"}

    def _require(self):
        if self.setup is None:
            raise SetupError("no set-up yet: the page sends one when it loads; reload it.")

    def _dense(self):
        return [layer for layer in self.model.layers if hasattr(layer, "W")]

    def _layers(self):
        """(W, b, activation) of every weight layer, the network's picture."""
        if self.classic is not None:
            return [self.classic.layer(self.epoch)]
        return [(layer.W, layer.b, layer.activation) for layer in self._dense()]

    # -------------------------------------------------------------------- training
    def train(self, epochs: int | None = None) -> dict:
        """Run up to ``epochs`` (default: the set-up's epochsPerFrame) epochs, stopping early
        when a stop rule fires; returns the frame after the last."""
        self._require()
        s = self.setup
        for _ in range(epochs or s["epochsPerFrame"]):
            if self.stop_reason:
                break
            if self.classic is None:
                self.model.fit(self.X_train, self.D_train, epochs=1,
                               batch_size=s["batchSize"], verbose=0)
            self.epoch += 1
            self._losses()
            self._check_stop()
        return self.frame()

    def resume(self) -> bool:
        """Before Play: True when no stop rule holds now (a raised maxEpochs, say, lets a
        stopped run go on); else the stop reason stays."""
        self._require()
        if self.stop_reason and self.epoch:
            self.stop_reason = None
            self._check_stop()
        return self.stop_reason is None

    def _losses(self):
        """The current (training loss, test loss), by ``model.evaluate``."""
        if self.classic is not None:
            n, c = self.n_train_, self.classic
            self.losses = (c.losses(self.epoch, self.X_train, self.y[:n]),
                           c.losses(self.epoch, self.X_test, self.y[n:]))
            return
        m = self.model
        self.losses = (float(m.evaluate(self.X_train, self.D_train)),
                       float(m.evaluate(self.X_test, self.D_test)))

    def _check_stop(self):
        s, test = self.setup, self.losses[1]
        if self.classic is not None and self.classic.stop_reason(self.epoch):
            self.stop_reason = self.classic.stop_reason(self.epoch)
        elif self.model is not None and self.model.stop_reason == "nan":
            self.stop_reason = (f"the loss became NaN at epoch {self.epoch}; the weights were "
                                f"restored to the epoch's start. Lower the learning rate.")
        elif s["maxEpochs"] and self.epoch >= s["maxEpochs"]:
            self.stop_reason = f"reached maxEpochs = {s['maxEpochs']}"
        elif s["lossThreshold"] and test < s["lossThreshold"]:
            self.stop_reason = f"test loss {test:.4f} fell below {s['lossThreshold']:g}"
        elif s["patience"]:
            if test < self.best[0]:
                self.best = (test, self.epoch)
            elif self.epoch - self.best[1] >= s["patience"]:
                self.stop_reason = (f"early stopping: the test loss has not improved for "
                                    f"{s['patience']} epochs (best {self.best[0]:.4f} at "
                                    f"epoch {self.best[1]})")

    # -------------------------------------------------------------------- frames
    def _activations(self, X):
        """The outputs of every Dense layer for inputs X (inference: dropout is off)."""
        outs = []
        for W, b, activation in self._layers():
            X = activation(X.astype(W.dtype) @ W + b)
            outs.append(X)
        return outs

    def _signed(self, Y):
        """The output as v in [-1, 1] (+1: the positive class / the second class)."""
        if self.out == "sigmoid":
            return 2.0 * Y[:, 0] - 1.0
        if self.out == "softmax":
            return 2.0 * Y[:, 1] - 1.0 if Y.shape[1] == 2 else Y.max(axis=1)
        return Y[:, 0]

    def _labels(self, Y):
        if self.out == "softmax":
            return Y.argmax(axis=1)
        return (Y[:, 0] > (0.5 if self.out == "sigmoid" else 0.0)).astype(np.int64)

    def _scores(self, X, y):
        k = max(self.n_classes, 2)
        pred = self._labels(self._activations(X)[-1])
        confusion = np.zeros((k, k), dtype=np.int64)
        np.add.at(confusion, (y.astype(np.int64), pred), 1)
        return float((pred == y).mean()), confusion.tolist()

    def frame(self) -> dict:
        self._require()
        outs = self._activations(self.grid)
        Y = outs[-1]
        frame = {"type": "frame", "epoch": self.epoch, "stopReason": self.stop_reason,
                 "trainLoss": self.losses[0], "testLoss": self.losses[1]}
        if self.out == "softmax" and Y.shape[1] > 2:
            k = Y.shape[1]
            frame["boundary"] = _b64(_code(2 * (Y.max(axis=1) - 1 / k) / (1 - 1 / k) - 1))
            frame["boundaryClass"] = _b64(Y.argmax(axis=1))
        else:
            frame["boundary"] = _b64(_code(self._signed(Y)))
        frame["neurons"] = [[_b64(_code(a[:, j])) for j in range(a.shape[1])]
                            for a in self._activations(self.small_grid)]
        layers = self._layers()
        frame["weights"] = [np.round(W.astype(np.float64), 4).tolist() for W, _, _ in layers]
        frame["biases"] = [np.round(b.astype(np.float64), 4).tolist() for _, b, _ in layers]
        if self.n_classes:
            n = self.n_train_
            frame["trainAccuracy"], _ = self._scores(self.X_train, self.y[:n])
            frame["testAccuracy"], frame["confusion"] = self._scores(self.X_test, self.y[n:])
        return frame

    # -------------------------------------------------------------------- edits, exports
    def set_weight(self, layer: int, row: int, col: int, value: float) -> None:
        """Set weight (row -> col) of Dense layer ``layer``; row == its input count is the
        bias. The run goes on from the edited weights."""
        self._require()
        if self.classic is not None:
            raise SetupError(f"the {self.setup['model']}'s weights replay its recorded run; "
                             f"weights can be edited in an mlp.")
        dense = self._dense()
        if not (isinstance(layer, int) and 0 <= layer < len(dense)):
            raise SetupError(f"set_weight: layer must be 0..{len(dense) - 1}; received "
                             f"{layer!r}.")
        target = dense[layer]
        n_in, n_out = target.W.shape
        if not (isinstance(row, int) and 0 <= row <= n_in and isinstance(col, int)
                and 0 <= col < n_out):
            raise SetupError(f"set_weight: row must be 0..{n_in} ({n_in} is the bias) and col "
                             f"0..{n_out - 1}; received row={row!r}, col={col!r}.")
        try:
            value = float(value)
        except (TypeError, ValueError):
            value = float("nan")
        if not (np.isfinite(value) and abs(value) <= 100):
            raise SetupError(f"set_weight: the weight must be a number in [-100, 100]; received "
                             f"{value!r}.")
        if row == n_in:
            target.b[col] = value
        else:
            target.W[row, col] = value
        self.edited = True
        self._losses()

    def snippet(self) -> str:
        self._require()
        return setup_mod.snippet(self.setup, self.epoch, self.upload)

    def model_file(self) -> bytes:
        """The trained model as an mlplab model file (written in a temporary folder)."""
        self._require()
        if self.classic is not None:
            raise SetupError(f"Download model saves a Sequential; for the {self.setup['model']}"
                             f" export the Python snippet instead.")
        with tempfile.TemporaryDirectory(prefix="mlplab-playground-") as folder:
            path = os.path.join(folder, "model.npz")
            self.model.save(path)
            with open(path, "rb") as f:
                return f.read()
