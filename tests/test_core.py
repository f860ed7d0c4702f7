"""Model building, shapes, parameter counts, weights, summary, reproducibility, dtype."""
import io
import contextlib

import numpy as np
import pytest

import mlplab
from mlplab import Sequential
from mlplab.layers import Activation, Dense, Dropout, Flatten, Input


@pytest.mark.parametrize("sizes,expected", [((2, 10, 1), 41), ((784, 512, 10), 407_050),
                                            ((4, 4, 3), 35)])
def test_count_params_of_the_lecture_networks(sizes, expected):
    layers = [Input((sizes[0],))] + [Dense(n, activation="sigmoid") for n in sizes[1:]]
    model = Sequential(layers)
    by_formula = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    assert model.count_params() == expected == by_formula


def test_weights_have_keras_shapes_and_round_trip():
    model = Sequential([Input((3,)), Dense(5, activation="relu"), Dense(2)], seed=0)
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(3, 5), (5,), (5, 2), (2,)]
    new = [np.full(s, i, dtype=np.float32) for i, s in enumerate(shapes)]
    model.set_weights(new)
    for a, b in zip(model.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    x = np.ones((1, 3), dtype=np.float32)
    # relu(1*0 + 1) = 1 on 5 units, then 5 * 2 + 3 = 13
    np.testing.assert_allclose(model.predict(x), [[13.0, 13.0]])


def test_set_weights_rejects_wrong_shapes_and_leaves_model():
    model = Sequential([Input((3,)), Dense(2)], seed=0)
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"weights\[0\] must have shape \(3, 2\); received \(2, 3\)"):
        model.set_weights([np.zeros((2, 3)), np.zeros(2)])
    with pytest.raises(ValueError, match="expected a list of 2 arrays"):
        model.set_weights([np.zeros((3, 2))])
    with pytest.raises(ValueError, match="NaN"):
        model.set_weights([np.full((3, 2), np.nan), np.zeros(2)])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_summary_prints_layers_shapes_and_totals():
    model = Sequential([Input((2,)), Dense(10, activation="sigmoid"),
                        Dense(1, activation="sigmoid")], name="xor")
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, 10)" in text and "(None, 1)" in text
    assert "30" in text and "11" in text and "Total params: 41" in text


def test_shape_inference_with_flatten_and_dense_input_dim():
    model = Sequential([Input((28, 28)), Flatten(), Dense(16, activation="relu"), Dropout(0.2),
                        Dense(10), Activation("softmax")])
    assert model.output_shape == (10,)
    assert model.count_params() == 784 * 16 + 16 + 16 * 10 + 10
    keras_style = Sequential([Dense(10, activation="sigmoid", input_dim=2), Dense(1)])
    assert keras_style.count_params() == 41
    lazy = Sequential([Dense(3), Dense(1)])
    assert not lazy.built
    lazy.compile("sgd", "mse")
    lazy.fit(np.ones((4, 7)), np.ones((4, 1)), verbose=0)
    assert lazy.count_params() == 7 * 3 + 3 + 4


def test_dense_without_flatten_gives_clear_error():
    with pytest.raises(ValueError, match="Put a Flatten"):
        Sequential([Input((28, 28)), Dense(10)])


