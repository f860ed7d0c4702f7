"""The BLAS thread policy (mlplab.fast.threads): one thread below THRESHOLD_FLOPS, the user's
setting above it, set_num_threads for an exact count, the user's count back after each step.

No timings here (benchmarks/under_load.py and benchmarks/thread_threshold.py measure): the
tests read OpenBLAS's thread count itself, from inside a training step, through a Lambda
layer (which the layer step runs between the Dense layers' products).
"""
import numpy as np
import pytest

import mlplab
from mlplab import autodiff, fast
from mlplab.cli import _limit_threads, main
from mlplab.exceptions import ArgumentError, ArgumentTypeError
from mlplab.fast import threads
from mlplab.layers import Dense, Input, Lambda

T = threads.THRESHOLD_FLOPS

needs_openblas = pytest.mark.skipif(not threads.available(),
                                    reason="NumPy is not built on OpenBLAS (CI's wheel is)")


@pytest.fixture(autouse=True)
def automatic():
    """Every test starts and ends with the automatic choice and OpenBLAS's own count."""
    before = threads.blas_threads()
    mlplab.set_num_threads(None)
    yield
    mlplab.set_num_threads(None)
    if before is not None:
        threads._functions()[1](before)


def _set_blas(n):
    threads._functions()[1](n)


def test_one_thread_below_the_threshold_the_setting_at_and_above():
    assert threads.choose(T - 1, allowed=2) == 1
    assert threads.choose(1, allowed=8) == 1
    assert threads.choose(T, allowed=2) == 2
    assert threads.choose(100 * T, allowed=8) == 8
    assert threads.choose(100 * T, allowed=1) == 1  # OPENBLAS_NUM_THREADS=1 is respected


def test_set_num_threads_overrides_the_choice_and_none_restores_it():
    assert mlplab.get_num_threads() is None
    mlplab.set_num_threads(3)
    assert mlplab.get_num_threads() == 3
    assert threads.choose(1, allowed=2) == 3 and threads.choose(100 * T, allowed=1) == 3
    mlplab.set_num_threads(np.int64(2))
    assert mlplab.get_num_threads() == 2 and type(mlplab.get_num_threads()) is int
    mlplab.set_num_threads(None)
    assert mlplab.get_num_threads() is None and threads.choose(1, allowed=2) == 1


@pytest.mark.parametrize("bad, error", [(0, ArgumentError), (-2, ArgumentError),
                                        (1.5, ArgumentTypeError), ("2", ArgumentTypeError),
                                        (True, ArgumentTypeError)])
def test_set_num_threads_rejects_bad_counts_and_changes_nothing(bad, error):
    mlplab.set_num_threads(2)
    with pytest.raises(error, match=r"set_num_threads\(\): n must be .*>= 1 or None, got"):
        mlplab.set_num_threads(bad)
    assert mlplab.get_num_threads() == 2
    assert issubclass(error, mlplab.MlplabError)


def test_dense_flops_is_the_largest_product_of_a_step():
    model = mlplab.Sequential([Input((784,)), Dense(512), Dense(10)])
    assert threads.dense_flops(model.layers, 32) == 2 * 32 * 784 * 512
    assert threads.dense_flops([], 32) == 0


@needs_openblas
def test_enter_sets_one_thread_for_a_small_product_and_leave_puts_the_count_back():
    _set_blas(2)
    previous = threads.enter(T - 1)
    assert threads.blas_threads() == 1 and previous == 2
    threads.leave(previous)
    assert threads.blas_threads() == 2
    assert threads.enter(T) == 0 and threads.blas_threads() == 2   # large: left as it is
    mlplab.set_num_threads(1)
    previous = threads.enter(100 * T)
    assert threads.blas_threads() == 1
    threads.leave(previous)
    assert threads.blas_threads() == 2


def _recording_model(width, seen, n_in=8):
    def record(x):
        seen.append(threads.blas_threads())
        return x * 1.0
    model = mlplab.Sequential([Input((n_in,)), Dense(width, activation="tanh"),
                               Lambda(record, output_shape=(width,)),
                               Dense(width, activation="relu"), Dense(3, activation="softmax")],
                              seed=0)
    model.compile(mlplab.SGD(0.01), "sparse_categorical_crossentropy")
    return model


