# %% [markdown]
# # Lecture 001: from McCulloch-Pitts to backpropagation
#
# The companion of `001_6af4d0f2c28bc7fd.txt`: the McCulloch-Pitts gates and the XOR network
# of the history slides, the perceptron and Adaline rules with their decision lines, the
# activation table with plots (corrected), the softmax example (corrected), gradient descent
# for linear regression, the computation graph, the sigmoid unit's gradients, the
# learning-rate schedule $\alpha_k = c_1 / (k + c_2)$ and the batch sizes.

# %%
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np

import mlplab
from mlplab import activations
from mlplab.neurons import Adaline, ConvergenceWarning, McCullochPitts, McCullochPittsNetwork, Perceptron

FAST = os.environ.get("MLPLAB_TUTORIAL_FAST") == "1"

# %% [markdown]
# ## McCulloch and Pitts (1943)
#
# Binary inputs, excitatory (+1) and inhibitory (-1) connections, a threshold $\theta$:
# AND has $\theta = 2$, OR $\theta = 1$, NOT one inhibitory input and $\theta = 0$.

# %%
gates = {"AND": McCullochPitts.and_gate(), "OR": McCullochPitts.or_gate(),
         "NOT": McCullochPitts.not_gate()}
for name, neuron in gates.items():
    x, y = neuron.truth_table()
    print(f"{name:>3} {neuron!r}: " + ", ".join(f"{list(r)}->{o}" for r, o in zip(x.tolist(), y.tolist())))

# %% [markdown]
# Minsky and Papert: no single threshold unit computes XOR. Two layers do,
# $x_1 \oplus x_2 = (x_1 \wedge \bar x_2) \vee (\bar x_1 \wedge x_2)$; the slide's hidden
# units have weights $(+1, -1)$ and $(-1, +1)$.

# %%
xor_net = McCullochPittsNetwork.xor()
x, y = xor_net.truth_table()
print("XOR network:", dict(zip(map(tuple, x.tolist()), y.tolist())))
assert y.tolist() == [0, 1, 1, 0]

# %% [markdown]
# ## The perceptron rule $w_j \leftarrow w_j + \alpha x_j (t - y)$ and Adaline's
#
# The perceptron updates only on mistakes (y is the thresholded output); Adaline
# (Widrow-Hoff) uses the linear output $y = \sum_j w_j x_j$ and so converges to the least
# squares fit. Below: both on the same linearly separable set, with the perceptron's line
# after every update.

# %%
rng = np.random.default_rng(0)
pts = rng.uniform(-1, 1, size=(200, 2))
margin = pts @ np.array([1.0, -0.7]) + 0.1
keep = np.abs(margin) > 0.15
pts, labels = pts[keep][:60], (margin[keep][:60] > 0).astype(int)

perceptron = Perceptron(learning_rate=0.1).fit(pts, labels)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    adaline = Adaline(learning_rate=0.01, max_epochs=50).fit(pts, labels)
print(f"perceptron: converged {perceptron.converged_} after {perceptron.n_epochs_} epochs, "
      f"accuracy {perceptron.score(pts, labels):.0%}")
print(f"adaline:    accuracy {adaline.score(pts, labels):.0%}")

fig, ax = plt.subplots(figsize=(5.5, 5))
ax.scatter(*pts[labels == 1].T, c="tab:blue", label="class 1")
ax.scatter(*pts[labels == 0].T, c="tab:red", marker="x", label="class 0")
xs = np.array([-1.0, 1.0])
history = perceptron.weights_history_[1:, :, 0]
for k, (w0, w1, w2) in enumerate(history):
    if abs(w2) > 1e-12:
        ax.plot(xs, -(w0 + w1 * xs) / w2, color=plt.cm.viridis_r(k / len(history)), lw=0.8, alpha=0.6)
w0, (w1, w2) = perceptron.intercept_, perceptron.coef_
ax.plot(xs, -(w0 + w1 * xs) / w2, "k", lw=2.5, label="perceptron, final")
w0, (w1, w2) = adaline.intercept_, adaline.coef_
ax.plot(xs, -(w0 + w1 * xs) / w2, "m--", lw=2.5, label="Adaline (LMS)")
ax.set(xlim=(-1, 1), ylim=(-1, 1), xlabel="$x_1$", ylabel="$x_2$",
       title=f"Perceptron line after each of its {len(history)} updates")
