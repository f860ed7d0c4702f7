"""A callback that records what happens inside the layers while ``fit`` runs.

For each weighted layer l (Dense), at every record (each epoch end, or every k batches), on a
fixed probe batch (x_p, y_p) given to the constructor:

- ``act_mean``, ``act_std``: mean and standard deviation of Y_l = f(Xi_l) over probe samples
  and units;
- ``saturated``: sigmoid / tanh layers, the fraction of outputs within ``saturation_eps`` of
  the bounds (sigmoid: Y < eps or Y > 1 - eps; tanh: |Y| > 1 - 2 eps, the same Xi since
  tanh(x) = 2 sigmoid(2x) - 1); NaN for other activations;
- ``dead``: ReLU layers, the fraction of units with Xi <= 0 on every probe sample (their
  gradient is zero, so they do not recover); NaN for others;
- ``delta_norm``: ||delta_l|| = ||dE/dXi_l|| (Frobenius), backpropagated from the probe loss;
- ``grad_norm``: ||dE/dW_l|| = ||Y_{l-1}^T delta_l|| (``model.compute_gradients``);
- ``weight_norm``: ||W_l||;
- ``update_ratio``: ||W_l - W_l'|| / ||W_l'||, W_l' the weights at the previous record (NaN
  at the first): how far one record's worth of training moved the weights.

The gradients come from ``model.compute_gradients(x_p, y_p)``, which changes no weight; random
layers (Dropout) have their generators restored afterwards, so a recorded run trains exactly as
an unrecorded one (the probe pass drops units as training does). After a record the layers'
``Y_prev``, ``xi``, ``Y`` and ``delta`` hold the probe batch's arrays (the next training step
overwrites them). The first record is taken before training (``epoch`` 0, ``step`` 0).

    rec = LayerRecorder(x[:256], y[:256])
    model.fit(x, y, epochs=5, callbacks=[rec])
    rec.history["grad_norm"]           # array (records, layers)
    rec.to_csv("layers.csv")
"""
from __future__ import annotations

import csv
import io
import os

import numpy as np

from .callbacks import Callback

STATS = ("act_mean", "act_std", "saturated", "dead", "delta_norm", "grad_norm", "weight_norm",
         "update_ratio")


def saturated_fraction(activation, Y: np.ndarray, eps: float) -> float:
    """Fraction of sigmoid/tanh outputs within ``eps`` of the bounds (NaN for others)."""
    name = getattr(activation, "name", None)
    if name == "sigmoid":
        return float(np.mean((Y < eps) | (Y > 1.0 - eps)))
    if name == "tanh":
        return float(np.mean(np.abs(Y) > 1.0 - 2.0 * eps))
    return float("nan")


def dead_fraction(activation, xi: np.ndarray) -> float:
    """Fraction of ReLU units with xi <= 0 on every sample (NaN for other activations)."""
    if getattr(activation, "name", None) != "relu":
        return float("nan")
    return float(np.mean(np.all(xi <= 0.0, axis=0)))


