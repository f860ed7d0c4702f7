"""The classic neurons against independent references: exact truth tables, numpy.linalg.lstsq,
scikit-learn's LinearRegression and r2_score, finite differences, and direct checks that every
training point lies on the right side of the learned hyperplane."""
import itertools
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score

import mlplab
from mlplab import activations, neurons
from mlplab.datasets import load_animals, load_iris, load_logic_gate, load_xor
from mlplab.neurons import (Adaline, AdalineRegressor, ConvergenceWarning, LinearNetwork,
                            Madaline, McCullochPitts, McCullochPittsNetwork, NotFittedError,
                            Perceptron, SingleLayerNetwork, truth_table)
from mlplab.preprocessing import to_categorical

ALL_BINARY = {n: np.array(list(itertools.product((0, 1), repeat=n))) for n in (1, 2, 3, 4)}


def gate_table(name, bipolar=False):
    """A logic gate's truth table with 1-D labels (load_logic_gate gives y as a column)."""
    x, y = load_logic_gate(name, bipolar=bipolar)
    return x, y.ravel()


def xor(bipolar=False):
    return gate_table("xor", bipolar)


def rel_dist(a, b):
    return np.linalg.norm(np.ravel(a) - np.ravel(b)) / np.linalg.norm(np.ravel(b))


def augmented(model):
    """[w_0, w_1..w_n] (one output) or the (n+1, m) matrix, from the public attributes."""
    return np.vstack([np.atleast_1d(model.intercept_)[None, :],
                      np.reshape(model.coef_, (len(model.coef_), -1))])


def separable(rng, n_samples, n_features, margin=0.1):
    """Random points, labels from a random hyperplane; points nearer than margin dropped."""
    w, b = rng.normal(size=n_features), rng.uniform(-0.3, 0.3)
    x = rng.uniform(-1, 1, size=(4 * n_samples, n_features))
    dist = (x @ w + b) / np.linalg.norm(w)
    x, dist = x[np.abs(dist) > margin][:n_samples], dist[np.abs(dist) > margin][:n_samples]
    assert len(x) == n_samples and 0.2 < np.mean(dist > 0) < 0.8
    return x, (dist > 0).astype(int)


def noisy_linear(rng, n_samples=200, n_outputs=None):
    x = rng.normal(size=(n_samples, 3))
    w = np.array([1.5, -2.0, 0.5]) if n_outputs is None else rng.normal(size=(3, n_outputs))
    noise = rng.normal(scale=0.1, size=(n_samples,) if n_outputs is None
                       else (n_samples, n_outputs))
    return x, x @ w + 0.7 + noise


def lstsq_with_bias(x, t):
    return np.linalg.lstsq(np.hstack([np.ones((len(x), 1)), x]), t, rcond=None)[0]


# ---------------------------------------------------------------- McCulloch-Pitts

@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_mp_and_or_truth_tables(n):
    x = ALL_BINARY[n]
    assert np.array_equal(McCullochPitts.and_gate(n).predict(x), x.all(axis=1).astype(int))
    assert np.array_equal(McCullochPitts.or_gate(n).predict(x), x.any(axis=1).astype(int))


def test_mp_not_and_xor_truth_tables():
    assert McCullochPitts.not_gate().predict([[0], [1]]).tolist() == [1, 0]
    x = ALL_BINARY[2]
    assert McCullochPittsNetwork.xor().predict(x).tolist() == [a ^ b for a, b in x]


def test_mp_truth_table_lists_all_inputs_in_counting_order():
    x, y = McCullochPittsNetwork.xor().truth_table()
    assert x.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [0, 1, 1, 0]
    x3, y3 = truth_table(lambda x: x.sum(axis=1), 3)
    assert x3.tolist() == [list(map(int, f"{k:03b}")) for k in range(8)]
    assert y3.tolist() == [bin(k).count("1") for k in range(8)]


def test_mp_absolute_versus_weighted_inhibition():
    x = ALL_BINARY[3]
    weights = [2, 1, -1]
    absolute = McCullochPitts(weights, threshold=2).predict(x)
    weighted = McCullochPitts(weights, threshold=2, inhibition="weighted").predict(x)
    for row, a, w in zip(x, absolute, weighted):
        excitation = 2 * row[0] + row[1]
        assert a == int(excitation >= 2 and row[2] == 0)  # one active inhibitor vetoes
        assert w == int(excitation - row[2] >= 2)          # inhibitors only subtract
    assert not np.array_equal(absolute, weighted)          # x = (1, 1, 1) tells them apart


def test_mp_network_composes_layers():
    # (x1 AND x2) OR x3 as a two-layer network: hidden AND, pass-through of x3, output OR.
    net = McCullochPittsNetwork([[McCullochPitts([1, 1, 0], 2), McCullochPitts([0, 0, 1], 1)],
                                 [McCullochPitts.or_gate(2)]])
    x = ALL_BINARY[3]
    assert np.array_equal(net.predict(x), ((x[:, 0] & x[:, 1]) | x[:, 2]))
    two_out = McCullochPittsNetwork([[McCullochPitts.and_gate(), McCullochPitts.or_gate()]])
    assert two_out.predict(ALL_BINARY[2]).shape == (4, 2)


