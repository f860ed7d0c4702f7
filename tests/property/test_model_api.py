"""Properties of the Keras-style API: constructors, compile, fit, evaluate, predict,
train_on_batch, set_weights/get_weights.

Every generated call is either accepted or refused with one of mlplab's exception types, and a
refused call leaves the model (weights, optimizer state, compiled flag, config, generators)
exactly as it was (``harness.attempt``).
"""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import mlplab
from mlplab import initializers, optimizers, regularizers, constraints, schedules

from .harness import anything, arrays, attempt, one_hostile, property_settings, \
    small_model, training_data, valid_or, weird_floats, weird_ints

ACTIVATIONS = st.sampled_from([None, "relu", "sigmoid", "tanh", "softmax", "linear", "step",
                               "sign", "Relu", "nope", ""])
LOSSES = st.sampled_from(["mse", "sse", "mae", "categorical_crossentropy",
                          "sparse_categorical_crossentropy", "binary_crossentropy", "hinge",
                          "nope", "MSE"])
METRICS = st.sampled_from(["accuracy", "acc", "binary_accuracy", "categorical_accuracy",
                           "sparse_categorical_accuracy", "top_k_categorical_accuracy",
                           "sparse_top_k_categorical_accuracy", "mse", "mae", "rmse",
                           "precision", "recall", "f1", "auc", "nope"])
OPTIMIZERS = st.sampled_from(["sgd", "adam", "rmsprop", "adagrad", "adadelta", "adamw",
                              "adamax", "nadam", "SGD", "nope"])
numbers = st.one_of(weird_floats, weird_ints, st.floats(-2, 2))


def _after_accept(group, make_layer):
    """An accepted layer must also build and predict without an internal error."""
    def use():
        model = mlplab.Sequential([mlplab.Input((3,)), make_layer()])
        return model.predict(np.ones((2, 3)))
    attempt(group, use, label="use")


@property_settings(3)
@given(kw=one_hostile(dict(
    units=st.integers(1, 5), activation=ACTIVATIONS, use_bias=st.booleans(),
    kernel_initializer=st.sampled_from(["glorot_uniform", "zeros", "he_normal", "orthogonal"]),
    kernel_regularizer=st.sampled_from([None, "l2", "l1"]),
    kernel_constraint=st.sampled_from([None, "max_norm", "non_neg"]),
    name=st.sampled_from([None, "d", "dense_x"]), input_shape=st.sampled_from([None, (3,)]))))
def test_dense_constructor(kw):
    ok, _ = attempt("constructors", lambda: mlplab.Dense(**kw), label="Dense")
    if ok:
        _after_accept("constructors", lambda: mlplab.Dense(**kw))


@property_settings()
@given(rate=valid_or(st.floats(0, 0.99)), seed=valid_or(st.one_of(st.none(),
                                                                   st.integers(0, 9))),
       shape=valid_or(st.sampled_from([3, (3,), [3], (2, 2)])))
def test_dropout_and_input(rate, seed, shape):
    ok, _ = attempt("constructors", lambda: mlplab.Dropout(rate, seed=seed), label="Dropout")
    if ok:
        _after_accept("constructors", lambda: mlplab.Dropout(rate, seed=seed))
    attempt("constructors", lambda: mlplab.Input(shape), label="Input")
    attempt("constructors", lambda: mlplab.Sequential([mlplab.Input(shape),
                                                       mlplab.Dense(2)]), label="Sequential")


@property_settings(2)
@given(name=OPTIMIZERS, learning_rate=valid_or(st.floats(1e-4, 1.0)),
       coefficient=valid_or(st.floats(0, 0.999)), epsilon=valid_or(st.floats(1e-8, 1e-3)),
       clip=valid_or(st.one_of(st.none(), st.floats(0.1, 5))))
def test_optimizer_constructors(name, learning_rate, coefficient, epsilon, clip):
    cls = optimizers.REGISTRY._entries.get(name.lower())
    if cls is None:
        attempt("constructors", lambda: optimizers.get(name), label="optimizers.get")
        return
    names = cls.__init__.__code__.co_varnames
    kwargs = {"learning_rate": learning_rate, "clipnorm": clip}
    for key in ("momentum", "rho", "beta_1", "beta_2"):
        if key in names:
            kwargs[key] = coefficient
    if "epsilon" in names:
        kwargs["epsilon"] = epsilon
    ok, opt = attempt("constructors", lambda: cls(**kwargs), label=cls.__name__)
    if ok:  # an accepted optimizer trains without an internal error
        def use():
            model = small_model(optimizer=opt, train=False)
            return model.train_on_batch(*training_data())
        attempt("constructors", use, label=cls.__name__ + " use")