def _data(n, n_in=8):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, n_in)).astype(np.float32), rng.integers(0, 3, n)


@needs_openblas
@pytest.mark.skipif(not fast.enabled(), reason="MLPLAB_PURE_NUMPY=1: no fast step to govern")
def test_a_training_step_runs_on_the_policy_s_threads_and_numpy_keeps_the_user_s():
    _set_blas(2)
    seen = []
    small = _recording_model(16, seen)
    x, y = _data(64)
    seen.clear()
    small.fit(x, y, batch_size=32, epochs=1, verbose=0)
    del seen[0]  # fit's first forward pass: the divergence reference, outside any step
    assert seen == [1, 1]                         # two steps, each on one thread
    assert threads.blas_threads() == 2            # and the user's count after fit

    mlplab.set_num_threads(2)
    seen.clear()
    small.fit(x, y, batch_size=32, epochs=1, verbose=0)
    del seen[0]
    assert seen == [2, 2]

    mlplab.set_num_threads(None)
    big = _recording_model(1024, seen, n_in=1024)  # 2 * 256 * 1024 * 1024 flops >= 2**28
    assert threads.dense_flops(big.layers, 256) >= T
    x, y = _data(256, n_in=1024)
    seen.clear()
    big.fit(x, y, batch_size=256, epochs=1, verbose=0)
    del seen[0]
    assert seen == [2]
    _set_blas(1)                                  # OPENBLAS_NUM_THREADS=1: one thread always
    seen.clear()
    big.fit(x, y, batch_size=256, epochs=1, verbose=0)
    del seen[0]
    assert seen == [1] and threads.blas_threads() == 1


@pytest.mark.skipif(fast.kernels.load() is None or fast.blas.blas_addresses() is None,
                    reason="the compiled step is not built")
def test_the_compiled_step_and_the_first_loss_ask_for_the_threads_of_their_products(
        monkeypatch):
    """fit's first loss (its divergence reference, on the first 256 rows: here 64) is a
    forward pass of the trainer's own: it asks too, then each step."""
    asked = []
    enter = threads.enter
    monkeypatch.setattr(threads, "enter", lambda flops: asked.append(flops) or enter(flops))
    model = mlplab.Sequential([Input((20,)), Dense(64, activation="sigmoid"),
                               Dense(4, activation="softmax")], seed=0)
    model.compile(mlplab.SGD(0.1), "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(64, 20)).astype(np.float32)
    model.fit(x, np.arange(64) % 4, batch_size=32, epochs=1, verbose=0)
    assert isinstance(model._steps[32], fast.step.CompiledStep)
    assert asked == [2 * 64 * 20 * 64] + [2 * 32 * 20 * 64] * 2


@needs_openblas
def test_evaluate_runs_its_products_on_the_policy_threads():
    """evaluate()'s forward pass (the trainer's _test_batch) runs under the policy: one thread
    below the threshold though OpenBLAS's own setting is 2, the setting back afterwards."""
    seen = []
    probe = Lambda(lambda x: seen.append(threads.blas_threads()) or x)
    model = mlplab.Sequential([Input((8,)), Dense(4, activation="sigmoid"), probe,
                               Dense(2, activation="softmax")], seed=0)
    model.compile(mlplab.SGD(0.1), "sparse_categorical_crossentropy")
    _set_blas(2)
    model.evaluate(np.ones((16, 8), np.float32), np.zeros(16, int))
    assert seen[-1] == 1  # the pass itself (the calls before it infer the output shape) and threads.blas_threads() == 2


def _others_cpu_ns():
    """CPU time of this process's threads other than the calling one (Linux /proc)."""
    import os
    import threading

    me, total = threading.get_native_id(), 0
    for task in os.listdir("/proc/self/task"):
        if int(task) != me:
            with open(f"/proc/self/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
    return total


@needs_openblas
@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/task"),
                    reason="reads the threads' CPU time from Linux's /proc (CI runs Linux)")
def test_the_finiteness_check_leaves_no_blas_thread_spinning():
    """all_finite's dot products stay short enough that OpenBLAS runs them on the calling
    thread: a longer one wakes OpenBLAS's other threads, which spin for about 0.1 s after
    it (on the core the step's helpers need). The reference: one long dot product does."""
    import time

    from mlplab._validation import all_finite

    _set_blas(2)
    x = np.ones((400, 784))

    def spun_after(work):
        time.sleep(0.25)  # any earlier spinning is over
        work()
        before = _others_cpu_ns()
        time.sleep(0.05)
        return (_others_cpu_ns() - before) / 1e6  # ms of CPU in 50 ms

    assert spun_after(lambda: np.dot(x.reshape(-1), x.reshape(-1))) > 20  # the effect exists
    assert spun_after(lambda: all_finite(x)) < 5


def _train(threads_n):
    mlplab.set_num_threads(threads_n)
    model = mlplab.Sequential([Input((256,)), Dense(512, activation="relu"),
                               Dense(10, activation="softmax")], seed=0)
    model.compile(mlplab.SGD(0.05), "sparse_categorical_crossentropy")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(512, 256)).astype(np.float32)
    history = model.fit(x, rng.integers(0, 10, 512), batch_size=256, epochs=3, verbose=0)
    return model.get_weights(), history.history["loss"]