def test_mp_errors():
    with pytest.raises(ValueError, match=r"inputs must be binary \(0 or 1\); received -1"):
        McCullochPitts.and_gate().predict([[1, -1]])
    with pytest.raises(ValueError, match=r"x must have shape \(n_samples, 2\)"):
        McCullochPitts.and_gate().predict([[1, 0, 1]])
    with pytest.raises(ValueError, match="weights must be integers"):
        McCullochPitts([0.5, 1], threshold=1)
    with pytest.raises(ValueError, match="threshold must be an integer; received 1.5"):
        McCullochPitts([1, 1], threshold=1.5)
    with pytest.raises(ValueError, match="inhibition must be 'absolute' or 'weighted'"):
        McCullochPitts([1], threshold=1, inhibition="relative")
    with pytest.raises(ValueError, match="every neuron of layer 1 must have 2 inputs"):
        McCullochPittsNetwork([[McCullochPitts.and_gate(), McCullochPitts.or_gate()],
                               [McCullochPitts.or_gate(3)]])


# ---------------------------------------------------------------- Perceptron

@pytest.mark.parametrize("gate", ["and", "or", "nand", "nor"])
@pytest.mark.parametrize("coding", ["binary", "bipolar"])
def test_perceptron_learns_linearly_separable_gates(gate, coding):
    x, y = gate_table(gate, bipolar=coding == "bipolar")
    p = Perceptron(coding=coding, max_epochs=20).fit(x, y)
    assert p.converged_ and p.n_epochs_ < 20
    assert np.array_equal(p.predict(x), y)
    xi = x @ p.coef_ + p.intercept_  # the threshold units, recomputed from the weights
    t = y
    if coding == "binary":
        assert np.all(np.where(t == 1, xi > 0, xi <= 0))
    else:
        assert np.all(np.where(t == 1, xi >= 0, xi < 0))


