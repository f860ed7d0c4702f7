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


# ------------------------------------------------------------------------------ the file itself
@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077, 0o002])
def test_file_mode_follows_the_umask(tmp_path, umask):
    model = make_model()
    old = os.umask(umask)
    try:
        model.save(tmp_path / "m.npz")
        model.save_weights(tmp_path / "w.npz")
    finally:
        os.umask(old)
    for name in ("m.npz", "w.npz"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_symlink_is_followed_not_replaced(tmp_path, data):
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "real.npz"
    link = tmp_path / "model.npz"
    model = make_model()
    model.save(target)
    link.symlink_to(target)
    model.fit(*data, epochs=1, verbose=0)
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    np.testing.assert_array_equal(mlplab.load_model(target).get_weights()[0],
                                  model.get_weights()[0])
    assert sorted(os.listdir(tmp_path)) == ["model.npz", "store"]
    assert os.listdir(tmp_path / "store") == ["real.npz"]


def test_a_read_only_folder_is_a_clear_error_and_changes_nothing(tmp_path, monkeypatch):
    """Root ignores file modes: then the operating system's refusal is simulated."""
    folder = tmp_path / "ro"
    folder.mkdir()
    model = make_model()
    model.save(folder / "m.npz")
    before = (folder / "m.npz").read_bytes()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):  # running as root
            def refuse(*args, **kwargs):
                raise PermissionError(13, "Permission denied")

            monkeypatch.setattr(saving.tempfile, "mkstemp", refuse)
        with pytest.raises(PermissionError, match=r"cannot write '.*ro/m.npz': the folder "
                                                  r"'.*ro' is not writable.*nothing was "
                                                  r"changed"):
            model.save(folder / "m.npz")
    finally:
        folder.chmod(0o755)
    assert (folder / "m.npz").read_bytes() == before
    assert os.listdir(folder) == ["m.npz"]


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path):
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = os.getppid()
    stale = tmp_path / f".m.npz.tmp-mlplab-{dead.pid}-abc123"
    busy = tmp_path / f".m.npz.tmp-mlplab-{live}-def456"
    other = tmp_path / f".other.npz.tmp-mlplab-{dead.pid}-xyz"
    for path in (stale, busy, other):
        path.write_bytes(b"half a file")
    make_model().save(tmp_path / "m.npz")
    assert sorted(os.listdir(tmp_path)) == sorted(["m.npz", busy.name, other.name])
    os.remove(busy)
    other_target = tmp_path / "other.npz"
    make_model().save(other_target)
    assert sorted(os.listdir(tmp_path)) == ["m.npz", "other.npz"]
    stale.write_bytes(b"half a file")  # a load removes them too
    mlplab.load_model(tmp_path / "m.npz")
    assert sorted(os.listdir(tmp_path)) == ["m.npz", "other.npz"]


def test_save_to_a_folder_or_a_missing_folder(tmp_path):
    model = make_model()
    with pytest.raises(IsADirectoryError, match="is a folder; give a file name"):
        model.save(tmp_path)
    with pytest.raises(FileNotFoundError, match="the folder '.*nowhere' does not exist"):
        model.save(tmp_path / "nowhere" / "m.npz")
    assert os.listdir(tmp_path) == []