ax.legend(loc="lower left", fontsize=8)
plt.show()

# %% [markdown]
# ## The activation functions, with their derivatives (corrected)
#
# The slides' errors, corrected here and in mlplab (see the errata page):
#
# * the threshold function is $U(x) = 1$ for $x > 0$, else $0$ (the slide writes 0 on both sides);
# * tanh's range is $(-1, 1)$, not $[0, 1]$;
# * Leaky ReLU is $a x$ for $x < 0$ with a small positive $a$, derivative $a$ (not $-a x$ and $-a$).

# %%
x = np.linspace(-6, 6, 1201)
table = [("linear", "linear"), ("threshold U(x)", "step"), ("sigmoid", "sigmoid"),
         ("tanh", "tanh"), ("ReLU", "relu"), ("Leaky ReLU (a = 0.2)", "leaky_relu")]
fig, axes = plt.subplots(2, 3, figsize=(11, 6))
for ax, (title, name) in zip(axes.ravel(), table):
    f = activations.get(name)
    y = f(x)
    ax.plot(x, y, label="f(x)")
    ax.plot(x, f.derivative(x, y), "--", label="f'(x)")
    ax.set_title(title)
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.grid(alpha=0.3)
axes[0, 0].legend()
fig.tight_layout()
plt.show()
tanh = activations.get("tanh")
print("tanh(-3), tanh(3):", tanh(np.array([-3.0, 3.0])), "-> the range is (-1, 1), not [0, 1]")
print("U(-1), U(0), U(1):", activations.get("step")(np.array([-1.0, 0.0, 1.0])))
print("leaky ReLU(-1), its derivative:", activations.get("leaky_relu")(np.array([-1.0])),
      activations.get("leaky_relu").derivative(np.array([-1.0]), None))

# %% [markdown]
# ## Softmax (the example corrected)
#
# $a_i(x) = e^{z_i} / \sum_k e^{z_k}$. The slide says $[1.60, 0.55, 0.98]$ gives
# $[0.51, 0.18, 0.31]$; it gives $[0.530, 0.185, 0.285]$.

# %%
z = np.array([[1.60, 0.55, 0.98]])
a = activations.get("softmax")(z)
print("softmax([1.60, 0.55, 0.98]) =", a.round(3), " sum =", a.sum())
assert np.allclose(a.round(3), [[0.530, 0.185, 0.285]])

# %% [markdown]
# ## Gradient descent for linear regression, $h(x) = w_0 + w_1 x$
#
# $J(w) = \frac{1}{2m}\sum_i (h(x_i) - t_i)^2$; a big step oscillates or diverges, a small one
# crawls. mlplab's `LinearNetwork(solver="gd")` takes the steps; `solver="lstsq"` gives the
# minimum directly.

# %%
from mlplab.neurons import LinearNetwork

rng = np.random.default_rng(1)
xr = rng.uniform(-1, 1, size=(50, 1))
tr = 0.5 + 2.0 * xr[:, 0] + rng.normal(0, 0.1, 50)
exact = LinearNetwork().fit(xr, tr)
fig, ax = plt.subplots(figsize=(6, 3.2))
for lr in (0.001, 0.01, 0.035):
    gd = LinearNetwork(solver="gd", learning_rate=lr, max_epochs=100, tol=None).fit(xr, tr)
    ax.plot(gd.history_, label=f"alpha = {lr}: w = [{gd.intercept_:.3f}, {gd.coef_[0]:.3f}]")
ax.set(xlabel="epoch", ylabel="E", yscale="log", title="Batch gradient descent, three step sizes")
ax.legend(fontsize=8)
plt.show()
print(f"least squares: w0 = {exact.intercept_:.3f}, w1 = {exact.coef_[0]:.3f}")

# %% [markdown]
# ## Computation graphs
#
# The slide's linear regression as atomic assignments: $u = w_1 x$, $\hat y = w_0 + u$,
# $z = \hat y - y$, $L = z^2$, with input, parameter and compute nodes. `mlplab.autodiff`
# builds that graph and backpropagates through it.

# %%
from mlplab.autodiff import Tensor, to_text