@pytest.mark.parametrize("coding", ["binary", "bipolar"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_perceptron_separates_random_separable_set(coding, shuffle):
    x, y = separable(np.random.default_rng(7), 200, 5)
    p = Perceptron(coding=coding, max_epochs=1000, shuffle=shuffle, random_state=3).fit(x, y)
    assert p.converged_ and p.n_epochs_ < 1000
    assert p.errors_[-1] == 0 and np.all(p.errors_[:-1] > 0)
    xi = x @ p.coef_ + p.intercept_
    assert np.all(np.where(y == 1, xi >= 0, xi <= 0))  # every point on its side
    assert np.mean(np.where(y == 1, xi > 0, xi < 0)) == 1.0
    assert p.score(x, y) == 1.0


def test_perceptron_does_not_converge_on_xor():
    x, y = xor()
    with pytest.warns(ConvergenceWarning, match="did not converge in max_epochs=50"):
        p = Perceptron(max_epochs=50).fit(x, y)
    assert not p.converged_ and p.n_epochs_ == 50
    assert np.all(p.errors_ > 0)
    assert p.score(x, y) < 1.0


def test_perceptron_and_gate_worked_by_hand():
    """AND with 0/1 coding, w = 0, alpha = 1, samples in order; W = [w_0, w_1, w_2].

    epoch 1: (1,1) xi=0 -> y=0, t=1: W += [1,1,1]                  -> [1, 1, 1]
    epoch 2: (0,0) xi=1 -> 1, t=0: W -= [1,0,0]                    -> [0, 1, 1]
             (0,1) xi=1 -> 1: W -= [1,0,1]                         -> [-1, 1, 0]
             (1,0) xi=0 -> 0 ok;  (1,1) xi=0 -> 0: W += [1,1,1]    -> [0, 2, 1]
    epoch 3: (0,1) xi=1: W -= [1,0,1] -> [-1, 2, 0];  (1,0) xi=1: W -= [1,1,0] -> [-2, 1, 0]
             (1,1) xi=-1 -> 0: W += [1,1,1]                        -> [-1, 2, 1]
    epoch 4: (1,0) xi=1: -> [-2, 1, 1];  (1,1) xi=0: -> [-1, 2, 2]
    epoch 5: (0,1) xi=1: -> [-2, 2, 1]; (1,0) xi=0 ok; (1,1) xi=1 ok
    epoch 6: no error (xi = -2, -1, 0, 1): converged
    """
    x, y = gate_table("and")
    p = Perceptron().fit(x, y)
    expected = [[0, 0, 0], [1, 1, 1], [0, 1, 1], [-1, 1, 0], [0, 2, 1], [-1, 2, 0],
                [-2, 1, 0], [-1, 2, 1], [-2, 1, 1], [-1, 2, 2], [-2, 2, 1]]
    assert p.weights_history_[:, :, 0].tolist() == expected
    assert p.errors_.tolist() == [1, 3, 3, 2, 1, 0] and p.n_epochs_ == 6
    assert p.coef_.tolist() == [2, 1] and p.intercept_ == -2


def test_normalized_lms_one_step_by_hand():
    # x = [1, 2] gets x_0 = 1: |x|^2 = 1 + 1 + 4 = 6; w = 0 so y = 0, t - y = 3;
    # w <- 0 + 0.5 * 3 * [1, 1, 2] / 6 = [0.25, 0.25, 0.5], and then y = 0.25 + 0.25 + 1 = 1.5.
    m = AdalineRegressor(normalized=True, learning_rate=0.5, max_epochs=1, tol=None)
    m.fit([[1.0, 2.0]], [3.0])
    assert m.intercept_ == pytest.approx(0.25) and m.coef_ == pytest.approx([0.25, 0.5])
    assert m.predict([[1.0, 2.0]]) == pytest.approx([1.5])  # beta = 0.5 halves the error


def test_perceptron_weight_history_replays_the_rule():
    x, y = separable(np.random.default_rng(1), 40, 2)
    alpha = 0.5
    p = Perceptron(learning_rate=alpha, coding="bipolar", shuffle=True, random_state=0).fit(x, y)
    H = p.weights_history_
    assert H.shape == (p.n_updates_ + 1, 3, 1) and np.all(H[0] == 0)
    assert np.array_equal(H[-1], p.W_)
    t = np.where(y == 1, 1.0, -1.0)
    for (epoch, i), w_old, w_new in zip(p.updates_, H[:-1, :, 0], H[1:, :, 0]):
        x_i = np.r_[1.0, x[i]]
        y_i = 1.0 if x_i @ w_old >= 0 else -1.0
        assert y_i != t[i]
        np.testing.assert_allclose(w_new, w_old + alpha * x_i * (t[i] - y_i))
    assert p.updates_[:, 0].max() == p.n_epochs_ - 2  # the last epoch made no update


def test_perceptron_learning_rate_only_scales_zero_initialized_weights():
    x, y = separable(np.random.default_rng(2), 60, 3)
    p1 = Perceptron(learning_rate=1.0).fit(x, y)
    p2 = Perceptron(learning_rate=0.1).fit(x, y)
    np.testing.assert_allclose(p2.W_, 0.1 * p1.W_, rtol=1e-12, atol=1e-12)
    assert p1.n_epochs_ == p2.n_epochs_


def clusters(rng, n_per_class=30):
    centers = np.array([[0.0, 3.0], [-3.0, -2.0], [3.0, -2.0]])
    x = np.vstack([c + rng.normal(scale=0.5, size=(n_per_class, 2)) for c in centers])
    return x, np.repeat([0, 1, 2], n_per_class)


def test_multiclass_perceptron_one_unit_per_class():
    x, y = clusters(np.random.default_rng(0))
    labels = np.array([10, 20, 30])[y]
    p = Perceptron(max_epochs=200).fit(x, labels)
    assert p.converged_ and p.coef_.shape == (2, 3) and p.intercept_.shape == (3,)
    assert np.array_equal(p.predict(x), labels)
    xi = x @ p.coef_ + p.intercept_  # each unit alone separates its class from the rest
    assert np.array_equal(xi > 0, to_categorical(y).astype(bool))


@pytest.mark.parametrize("model", [Perceptron(max_epochs=200), Adaline(),
                                   SingleLayerNetwork(activation="softmax")])
def test_classifiers_accept_string_labels(model):
    x, y = clusters(np.random.default_rng(2))
    names = np.array(["cat", "dog", "parrot"])[y]
    model.fit(x, names)
    assert list(model.classes_) == ["cat", "dog", "parrot"]
    assert np.array_equal(model.predict(x), names) and model.score(x, names) == 1.0
    assert model.score(x, names.tolist()) == 1.0


def test_perceptron_bipolar_one_hot_targets():
    x, y = clusters(np.random.default_rng(1))
    D = 2 * to_categorical(y) - 1
    p = Perceptron(coding="bipolar", max_epochs=200).fit(x, D)
    assert p.converged_
    pred = p.predict(x)
    assert set(np.unique(pred)) == {-1.0, 1.0} and np.array_equal(pred, D)
    assert p.score(x, D) == 1.0


def test_perceptron_record_options():
    x, y = separable(np.random.default_rng(5), 50, 2)
    full = Perceptron(record="updates").fit(x, y)
    per_epoch = Perceptron(record="epochs").fit(x, y)
    none = Perceptron(record=None).fit(x, y)
    assert per_epoch.weights_history_.shape == (per_epoch.n_epochs_ + 1, 3, 1)
    assert np.array_equal(per_epoch.weights_history_[-1], full.weights_history_[-1])
    assert not hasattr(none, "weights_history_") and np.array_equal(none.W_, full.W_)
    with pytest.raises(ValueError, match="record must be one of 'updates', 'epochs', None"):
        Perceptron(record="all").fit(x, y)


def test_failed_fit_leaves_the_model_as_it_was():
    x, y = gate_table("and")
    p = Perceptron().fit(x, y)
    W, classes = p.W_.copy(), p.classes_.copy()
    with pytest.raises(ValueError, match="one class"):
        p.fit(x, np.full(4, 7))
    with pytest.raises(ValueError, match="x has 4 samples but y has 3"):
        p.fit(x, y[:3])
    assert np.array_equal(p.W_, W) and np.array_equal(p.classes_, classes)
    assert np.array_equal(p.predict(x), y)
    m = AdalineRegressor(batch_size=None, tol=None).fit(x, y)
    W = m.W_.copy()
    with pytest.raises(ValueError, match="diverged"):
        m.set_params(learning_rate=100.0).fit(x * 100, y)
    assert np.array_equal(m.W_, W)


def test_perceptron_seeded_shuffle_is_reproducible():
    x, y = separable(np.random.default_rng(3), 80, 4)
    a = Perceptron(shuffle=True, random_state=11).fit(x, y)
    b = Perceptron(shuffle=True, random_state=11).fit(x, y)
    c = Perceptron(shuffle=True, random_state=12).fit(x, y)
    assert np.array_equal(a.weights_history_, b.weights_history_)
    assert not np.array_equal(a.updates_, c.updates_)


def test_get_params_set_params():
    p = Perceptron(learning_rate=0.5, coding="bipolar")
    assert p.get_params() == {"learning_rate": 0.5, "max_epochs": 100, "coding": "bipolar",
                              "shuffle": False, "random_state": None, "init": "zeros",
                              "record": "updates"}
    assert p.set_params(max_epochs=5) is p and p.max_epochs == 5
    assert repr(p) == "Perceptron(learning_rate=0.5, max_epochs=5, coding='bipolar')"
    with pytest.raises(ValueError, match="unknown parameter 'epochs'. Valid parameters: "
                                         "learning_rate, max_epochs"):
        p.set_params(epochs=5)


def test_perceptron_errors():
    x, y = gate_table("and")
    with pytest.raises(NotFittedError, match=r"Perceptron.predict\(\) used before fit\(\)"):
        Perceptron().predict(x)
    with pytest.raises(NotFittedError, match=r"Perceptron.coef_ used before fit\(\)"):
        Perceptron().coef_
    assert not hasattr(Perceptron(), "coef_")  # NotFittedError is an AttributeError
    with pytest.raises(ValueError, match="coding must be one of 'binary', 'bipolar'; "
                                         "received 'unipolar'"):
        Perceptron(coding="unipolar").fit(x, y)
    with pytest.raises(ValueError, match="learning_rate must be a positive finite number; "
                                         "received -1"):
        Perceptron(learning_rate=-1).fit(x, y)
    with pytest.raises(ValueError, match="max_epochs must be a positive integer; received 0"):
        Perceptron(max_epochs=0).fit(x, y)
    with pytest.raises(ValueError, match="x has 4 samples but y has 3"):
        Perceptron().fit(x, y[:3])
    with pytest.raises(ValueError, match=r"y has one class \(1.0\)"):
        Perceptron().fit(x, np.ones(4))
    with pytest.raises(ValueError, match=r"x must be 2-D .* Reshape your data: "
                                         r"x.reshape\(-1, 1\)"):
        Perceptron().fit(x[:, 0], y)
    with pytest.raises(ValueError, match="2-D y must be one-hot coded with 0/1 or -1/\\+1"):
        Perceptron().fit(x, np.full((4, 2), 3.0))
    with pytest.raises(ValueError, match="each row of a 2-D y must mark exactly one class"):
        Perceptron().fit(x, np.ones((4, 2)))
    p = Perceptron().fit(x, y)
    with pytest.raises(ValueError, match="X has 3 features, but Perceptron is expecting 2 "
                                         "features as input"):
        p.predict(np.ones((1, 3)))


# ---------------------------------------------------------------- Adaline

@pytest.mark.parametrize("kwargs", [
    dict(learning_rate=0.002, tol=1e-8),                           # online LMS
    dict(learning_rate=0.01, decay=0.1, tol=None, max_epochs=300),  # online, decaying alpha
    dict(learning_rate=0.002, batch_size=None, tol=1e-8),           # batch delta rule
    dict(learning_rate=0.001, batch_size=20, shuffle=True, random_state=0, tol=1e-8),  # mini-batch
])
def test_adaline_approaches_least_squares(kwargs):
    x, t = noisy_linear(np.random.default_rng(0))
    m = AdalineRegressor(**kwargs).fit(x, t)
    assert rel_dist(augmented(m)[:, 0], lstsq_with_bias(x, t)) < 1e-3
    assert m.coef_.shape == (3,) and isinstance(m.intercept_, float)


def test_normalized_lms_converges():
    rng = np.random.default_rng(1)
    x, t = noisy_linear(rng)
    # Exact data: beta = 1 fits each sample in turn, and it reaches the true weights.
    t_exact = x @ np.array([1.5, -2.0, 0.5]) + 0.7
    m = AdalineRegressor(normalized=True, learning_rate=1.0, tol=1e-14).fit(x, t_exact)
    assert m.converged_ and rel_dist(augmented(m)[:, 0], [0.7, 1.5, -2.0, 0.5]) < 1e-6
    # Noisy data: a small beta settles on least squares with each sample weighted 1 / |x|^2.
    m = AdalineRegressor(normalized=True, learning_rate=0.5, decay=0.2, tol=None,
                         max_epochs=400).fit(x, t)
    X = np.hstack([np.ones((len(x), 1)), x])
    s = np.linalg.norm(X, axis=1)
    weighted = np.linalg.lstsq(X / s[:, None], t / s, rcond=None)[0]
    assert rel_dist(augmented(m)[:, 0], weighted) < 1e-3
    assert rel_dist(augmented(m)[:, 0], lstsq_with_bias(x, t)) < 1e-2


def test_batch_delta_rule_decreases_the_error_every_epoch():
    x, t = noisy_linear(np.random.default_rng(2))
    m = AdalineRegressor(batch_size=None, learning_rate=0.002, tol=None, max_epochs=50).fit(x, t)
    E = m.history_
    assert len(E) == 50 and np.all(np.diff(E) <= 1e-12 * E[:-1])
    W = m.weights_history_[-1, :, 0]  # history_ is E = 1/2 sum (t - y)^2 after each epoch
    np.testing.assert_allclose(E[-1], 0.5 * np.sum((t - W[0] - x @ W[1:]) ** 2))


def test_adaline_regressor_multi_output():
    x, T = noisy_linear(np.random.default_rng(3), n_outputs=2)
    m = AdalineRegressor(batch_size=None, learning_rate=0.002, tol=1e-10).fit(x, T)
    assert m.coef_.shape == (3, 2) and m.intercept_.shape == (2,)
    assert rel_dist(augmented(m), lstsq_with_bias(x, T)) < 1e-3
    assert m.score(x, T) == pytest.approx(r2_score(T, m.predict(x)))


def test_adaline_classifier_is_least_squares_on_bipolar_targets():
    x, y = separable(np.random.default_rng(4), 100, 2, margin=0.3)
    m = Adaline(batch_size=None, learning_rate=0.002, tol=1e-10, max_epochs=5000).fit(x, y)
    t = np.where(y == 1, 1.0, -1.0)
    assert rel_dist(augmented(m)[:, 0], lstsq_with_bias(x, t)) < 1e-3
    assert np.array_equal(m.predict(x), y) and m.score(x, y) == 1.0
    np.testing.assert_allclose(m.decision_function(x), x @ m.coef_ + m.intercept_)


def test_adaline_multiclass_bipolar_one_hot():
    x, y = clusters(np.random.default_rng(5))
    m = Adaline(learning_rate=0.005, max_epochs=200).fit(x, y)
    assert m.coef_.shape == (2, 3)
    D = 2 * to_categorical(y) - 1  # the lectures' bipolar one-hot targets, one unit per class
    assert rel_dist(augmented(m), lstsq_with_bias(x, D)) < 0.05
    assert m.score(x, y) == 1.0


def test_adaline_errors():
    x, t = noisy_linear(np.random.default_rng(0), 20)
    with pytest.raises(ValueError, match="normalized=True is the online rule .* set "
                                         "batch_size=1 \\(received None\\)"):
        AdalineRegressor(normalized=True, batch_size=None).fit(x, t)
    with pytest.raises(ValueError, match=r"training diverged at epoch \d+ .* Try a smaller "
                                         "learning_rate \\(now 10\\)"):
        AdalineRegressor(learning_rate=10.0, batch_size=None).fit(x * 100, t)
    with pytest.raises(ValueError, match="tol must be a non-negative number or None; "
                                         "received -1"):
        AdalineRegressor(tol=-1).fit(x, t)
    with pytest.raises(ValueError, match="decay must be a non-negative number; received 'x'"):
        AdalineRegressor(decay="x").fit(x, t)
    with pytest.raises(ValueError, match="batch_size must be a positive integer; received 0"):
        Adaline(batch_size=0).fit(x, t > 0)
    with pytest.warns(ConvergenceWarning, match="AdalineRegressor did not converge in "
                                                "max_epochs=2"):
        AdalineRegressor(max_epochs=2, learning_rate=1e-4).fit(x, t)


# ---------------------------------------------------------------- Madaline

@pytest.mark.parametrize("seed", range(5))
def test_madaline_mri_learns_xor(seed):
    x, y = xor(bipolar=True)
    m = Madaline(n_adalines=2, logic="or", random_state=seed, max_epochs=50).fit(x, y)
    assert m.converged_ and np.array_equal(m.predict(x), y)
    s = m.transform(x)  # the fixed OR unit on the Adalines' signs gives XOR
    assert np.array_equal(np.where(np.any(s > 0, axis=1), 1.0, -1.0), y)


def test_madaline_and_unit_learns_a_convex_region():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(600, 2))
    normals = np.array([[1.0, 0.0], [-0.5, 0.87], [-0.5, -0.87]])
    g = x @ normals.T - 0.5
    x, g = x[np.abs(g).min(axis=1) > 0.05][:200], g[np.abs(g).min(axis=1) > 0.05][:200]
    y = np.where(np.all(g < 0, axis=1), 1, -1)  # inside a triangle: an AND of 3 half-planes
    assert 0.2 < np.mean(y == 1) < 0.8
    m = Madaline(n_adalines=3, logic="and", random_state=0, max_epochs=100).fit(x, y)
    assert m.converged_ and m.score(x, y) == 1.0
    assert m.coef_.shape == (2, 3) and m.intercept_.shape == (3,)


def test_madaline_errors():
    x, y = clusters(np.random.default_rng(0))
    with pytest.raises(ValueError, match="y must have two classes; received 3"):
        Madaline().fit(x, y)
    with pytest.raises(ValueError, match="logic must be one of 'or', 'and', 'majority'"):
        Madaline(logic="xor").fit(x, y)


# ---------------------------------------------------------------- linear network

def test_linear_network_closed_form_equals_lstsq_and_sklearn():
    x, T = noisy_linear(np.random.default_rng(0), n_outputs=3)
    m = LinearNetwork().fit(x, T)
    np.testing.assert_allclose(m.W_, lstsq_with_bias(x, T), rtol=1e-12, atol=1e-12)
    ref = LinearRegression().fit(x, T)
    np.testing.assert_allclose(m.coef_, ref.coef_.T, rtol=1e-10)
    np.testing.assert_allclose(m.intercept_, ref.intercept_, rtol=1e-10)
    assert m.score(x, T) == pytest.approx(r2_score(T, ref.predict(x)), rel=1e-12)
    assert m.rank_ == 4


def test_linear_network_rank_deficient_gives_minimum_norm_solution():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 2))
    x = np.hstack([x, x[:, :1]])  # a repeated column: X^T X is singular
    t = x[:, 0] - x[:, 1] + 0.3
    m = LinearNetwork().fit(x, t)
    X = np.hstack([np.ones((30, 1)), x])
    np.testing.assert_allclose(augmented(m)[:, 0], np.linalg.pinv(X) @ t, atol=1e-10)
    assert m.rank_ == 3 and m.score(x, t) == pytest.approx(1.0)


