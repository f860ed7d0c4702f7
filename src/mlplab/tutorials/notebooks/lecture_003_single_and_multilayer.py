# %% [markdown]
# # Lecture 003: single-layer and multilayer networks in matrix form
#
# The companion of `003_ddd62baf13f113f4.txt`: single-layer networks by least squares and by
# gradient descent, the bipolar one-hot coding and the four-animal table, tanh with a slope
# (derivative corrected), the matrix forward and backward pass (corrected), the stopping
# conditions, the presentation strategies (online, mini-batch, batch) compared, and the
# TensorFlow Playground's tasks up to the spiral challenge.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import mlplab
from mlplab import callbacks
from mlplab.layers import Dense, Input
from mlplab.neurons import LinearNetwork, SingleLayerNetwork

FAST = os.environ.get("MLPLAB_TUTORIAL_FAST") == "1"

# %% [markdown]
# ## A linear network: least squares $W = (X^T X)^{-1} X^T D$ and gradient descent
#
# The lecture's weather example (pressure, wind, temperature -> precipitation risk), here on
# synthetic data with a known answer. mlplab solves least squares with an SVD
# (`numpy.linalg.lstsq`, never forming the inverse); gradient descent reaches the same $W$.

# %%
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 3))
W_true = np.array([[0.7, -0.2], [-1.0, 0.4], [0.3, 0.9]])
D = 0.1 + X @ W_true + rng.normal(0, 0.05, size=(200, 2))
lsq = LinearNetwork().fit(X, D)
gd = LinearNetwork(solver="gd", learning_rate=0.002, max_epochs=500).fit(X, D)
Xb = np.c_[np.ones(200), X]
normal_eq = np.linalg.solve(Xb.T @ Xb, Xb.T @ D)
print("lstsq W (bias row first):\n", lsq.W_.round(4))
print("max |lstsq - normal equations|:", np.abs(lsq.W_ - normal_eq).max())
print("max |gradient descent - lstsq|:", np.abs(gd.W_ - lsq.W_).max().round(5),
      f"after {gd.n_epochs_} epochs")

# %% [markdown]
# ## Categorical data: the four-animal table, bipolar one-hot
#
# Ordinal features scaled to $[-1, 1]$; the class in bipolar one-hot: Cat = [1, -1, -1, -1].
# One tanh layer of four units trains on all classes at once:
# $W(t+1) = W(t) + \alpha X^T [f'(\Xi) \circ (D - Y)]$ (SSE) or the cross-entropy rule.

# %%
table, animals = mlplab.datasets.load_animals()
X_an, D_an = mlplab.datasets.load_animals(encoded=True)
print("size | fur | talks ->  cat dog parrot carp")
for row, d in zip(X_an, D_an):
    print(f"{row[0]:>4.0f} {row[1]:>5.0f} {row[2]:>6.0f}  -> {d.astype(int)}")
layer = SingleLayerNetwork(activation="tanh", learning_rate=0.1, max_epochs=500).fit(X_an, D_an)
print("predictions (bipolar one-hot):\n", layer.predict(X_an).astype(int))
print("training accuracy:", layer.score(X_an, D_an))

# %% [markdown]
# ## tanh with a slope $\lambda$
#
# $y = \tanh(\lambda\xi)$ has the derivative $\lambda(1 - y^2)$. The slide's
# $\lambda^2(1 + y)(1 - y)$ has one $\lambda$ too many. Finite differences decide:

# %%
lam = 2.0
tanh2 = mlplab.activations.Tanh(slope=lam)
xi = np.linspace(-2, 2, 9)
y = tanh2(xi)
h = 1e-6
numeric = (tanh2(xi + h) - tanh2(xi - h)) / (2 * h)
print("mlplab lambda (1 - y^2): ", tanh2.derivative(xi, y).round(6))
print("finite differences:      ", numeric.round(6))
print("slide lambda^2 (1+y)(1-y):", (lam ** 2 * (1 + y) * (1 - y)).round(6))
assert np.allclose(tanh2.derivative(xi, y), numeric, atol=1e-6)

# %% [markdown]
# ## The multilayer network's matrix forward and backward pass
#
# Forward: $\Xi_L = Y_{L-1} W_L$ (+ bias), $Y_L = f(\Xi_L)$. Backward:
# $\Delta_{L_{max}} = f'(\Xi_{L_{max}}) \circ (Y - D)$, and for hidden layers
# $\Delta_L = f'(\Xi_L) \circ (\Delta_{L+1} W_{L+1}^T)$ with the bias row of $W_{L+1}$ left out.
# The slide writes $(f'(\Xi_L) \circ \Delta_{L+1}) W_{L+1}^T$, whose shapes do not even
# match. Then $\partial E / \partial W_L = Y_{L-1}^T \Delta_L$.
#
# Written out in NumPy and compared with what mlplab's layers store after a step
# (`layer.delta`) and with `compute_gradients`:

# %%
net = mlplab.Sequential([Input((3,)), Dense(5, activation="tanh"), Dense(4, activation="tanh"),
                         Dense(2, activation="sigmoid")], seed=0, dtype="float64")
net.compile(optimizer=mlplab.SGD(0.1), loss="sse")
Xm, Dm = rng.normal(size=(6, 3)), rng.uniform(size=(6, 2))
Ws = net.get_weights()
Ys, Xis = [Xm], []
for (W, b), layer in zip(zip(Ws[::2], Ws[1::2]), net.layers):
    Xis.append(Ys[-1] @ W + b)
    Ys.append(layer.activation(Xis[-1]))
fprime = [layer.activation.derivative(xi, y) for layer, xi, y in zip(net.layers, Xis, Ys[1:])]
Deltas = [fprime[-1] * (Ys[-1] - Dm)]
for k in (1, 0):
    Deltas.insert(0, fprime[k] * (Deltas[0] @ Ws[2 * (k + 1)].T))
