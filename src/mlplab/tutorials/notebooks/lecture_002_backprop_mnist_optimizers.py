# %% [markdown]
# # Lecture 002: the classic backpropagation network, MNIST 784-512-10, schedules and optimizers
#
# The companion of `002_51213ac3d76edd0a.txt`: the perceptron with a bias input, the Iris
# network's 35 parameters, the classic backprop algorithm (with the slides' two errors
# corrected), MNIST 784-512-10 (407,050 parameters) in Keras's workflow, learning-rate
# schedules and the optimizers compared.
#
# MNIST comes from `$MLPLAB_DATA` (or `mlplab.datasets.load_mnist`'s cache). With
# `MLPLAB_TUTORIAL_FAST=1` (the tests) the MNIST runs use a documented subset: 20,000 training
# images and 3 epochs for 784-512-10, 3,000 images and 2 epochs per optimizer. Without it they
# run in full: 60,000 images and 10 epochs, 10,000 images and 5 epochs per optimizer.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import mlplab
from mlplab.layers import Dense, Input

FAST = os.environ.get("MLPLAB_TUTORIAL_FAST") == "1"
N_TRAIN, EPOCHS = (20_000, 3) if FAST else (60_000, 10)
N_OPT, EPOCHS_OPT = (3_000, 2) if FAST else (10_000, 5)

# %% [markdown]
# ## The perceptron (TLU) and its bias
#
# $I = \sum_i w_i x_i$, $y = +1$ if $I \ge T$ else $-1$. Turning the threshold into a weight
# $w_0$ on a constant input $x_0 = 1$ lets the same rule learn it: mlplab's `Perceptron`
# keeps it as `intercept_`.

# %%
x_and, y_and = mlplab.datasets.load_logic_gate("and", bipolar=True)
p = mlplab.Perceptron(coding="bipolar").fit(x_and, y_and)
print(f"AND (bipolar): w = {p.coef_}, w_0 = {p.intercept_}, converged in {p.n_epochs_} epochs")
print("predictions:", p.predict(x_and).ravel())

# %% [markdown]
# ## A multi-layer network for Iris: 4 inputs, 4 hidden, 3 outputs
#
# $4 \times 4 + 4 \times 3$ weights and $4 + 3$ biases: 35 parameters.

# %%
iris = mlplab.Sequential([Input((4,)), Dense(4, activation="sigmoid"),
                          Dense(3, activation="softmax")], seed=0)
print("parameters:", iris.count_params())
assert iris.count_params() == 35

# %% [markdown]
# ## The classic backpropagation network, corrected
#
# The slides write the sigmoid as $f(I) = 1/(1 + e^{I})$: it is $1/(1 + e^{-I})$. The
# pseudo-code multiplies the hidden error by $f(I)(1 - I)$: the derivative is
# $f(I)(1 - f(I))$. With those corrections the rules are
#
# $E_j^{out} = y_j^{desired} - y_j^{actual}$, $\quad\delta_j^{out} = f'(I_j) E_j^{out}$,
# $\quad\delta_i^{hid} = f'(I_i)\sum_j w_{ij}\delta_j^{out}$,
# $\quad w_{ij} \leftarrow w_{ij} + \beta\,\delta_j\,f(I_i)$.
#
# Below, one online step written exactly so, in NumPy, next to mlplab's gradient of the
# lectures' $E = \frac12\sum (d - y)^2$ (`loss="sse"`): the step is $-\beta$ times the gradient.

# %%
rng = np.random.default_rng(0)
net = mlplab.Sequential([Input((3,)), Dense(4, activation="sigmoid"),
                         Dense(2, activation="sigmoid")], seed=3, dtype="float64")
net.compile(optimizer=mlplab.SGD(learning_rate=0.5), loss="sse")
x1, d1 = rng.normal(size=(1, 3)), np.array([[1.0, 0.0]])
(W1, b1, W2, b2) = net.get_weights()
f = lambda I: 1 / (1 + np.exp(-I))          # noqa: E731  (corrected sign)
I_hid = x1 @ W1 + b1
y_hid = f(I_hid)
I_out = y_hid @ W2 + b2
y_out = f(I_out)
delta_out = (d1 - y_out) * y_out * (1 - y_out)          # f'(I) = f(I)(1 - f(I))
delta_hid = y_hid * (1 - y_hid) * (delta_out @ W2.T)    # the corrected derivative
beta = 0.5
step_by_hand = [beta * x1.T @ delta_hid, beta * delta_hid[0], beta * y_hid.T @ delta_out,
                beta * delta_out[0]]
loss, grads = net.compute_gradients(x1, d1)
for name, mine, g in zip(["W1", "b1", "W2", "b2"], step_by_hand, grads):
    assert np.allclose(mine, -beta * g), name
print("classic backprop step == -beta * mlplab's gradient for W1, b1, W2, b2")
wrong = y_hid * (1 - I_hid) * (delta_out @ W2.T)        # the slide's f(I)(1 - I)
print("the slide's f(I)(1 - I) would be off by", np.abs(wrong - delta_hid).max())

# %% [markdown]
# ## MNIST 784-512-10 in Keras's workflow
#
# Load and prepare, build, compile, fit, evaluate. $784 \times 512 + 512 + 512 \times 10 + 10
# = 407{,}050$ parameters. The lecture uses sigmoid units throughout; mlplab's main job uses
# a softmax output with cross-entropy (the lecture asks "how to determine error/loss at the
# output?"), SGD with learning rate 0.5, batch 32.