@pytest.mark.parametrize("batch_size", [None, 1])
def test_linear_network_gradient_descent_approaches_lstsq(batch_size):
    x, T = noisy_linear(np.random.default_rng(2), n_outputs=2)
    if batch_size is None:  # batch: a plateau of E stops it
        m = LinearNetwork(solver="gd", learning_rate=0.002, tol=1e-12).fit(x, T)
        assert m.converged_ and m.n_epochs_ < 1000
    else:  # online with a decaying rate, a fixed number of epochs
        m = LinearNetwork(solver="gd", batch_size=1, learning_rate=0.01, decay=0.1, tol=None,
                          max_epochs=300).fit(x, T)
    assert rel_dist(m.W_, lstsq_with_bias(x, T)) < 1e-3


def test_linear_network_errors():
    x, t = noisy_linear(np.random.default_rng(0), 10)
    with pytest.raises(ValueError, match="solver must be one of 'lstsq', 'gd'; received 'svd'"):
        LinearNetwork(solver="svd").fit(x, t)
    m = LinearNetwork().fit(x, t)
    with pytest.raises(ValueError, match=r"predict\(\): X has 2 features, but LinearNetwork "
                                         "is expecting 3 features as input"):
        m.predict(x[:, :2])
    with pytest.raises(ValueError, match=r"y must be 1-D \(n_samples,\) or 2-D"):
        LinearNetwork().fit(x, np.zeros((10, 2, 2)))
    with pytest.raises(ValueError, match="y contains NaN"):
        LinearNetwork().fit(x, np.full(10, np.nan))