grads_by_hand = []
for Yprev, Delta in zip(Ys[:-1], Deltas):
    grads_by_hand += [Yprev.T @ Delta, Delta.sum(axis=0)]
loss, grads = net.compute_gradients(Xm, Dm)
assert all(np.allclose(a, b) for a, b in zip(grads_by_hand, grads))
net.train_on_batch(Xm, Dm)
assert all(np.allclose(layer.delta, Delta) for layer, Delta in zip(net.layers, Deltas))
print("matrix backward pass by hand == mlplab's layer.delta and gradients, all three layers")

# %% [markdown]
# ## Stopping conditions
#
# Maximum epochs, a time limit, $E < E_{min}$, early stopping on the validation error, and
# $|\Delta w| < \Delta_{min}$: one callback each. (On this task the weights keep growing by
# about 0.08 per epoch long after the error has settled, so $\Delta_{min} = 0.1$; the time
# limit's epoch count depends on the machine.)

# %%
x_c, y_c = mlplab.datasets.make_circle(400, noise=0.1, seed=0)


def circle_model():
    m = mlplab.Sequential([Input((2,)), Dense(8, activation="tanh"),
                           Dense(1, activation="sigmoid")], seed=0)
    m.compile(optimizer=mlplab.SGD(0.3), loss="binary_crossentropy", metrics=["accuracy"])
    return m


rules = {"max epochs (300)": [],
         "time limit (0.5 s)": [callbacks.TimeLimit(0.5)],
         "E < E_min = 0.1": [callbacks.LossThreshold(0.1)],
         "early stopping (val_loss, patience 10)": [callbacks.EarlyStopping(patience=10, restore_best_weights=True)],
         "|delta w| < 0.1": [callbacks.MinWeightChange(0.1)]}
for name, cbs in rules.items():
    m = circle_model()
    t0 = time.perf_counter()
    h = m.fit(x_c, y_c, epochs=300, batch_size=16, verbose=0, validation_split=0.25, callbacks=cbs)
    print(f"{name:>40}: stopped after {len(h.history['loss']):>3} epochs, "
          f"loss {h.history['loss'][-1]:.3f}, val_loss {h.history['val_loss'][-1]:.3f}")

# %% [markdown]
# ## Presentation strategies: online, mini-batch, batch
#
# The same network and learning rate, for the same number of epochs: online makes one update
# per sample (fast progress per epoch, noisy), batch one per epoch (smooth, slow), mini-batch
# in between.

# %%
plt.figure(figsize=(6.5, 3.5))
for name, bs in [("online (1)", 1), ("mini-batch (32)", 32), ("batch (full)", "full")]:
    m = circle_model()
    t0 = time.perf_counter()
    h = m.fit(x_c, y_c, epochs=100, batch_size=bs, verbose=0)
    seconds = time.perf_counter() - t0
    plt.plot(h.history["loss"], label=f"{name}: acc {h.history['accuracy'][-1]:.2f}")
    print(f"{name:>16}: final loss {h.history['loss'][-1]:.3f}, accuracy {h.history['accuracy'][-1]:.2f}")
plt.xlabel("epoch")
plt.ylabel("binary cross-entropy")
plt.yscale("log")
plt.legend()
plt.title("circle task, 2-8-1 tanh, SGD 0.3")
plt.show()

# %% [markdown]
# ## The Playground's tasks, up to the spiral challenge
#
# The four classification sets of playground.tensorflow.org (circle, XOR, Gaussian, spiral),
# from `mlplab.datasets`. Small networks solve the first three; the spiral needs more units
# and a second layer: 2-32-32-1 ReLU with Adam solves it.

# %%
from mlplab.datasets import make_circle, make_gauss, make_spiral, make_xor

tasks = {"circle": (make_circle, [4], 200), "xor": (make_xor, [4], 200),
         "gauss": (make_gauss, [2], 100), "spiral": (make_spiral, [32, 32], 300)}
fig, axes = plt.subplots(1, 4, figsize=(14, 3.6))
scores = {}
for ax, (name, (make, hidden, epochs)) in zip(axes, tasks.items()):
    x, y = make(500, noise=0.1 if name != "spiral" else 0.05, seed=1)
    x_new, y_new = make(500, noise=0.1 if name != "spiral" else 0.05, seed=2)   # a test set
    x, x_new = x / 6.0, x_new / 6.0             # the Playground's coordinates span [-6, 6]
    act = "relu" if name == "spiral" else "tanh"
    layers = [Input((2,))] + [Dense(n, activation=act) for n in hidden] + [Dense(1, activation="sigmoid")]
    m = mlplab.Sequential(layers, seed=0)
    m.compile(optimizer=mlplab.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    m.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    scores[name] = m.evaluate(x_new, y_new)[1]
    mlplab.plots.plot_decision_boundary(m, x, y, ax=ax, bounds=(-1.1, 1.1, -1.1, 1.1),
                                        title=f"{name}: 2-{'-'.join(map(str, hidden))}-1, test acc {scores[name]:.2f}")
fig.tight_layout()
plt.show()
print("test accuracy on a fresh sample of each task:", scores)

# %% [markdown]
# ## The lecture's numbers and mlplab's
#
# | demo | lecture | mlplab |
# |---|---|---|
# | least squares vs gradient descent | same $W$ | max difference printed above (< 1e-3) |
# | four animals, one tanh layer | all four classes | 100% training accuracy |
# | tanh slope derivative | $\lambda^2(1+y)(1-y)$ | $\lambda(1 - y^2)$ (the slide's is wrong) |
# | spiral challenge | "can you train it?" | test accuracy printed above (2-32-32-1 ReLU, Adam, 300 epochs) |