def test_training_on_one_or_two_threads_agrees():
    """OpenBLAS does not promise the same bits on one and two threads (the products may be
    split and blocked differently), so the runs are compared to float32 rounding."""
    (w1, l1), (w2, l2) = _train(1), _train(2)
    np.testing.assert_allclose(l1, l2, rtol=1e-5)
    for a, b in zip(w1, w2):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_cli_threads_sets_the_count_while_the_command_runs_and_puts_it_back():
    limiter = _limit_threads(1, [])
    try:
        assert mlplab.get_num_threads() == 1
    finally:
        limiter.restore_original_limits()
    assert mlplab.get_num_threads() is None
    assert main(["train", "--dataset", "iris", "--hidden", "4", "--epochs", "1",
                 "--threads", "2", "--verbose", "0"]) == 0
    assert mlplab.get_num_threads() is None


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5"])
def test_cli_threads_must_be_a_positive_integer(bad, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--dataset", "iris", "--threads", bad])
    assert exit_.value.code == 2
    assert f"argument --threads: expected a positive integer (BLAS threads), got '{bad}'" in \
        capsys.readouterr().err


def test_sweep_fits_run_on_one_blas_thread_and_the_estimator_is_left_as_it_was(monkeypatch):
    pytest.importorskip("sklearn")  # the dev extra installs it; CI never skips
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mlplab.sklearn import MLPClassifier
    from mlplab.sweep import fit_search

    seen = []
    fit = MLPClassifier._fit

    def recording_fit(self, X, y, incremental):
        seen.append((self.blas_threads, threads.blas_threads()))
        return fit(self, X, y, incremental)

    monkeypatch.setattr(MLPClassifier, "_fit", recording_fit)
    x, y = _data(60, n_in=2)
    pipe = make_pipeline(StandardScaler(), MLPClassifier((4,), max_iter=3, random_state=0))
    search = GridSearchCV(pipe, {"mlpclassifier__learning_rate_init": [0.01, 0.1]}, cv=2)
    with pytest.warns(mlplab.ConvergenceWarning):
        fit_search(search, x, y, backend="sequential")
    assert len(seen) == 5                              # 2 x 2 folds and the refit
    assert all(b == 1 for b, _ in seen)
    if threads.available():
        assert all(n == 1 for _, n in seen)            # OpenBLAS itself on one thread
    assert search.estimator.get_params()["mlpclassifier__blas_threads"] is None
    assert search.best_estimator_.get_params()["mlpclassifier__blas_threads"] is None
    with pytest.raises(ArgumentError, match=r"fit_search\(\): blas_threads must be an int"):
        fit_search(search, x, y, blas_threads=0)


@needs_openblas
def test_the_zero_skipping_workers_follow_set_num_threads_else_the_blas_setting():
    _set_blas(1)
    assert threads.workers() == 1           # a sweep's worker (one BLAS thread): one
    _set_blas(2)
    assert threads.workers() == 2
    mlplab.set_num_threads(3)
    assert threads.workers() == 3