# ---------------------------------------------------------------- single layer of sigmoid/tanh

ANIMALS = np.array([[-1, 0, -1],   # small, short fur, does not talk: cat
                    [1, 1, -1],    # large, long fur, does not talk: dog
                    [-1, -1, 1],   # small, no fur, talks: parrot
                    [0, 0, -1]],   # medium, short fur, does not talk: cat
                   dtype=float)
ANIMAL_TARGETS = np.array([[1, -1, -1, -1], [-1, 1, -1, -1], [-1, -1, 1, -1],
                           [1, -1, -1, -1]], dtype=float)  # cat, dog, parrot, carp (bipolar)


COMBINATIONS = [("sigmoid", "sse"), ("sigmoid", "cross_entropy"), ("tanh", "sse"),
                ("tanh", "cross_entropy"), ("softmax", "cross_entropy")]


@pytest.mark.parametrize("activation,loss", COMBINATIONS)
def test_single_layer_learns_the_four_animal_table(activation, loss):
    m = SingleLayerNetwork(activation=activation, loss=loss, learning_rate=0.5,
                           max_epochs=2000).fit(ANIMALS, ANIMAL_TARGETS)
    assert m.converged_
    assert np.array_equal(m.predict(ANIMALS), ANIMAL_TARGETS)  # in the bipolar coding given
    Y = m.predict_proba(ANIMALS)
    assert np.array_equal(np.argmax(Y, axis=1), [0, 1, 2, 0])
    assert m.history_[-1] < 0.1 * m.history_[0]


