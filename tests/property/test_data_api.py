"""Properties of the data tools and the classic neurons: scalers, encoders, ColumnTransformer,
splits, and Perceptron / Adaline / ... fit and predict (scikit-learn's conventions).

A refused ``fit`` leaves an unfitted estimator unfitted and a fitted one as it was; a refused
``transform`` / ``predict`` changes nothing.
"""
import warnings

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from mlplab import neurons
from mlplab import preprocessing as pp

from .harness import anything, arrays, attempt, one_hostile, property_settings

hostile_data = st.one_of(arrays, anything)
good_x = st.sampled_from([np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 7.0], [1.0, 1.0]]),
                          np.array([[1, 2, 3], [4, 5, 6]]), np.arange(12.0).reshape(6, 2)])


def _fitted_and_fresh(make, x):
    fitted = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted.fit(x)
    return [make(), fitted]


SCALERS = [("StandardScaler", lambda: pp.StandardScaler()),
           ("MinMaxScaler", lambda: pp.MinMaxScaler()),
           ("MeanNormalizer", lambda: pp.MeanNormalizer()),
           ("MaxAbsScaler", lambda: pp.MaxAbsScaler())]


@property_settings(3)
@given(fit_x=st.one_of(good_x, hostile_data), new_x=st.one_of(good_x, hostile_data),
       base=good_x, feature_range=st.one_of(st.just((0, 1)), st.just((-1, 1)), anything),
       with_mean=st.one_of(st.booleans(), anything))
def test_scalers(fit_x, new_x, base, feature_range, with_mean):
    attempt("scalers", lambda: pp.MinMaxScaler(feature_range).fit(base), label="MinMaxScaler()")
    attempt("scalers", lambda: pp.StandardScaler(with_mean=with_mean).fit(base),
            label="StandardScaler()")
    for label, make in SCALERS:
        for scaler in _fitted_and_fresh(make, base):
            attempt("scalers", lambda: scaler.fit(fit_x), scaler, label=label + ".fit")
            for method in ("transform", "inverse_transform"):
                attempt("scalers", lambda: getattr(scaler, method)(new_x), scaler,
                        label=f"{label}.{method}")


categories = st.sampled_from([np.array([["a"], ["b"], ["a"]], dtype=object),
                              np.array([[1, 2], [2, 3], [1, 3]]),
                              np.array([["x", 1], ["y", 2]], dtype=object)])
labels = st.sampled_from([np.array([0, 1, 2, 1]), np.array(["cat", "dog", "cat"]),
                          np.array([3.0, 1.0])])


@property_settings(3)
@given(fit_x=st.one_of(categories, hostile_data), new_x=st.one_of(categories, hostile_data),
       base=categories, y=st.one_of(labels, hostile_data), new_y=st.one_of(labels, hostile_data),
       kw=one_hostile(dict(handle_unknown=st.sampled_from(["error", "ignore"]),
                           bipolar=st.booleans())),
       num_classes=st.one_of(st.none(), st.integers(1, 5), anything))
def test_encoders(fit_x, new_x, base, y, new_y, kw, num_classes):
    makers = [("OneHotEncoder", lambda: pp.OneHotEncoder(**kw)),
              ("OrdinalEncoder", lambda: pp.OrdinalEncoder(
                  handle_unknown="error" if isinstance(kw["handle_unknown"], str) and
                  kw["handle_unknown"] == "ignore" else kw["handle_unknown"]))]
    for label, make in makers:
        ok, _ = attempt("encoders", make, label=label + "()")
        if not ok:
            continue
        for encoder in _fitted_and_fresh(make, base):
            attempt("encoders", lambda: encoder.fit(fit_x), encoder, label=label + ".fit")
            attempt("encoders", lambda: encoder.transform(new_x), encoder,
                    label=label + ".transform")
            attempt("encoders", lambda: encoder.inverse_transform(new_x), encoder,
                    label=label + ".inverse_transform")
    for encoder in _fitted_and_fresh(pp.LabelEncoder, np.array([0, 1, 2, 1])):
        attempt("encoders", lambda: encoder.fit(y), encoder, label="LabelEncoder.fit")
        attempt("encoders", lambda: encoder.transform(new_y), encoder,
                label="LabelEncoder.transform")
        attempt("encoders", lambda: encoder.inverse_transform(new_y), encoder,
                label="LabelEncoder.inverse_transform")
    attempt("encoders", lambda: pp.to_categorical(y, num_classes), label="to_categorical")
    attempt("encoders", lambda: pp.from_categorical(new_x), label="from_categorical")


table = st.sampled_from([
    {"w": np.array([1.0, 3.0, 2.0]), "fur": np.array(["long", "none", "long"], dtype=object)},
    np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])])
column_specs = st.sampled_from(["numeric", "categorical", [0], ["w"], ["fur"], [0, 1], [5]])


@property_settings(2)
@given(x=st.one_of(table, hostile_data), new_x=st.one_of(table, hostile_data),
       spec=st.one_of(column_specs, anything),
       transformer=st.sampled_from(["scaler", "onehot", "passthrough", "drop"]),
       remainder=st.one_of(st.sampled_from(["drop", "passthrough"]), anything))