# %%
(x_train, y_train), (x_test, y_test) = mlplab.datasets.load_mnist(flatten=True, normalize=True)
x_train, y_train = x_train[:N_TRAIN], y_train[:N_TRAIN]
print(f"training on {len(x_train):,} images for {EPOCHS} epochs, testing on {len(x_test):,}")
fig, axes = plt.subplots(1, 8, figsize=(8, 1.4))
for ax, img, label in zip(axes, x_train, y_train):
    ax.imshow(img.reshape(28, 28), cmap="gray_r")
    ax.set_title(str(label))
    ax.axis("off")
plt.show()

# %%
mnist = mlplab.Sequential([Input((784,)), Dense(512, activation="sigmoid"),
                           Dense(10, activation="softmax")], seed=0)
mnist.summary()
assert mnist.count_params() == 407_050
mnist.compile(optimizer=mlplab.SGD(learning_rate=0.5), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
history = mnist.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, verbose=0,
                    validation_data=(x_test, y_test))
test_loss, test_acc = mnist.evaluate(x_test, y_test)
print(f"MNIST 784-512-10: test accuracy {test_acc:.2%} (loss {test_loss:.4f})")
mlplab.plots.plot_history(history, title="MNIST 784-512-10")
plt.show()

# %% [markdown]
# ## Learning-rate schedules
#
# "Start with a higher value (say 0.5 or 0.6) and then decrease it": Keras's schedules,
# as functions of the step.

# %%
from mlplab import schedules

steps = np.arange(0, 2000)
sched = {"ExponentialDecay(0.5, 500, 0.5)": schedules.ExponentialDecay(0.5, 500, 0.5),
         "InverseTimeDecay(0.5, 500, 1.0)": schedules.InverseTimeDecay(0.5, 500, 1.0),
         "PiecewiseConstantDecay([500, 1000], [0.5, 0.25, 0.1])":
             schedules.PiecewiseConstantDecay([500, 1000], [0.5, 0.25, 0.1]),
         "CosineDecay(0.5, 2000)": schedules.CosineDecay(0.5, 2000)}
plt.figure(figsize=(6.5, 3.2))
for name, s in sched.items():
    plt.plot(steps, [s(int(k)) for k in steps], label=name)
plt.xlabel("step")
plt.ylabel("learning rate")
plt.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## The optimizers compared
#
# SGD, RMSprop, Adam, Adadelta, Adamax, Nadam and the rest, each with its usual learning rate,
# on the same 784-128-10 network and the same data and seed.

# %%
opts = {"SGD(0.1)": mlplab.SGD(0.1), "SGD(0.1, momentum 0.9)": mlplab.SGD(0.1, momentum=0.9),
        "Adagrad(0.01)": mlplab.Adagrad(0.01), "RMSprop(1e-3)": mlplab.RMSprop(1e-3),
        "Adadelta(1.0)": mlplab.Adadelta(1.0), "Adam(1e-3)": mlplab.Adam(1e-3),
        "Adamax(2e-3)": mlplab.Adamax(2e-3), "Nadam(1e-3)": mlplab.Nadam(1e-3)}
results = {}
plt.figure(figsize=(6.5, 3.5))
for name, opt in opts.items():
    m = mlplab.Sequential([Input((784,)), Dense(128, activation="relu"),
                           Dense(10, activation="softmax")], seed=0)
    m.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = m.fit(x_train[:N_OPT], y_train[:N_OPT], epochs=EPOCHS_OPT, batch_size=32, verbose=0)
    results[name] = m.evaluate(x_test, y_test)[1]
    plt.plot(np.arange(1, EPOCHS_OPT + 1), h.history["loss"], "o-", label=name)
plt.xlabel("epoch")
plt.ylabel("training loss")
plt.yscale("log")
plt.legend(fontsize=7)
plt.title(f"784-128-10 on {N_OPT:,} images")
plt.show()
for name, acc in sorted(results.items(), key=lambda kv: -kv[1]):
    print(f"{name:>24}: test accuracy {acc:.2%}")

# %% [markdown]
# ## In what order are the patterns presented?
#
# `fit(shuffle=True)` (the default) draws a new permutation every epoch, sampling without
# replacement: the lecture's SGD. `shuffle=False` presents them in the file's order.

# %%
for shuffle in (True, False):
    m = mlplab.Sequential([Input((784,)), Dense(64, activation="sigmoid"),
                           Dense(10, activation="softmax")], seed=0)
    m.compile(optimizer=mlplab.SGD(0.5), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    order = np.argsort(y_train[:N_OPT], kind="stable")       # sorted by digit: the worst order
    m.fit(x_train[:N_OPT][order], y_train[:N_OPT][order], epochs=1, batch_size=32, verbose=0,
          shuffle=shuffle)
    print(f"data sorted by label, shuffle={shuffle}: test accuracy {m.evaluate(x_test, y_test)[1]:.2%}")

# %% [markdown]
# ## The lecture's numbers and mlplab's
#
# | demo | lecture | mlplab |
# |---|---|---|
# | Iris 4-4-3 parameters | 35 | 35 |
# | MNIST 784-512-10 parameters | 407,050 | 407,050 |
# | MNIST test accuracy | not given (a Colab lab) | 97.99% in 10 epochs on all 60,000 images (README's main job); the fast mode's subset gives less |

# %%
print(f"| MNIST 784-512-10 | 407,050 | {mnist.count_params():,} | test accuracy {test_acc:.2%} "
      f"({N_TRAIN:,} images, {EPOCHS} epochs) |")