@pytest.mark.parametrize("activation", ["sigmoid", "softmax"])
def test_single_layer_on_the_shipped_animals_table_and_its_encoders(activation):
    """load_animals: the class names come as an object array (as load_csv and pandas give
    them), the encoded table as the lectures' bipolar one-hot; both are accepted."""
    table, names = load_animals()
    X, D = load_animals(encoded=True)
    assert names.dtype == object
    np.testing.assert_array_equal(X[:4], ANIMALS)  # the lecture's four rows
    np.testing.assert_array_equal(D[:4], ANIMAL_TARGETS)
    m = SingleLayerNetwork(activation=activation, learning_rate=0.5, max_epochs=2000)
    m.fit(X, names)
    assert m.converged_ and list(m.classes_) == sorted(set(names))
    assert np.array_equal(m.predict(X), names.astype(str)) and m.score(X, names) == 1.0
    m.fit(X, D)
    assert np.array_equal(m.predict(X), D)  # bipolar one-hot back, the argmax unit high


def test_classifiers_take_object_labels_and_reject_mixed_ones():
    x, y = clusters(np.random.default_rng(3))
    names = np.array(["cat", "dog", "parrot"], dtype=object)[y]
    p = Perceptron(max_epochs=200).fit(x, names)
    assert p.score(x, names) == 1.0 and list(p.classes_) == ["cat", "dog", "parrot"]
    numbers_as_objects = y.astype(object)
    assert np.array_equal(Perceptron(max_epochs=200).fit(x, numbers_as_objects).predict(x), y)
    with_missing = names.copy()
    with_missing[4] = None
    with pytest.raises(ValueError, match="all strings or all numbers; received None at flat "
                                         "index 4. Remove or fill missing labels"):
        Perceptron().fit(x, with_missing)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_single_layer_separates_setosa_from_the_rest(activation):
    x, y = load_iris()
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    setosa = (y == 0).astype(int)
    m = SingleLayerNetwork(activation=activation, learning_rate=0.01, max_epochs=500).fit(
        x, setosa)
    assert m.coef_.shape == (4,)
    xi = x @ m.coef_ + m.intercept_
    assert np.all(np.where(setosa == 1, xi > 0, xi < 0))  # every flower on its side
    assert m.score(x, setosa) == 1.0


