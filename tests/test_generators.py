"""Generators: seeding, geometry and class balance as documented, and a small MLP learns each."""
import numpy as np
import pytest
from sklearn import datasets as skd

import mlplab
from mlplab.datasets import generators as g
from mlplab.layers import Dense
from mlplab.preprocessing import StandardScaler, train_test_split

CLASSIFIERS = [g.make_circle, g.make_xor, g.make_gauss, g.make_spiral, g.make_moons,
               g.make_circles]
REGRESSORS = [g.make_reg_plane, g.make_reg_gauss]
ALL = CLASSIFIERS + REGRESSORS + [g.make_blobs]


@pytest.mark.parametrize("make", ALL)
def test_same_seed_same_arrays(make):
    kw = {} if make is g.make_blobs else {"noise": 0.2}
    a, b, c = make(150, seed=7, **kw), make(150, seed=7, **kw), make(150, seed=8, **kw)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    assert a[0].shape == (150, 2) and a[0].dtype == np.float64 and a[1].shape == (150,)


@pytest.mark.parametrize("make", CLASSIFIERS)
def test_labels_01_by_default_and_bipolar_on_request(make):
    x, y = make(101, noise=0.1, seed=3)
    xb, yb = make(101, noise=0.1, seed=3, bipolar=True)
    assert y.dtype == np.int64 and set(np.unique(y)) == {0, 1}
    np.testing.assert_array_equal(xb, x)
    np.testing.assert_array_equal(yb, 2 * y - 1)



@pytest.mark.parametrize("make", [g.make_circle, g.make_gauss, g.make_spiral, g.make_moons,
                                  g.make_circles])
@pytest.mark.parametrize("n", [101, 400])
def test_class_balance_as_documented(make, n):
    # documented: n // 2 points of label 0, the other n - n // 2 of label 1 (noise 0)
    _, y = make(n, seed=5)
    assert np.bincount(y, minlength=2).tolist() == [n // 2, n - n // 2]


@pytest.mark.parametrize("make", ALL)
def test_generator_seed_may_be_a_generator(make):
    a = make(60, seed=np.random.default_rng(11))
    b = make(60, seed=np.random.default_rng(11))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])

def test_circle_geometry():
    x, y = g.make_circle(1000, seed=0)
    r = np.hypot(x[:, 0], x[:, 1])
    assert np.bincount(y).tolist() == [500, 500]
    assert r[y == 1].max() < 2.5 and r[y == 0].min() >= 3.5 and r.max() <= 5
    # noise flips labels near the boundary only: shifts are at most 0.1 * 5 per coordinate
    x, y = g.make_circle(4000, noise=0.1, seed=0)
    r = np.hypot(x[:, 0], x[:, 1])
    assert r[y == 1].max() < 2.5 + 0.5 * np.sqrt(2)
    assert np.all(y[r >= 3.5] == 0) and np.all(y[r < 2.5 - 0.5 * np.sqrt(2)] == 1)
    assert 0.45 < y.mean() < 0.5  # a few inner points lose their label


def test_xor_geometry():
    x, y = g.make_xor(4000, seed=1)
    assert np.all((np.abs(x) >= 0.3) & (np.abs(x) <= 5.3))
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] >= 0).astype(int))
    assert abs(y.mean() - 0.5) < 0.03
    x, y = g.make_xor(4000, noise=0.1, seed=1)
    agree = np.mean(y == (x[:, 0] * x[:, 1] >= 0))
    assert 0.97 < agree < 1.0


@pytest.mark.parametrize("noise", [0.0, 0.25, 0.5])
def test_gauss_means_and_variance(noise):
    x, y = g.make_gauss(20000, noise=noise, seed=2)
    assert np.bincount(y).tolist() == [10000, 10000]
    np.testing.assert_allclose(x[y == 1].mean(axis=0), [2, 2], atol=0.06)
    np.testing.assert_allclose(x[y == 0].mean(axis=0), [-2, -2], atol=0.06)
    np.testing.assert_allclose(x[y == 1].var(axis=0), 0.5 + 7 * noise, rtol=0.05)


def test_spiral_geometry():
    x, y = g.make_spiral(400, shuffle=False, seed=0)
    i = np.arange(200) / 200
    for label, delta in ((1, 0.0), (0, np.pi)):
        arm = x[y == label]
        np.testing.assert_allclose(np.hypot(arm[:, 0], arm[:, 1]), 5 * i, atol=1e-12)
        angle = np.arctan2(arm[1:, 0], arm[1:, 1])  # x = r sin(t), y = r cos(t)
        expected = 1.75 * 2 * np.pi * i[1:] + delta
        np.testing.assert_allclose(np.angle(np.exp(1j * (angle - expected))), 0, atol=1e-9)
    noisy, _ = g.make_spiral(400, noise=0.3, shuffle=False, seed=0)
    assert 0 < np.abs(noisy - x).max() <= 0.3