class LayerHistory:
    """What a LayerRecorder keeps: ``history[stat]`` an array (records, layers) per statistic,
    ``epoch`` and ``step`` (batches trained so far) per record, ``layers`` the layer names."""

    def __init__(self, layers):
        self.layers: list[str] = list(layers)
        self.epoch: list[int] = []
        self.step: list[int] = []
        self._rows: dict[str, list[list[float]]] = {s: [] for s in STATS}

    def append(self, epoch: int, step: int, stats: dict) -> None:
        self.epoch.append(epoch)
        self.step.append(step)
        for s in STATS:
            self._rows[s].append(list(stats[s]))

    @property
    def history(self) -> dict[str, np.ndarray]:
        return {s: np.array(rows, dtype=np.float64).reshape(len(rows), len(self.layers))
                for s, rows in self._rows.items()}

    def __getitem__(self, stat: str) -> np.ndarray:
        if stat not in self._rows:
            raise KeyError(f"LayerHistory: no statistic {stat!r}; it records {', '.join(STATS)}.")
        return self.history[stat]

    def __len__(self) -> int:
        return len(self.epoch)

    def to_csv(self, path=None) -> str | None:
        """One row per record: epoch, step, then ``<layer>/<stat>`` columns. Writes ``path``
        (returns None) or returns the text when no path is given."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["epoch", "step"] + [f"{name}/{s}" for name in self.layers for s in STATS])
        hist = self.history
        for r in range(len(self)):
            w.writerow([self.epoch[r], self.step[r]] +
                       [repr(float(hist[s][r, j])) for j in range(len(self.layers))
                        for s in STATS])
        if path is None:
            return buf.getvalue()
        with open(os.fspath(path), "w", newline="") as f:
            f.write(buf.getvalue())
        return None

    def __repr__(self):
        return f"LayerHistory(records={len(self)}, layers={self.layers})"


class LayerRecorder(Callback):
    """Record per-layer statistics on a fixed probe batch during ``fit`` (see the module).

    Parameters
    ----------
    x, y : arrays
        The probe batch (e.g. a few hundred training or validation samples), in ``fit``'s
        format. Required: a callback never sees the training data.
    every_batches : int, optional
        Record every k training batches as well; default: once per epoch, at its end.
    saturation_eps : float, default=0.05
        A sigmoid output counts as saturated below eps or above 1 - eps (where
        f' = Y (1 - Y) < 0.0475, under a fifth of its maximum 0.25).
    """

    def __init__(self, x, y, every_batches: int | None = None, saturation_eps: float = 0.05):
        super().__init__()
        if every_batches is not None and (not isinstance(every_batches, (int, np.integer))
                                          or every_batches < 1):
            raise ValueError(f"LayerRecorder: every_batches must be a positive int or None; "
                             f"received {every_batches!r}.")
        if not 0.0 < saturation_eps < 0.5:
            raise ValueError(f"LayerRecorder: saturation_eps must be in (0, 0.5); received "
                             f"{saturation_eps!r}.")
        if len(x) != len(y):
            raise ValueError(f"LayerRecorder: the probe x has {len(x)} samples but y has "
                             f"{len(y)}.")
        self.x, self.y = x, y
        self.every_batches = every_batches
        self.saturation_eps = float(saturation_eps)
        self.history: LayerHistory | None = None

    def _weighted(self):
        return [layer for layer in self.model.layers if getattr(layer, "W", None) is not None]

    def on_train_begin(self, logs=None):
        self._layers = self._weighted()
        self.history = LayerHistory([layer.name for layer in self._layers])
        self._epoch, self._step = 0, 0
        self._previous = None
        self.record()

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self.every_batches is not None and self._step % self.every_batches == 0:
            self.record()

    def on_epoch_end(self, epoch, logs=None):
        self._epoch = epoch + 1
        if self.every_batches is None:
            self.record()

    def measure(self) -> dict:
        """The statistics now, one value per weighted layer (a dict stat -> list)."""
        model = self.model
        rngs = [(layer.rng, layer.rng.bit_generator.state) for layer in model.layers
                if isinstance(getattr(layer, "rng", None), np.random.Generator)]
        _, grads = model.compute_gradients(self.x, self.y)
        for rng, state in rngs:  # the probe's dropout masks must not shift training's
            rng.bit_generator.state = state
        grad_of = {}
        i = 0
        for layer in model.layers:
            for p in layer.params:
                grad_of[id(p)] = grads[i]
                i += 1
        out = {s: [] for s in STATS}
        weights = []
        for j, layer in enumerate(self._layers):
            Y, xi, delta = np.asarray(layer.Y), np.asarray(layer.xi), np.asarray(layer.delta)
            W = np.array(layer.W, dtype=np.float64)
            weights.append(W)
            out["act_mean"].append(float(Y.mean(dtype=np.float64)))
            out["act_std"].append(float(Y.std(dtype=np.float64)))
            out["saturated"].append(saturated_fraction(layer.activation, Y, self.saturation_eps))
            out["dead"].append(dead_fraction(layer.activation, xi))
            out["delta_norm"].append(float(np.linalg.norm(delta.astype(np.float64))))
            out["grad_norm"].append(float(np.linalg.norm(grad_of[id(layer.W)])))
            out["weight_norm"].append(float(np.linalg.norm(W)))
            if self._previous is None:
                out["update_ratio"].append(float("nan"))
            else:
                before = self._previous[j]
                out["update_ratio"].append(float(np.linalg.norm(W - before) /
                                                 np.linalg.norm(before)))
        self._previous = weights
        return out

    def record(self) -> None:
        self.history.append(self._epoch, self._step, self.measure())

    def to_csv(self, path=None):
        """``history.to_csv(path)``."""
        return self.history.to_csv(path)


class WeightSnapshots(Callback):
    """Keep a copy of the weights before training and after every ``every_epochs`` epochs:
    ``weights[r]`` (``get_weights()`` order) after ``epochs[r]`` epochs. For replaying the
    training, e.g. ``mlplab.plots.training_frames(model, snapshots)``."""

    def __init__(self, every_epochs: int = 1):
        super().__init__()
        if not isinstance(every_epochs, (int, np.integer)) or every_epochs < 1:
            raise ValueError(f"WeightSnapshots: every_epochs must be a positive int; received "
                             f"{every_epochs!r}.")
        self.every_epochs = int(every_epochs)
        self.epochs: list[int] = []
        self.weights: list[list[np.ndarray]] = []

    def on_train_begin(self, logs=None):
        self.epochs, self.weights = [0], [self.model.get_weights()]

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_epochs == 0:
            self.epochs.append(epoch + 1)
            self.weights.append(self.model.get_weights())