def test_single_layer_softmax_on_iris():
    x, y = load_iris()
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    m = SingleLayerNetwork(activation="softmax", learning_rate=0.01, max_epochs=1000).fit(x, y)
    assert m.coef_.shape == (4, 3)
    assert m.score(x, y) >= 0.95  # versicolor and virginica overlap a little
    P = m.predict_proba(x)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)


def reference_error(activation, loss, W, X, D):
    """E(W) written out from the lectures' formulas, independently of mlplab."""
    Xi = X @ W
    if activation == "softmax":
        Y = np.exp(Xi) / np.exp(Xi).sum(axis=1, keepdims=True)
        return -np.sum(D * np.log(Y))
    if activation == "sigmoid":
        Y = 1 / (1 + np.exp(-2.0 * Xi))  # slope lambda = 2
        if loss == "sse":
            return 0.5 * np.sum((D - Y) ** 2)
        return -np.sum(D * np.log(Y) + (1 - D) * np.log(1 - Y))
    Y = np.tanh(2.0 * Xi)
    if loss == "sse":
        return 0.5 * np.sum((D - Y) ** 2)
    p, d = (1 + Y) / 2, (1 + D) / 2  # cross-entropy of the bipolar unit
    return -np.sum(d * np.log(p) + (1 - d) * np.log(1 - p))