def test_regression_targets():
    x, y = g.make_reg_plane(500, seed=0)
    np.testing.assert_allclose(y, (x[:, 0] + x[:, 1]) / 10, rtol=0, atol=1e-15)
    assert np.abs(x).max() <= 6 and np.abs(y).max() <= 1.2
    x, y = g.make_reg_gauss(500, seed=0)

    def reference(px, py):  # the playground's getLabel, one point at a time
        label = 0.0
        for cx, cy, sign in [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1),
                             (0, -2.5, 1), (4, -2.5, -1)]:
            d = np.hypot(px - cx, py - cy)
            new = sign * min(max(1 - d / 2, 0.0), 1.0)
            if abs(new) > abs(label):
                label = new
        return label

    np.testing.assert_allclose(y, [reference(*p) for p in x], rtol=0, atol=1e-15)
    assert np.abs(y).max() <= 1 and y.min() < -0.5 and y.max() > 0.5
    _, y_noisy = g.make_reg_plane(500, noise=0.2, seed=0)
    assert not np.allclose(y_noisy, y)



@pytest.mark.parametrize("noise", [0.05, 0.2])
def test_regression_noise_moves_the_target_point(noise):
    # the same seed draws the same x; noise shifts the point where the target is read by at
    # most 6 * noise per coordinate, so the target moves by at most slope * that shift
    x, y = g.make_reg_plane(2000, seed=4)
    xn, yn = g.make_reg_plane(2000, noise=noise, seed=4)
    np.testing.assert_array_equal(xn, x)
    assert 0 < np.abs(yn - y).max() <= 2 * 6 * noise / 10 + 1e-12
    assert np.abs(yn - y).max() > 0.5 * 2 * 6 * noise / 10  # the shift spans U(-6, 6) * noise
    x, y = g.make_reg_gauss(2000, seed=4)
    xn, yn = g.make_reg_gauss(2000, noise=noise, seed=4)
    np.testing.assert_array_equal(xn, x)
    assert 0 < np.abs(yn - y).max() <= 0.5 * np.sqrt(2) * 6 * noise + 1e-12  # bumps: slope 1/2
    assert np.abs(yn).max() <= 1

@pytest.mark.parametrize("ours, theirs", [
    (lambda: g.make_moons(101, shuffle=False), lambda: skd.make_moons(101, shuffle=False)),
    (lambda: g.make_circles(101, shuffle=False),
     lambda: skd.make_circles(101, shuffle=False)),
    (lambda: g.make_circles(80, factor=0.3, shuffle=False),
     lambda: skd.make_circles(80, factor=0.3, shuffle=False)),
])
def test_noiseless_moons_and_circles_are_sklearns(ours, theirs):
    (x, y), (sx, sy) = ours(), theirs()
    np.testing.assert_allclose(x, sx, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(y, sy)


def test_moons_circles_noise_and_radii():
    x, y = g.make_circles(2000, factor=0.5, seed=0)
    r = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.5)
    assert np.bincount(y).tolist() == [1000, 1000]
    clean, _ = g.make_moons(4000, shuffle=False)
    noisy, _ = g.make_moons(4000, noise=0.2, shuffle=False, seed=0)
    assert abs((noisy - clean).std() - 0.2) < 0.01
    clean, _ = g.make_circles(4000, factor=0.5, shuffle=False)
    noisy, _ = g.make_circles(4000, noise=0.1, factor=0.5, shuffle=False, seed=0)
    assert abs((noisy - clean).std() - 0.1) < 0.005 and abs((noisy - clean).mean()) < 0.005


def test_blobs():
    centers = np.array([[0.0, 0.0], [10.0, 10.0], [-10.0, 5.0]])
    x, y = g.make_blobs(3001, centers=centers, cluster_std=[0.5, 1.0, 2.0], seed=0)
    assert np.bincount(y).tolist() == [1001, 1000, 1000]
    for k, std in enumerate([0.5, 1.0, 2.0]):
        np.testing.assert_allclose(x[y == k].mean(axis=0), centers[k], atol=0.15)
        np.testing.assert_allclose(x[y == k].std(axis=0), std, rtol=0.08)
    x, y, c = g.make_blobs(100, n_features=3, centers=4, seed=1, return_centers=True)
    assert x.shape == (100, 3) and c.shape == (4, 3) and np.abs(c).max() <= 10
    x0, _ = g.make_blobs(10, centers=centers, cluster_std=0.0, seed=0)
    assert {tuple(p) for p in x0} <= {tuple(p) for p in centers}


