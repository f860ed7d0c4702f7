"""Saving: one atomic file with configuration, weights and optimizer state."""
import json
import os

import numpy as np
import pytest

import mlplab
from mlplab import saving, schedules
from mlplab.layers import Dense, Dropout, Input


def make_model(optimizer="adam", seed=0):
    model = mlplab.Sequential([Input((4,)), Dense(8, activation="tanh",
                                                  kernel_regularizer="l2"),
                               Dropout(0.2), Dense(3, activation="softmax")],
                              seed=seed, dtype="float64")
    model.compile(optimizer, "categorical_crossentropy", metrics=["accuracy", "auc"])
    return model


@pytest.fixture
def data(rng):
    x = rng.normal(size=(50, 4))
    return x, np.eye(3)[rng.integers(0, 3, 50)]


@pytest.mark.parametrize("optimizer", [
    "adam", "nadam", mlplab.SGD(0.05, momentum=0.9, nesterov=True),
    mlplab.RMSprop(centered=True, momentum=0.5),
    mlplab.Adam(schedules.ExponentialDecay(0.01, 10, 0.5)),
])
def test_continuing_after_load_equals_uninterrupted(tmp_path, data, optimizer):
    """Train 3 epochs, save, load, train 3 more: the same weights as the model that never
    left memory (shuffling and dropout masks included, so generator states must round-trip).
    """
    x, y = data
    import copy
    a = make_model(copy.deepcopy(optimizer))
    b = make_model(copy.deepcopy(optimizer))
    for m in (a, b):
        m.fit(x, y, epochs=3, batch_size=16, verbose=0)
    path = tmp_path / "model.npz"
    b.save(path)
    b = mlplab.load_model(path)
    a.fit(x, y, epochs=3, batch_size=16, verbose=0)
    b.fit(x, y, epochs=3, batch_size=16, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a.optimizer.iterations == b.optimizer.iterations == 24


def test_optimizer_state_is_what_was_saved(tmp_path, data):
    x, y = data
    model = make_model("adam")
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "m.npz")
    loaded = mlplab.load_model(tmp_path / "m.npz")
    assert type(loaded.optimizer) is mlplab.Adam
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    mine, theirs = model.optimizer.get_state(), loaded.optimizer.get_state()
    assert mine["iterations"] == theirs["iterations"] == 4
    for key in ("momentum", "velocity"):
        for a, b in zip(mine[key], theirs[key]):
            np.testing.assert_array_equal(a, b)
    assert loaded.evaluate(x, y) == model.evaluate(x, y)
    assert [m.name for m in loaded.metrics] == ["accuracy", "auc"]


def test_uncompiled_and_unbuilt_models(tmp_path):
    model = mlplab.Sequential([Dense(3, activation="relu"), Dense(1)], seed=1)
    model.save(tmp_path / "unbuilt.npz")
    loaded = mlplab.load_model(tmp_path / "unbuilt.npz")
    assert not loaded.built and not loaded.compiled and len(loaded.layers) == 2
    model.build((5,))
    model.save(tmp_path / "built.npz")
    loaded = mlplab.load_model(tmp_path / "built.npz")
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])


def test_file_is_plain_npz_without_pickles(tmp_path, data):
    model = make_model()
    model.fit(*data, epochs=1, verbose=0)
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as f:
        assert all(f[k].dtype != object for k in f.files)
        config = json.loads(str(f["config"]))
    assert config["model"]["layers"][0]["class_name"] == "Dense"
    assert config["compile"]["optimizer"]["name"] == "adam"


def test_weights_only(tmp_path, data):
    model = make_model()
    model.fit(*data, epochs=1, verbose=0)
    model.save_weights(tmp_path / "w.npz")
    other = make_model(seed=5)
    other.load_weights(tmp_path / "w.npz")
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_write_is_atomic(tmp_path, data, monkeypatch):
    """A crash while writing leaves the previous file intact and no temporary file behind."""
    model = make_model()
    path = tmp_path / "m.npz"
    model.save(path)
    before = path.read_bytes()
    model.fit(*data, epochs=1, verbose=0)

    def crash(f, **arrays):
        f.write(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(saving.np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]


def test_lambda_learning_rate_cannot_be_saved(tmp_path):
    model = mlplab.Sequential([Input((2,)), Dense(1)])
    model.compile(mlplab.SGD(lambda step: 0.1), "mse")
    with pytest.raises(TypeError, match=r"the optimizer configuration cannot be saved.*"
                                        r"mlplab.schedules"):
        model.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no file at '.*missing.npz'"):
        mlplab.load_model(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(2))
    with pytest.raises(ValueError, match=r"is not an mlplab model file \(no config\)"):
        mlplab.load_model(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(mlplab.ModelFileError, match=r"junk.npz' cannot be loaded: it is not a "
                                                    r"valid .npz"):
        mlplab.load_model(tmp_path / "junk.npz")