def test_same_seed_same_weights_bit_for_bit_and_same_training():
    def run(seed):
        x, y = mlplab.datasets.load_xor()
        model = Sequential([Input((2,)), Dense(8, activation="tanh"),
                            Dense(1, activation="sigmoid")], seed=seed)
        init = model.get_weights()
        model.compile(mlplab.SGD(0.5), "binary_crossentropy")
        model.fit(x, y, epochs=20, batch_size=2, verbose=0)
        return init, model.get_weights()

    (i1, w1), (i2, w2), (i3, _) = run(7), run(7), run(8)
    for a, b in zip(i1 + w1, i2 + w2):
        assert a.tobytes() == b.tobytes()
    assert not np.array_equal(i1[0], i3[0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_kept_end_to_end(dtype):
    model = Sequential([Input((4,)), Dense(6, activation="sigmoid"),
                        Dense(3, activation="softmax")], seed=0, dtype=dtype)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(20, 4))  # float64 input
    model.fit(x, np.arange(20) % 3, epochs=2, batch_size=8, verbose=0)
    assert all(w.dtype == np.dtype(dtype) for w in model.get_weights())
    assert model.predict(x).dtype == np.dtype(dtype)
    assert model.layers[0].delta.dtype == np.dtype(dtype)


def test_layers_expose_delta_and_gradients_after_a_step():
    model = Sequential([Input((2,)), Dense(3, activation="sigmoid"), Dense(1)], seed=0,
                       dtype="float64")
    model.compile(mlplab.SGD(0.1), "sse")
    x = np.array([[0.5, -1.0], [1.0, 2.0]])
    d = np.array([[1.0], [0.0]])
    W1, b1, W2, b2 = model.get_weights()
    model.train_on_batch(x, d)
    # The lecture formulas, written out by hand.
    h = 1 / (1 + np.exp(-(x @ W1 + b1)))
    y = h @ W2 + b2
    delta2 = y - d                               # linear output, E = 1/2 sum (y - d)^2
    delta1 = h * (1 - h) * (delta2 @ W2.T)
    hidden, out = model.layers
    np.testing.assert_allclose(out.delta, delta2, rtol=1e-12)
    np.testing.assert_allclose(hidden.delta, delta1, rtol=1e-12)
    np.testing.assert_allclose(out.dW, h.T @ delta2, rtol=1e-12)
    np.testing.assert_allclose(hidden.dW, x.T @ delta1, rtol=1e-12)
    np.testing.assert_allclose(hidden.db, delta1.sum(0), rtol=1e-12)
    np.testing.assert_allclose(model.get_weights()[0], W1 - 0.1 * x.T @ delta1, rtol=1e-12)


def test_config_round_trip_rebuilds_the_same_model():
    model = Sequential([Input((3,)), Dense(4, activation={"name": "tanh", "slope": 2.0},
                                            kernel_initializer="he_normal"),
                        Dropout(0.1), Dense(2, activation="softmax")], seed=3)
    twin = Sequential.from_config(model.get_config())
    assert twin.get_config() == model.get_config()
    assert [w.shape for w in twin.get_weights()] == [w.shape for w in model.get_weights()]
    # Same seed and config, so the same initial weights.
    for a, b in zip(twin.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_registries_resolve_names_objects_and_list_known_names():
    assert isinstance(mlplab.activations.get("sigmoid"), mlplab.activations.Sigmoid)
    obj = mlplab.activations.Tanh(slope=2)
    assert mlplab.activations.get(obj) is obj
    with pytest.raises(ValueError, match=r"Unknown activation 'sigmoidd'.*Available:.*relu.*"
                                         r"Did you mean 'sigmoid'\?"):
        mlplab.activations.get("sigmoidd")
    with pytest.raises(ValueError, match=r"Unknown loss 'msee'.*Available:.*hinge"):
        mlplab.losses.get("msee")
    with pytest.raises(ValueError, match=r"Unknown optimizer 'sgdd'"):
        mlplab.optimizers.get("sgdd")


def test_verbose_output_falls_back_to_one_line_per_epoch_without_terminal():
    model = Sequential([Input((2,)), Dense(1, activation="sigmoid")], seed=0)
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    x, y = mlplab.datasets.load_logic_gate("and")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        model.fit(x, y, epochs=3, verbose=1)
    lines = buf.getvalue().strip().splitlines()
    assert len(lines) == 3 and all(l.startswith(f"Epoch {i + 1}/3") for i, l in enumerate(lines))
    assert "loss:" in lines[0] and "accuracy:" in lines[0] and "\r" not in buf.getvalue()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        model.fit(x, y, epochs=2, verbose=0)
    assert buf.getvalue() == ""


# ---------------------------------------------------------------- the front door (README, CI)
import os  # noqa: E402
from pathlib import Path  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def readme_block(heading, lang):
    section = README.split(heading, 1)[1]
    return re.search(rf"```{lang}\n(.*?)```", section, re.S).group(1)


def test_readme_xor_example_prints_what_its_comments_claim():
    code = readme_block("## XOR in ten lines", "python")
    assert len(code.strip().splitlines()) <= 12
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(code, "README.md", "exec"), {})
    out = buf.getvalue()
    claimed = re.search(r"print\(model\.predict.*#\s*(\[.*\])", code).group(1)
    assert out.strip().splitlines()[-1] == claimed        # [0.004 0.995 0.996 0.005]
    assert "Total params: 41" in out and re.search(r"\b30\b", out) and re.search(r"\b11\b", out)
    predicted = np.array(claimed.strip("[]").split(), dtype=float)
    np.testing.assert_array_equal(predicted.round(), [0, 1, 1, 0])    # 100% on XOR


def test_readme_set_up_commands_and_ci_run_the_same_test_command():
    main_job = readme_block("**Run the main job**", "bash").strip()
    tests = readme_block("**Run the tests**", "bash").strip()
    venv = "python -m venv .venv && . .venv/bin/activate && "
    assert main_job == venv + "pip install -e . && mlplab train --data ../shared/data/mnist"
    assert tests == venv + 'pip install -e ".[dev]" && python -m pytest -q'
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == tests
    # The data folder the commands name, as seen from the project's root (where CI and a
    # fresh clone have shared/ beside the project; elsewhere MLPLAB_DATA points to the files).
    readme_data = (ROOT / "../shared/data/mnist").resolve()
    if "MLPLAB_DATA" not in os.environ or Path(os.environ["MLPLAB_DATA"]).resolve() == \
            readme_data:
        assert (readme_data / "train-images-idx3-ubyte.gz").exists() or \
            (readme_data / "train-images-idx3-ubyte").exists()
    # The console script the first command runs, and the extras the second installs.
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'mlplab = "mlplab.cli:main"' in pyproject
    assert 'requires-python = ">=3.10"' in pyproject
    dev = re.search(r"dev = \[(.*?)\]", pyproject, re.S).group(1)
    assert '"torch==2.13.0"' in dev and '"pytest' in dev


def test_the_core_runs_on_numpy_alone():
    """Build, train, predict and gradcheck with every optional package made unimportable."""
    script = """
import sys
for name in ("tqdm", "tabulate", "matplotlib", "torch", "sklearn", "numba", "scipy", "pandas"):
    sys.modules[name] = None
import numpy as np, mlplab
from mlplab.layers import Dense, Input
x, y = mlplab.datasets.load_xor()
m = mlplab.Sequential([Input((2,)), Dense(4, activation="tanh"), Dense(1, activation="sigmoid")],
                      seed=0)
m.compile(mlplab.SGD(0.5), "binary_crossentropy", metrics=["accuracy"])
m.fit(x, y, epochs=3, batch_size=2, verbose=0)
assert m.predict(x).shape == (4, 1)
assert max(mlplab.gradcheck(m, x, y).values()) < 1e-6
mlplab.datasets.load_iris()
print("ok", m.count_params())
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ok", "17"]


# ---------------------------------------------------------------- backprop in matrix form
def torch_forward(params, x, acts):
    import torch

    h, xis = torch.tensor(x), []
    for (W, b), f in zip(params, acts):
        xi = h @ W + b
        xi.retain_grad()
        xis.append(xi)
        h = f(xi)
    return h, xis


@pytest.mark.parametrize("step", ["compute_gradients", "train_on_batch"])
def test_each_layer_delta_is_dE_dXi_of_torch_on_three_layers(step):
    """delta_l = f'(Xi_l) o (delta_{l+1} W_{l+1}^T), with W_{l+1} the kernel only (no bias row),
    equals torch's dE/dXi_l; dW_l = Y_{l-1}^T delta_l and db_l = sum of delta_l's rows."""
    import torch

    rng = np.random.default_rng(11)
    lam = 1.7
    model = Sequential([Input((3,)), Dense(5, activation={"name": "tanh", "slope": lam}),
                        Dense(4, activation="sigmoid"), Dense(2)], seed=11, dtype="float64")
    model.set_weights([w + rng.normal(0, 0.3, w.shape) for w in model.get_weights()])
    model.compile(mlplab.SGD(0.05), "sse")
    x, d = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    weights = model.get_weights()
    params = [(torch.tensor(weights[i], requires_grad=True),
               torch.tensor(weights[i + 1], requires_grad=True)) for i in (0, 2, 4)]
    acts = [lambda z: torch.tanh(lam * z), torch.sigmoid, lambda z: z]
    y, xis = torch_forward(params, x, acts)
    (0.5 * ((y - torch.tensor(d)) ** 2).sum()).backward()
    getattr(model, step)(x, d)
    for layer, xi, (W, b) in zip(model.layers, xis, params):
        np.testing.assert_allclose(layer.delta, xi.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(layer.dW, W.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(layer.db, b.grad.numpy(), rtol=1e-10, atol=1e-14)
    if step == "train_on_batch":
        for w, (W, b) in zip(model.get_weights()[::2], params):
            np.testing.assert_allclose(w, W.detach().numpy() - 0.05 * W.grad.numpy(), rtol=1e-12)
    # The notes of lecture 003 write (f'(Xi_L) o Delta_{L+1}) W^T: f'(Xi_L) is (N, 4) and
    # Delta_{L+1} is (N, 2), so the product with W^T must come first; and W_{L+1} is the kernel
    # alone: with the bias row, [W; b] of shape (5, 2), Delta W^T has one column too many.
    hidden, middle, out = model.layers
    W3, b3 = weights[4], weights[5]
    h2 = middle.Y
    np.testing.assert_allclose(middle.delta, h2 * (1 - h2) * (out.delta @ W3.T), rtol=1e-12)
    with pytest.raises(ValueError):
        h2 * (1 - h2) * out.delta                              # the notes' order
    with pytest.raises(ValueError):
        h2 * (1 - h2) * (out.delta @ np.vstack([W3, b3]).T)   # the bias row kept


def test_sigmoid_unit_cross_entropy_gradient_has_no_extra_factor_t():
    """Notes 001: for one sigmoid unit with cross-entropy, dE/dw = sum_i x_i (h(x_i) - t_i)
    (divided by N for the mean), without a factor t_i."""
    rng = np.random.default_rng(2)
    model = Sequential([Input((3,)), Dense(1, activation="sigmoid")], seed=2, dtype="float64")
    model.compile("sgd", "binary_crossentropy")
    x = rng.normal(size=(8, 3))
    t = rng.integers(0, 2, size=(8, 1)).astype(float)
    W, b = model.get_weights()
    h = 1.0 / (1.0 + np.exp(-(x @ W + b)))
    _, (dW, db) = model.compute_gradients(x, t)
    np.testing.assert_allclose(dW, x.T @ (h - t) / 8, rtol=1e-12)
    np.testing.assert_allclose(db, (h - t).sum(0) / 8, rtol=1e-12)
    assert not np.allclose(dW, x.T @ (t * (h - t)) / 8)


def test_activation_and_flatten_layers_backpropagate_as_torch():
    import torch

    rng = np.random.default_rng(6)
    model = Sequential([Input((2, 3)), Flatten(), Dense(4), Activation("elu"), Dense(3),
                        Activation("softmax")], seed=6, dtype="float64")
    model.compile("sgd", "categorical_crossentropy")
    x = rng.normal(size=(5, 2, 3))
    d = np.eye(3)[rng.integers(0, 3, 5)]
    loss, grads = model.compute_gradients(x, d)
    W1, b1, W2, b2 = (torch.tensor(w, requires_grad=True) for w in model.get_weights())
    h = torch.nn.functional.elu(torch.tensor(x).reshape(5, 6) @ W1 + b1)
    p = torch.softmax(h @ W2 + b2, dim=1).clamp(1e-7, 1 - 1e-7)
    ref = -(torch.tensor(d) * p.log()).sum(1).mean()
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    for g, p_ in zip(grads, (W1, b1, W2, b2)):
        np.testing.assert_allclose(g, p_.grad.numpy(), rtol=1e-9, atol=1e-13)
    assert max(mlplab.gradcheck(model, x, d).values()) < 1e-6


# ---------------------------------------------------------------- the main job's data sets
@pytest.mark.parametrize("gate,op", [("and", lambda a, b: a and b), ("or", lambda a, b: a or b),
                                     ("xor", lambda a, b: a != b),
                                     ("nand", lambda a, b: not (a and b)),
                                     ("nor", lambda a, b: not (a or b)),
                                     ("xnor", lambda a, b: a == b)])
def test_logic_gates_are_the_truth_tables_in_both_codings(gate, op):
    x, y = mlplab.datasets.load_logic_gate(gate)
    assert x.shape == (4, 2) and y.shape == (4, 1) and x.dtype == np.float32
    assert sorted(map(tuple, x.tolist())) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    for (a, b), t in zip(x.astype(bool), y[:, 0]):
        assert t == float(bool(op(a, b)))
    xb, yb = mlplab.datasets.load_logic_gate(gate, bipolar=True)
    np.testing.assert_array_equal(xb, 2 * x - 1)
    np.testing.assert_array_equal(yb, 2 * y - 1)
    assert set(np.unique(yb)) <= {-1.0, 1.0}
    if gate == "xor":
        for a, b in zip(mlplab.datasets.load_xor(bipolar=True), (xb, yb)):
            np.testing.assert_array_equal(a, b)


def test_iris_is_fishers_data_as_scikit_learn_ships_it():
    from sklearn.datasets import load_iris as sk_iris

    x, y = mlplab.datasets.load_iris()
    ref = sk_iris()
    assert x.shape == (150, 4) and y.shape == (150,)
    assert np.bincount(y).tolist() == [50, 50, 50]
    np.testing.assert_array_equal(y, ref.target)
    np.testing.assert_allclose(x, ref.data, rtol=0, atol=1e-12)


def test_add_builds_layer_by_layer_and_summary_of_the_mnist_network():
    model = Sequential(seed=0)
    model.add(Input((28, 28)))
    model.add(Flatten())
    model.add(Dense(512, activation="sigmoid"))
    assert model.built and model.count_params() == 784 * 512 + 512
    model.add(Dense(10, activation="softmax"))
    assert model.output_shape == (10,) and model.count_params() == 407_050
    W1, b1, W2, b2 = model.get_weights()
    assert W1.shape == (784, 512) and b2.shape == (10,) and W1.dtype == np.float32
    assert not b1.any() and not b2.any()                   # bias_initializer="zeros"
    limit = np.sqrt(6 / (784 + 512))                        # glorot_uniform, as in Keras
    assert np.abs(W1).max() <= limit and np.abs(W1).max() > 0.95 * limit
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for piece in ("Layer (type)", "Output Shape", "Param #", "(None, 784)", "(None, 512)",
                  "401,920", "5,130", "Total params: 407,050"):
        assert piece in text, piece
    with pytest.raises(ValueError, match="an Input must come first"):
        model.add(Input((3,)))
    with pytest.raises(TypeError, match="expected a Layer"):
        model.add("dense")
    assert model.count_params() == 407_050