def test_generator_errors():
    with pytest.raises(ValueError, match=r"make_circle\(\): noise must be a non-negative number"
                                         r".*received -0\.1"):
        g.make_circle(10, noise=-0.1)
    with pytest.raises(ValueError, match=r"make_xor\(\): n_samples must be a positive integer; "
                                         r"received 0"):
        g.make_xor(0)
    with pytest.raises(ValueError, match=r"factor .* must be in \[0, 1\); received 1\.5"):
        g.make_circles(10, factor=1.5)
    with pytest.raises(ValueError, match=r"centers must be an int or an array \(k, "
                                         r"n_features=2\); received shape \(3,\)"):
        g.make_blobs(10, centers=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"cluster_std must be a number or one per centre \(3\)"):
        g.make_blobs(10, cluster_std=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"cluster_std must be a non-negative number"):
        g.make_blobs(10, cluster_std=-1.0)


# ---------------------------------------------------------------------------------- learning
# (generator, kwargs, hidden layers, activation, epochs, batch size, stated test accuracy);
# 400 samples, 100 of them for testing, SGD learning_rate=0.1, inputs standardized.
LEARN = [
    (g.make_circle, {"noise": 0.1}, [8], "tanh", 100, 16, 0.95),
    (g.make_xor, {"noise": 0.1}, [8], "tanh", 100, 16, 0.95),
    (g.make_gauss, {"noise": 0.1}, [4], "tanh", 20, 16, 0.97),
    (g.make_spiral, {"noise": 0.1}, [64, 64], "relu", 300, 8, 0.95),
    (g.make_moons, {"noise": 0.1}, [8], "tanh", 100, 16, 0.95),
    (g.make_circles, {"noise": 0.05, "factor": 0.5}, [8], "tanh", 100, 16, 0.95),
]


@pytest.mark.parametrize("make, kw, hidden, act, epochs, batch_size, floor", LEARN,
                         ids=[row[0].__name__ for row in LEARN])
def test_small_mlp_learns_each_generator(make, kw, hidden, act, epochs, batch_size, floor):
    x, y = make(400, seed=1, **kw)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, stratify=y, seed=2)
    scaler = StandardScaler().fit(x_tr)
    model = mlplab.Sequential([Dense(h, activation=act) for h in hidden]
                              + [Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer=mlplab.SGD(learning_rate=0.1), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(scaler.transform(x_tr), y_tr, epochs=epochs, batch_size=batch_size, verbose=0)
    _, accuracy = model.evaluate(scaler.transform(x_te), y_te)
    print(f"{make.__name__}: test accuracy {accuracy:.3f}")
    assert accuracy >= floor, f"{make.__name__}: test accuracy {accuracy:.3f} < {floor}"


def test_small_mlp_separates_blobs():
    x, y = g.make_blobs(300, centers=4, cluster_std=1.0, seed=3)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, stratify=y, seed=0)
    scaler = StandardScaler().fit(x_tr)
    model = mlplab.Sequential([Dense(8, activation="tanh"), Dense(4, activation="softmax")],
                              seed=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(scaler.transform(x_tr), y_tr, epochs=50, batch_size=16, verbose=0)
    assert len(x_te) == 75 and model.optimizer.learning_rate == 0.01  # as docs/data.md states
    accuracy = model.evaluate(scaler.transform(x_te), y_te)[1]
    print(f"make_blobs: test accuracy {accuracy:.3f}")
    assert accuracy >= 0.95


def test_docs_state_the_tested_floors():
    # docs/data.md's accuracy table must state the epochs and floors these tests use
    from pathlib import Path
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "data.md").read_text()
    rows = {name: (int(epochs), float(floor)) for name, epochs, floor in re.findall(
        r"^\| (\w+), [^|]*\| [^|]*\| (\d+) \| [\d.]+ \(([\d.]+)\) \|$", text, re.M)}
    expected = {make.__name__[len("make_"):]: (epochs, floor)
                for make, _, _, _, epochs, _, floor in LEARN}
    expected["blobs"] = (50, 0.95)
    assert rows == expected
