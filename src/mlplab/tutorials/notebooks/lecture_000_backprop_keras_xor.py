# %% [markdown]
# # Lecture 000: backpropagation in brief, and XOR in Keras's workflow
#
# The companion of `000_51e85fcdcd56f666.txt`: the sigmoid, the squared error and the mean
# squared error, the chain rule, batch / stochastic / mini-batch learning, the XOR network
# 2-10-1 with its 41 parameters, and input normalization. Everything runs on mlplab's public
# API; the lecture's own notebooks used Keras.
#
# Each section ends with the lecture's number next to mlplab's.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import mlplab
from mlplab.layers import Dense, Input

FAST = os.environ.get("MLPLAB_TUTORIAL_FAST") == "1"   # set by the tests: smaller runs
print(f"mlplab {mlplab.__version__}, fast mode: {FAST}")

# %% [markdown]
# ## A better activation function: step versus sigmoid
#
# The step function fires when $\sum_i x_i w_i$ exceeds the threshold; the sigmoid
# $S(x) = \frac{1}{1 + e^{-x}}$ is non-linear, bounded and continuously differentiable, with
# $S'(x) = S(x)\,(1 - S(x))$.

# %%
x = np.linspace(-6, 6, 601)
step, sigmoid = mlplab.activations.get("step"), mlplab.activations.get("sigmoid")
y_sig = sigmoid(x)
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(x, step(x), label="step U(x)")
ax.plot(x, y_sig, label="sigmoid S(x)")
ax.plot(x, sigmoid.derivative(x, y_sig), "--", label="S'(x) = S(x)(1 - S(x))")
ax.set(xlabel="x", title="Step and sigmoid (mlplab.activations)")
ax.grid(alpha=0.3)
ax.legend()
plt.show()
print("max of S'(x):", sigmoid.derivative(np.zeros(1), sigmoid(np.zeros(1)))[0], "(at x = 0)")

# %% [markdown]
# ## Squared error and mean squared error
#
# The lecture's footnote: what Lane et al. call MSE, $SE = (y - f(x))^2$, has no mean.
# $MSE = \frac{1}{n}\sum_i (y_i - f(x_i))^2$ is `mlplab.losses.MeanSquaredError`; the
# lectures' $\frac{1}{2}\sum$ is `SumSquaredError`.

# %%
d = np.array([[1.0], [0.0], [1.0], [0.0]])
yhat = np.array([[0.9], [0.2], [0.6], [0.1]])
se = ((d - yhat) ** 2).sum()
mse = mlplab.losses.get("mse")(yhat, d)
sse = mlplab.losses.get("sse")(yhat, d)
print(f"SE = {se:.4f}   MSE = SE / n = {mse:.4f}   lectures' SSE = SE / 2 = {sse:.4f}")
assert np.isclose(mse, se / 4) and np.isclose(sse, se / 2)

# %% [markdown]
# ## Batch, stochastic and mini-batch learning
#
# `fit(batch_size=...)`: `"full"` is batch learning (one update per epoch), `1` is
# stochastic (online) learning, an integer k is mini-batch. On XOR, with the same number of
# epochs, the three strategies make 1, 4 and 2 updates per epoch.

# %%
x_xor, y_xor = mlplab.datasets.load_xor()


def xor_model(seed=1):
    return mlplab.Sequential([Input((2,)),
                              Dense(10, activation="sigmoid"),
                              Dense(1, activation="sigmoid")], seed=seed)


curves = {}
for label, batch_size in [("batch", "full"), ("mini-batch (2)", 2), ("stochastic (1)", 1)]:
    model = xor_model()
    model.compile(optimizer=mlplab.SGD(learning_rate=1.0), loss="binary_crossentropy")
    curves[label] = model.fit(x_xor, y_xor, epochs=500, batch_size=batch_size,
                              verbose=0, shuffle=True).history["loss"]
fig, ax = plt.subplots(figsize=(6, 3.2))
for label, loss in curves.items():
    ax.plot(loss, label=label)
ax.set(xlabel="epoch", ylabel="binary cross-entropy", yscale="log",
       title="XOR 2-10-1, SGD learning rate 1.0")
ax.legend()
plt.show()
for label, loss in curves.items():
    print(f"{label:>15}: loss after 500 epochs {loss[-1]:.4f}")

# %% [markdown]
# ## XOR in Keras's workflow: 2-10-1, 41 parameters
#
# The first dense layer has 2 x 10 weights and 10 biases (30 parameters), the second
# 10 weights and 1 bias (11).

# %%
model = xor_model()
model.summary()
assert model.count_params() == 41
model.compile(optimizer=mlplab.SGD(learning_rate=1.0), loss="binary_crossentropy",
              metrics=["accuracy"])
history = model.fit(x_xor, y_xor, epochs=2000, batch_size=4, verbose=0)
loss, acc = model.evaluate(x_xor, y_xor)
print("predictions:", model.predict(x_xor).round(3).ravel())
print(f"accuracy {acc:.0%}, loss {loss:.4f}")
mlplab.plots.plot_history(history, title="XOR 2-10-1: training curves")
plt.show()

# %%
ax = mlplab.plots.plot_decision_boundary(model, x_xor, y_xor.ravel(), bounds=(-0.5, 1.5, -0.5, 1.5),
                                         title="XOR 2-10-1: P(output = 1)")
plt.show()

# %% [markdown]
# ## Normalization
#
# The house example: `[4, 12000]` (bedrooms, last price) has features on scales four orders of
# magnitude apart. Standardization (`mlplab.preprocessing.StandardScaler`) or feature scaling
# (`MinMaxScaler`, into $[0, 1]$ or $[-1, 1]$) makes them comparable.

# %%
from mlplab.preprocessing import MinMaxScaler, StandardScaler

houses = np.array([[4, 12000.0], [2, 8000.0], [3, 15000.0], [5, 30000.0]])
print("standardized:\n", StandardScaler().fit_transform(houses).round(3))
print("scaled to [-1, 1]:\n", MinMaxScaler(feature_range=(-1, 1)).fit_transform(houses).round(3))

# %% [markdown]
# ## The lecture's numbers and mlplab's
#
# | demo | lecture | mlplab | why they differ |
# |---|---|---|---|
# | XOR 2-10-1 parameters | 30 + 11 = 41 | 41 | - |
# | XOR accuracy | 4 of 4 (Keras run) | 4 of 4 | the lecture's figure is a Keras run with other random weights |
# | "MSE" of Lane et al. | no mean | `mse` has the mean, `sse` is $\frac12\sum$ | the footnote's correction |

# %%
print(f"| XOR parameters | 41 | {model.count_params()} |")
print(f"| XOR accuracy | 100% | {acc:.0%} |")
