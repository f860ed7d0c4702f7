"""Threads: predict and evaluate from many threads at once give the single-threaded results
exactly; predict during fit leaves the training bit-identical; a second training call on a
model being trained is refused with ConcurrentUseError.

The threads start together (a barrier) and call many times each, so their calls interleave:
with the metrics' accumulators shared (as before), 8 threads evaluating gave a wrong accuracy
in most calls; with Dropout's mask or a Lambda layer's graph reset by an inference pass (or
autodiff's no_grad switching the graph off in every thread), a predict during fit changed
the training or broke its backward pass.
"""
import threading

import numpy as np
import pytest

import mlplab
from mlplab import autodiff, fast
from mlplab.layers import Dense, Dropout, Input, Lambda

THREADS, CALLS = 8, 20


@pytest.fixture(params=["fast", "numpy"])
def engine(request):
    """Each test runs with the fast path on and with it off (``mlplab.fast.use(False)``)."""
    old = fast.use(request.param == "fast")
    yield request.param
    fast.use(old)


def _data(n=300, n_in=12, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_in)).astype(np.float32)
    return x, (x[:, :k].argmax(axis=1) + (x[:, k] > 1)) % k


def _model(lambda_layer=False, seed=0):
    layers = [Input((12,)), Dense(16, activation="relu"), Dropout(0.3)]
    if lambda_layer:
        layers.append(Lambda(lambda t: t * autodiff.tanh(t)))
    layers += [Dense(8, activation="tanh"), Dropout(0.2), Dense(3, activation="softmax")]
    model = mlplab.Sequential(layers, seed=seed)
    model.compile(mlplab.SGD(0.05, momentum=0.9), "sparse_categorical_crossentropy",
                  metrics=["accuracy", "sparse_top_k_categorical_accuracy"])
    return model


def _in_threads(work, n=THREADS):
    """Run work(i) in n threads started together; re-raise the first error."""
    barrier, errors = threading.Barrier(n), []

    def run(i):
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:  # noqa: BLE001 - reported in the main thread
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


@pytest.mark.parametrize("lambda_layer", [False, True])
def test_evaluate_and_predict_in_8_threads_equal_the_single_threaded_results(engine,
                                                                            lambda_layer):
    x, y = _data()
    model = _model(lambda_layer)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    batch_sizes = [None, 7, 64]
    expected_eval = {bs: model.evaluate(x, y, batch_size=bs, verbose=0) for bs in batch_sizes}
    expected_pred = {bs: model.predict(x, batch_size=bs) for bs in batch_sizes}
    expected_one = model.predict(x[:3])  # the fast path's compiled call for a few samples
    # Accuracy is a value the model can get wrong: it is neither 0 nor 1 here.
    assert 0.2 < expected_eval[None][1] < 1.0
    wrong = []

    def work(i):
        for call in range(CALLS):
            bs = batch_sizes[(i + call) % len(batch_sizes)]
            if (i + call) % 2:
                got = model.evaluate(x, y, batch_size=bs, verbose=0)
                if got != expected_eval[bs]:
                    wrong.append(("evaluate", bs, got, expected_eval[bs]))
            else:
                got = model.predict(x, batch_size=bs)
                if not np.array_equal(got, expected_pred[bs]):
                    wrong.append(("predict", bs))
                if not np.array_equal(model.predict(x[:3]), expected_one):
                    wrong.append(("predict", 3))
    _in_threads(work)
    assert wrong == [], f"{len(wrong)} of {THREADS * CALLS} calls differ: {wrong[:3]}"
    # the model's own metric objects end as after a single evaluate (Keras leaves them so)
    assert model.metrics[0].result() == expected_eval[64][1]


def _fit(model, x, y, during=None):
    """fit, with ``during()`` called in a loop by another thread until fit returns."""
    done = threading.Event()
    calls = [0]

    def loop():
        while not done.is_set():
            during()
            calls[0] += 1
    thread = threading.Thread(target=loop) if during else None
    if thread:
        thread.start()
    try:
        hist = model.fit(x, y, epochs=3, batch_size=8, verbose=0, validation_split=0.2)
    finally:
        done.set()
        if thread:
            thread.join()
    return model.get_weights(), hist.history, calls[0]


@pytest.mark.parametrize("lambda_layer", [False, True])
def test_predict_during_fit_leaves_the_training_bit_identical(engine, lambda_layer):
    x, y = _data()
    alone = _fit(_model(lambda_layer), x, y)
    model = _model(lambda_layer)
    together = _fit(model, x, y, during=lambda: (model.predict(x[:50]),
                                                 model.predict(x[:2]),
                                                 model.evaluate(x[:40], y[:40], verbose=0)))
    assert together[2] > 0  # the other thread did run while fit trained
    for a, b in zip(alone[0], together[0]):
        assert np.array_equal(a, b)
    assert alone[1] == together[1]  # every epoch's loss, accuracy and validation values


class _Blocking(mlplab.callbacks.Callback):
    """Holds the first epoch open until released, so another call meets a running fit."""

    def __init__(self):
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def on_epoch_begin(self, epoch, logs=None):
        self.entered.set()
        assert self.release.wait(30)


def test_a_second_training_call_from_another_thread_is_refused_and_changes_nothing():
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=1, verbose=0)
    block, result = _Blocking(), {}
    thread = threading.Thread(target=lambda: result.setdefault(
        "history", model.fit(x, y, epochs=1, verbose=0, callbacks=[block])))
    thread.start()
    try:
        assert block.entered.wait(30)
        before = model.get_weights()
        with pytest.raises(mlplab.ConcurrentUseError, match=r"fit\(\): this model is being "
                                                            r"trained by another call"):
            model.fit(x, y, epochs=1, verbose=0)
        with pytest.raises(mlplab.ConcurrentUseError, match=r"train_on_batch\(\)"):
            model.train_on_batch(x[:4], y[:4])
        assert isinstance(mlplab.ConcurrentUseError("x"), RuntimeError)
        for a, b in zip(before, model.get_weights()):
            assert np.array_equal(a, b)
        predicted = model.predict(x[:5])  # inference stays allowed meanwhile
        assert predicted.shape == (5, 3)
    finally:
        block.release.set()
        thread.join()
    assert len(result["history"].history["loss"]) == 1  # the first fit ran to its end
    model.fit(x, y, epochs=1, verbose=0)  # and the lock was released


def test_a_training_call_from_a_callback_of_fit_is_refused():
    x, y = _data()
    model = _model()
    seen = []

    class Nested(mlplab.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            with pytest.raises(mlplab.ConcurrentUseError):
                self.model.fit(x, y, epochs=1, verbose=0)
            seen.append(epoch)

    model.fit(x, y, epochs=2, verbose=0, callbacks=[Nested()])
    assert seen == [0, 1]


def test_a_copied_model_trains_on_its_own_lock():
    import copy
    import pickle

    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=1, verbose=0)
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert twin._train_lock is not model._train_lock
        twin.fit(x, y, epochs=1, verbose=0)
