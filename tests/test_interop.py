"""Sequential pickles with its optimizer state; ONNX (checked by onnxruntime) and PyTorch
round trips give the model's predictions for every built-in layer and activation."""
import copy
import pickle

import numpy as np
import onnxruntime
import pytest
import torch

import mlplab
from mlplab import activations as A
from mlplab.layers import Activation, Dense, Dropout, Flatten, Input, Lambda
from mlplab.onnx import INPUT_NAME, OUTPUT_NAME, SUPPORTED_ACTIVATIONS, to_onnx
from mlplab.torch import from_torch, to_torch

# Every registered activation, with non-default parameters where it has them.
ACTIVATIONS = [A.Linear(), A.Step(), A.Sign(), A.Sigmoid(), A.Sigmoid(slope=2.5), A.Tanh(),
               A.Tanh(slope=0.5), A.ReLU(), A.LeakyReLU(alpha=0.1), A.ELU(alpha=0.7),
               A.Softplus(), A.Swish(), A.GELU(), A.GELU(approximate=True), A.Exponential(),
               A.Softmax()]
# float32 within 1e-5 relative, float64 within 1e-12, relative to the outputs' largest value
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}


def test_every_registered_activation_is_covered():
    names = {type(a).name for a in ACTIVATIONS}
    assert names == {cls.name for cls in set(A.REGISTRY._entries.values())}
    assert names == set(SUPPORTED_ACTIVATIONS)


def every_layer_model(activation, dtype, seed=1):
    """Flatten, Dense with the activation, Dropout, Activation: every built-in layer."""
    return mlplab.Sequential([Input((3, 4)), Flatten(), Dense(7, activation="tanh"),
                              Dropout(0.3), Dense(5, activation=activation),
                              Activation(activation), Dense(3, use_bias=False)],
                             seed=seed, dtype=dtype)


def assert_close(actual, expected, dtype):
    scale = np.max(np.abs(expected))
    assert np.max(np.abs(actual - expected)) <= TOLERANCE[dtype] * scale, \
        np.max(np.abs(actual - expected)) / scale


def inputs(dtype, n=64, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 3, 4)).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=repr)
def test_onnx_export_matches_predict_in_onnxruntime(activation, dtype):
    model = every_layer_model(activation, dtype)
    proto = to_onnx(model)
    assert [i.name for i in proto.graph.input] == [INPUT_NAME]
    assert [o.name for o in proto.graph.output] == [OUTPUT_NAME]
    assert proto.opset_import[0].version == 17
    if dtype == "float64" and activation == A.GELU():
        # onnxruntime's CPU provider has no float64 Erf kernel: the graph is valid ONNX
        # (checked by to_onnx) but onnxruntime refuses to run it.
        with pytest.raises(Exception, match="Erf"):
            onnxruntime.InferenceSession(proto.SerializeToString(),
                                         providers=["CPUExecutionProvider"])
        return
    session = onnxruntime.InferenceSession(proto.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    x = inputs(dtype)
    (y,) = session.run(None, {INPUT_NAME: x})
    assert y.dtype == np.dtype(dtype) and y.shape == (64, 3)
    assert_close(y, model.predict(x), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=repr)
def test_torch_round_trip_matches_predict(activation, dtype):
    model = every_layer_model(activation, dtype)
    module = to_torch(model)
    x = inputs(dtype)
    with torch.no_grad():
        y = module(torch.from_numpy(x)).numpy()
    assert y.dtype == np.dtype(dtype)
    assert_close(y, model.predict(x), dtype)
    back = from_torch(module, input_shape=(3, 4))
    if activation.name != "linear":  # (Activation("linear") becomes nn.Identity, then no layer)
        assert [type(layer) for layer in back.layers] == [type(lay) for lay in model.layers]
    assert back.dtype == model.dtype
    for a, b in zip(back.get_weights(), model.get_weights()):
        assert np.array_equal(a, b)
    np.testing.assert_array_equal(back.predict(x), model.predict(x))


def test_from_torch_reads_a_model_trained_in_torch():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2),
                              torch.nn.Softmax(dim=-1)).double()
    model = from_torch(net)
    assert [layer.activation.name for layer in model.layers] == ["relu", "softmax"]
    x = np.random.default_rng(1).normal(size=(20, 4))
    with torch.no_grad():
        assert_close(model.predict(x), net(torch.from_numpy(x)).numpy(), "float64")


def test_export_refuses_what_it_cannot_convert():
    model = mlplab.Sequential([Input((2,)), Lambda(lambda t: t * 2), Dense(1)])
    with pytest.raises(TypeError, match=r"layer 'lambda.*' \(Lambda\) cannot be exported: only "
                                        r"Dense, Activation, Flatten and Dropout"):
        to_onnx(model)
    with pytest.raises(TypeError, match=r"\(Lambda\) cannot be converted"):
        to_torch(model)

    class Doubled(A.ReLU):
        def __call__(self, xi):
            return 2 * super().__call__(xi)

    custom = mlplab.Sequential([Input((2,)), Dense(1, activation=Doubled())])
    with pytest.raises(TypeError, match="has no ONNX form"):
        to_onnx(custom)
    with pytest.raises(TypeError, match="not one of mlplab's own classes"):
        to_torch(custom)
    with pytest.raises(ValueError, match="opset must be an integer >= 13"):
        to_onnx(every_layer_model("relu", "float32"), opset=11)
    with pytest.raises(TypeError, match=r"module 1 \(Hardtanh\) is not supported"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Hardtanh()))


def test_onnx_file_written(tmp_path):
    import onnx

    to_onnx(every_layer_model("sigmoid", "float32"), tmp_path / "m.onnx")
    assert onnx.load(str(tmp_path / "m.onnx")).producer_name == "mlplab"


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_sequential_pickles_and_deep_copies_with_its_optimizer_state(optimizer):
    """A copy predicts the same and, trained on, takes exactly the original's steps: the
    optimizer's moments and iteration count come along (the default glorot_uniform
    initializer used to break pickling)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = np.eye(2, dtype="float32")[(x[:, 0] > 0).astype(int)]
    model = mlplab.Sequential([Input((3,)), Dense(8, activation="relu"), Dropout(0.2),
                               Dense(2, activation="softmax")], seed=0)
    model.compile(optimizer, "categorical_crossentropy")
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    for twin in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert twin.optimizer.iterations == model.optimizer.iterations > 0
        np.testing.assert_array_equal(twin.predict(x), model.predict(x))
    twins = [pickle.loads(pickle.dumps(model)), copy.deepcopy(model)]
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    for twin in twins:
        twin.fit(x, y, epochs=2, batch_size=8, verbose=0)
        for a, b in zip(twin.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)
    # the optimizer state matters: the same weights with a fresh optimizer step elsewhere
    fresh = pickle.loads(pickle.dumps(twins[0]))
    fresh.compile(optimizer, "categorical_crossentropy")
    fresh.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    same = all(np.array_equal(a, b) for a, b in zip(fresh.get_weights(), model.get_weights()))
    assert same == (optimizer == "sgd")  # plain SGD has no state; Adam, RMSprop do