xt, yt = Tensor(2.0, name="x"), Tensor(3.0, name="y")
w0 = Tensor(0.5, requires_grad=True, name="w0")
w1 = Tensor(1.0, requires_grad=True, name="w1")
u = (w1 * xt).named("u")
y_hat = (w0 + u).named("y_hat")
zt = (y_hat - yt).named("z")
L = (zt ** 2).named("L")
L.backward()
print(to_text(L))
# by hand: dL/dw0 = 2 z, dL/dw1 = 2 z x
assert np.isclose(w0.grad, 2 * (0.5 + 2.0 - 3.0)) and np.isclose(w1.grad, 2 * (0.5 + 2.0 - 3.0) * 2.0)

# %% [markdown]
# ## A sigmoid unit: regression and classification
#
# For classification, $J(w) = \sum_i [-t_i \ln h(x_i) - (1 - t_i)\ln(1 - h(x_i))]$ has the
# gradient $\nabla J(w) = \sum_i x_i (h(x_i) - t_i)$. The slide's extra factor $t_i$ is wrong:
# it would ignore every sample with $t_i = 0$. Checked against mlplab's autodiff:

# %%
from mlplab.autodiff import grad, functional as F

X = np.c_[np.ones(6), rng.normal(size=(6, 2))]
t = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])
w = rng.normal(size=3)


def J_mlplab(w):
    h = (Tensor(X) @ w).reshape((6, 1))
    return F.per_sample_loss("binary_crossentropy", Tensor(t.reshape(6, 1)), F.sigmoid(h)).sum()


h = 1 / (1 + np.exp(-X @ w))
correct = X.T @ (h - t)
slide = X.T @ (t * (h - t))
auto = grad(J_mlplab)(w)
print("autodiff:            ", auto.round(6))
print("sum x (h - t):       ", correct.round(6))
print("slide's sum t x (h-t):", slide.round(6))
assert np.allclose(auto, correct) and not np.allclose(auto, slide)

# %% [markdown]
# ## The learning rate $\alpha_k = c_1 / (k + c_2)$
#
# Keras's `InverseTimeDecay(initial, decay_steps, decay_rate)` is
# $\alpha_0 / (1 + r\,k / s)$, which is $c_1/(k + c_2)$ with $c_1 = \alpha_0 s / r$ and
# $c_2 = s / r$.

# %%
from mlplab.schedules import InverseTimeDecay

c1, c2 = 5.0, 10.0
schedule = InverseTimeDecay(initial_learning_rate=c1 / c2, decay_steps=c2, decay_rate=1.0)
k = np.arange(100)
ours = np.array([schedule(i) for i in k])
assert np.allclose(ours, c1 / (k + c2))
plt.figure(figsize=(5, 3))
plt.plot(k, ours)
plt.title("alpha_k = 5 / (k + 10)")
plt.xlabel("iteration k")
plt.show()

# %% [markdown]
# ## Batch sizes
#
# With $m = 1000$ samples: stochastic gradient descent makes 1000 updates per epoch, mini-batch
# with $K = 50$ makes 20, batch makes 1. mlplab counts them too:

# %%
from mlplab.layers import Dense, Input

x1000 = rng.normal(size=(1000, 2)).astype("float32")
t1000 = (x1000.sum(axis=1, keepdims=True) > 0).astype("float32")
for K in (1, 50, "full"):
    model = mlplab.Sequential([Input((2,)), Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    counter = {"n": 0}
    cb = mlplab.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: counter.update(n=counter["n"] + 1))
    model.fit(x1000, t1000, epochs=1, batch_size=K, verbose=0, callbacks=[cb])
    print(f"batch_size={K!s:>4}: {counter['n']} updates in one epoch")

# %% [markdown]
# ## The lecture's numbers and mlplab's
#
# | demo | lecture | mlplab | why they differ |
# |---|---|---|---|
# | softmax of [1.60, 0.55, 0.98] | [0.51, 0.18, 0.31] | [0.530, 0.185, 0.285] | the slide's numbers are wrong |
# | XOR by McCulloch-Pitts units | 0 1 1 0 | 0 1 1 0 | - |
# | updates per epoch, m = 1000 | 1000 / 20 / 1 | 1000 / 20 / 1 | - |
# | sigmoid unit's CE gradient | $\sum t_i x_i (h - t_i)$ | $\sum x_i (h - t_i)$ | the slide's extra $t_i$ is wrong |