@property_settings()
@given(initial=valid_or(st.floats(1e-3, 1)), steps=valid_or(st.integers(1, 100)),
       rate=valid_or(st.floats(0.1, 0.99)), boundaries=valid_or(st.lists(st.integers(1, 9),
                                                                          max_size=3)),
       values=valid_or(st.lists(st.floats(0.01, 1), max_size=4)), step=valid_or(
           st.integers(0, 1000)))
def test_schedule_constructors(initial, steps, rate, boundaries, values, step):
    makers = [("ExponentialDecay", lambda: schedules.ExponentialDecay(initial, steps, rate)),
              ("InverseTimeDecay", lambda: schedules.InverseTimeDecay(initial, steps, rate)),
              ("CosineDecay", lambda: schedules.CosineDecay(initial, steps, alpha=rate)),
              ("PiecewiseConstantDecay",
               lambda: schedules.PiecewiseConstantDecay(boundaries, values))]
    for label, make in makers:
        ok, schedule = attempt("constructors", make, label=label)
        if ok:
            attempt("constructors", lambda: schedule(step), label=label + "(step)")


@property_settings()
@given(a=numbers, b=numbers, mode=valid_or(st.sampled_from(["fan_in", "fan_out", "fan_avg"])),
       distribution=valid_or(st.sampled_from(["truncated_normal", "uniform",
                                              "untruncated_normal"])),
       shape=st.sampled_from([(3, 2), (4,), (2, 2), (1, 5)]))
def test_initializer_regularizer_constraint_constructors(a, b, mode, distribution, shape):
    rng = np.random.default_rng(0)
    makers = [("Constant", lambda: initializers.Constant(a)),
              ("RandomUniform", lambda: initializers.RandomUniform(a, b)),
              ("RandomNormal", lambda: initializers.RandomNormal(a, b)),
              ("TruncatedNormal", lambda: initializers.TruncatedNormal(a, b)),
              ("VarianceScaling", lambda: initializers.VarianceScaling(a, mode, distribution)),
              ("Orthogonal", lambda: initializers.Orthogonal(a))]
    for label, make in makers:
        ok, init = attempt("constructors", make, label=label)
        if ok:
            attempt("constructors", lambda: init(shape, rng), label=label + "()")
    for label, make in [("L1L2", lambda: regularizers.L1L2(a, b)),
                        ("MaxNorm", lambda: constraints.MaxNorm(a))]:
        attempt("constructors", make, label=label)


@property_settings(3)
@given(kw=one_hostile(dict(optimizer=st.one_of(OPTIMIZERS, st.builds(optimizers.SGD)),
                           loss=LOSSES, metrics=st.lists(METRICS, max_size=3),
                           check_config=st.booleans())),
       n_out=st.sampled_from([1, 3]))
def test_compile(kw, n_out):
    model = small_model(n_out=n_out, activation="sigmoid" if n_out == 1 else "softmax",
                        loss="binary_crossentropy" if n_out == 1 else
                        "categorical_crossentropy")
    ok, _ = attempt("compile", lambda: model.compile(**kw), model, label="compile")
    if ok:  # an accepted compile trains, evaluates and predicts without an internal error
        x, y = training_data(3, n_out, model.loss.name)
        attempt("compile", lambda: model.fit(x, y, epochs=1, verbose=0), label="fit after")
        attempt("compile", lambda: model.evaluate(x, y, verbose=0), label="evaluate after")


def _xy(draw_x, draw_y, loss):
    x, y = training_data(3, 2, loss)
    return (x if draw_x is None else draw_x), (y if draw_y is None else draw_y)


data_arg = st.one_of(st.none(), st.none(), arrays, anything)
small_int = valid_or(st.integers(1, 3))


FIT_ARGS = dict(
    x=st.none(), y=st.none(), batch_size=st.sampled_from([None, 1, 4, "full"]),
    epochs=st.integers(1, 2), verbose=st.sampled_from(["auto", 0, 2]),
    validation_split=st.sampled_from([0.0, 0.25, 0.5]), shuffle=st.booleans(),
    initial_epoch=st.integers(0, 1), steps_per_epoch=st.one_of(st.none(), st.integers(1, 2)),
    validation_data=st.one_of(st.none(), st.just("valid")))