@pytest.mark.parametrize("activation,loss", COMBINATIONS)
def test_single_layer_step_is_gradient_descent_on_its_error(activation, loss):
    """One batch step W(1) - W(0) = -alpha dE/dW, with dE/dW by central differences."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3))
    y = rng.integers(0, 3, size=12)
    f = {"sigmoid": activations.Sigmoid(slope=2.0), "tanh": activations.Tanh(slope=2.0),
         "softmax": "softmax"}[activation]
    alpha = 0.01
    m = SingleLayerNetwork(activation=f, loss=loss, learning_rate=alpha, max_epochs=1,
                           tol=None, init="random", random_state=1).fit(x, y)
    W0, W1 = m.weights_history_
    X = np.hstack([np.ones((12, 1)), x])
    D = to_categorical(y, 3).astype(float)
    if activation == "tanh":
        D = 2 * D - 1
    numeric = np.zeros_like(W0)
    eps = 1e-6
    for idx in np.ndindex(W0.shape):
        Wp, Wm = W0.copy(), W0.copy()
        Wp[idx] += eps
        Wm[idx] -= eps
        numeric[idx] = (reference_error(activation, loss, Wp, X, D)
                        - reference_error(activation, loss, Wm, X, D)) / (2 * eps)
    np.testing.assert_allclose((W1 - W0) / alpha, -numeric, rtol=1e-6, atol=1e-8)
    assert m.history_[0] == pytest.approx(reference_error(activation, loss, W1, X, D))


def test_single_layer_online_training():
    x, y = clusters(np.random.default_rng(4))
    m = SingleLayerNetwork(batch_size=1, shuffle=True, random_state=0, learning_rate=0.1,
                           max_epochs=100).fit(x, y)
    assert m.score(x, y) == 1.0


def test_single_layer_errors():
    x, y = clusters(np.random.default_rng(0))
    with pytest.raises(ValueError, match="activation must be 'sigmoid', 'tanh' or 'softmax'; "
                                         "received 'relu'"):
        SingleLayerNetwork(activation="relu").fit(x, y)
    with pytest.raises(ValueError, match="Unknown activation 'sigmoidd'.*Did you mean"):
        SingleLayerNetwork(activation="sigmoidd").fit(x, y)
    with pytest.raises(ValueError, match="softmax is trained with loss='cross_entropy'"):
        SingleLayerNetwork(activation="softmax", loss="sse").fit(x, y)
    with pytest.raises(ValueError, match="loss must be one of 'cross_entropy', 'sse'"):
        SingleLayerNetwork(loss="mse").fit(x, y)


@pytest.mark.parametrize("make", [Perceptron, Adaline, Madaline, SingleLayerNetwork])
def test_classifiers_reject_continuous_targets(make):
    x, t = noisy_linear(np.random.default_rng(0), 20)
    with pytest.raises(ValueError, match=r"y looks continuous \(received [-0-9.e]+, not a "
                                         r"whole number\).*use AdalineRegressor or "
                                         r"LinearNetwork"):
        make().fit(x, t)
    # Whole numbers in a float array are class labels (as load_logic_gate gives them).
    x, y = gate_table("or")
    assert Perceptron().fit(x, y.astype(np.float64)).score(x, y) == 1.0


@pytest.mark.parametrize("make", [Perceptron, Adaline, AdalineRegressor, Madaline,
                                  LinearNetwork, SingleLayerNetwork])
def test_estimators_reject_bad_common_arguments(make):
    x, y = gate_table("or")
    name = make.__name__
    with pytest.raises(ValueError, match=rf"{name}.fit\(\): x has 0 feature\(s\) "
                                         r"\(shape=\(4, 0\)\) while a minimum of 1 is "
                                         r"required"):
        make().fit(np.zeros((4, 0)), y)
    with pytest.raises(ValueError, match=r"x must be 2-D .*received shape \(4, 2, 1\)"):
        make().fit(x[:, :, None], y)
    with pytest.raises(ValueError, match=rf"{name}.fit\(\): requires y to be passed, but "
                                         r"the target y is None"):
        make().fit(x, None)
    trained = {"solver": "gd"} if make is LinearNetwork else {}  # lstsq draws nothing
    with pytest.raises(ValueError, match=rf"{name}: random_state must be None, a "
                                         r"non-negative integer, a numpy Generator or "
                                         r"RandomState; received 'abc'"):
        make(random_state="abc", shuffle=True, **trained).fit(x, y)
    with pytest.raises(ValueError, match=rf"{name}: shuffle must be True or False; "
                                         r"received 'no'"):
        make(shuffle="no", **trained).fit(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        make(random_state=np.random.default_rng(0), **trained).fit(x, y)
        make(random_state=np.random.RandomState(0), **trained).fit(x, y)


def test_adaline_normalized_must_be_a_bool():
    x, t = noisy_linear(np.random.default_rng(0), 20)
    with pytest.raises(ValueError, match="normalized must be True or False; received 'yes'"):
        AdalineRegressor(normalized="yes").fit(x, t)


def test_mp_network_needs_a_list_of_layers():
    with pytest.raises(TypeError, match=r"layers must be a list of layers, each a list of "
                                        r"McCullochPitts neurons, e.g. \[\[n1, n2\], "
                                        r"\[n_out\]\]"):
        McCullochPittsNetwork(McCullochPitts.and_gate())
    with pytest.raises(TypeError, match="layers must be a list of layers"):
        McCullochPittsNetwork([McCullochPitts.and_gate()])


def test_top_level_exports():
    for name in neurons.__all__:
        assert getattr(mlplab, name) is getattr(neurons, name)


def test_fit_leaves_no_warnings_when_converged():
    x, y = gate_table("or")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Perceptron().fit(x, y)
        SingleLayerNetwork(learning_rate=0.5, max_epochs=2000).fit(ANIMALS, ANIMAL_TARGETS)


# ---------------------------------------------------------------- the examples still run

def load_example(name):
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def separable_example_set():
    """The 200 points in 5-D of examples/perceptron_learning.py (seed 0)."""
    return load_example("perceptron_learning").separable_points(np.random.default_rng(0), 200, 5)


def test_examples_run_and_show_what_they_claim(tmp_path, capsys):
    assert load_example("neurons_mcculloch_pitts").main()
    runs = load_example("perceptron_learning").main(tmp_path / "p.png")
    assert runs["5-D"].converged_ and runs["5-D"].score(*separable_example_set()) == 1.0
    assert not runs["XOR"].converged_ and runs["XOR"].n_epochs_ == 100
    # The plotted 2-D run: one decision line per update, and the line really moves (the
    # normalized lines w / |w| of the first and last updates differ).
    p2 = runs["2-D"]
    assert p2.converged_ and p2.n_updates_ >= 5
    lines = p2.weights_history_[1:, :, 0]
    unit = lines / np.linalg.norm(lines, axis=1, keepdims=True)
    assert np.linalg.norm(unit[0] - unit[-1]) > 0.1
    assert (tmp_path / "p.png").stat().st_size > 20_000
    distances = load_example("neurons_adaline").main(tmp_path / "a.png")
    assert distances["batch, alpha=0.002"] < 1e-6
    assert distances["online, alpha=0.01/(1+0.1 e)"] < 1e-3
    xor, tri = load_example("neurons_madaline").main(tmp_path / "m.png")
    assert xor.converged_ and tri.converged_
    curves = load_example("neurons_single_layer").main(tmp_path / "s.png")
    assert curves["softmax + cross_entropy"][-1] >= 0.95
    assert sorted(f.name for f in tmp_path.iterdir()) == ["a.png", "m.png", "p.png", "s.png"]
    assert "did NOT converge" in capsys.readouterr().out  # the perceptron on XOR


def test_docstring_examples():
    import doctest
    result = doctest.testmod(neurons, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 4 and result.failed == 0


def test_scikit_learn_interoperability():
    from sklearn.base import clone, is_classifier, is_regressor
    from sklearn.model_selection import KFold, cross_val_score
    p = Perceptron(learning_rate=0.5, coding="bipolar")
    c = clone(p)
    assert c is not p and c.get_params() == p.get_params()
    assert is_classifier(SingleLayerNetwork()) and is_classifier(Madaline())
    assert is_regressor(LinearNetwork()) and is_regressor(AdalineRegressor())
    x, T = noisy_linear(np.random.default_rng(6), 60)
    cv = KFold(5, shuffle=True, random_state=0)
    np.testing.assert_allclose(cross_val_score(LinearNetwork(), x, T, cv=cv),
                               cross_val_score(LinearRegression(), x, T, cv=cv), rtol=1e-10)
    x, y = clusters(np.random.default_rng(6))
    assert np.all(cross_val_score(Perceptron(max_epochs=200), x, y, cv=3) == 1.0)