def test_column_transformer(x, new_x, spec, transformer, remainder):
    make_t = {"scaler": pp.MinMaxScaler, "onehot": pp.OneHotEncoder,
              "passthrough": lambda: "passthrough", "drop": lambda: "drop"}[transformer]
    ok, ct = attempt("ColumnTransformer",
                     lambda: pp.ColumnTransformer([("t", make_t(), spec)], remainder=remainder),
                     label="ColumnTransformer()")
    if ok:
        attempt("ColumnTransformer", lambda: ct.fit(x), ct, label="fit")
        attempt("ColumnTransformer", lambda: ct.transform(new_x), ct, label="transform")


@property_settings(3)
@given(arrays_=st.one_of(st.lists(good_x, min_size=1, max_size=1), st.tuples(good_x, good_x),
                        st.lists(st.one_of(good_x, hostile_data), min_size=0, max_size=3)),
       kw=one_hostile(dict(test_size=st.sampled_from([None, 0.25, 0.5, 1, 2]),
                           train_size=st.sampled_from([None, 0.5, 2]),
                           shuffle=st.booleans(), seed=st.sampled_from([None, 0, 1]),
                           stratify=st.sampled_from([None, "labels"]))))
def test_splits(arrays_, kw):
    arrays_ = list(arrays_)
    if isinstance(kw["stratify"], str) and kw["stratify"] == "labels":
        kw["stratify"] = np.arange(len(arrays_[0])) % 2 if arrays_ and \
            hasattr(arrays_[0], "__len__") and np.ndim(arrays_[0]) else None
    attempt("splits", lambda: pp.train_test_split(*arrays_, **kw), label="train_test_split")
    val_kw = dict(kw, val_size=kw.pop("train_size"))
    attempt("splits", lambda: pp.train_val_test_split(*arrays_, **val_kw),
            label="train_val_test_split")


classification = (np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]),
                  np.array([0, 0, 0, 1]))
NEURONS = {
    "Perceptron": (neurons.Perceptron, dict(learning_rate=st.sampled_from([0.1, 1.0]),
                                            max_epochs=st.integers(1, 5),
                                            coding=st.sampled_from(["binary", "bipolar"]),
                                            shuffle=st.booleans(),
                                            random_state=st.sampled_from([None, 0]))),
    "Adaline": (neurons.Adaline, dict(learning_rate=st.sampled_from([0.01, 0.1]),
                                      max_epochs=st.integers(1, 5),
                                      batch_size=st.sampled_from([1, 2, None]),
                                      normalized=st.booleans(), tol=st.sampled_from([1e-6, 0.0]),
                                      decay=st.sampled_from([0.0, 0.1]))),
    "AdalineRegressor": (neurons.AdalineRegressor, dict(max_epochs=st.integers(1, 5))),
    "Madaline": (neurons.Madaline, dict(n_adalines=st.integers(1, 3),
                                        logic=st.sampled_from(["or", "and", "majority"]),
                                        max_epochs=st.integers(1, 5),
                                        random_state=st.sampled_from([None, 0]))),
    "SingleLayerNetwork": (neurons.SingleLayerNetwork,
                           dict(activation=st.sampled_from(["sigmoid", "tanh"]),
                                max_epochs=st.integers(1, 5),
                                batch_size=st.sampled_from([None, 1, 2]))),
    "LinearNetwork": (neurons.LinearNetwork, dict(solver=st.sampled_from(["lstsq", "gd"]),
                                                  max_epochs=st.integers(1, 5))),
}


@st.composite
def neuron_case(draw):
    name = draw(st.sampled_from(sorted(NEURONS)))
    return name, draw(one_hostile(NEURONS[name][1]))


@property_settings(5)
@given(case=neuron_case(), x=st.one_of(st.none(), st.none(), hostile_data),
       y=st.one_of(st.none(), st.none(), hostile_data),
       new_x=st.one_of(st.none(), st.none(), hostile_data), refit=st.booleans())
def test_neurons(case, x, y, new_x, refit):
    name, kw = case
    cls = NEURONS[name][0]
    x = classification[0] if x is None else x
    y = classification[1] if y is None else y
    new_x = classification[0] if new_x is None else new_x
    ok, estimator = attempt("neurons", lambda: cls(**kw), label=name + "()")
    if not ok:
        return
    if refit:   # a fitted estimator: a refused fit must keep its learned attributes
        attempt("neurons", lambda: cls().fit(*classification), label=name + ".fit (valid)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                estimator = cls().fit(*classification)
            except Exception:   # noqa: BLE001 - counted just above
                return
    attempt("neurons", lambda: estimator.fit(x, y), estimator, label=name + ".fit")
    attempt("neurons", lambda: estimator.predict(new_x), estimator, label=name + ".predict")
    mc = neurons.McCullochPitts(weights=[1, 1], threshold=2)
    attempt("neurons", lambda: mc.predict(new_x), mc, label="McCullochPitts.predict")
    attempt("neurons", lambda: neurons.McCullochPitts(weights=kw.get("max_epochs", [1]),
                                                      threshold=kw.get("random_state", 1)),
            label="McCullochPitts()")