hostile_data = st.one_of(arrays, anything, st.tuples(arrays, arrays))


def _filled(kw, loss):
    """Replace the placeholders (None data, "valid" validation data) by valid arrays."""
    kw = dict(kw)
    x, y = training_data(3, 2, loss)
    kw["x"] = x if kw["x"] is None else kw["x"]
    kw["y"] = y if kw["y"] is None else kw["y"]
    if isinstance(kw.get("validation_data"), str) and kw["validation_data"] == "valid":
        kw["validation_data"] = training_data(3, 2, loss, seed=1)
    return kw


@property_settings(4)
@given(kw=one_hostile(FIT_ARGS, st.one_of(hostile_data, anything)),
       loss=st.sampled_from(["categorical_crossentropy", "sparse_categorical_crossentropy",
                             "mse"]),
       built=st.booleans())
def test_fit(kw, loss, built):
    model = small_model(loss=loss, train=built)
    if not built:
        model = mlplab.Sequential([mlplab.Dense(4, activation="tanh"),
                                   mlplab.Dense(2, activation="softmax")], seed=0)
        model.compile("adam", loss, ["accuracy"])
    attempt("fit", lambda: model.fit(**_filled(kw, loss)), model, label="fit")


@property_settings(3)
@given(kw=one_hostile(dict(x=st.none(), y=st.none(), batch_size=st.sampled_from([None, 1, 4]),
                           verbose=st.sampled_from(["auto", 0]),
                           steps=st.one_of(st.none(), st.integers(1, 3))),
                      st.one_of(hostile_data, anything)),
       return_dict=st.booleans())
def test_evaluate_and_predict(kw, return_dict):
    model = small_model()
    kw = _filled(kw, "categorical_crossentropy")
    attempt("evaluate", lambda: model.evaluate(**kw, return_dict=return_dict), model,
            label="evaluate")
    kw.pop("y")
    attempt("predict", lambda: model.predict(**kw), model, label="predict")


@property_settings(3)
@given(kw=one_hostile(dict(x=st.none(), y=st.none()), st.one_of(hostile_data, anything)),
       loss=st.sampled_from(["categorical_crossentropy", "mse",
                             "sparse_categorical_crossentropy"]),
       built=st.booleans())
def test_train_on_batch(kw, loss, built):
    model = small_model(loss=loss, train=built)
    attempt("train_on_batch", lambda: model.train_on_batch(**_filled(kw, loss)), model,
            label="train_on_batch")


weight_list = st.one_of(
    anything, st.builds(lambda f: ("scale", f), st.floats(-3, 3)),
    st.builds(lambda f: ("scale", f), st.floats(-3, 3)), st.lists(arrays, max_size=5),
    st.builds(lambda i, v: ("replace", i, v), st.integers(0, 3), st.one_of(arrays, anything)))


@property_settings(2)
@given(weights=weight_list)
def test_set_weights(weights):
    model = small_model()
    if isinstance(weights, tuple) and weights and weights[0] == "replace":
        good = model.get_weights()   # a correct list with one entry replaced
        good[weights[1]] = weights[2]
        weights = good
    elif isinstance(weights, tuple) and weights and weights[0] == "scale":
        weights = [w * weights[1] for w in model.get_weights()]   # valid: new values
    ok, _ = attempt("set_weights", lambda: model.set_weights(weights), model,
                    label="set_weights")
    if ok:
        assert all(np.array_equal(a, np.asarray(b, dtype=a.dtype))
                   for a, b in zip(model.get_weights(), weights))
        attempt("set_weights", lambda: model.predict(np.ones((2, 3))), label="predict after")


@property_settings()
@given(layers=st.lists(st.sampled_from(["dense", "dropout", "flatten", "input", "relu",
                                        "nothing"]), max_size=4),
       shape=valid_or(st.sampled_from([(3,), (2, 2), (4,)])))
def test_add_and_build(layers, shape):
    model = mlplab.Sequential(seed=0)
    makers = {"dense": lambda: mlplab.Dense(2), "dropout": lambda: mlplab.Dropout(0.5),
              "flatten": lambda: mlplab.Flatten(), "input": lambda: mlplab.Input((3,)),
              "relu": lambda: mlplab.Activation("relu"), "nothing": lambda: "not a layer"}
    for kind in layers:
        attempt("build", lambda: model.add(makers[kind]()), model, label="add")
    attempt("build", lambda: model.build(shape), model, label="build")
