"""Keras's own examples, as a user copies them from keras.io, run on mlplab with only the
import lines changed.

Each entry of GUIDE_EXAMPLES is the example's code exactly as published (Keras 3 versions of
keras.io/guides/sequential_model, /guides/training_with_built_in_methods,
/guides/writing_your_own_callbacks and the EarlyStopping and LearningRateScheduler pages);
``as_mlplab`` changes the import lines and nothing else (IMPORTS), and the test checks that.
Kept: the examples of what mlplab has (Dense stacks, compile/fit/evaluate/predict, callbacks,
MNIST). Left out: Conv2D, the functional API (``keras.Model(inputs, outputs)``), tf.data,
custom losses written with ``keras.ops``, class_weight/sample_weight, multi-input models.

The training guide builds its model with the functional API; its workflow code runs on the
same network as a Sequential, given to it as ``model`` / ``get_compiled_model`` (PRELUDE).
"""
import re
import warnings

import numpy as np
import pytest

import mlplab

IMPORTS = {
    "import keras": "import mlplab as keras",
    "from keras import layers": "from mlplab import layers",
    "from keras import ops": "import numpy as ops",
}


def as_mlplab(code: str) -> str:
    lines = [IMPORTS.get(line.strip(), line) for line in code.splitlines()]
    return "\n".join(lines)


SEQUENTIAL_GUIDE = "https://keras.io/guides/sequential_model/"
TRAINING_GUIDE = "https://keras.io/guides/training_with_built_in_methods/"
CALLBACKS_GUIDE = "https://keras.io/guides/writing_your_own_callbacks/"

GUIDE_EXAMPLES = [
    ("sequential: a stack called on a test input", SEQUENTIAL_GUIDE, '''
import keras
from keras import layers
from keras import ops

# Define Sequential model with 3 layers
model = keras.Sequential(
    [
        layers.Dense(2, activation="relu", name="layer1"),
        layers.Dense(3, activation="relu", name="layer2"),
        layers.Dense(4, name="layer3"),
    ]
)
# Call model on a test input
x = ops.ones((3, 3))
y = model(x)
''', lambda ns: ns["y"].shape == (3, 4)),
    ("sequential: the same as calling the layers", SEQUENTIAL_GUIDE, '''
import keras
from keras import layers
from keras import ops

# Create 3 layers
layer1 = layers.Dense(2, activation="relu", name="layer1")
layer2 = layers.Dense(3, activation="relu", name="layer2")
layer3 = layers.Dense(4, name="layer3")

# Call layers on a test input
x = ops.ones((3, 3))
y = layer3(layer2(layer1(x)))
''', lambda ns: ns["y"].shape == (3, 4)),
    ("sequential: layers attribute, add() and pop()", SEQUENTIAL_GUIDE, '''
import keras
from keras import layers

model = keras.Sequential(
    [
        layers.Dense(2, activation="relu"),
        layers.Dense(3, activation="relu"),
        layers.Dense(4),
    ]
)
model.layers
model = keras.Sequential()
model.add(layers.Dense(2, activation="relu"))
model.add(layers.Dense(3, activation="relu"))
model.add(layers.Dense(4))
model.pop()
print(len(model.layers))  # 2
''', lambda ns: len(ns["model"].layers) == 2),
    ("sequential: a name", SEQUENTIAL_GUIDE, '''
import keras
from keras import layers

model = keras.Sequential(name="my_sequential")
model.add(layers.Dense(2, activation="relu", name="layer1"))
model.add(layers.Dense(3, activation="relu", name="layer2"))
model.add(layers.Dense(4, name="layer3"))
''', lambda ns: ns["model"].name == "my_sequential" and
        ns["model"].get_layer("layer2").units == 3),
    ("sequential: a layer creates its weights on its first call", SEQUENTIAL_GUIDE, '''
import keras
from keras import layers
from keras import ops

layer = layers.Dense(3)
layer.weights  # Empty
# Call layer on a test input
x = ops.ones((1, 4))
y = layer(x)
layer.weights  # Now it has weights, of shape (4, 3) and (3,)
''', lambda ns: [w.shape for w in ns["layer"].weights] == [(4, 3), (3,)]),
    ("sequential: built on the first call, then summary()", SEQUENTIAL_GUIDE, '''
import keras
from keras import layers
from keras import ops

model = keras.Sequential(
    [
        layers.Dense(2, activation="relu"),
        layers.Dense(3, activation="relu"),
        layers.Dense(4),
    ]
)  # No weights at this stage!

# Call the model on a test input
x = ops.ones((1, 4))
y = model(x)
print("Number of weights after calling the model:", len(model.weights))  # 6
model.summary()
''', lambda ns: len(ns["model"].weights) == 6),
    ("sequential: an Input first, summary() while adding", SEQUENTIAL_GUIDE, '''
import keras
from keras import layers

model = keras.Sequential()
model.add(keras.Input(shape=(4,)))
model.add(layers.Dense(2, activation="relu"))

model.summary()
model.layers
model = keras.Sequential()
model.add(layers.Dense(2, activation="relu", input_shape=(4,)))

model.summary()
''', lambda ns: ns["model"].count_params() == 10),
    ("sequential: freeze all layers but the last", SEQUENTIAL_GUIDE, '''
import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(784)),
    layers.Dense(32, activation='relu'),
    layers.Dense(32, activation='relu'),
    layers.Dense(32, activation='relu'),
    layers.Dense(10),
])

# Freeze all layers except the last one.
for layer in model.layers[:-1]:
  layer.trainable = False
''', lambda ns: len(ns["model"].trainable_weights) == 2 and
        len(ns["model"].non_trainable_weights) == 6),
    ("training: the end-to-end MNIST workflow", TRAINING_GUIDE, '''
import keras

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()

# Preprocess the data (these are NumPy arrays)
x_train = x_train.reshape(60000, 784).astype("float32") / 255
x_test = x_test.reshape(10000, 784).astype("float32") / 255

y_train = y_train.astype("float32")
y_test = y_test.astype("float32")

# Reserve 10,000 samples for validation
x_val = x_train[-10000:]
y_val = y_train[-10000:]
x_train = x_train[:-10000]
y_train = y_train[:-10000]
model.compile(
    optimizer=keras.optimizers.RMSprop(),  # Optimizer
    # Loss function to minimize
    loss=keras.losses.SparseCategoricalCrossentropy(),
    # List of metrics to monitor
    metrics=[keras.metrics.SparseCategoricalAccuracy()],
)
print("Fit model on training data")
history = model.fit(
    x_train,
    y_train,
    batch_size=64,
    epochs=2,
    # We pass some validation for
    # monitoring validation loss and metrics
    # at the end of each epoch
    validation_data=(x_val, y_val),
)
history.history
# Evaluate the model on the test data using `evaluate`
print("Evaluate on test data")
results = model.evaluate(x_test, y_test, batch_size=128)
print("test loss, test acc:", results)

# Generate predictions (probabilities -- the output of the last layer)
# on new data using `predict`
print("Generate predictions for 3 samples")
predictions = model.predict(x_test[:3])
print("predictions shape:", predictions.shape)
''', lambda ns: ns["results"][1] > 0.94 and ns["predictions"].shape == (3, 10) and
        set(ns["history"].history) == {"loss", "sparse_categorical_accuracy", "val_loss",
                                       "val_sparse_categorical_accuracy"}),
    ("training: compile with names, validation_split", TRAINING_GUIDE, '''
import keras

model.compile(
    optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
    loss=keras.losses.SparseCategoricalCrossentropy(),
    metrics=[keras.metrics.SparseCategoricalAccuracy()],
)
model.compile(
    optimizer="rmsprop",
    loss="sparse_categorical_crossentropy",
    metrics=["sparse_categorical_accuracy"],
)
model = get_compiled_model()
model.fit(x_train, y_train, batch_size=64, validation_split=0.2, epochs=1)
''', lambda ns: "val_sparse_categorical_accuracy" in ns["model"].history.history),
    ("callbacks: every hook of fit, evaluate and predict", CALLBACKS_GUIDE, '''
import keras

# Define the Keras model to add callbacks to
def get_model():
    model = keras.Sequential()
    model.add(keras.layers.Dense(1))
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    return model
# Load example MNIST data and pre-process it
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
x_test = x_test.reshape(-1, 784).astype("float32") / 255.0

# Limit the data to 1000 samples
x_train = x_train[:1000]
y_train = y_train[:1000]
x_test = x_test[:1000]
y_test = y_test[:1000]
class CustomCallback(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        keys = list(logs.keys())
        print("Starting training; got log keys: {}".format(keys))

    def on_train_end(self, logs=None):
        keys = list(logs.keys())
        print("Stop training; got log keys: {}".format(keys))

    def on_epoch_begin(self, epoch, logs=None):
        keys = list(logs.keys())
        print("Start epoch {} of training; got log keys: {}".format(epoch, keys))

    def on_epoch_end(self, epoch, logs=None):
        keys = list(logs.keys())
        print("End epoch {} of training; got log keys: {}".format(epoch, keys))

    def on_test_begin(self, logs=None):
        keys = list(logs.keys())
        print("Start testing; got log keys: {}".format(keys))

    def on_test_end(self, logs=None):
        keys = list(logs.keys())
        print("Stop testing; got log keys: {}".format(keys))

    def on_predict_begin(self, logs=None):
        keys = list(logs.keys())
        print("Start predicting; got log keys: {}".format(keys))

    def on_predict_end(self, logs=None):
        keys = list(logs.keys())
        print("Stop predicting; got log keys: {}".format(keys))

    def on_train_batch_begin(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Training: start of batch {}; got log keys: {}".format(batch, keys))

    def on_train_batch_end(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Training: end of batch {}; got log keys: {}".format(batch, keys))

    def on_test_batch_begin(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Evaluating: start of batch {}; got log keys: {}".format(batch, keys))

    def on_test_batch_end(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Evaluating: end of batch {}; got log keys: {}".format(batch, keys))

    def on_predict_batch_begin(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Predicting: start of batch {}; got log keys: {}".format(batch, keys))

    def on_predict_batch_end(self, batch, logs=None):
        keys = list(logs.keys())
        print("...Predicting: end of batch {}; got log keys: {}".format(batch, keys))
model = get_model()
model.fit(
    x_train,
    y_train,
    batch_size=128,
    epochs=1,
    verbose=0,
    validation_split=0.5,
    callbacks=[CustomCallback()],
)

res = model.evaluate(
    x_test, y_test, batch_size=128, verbose=0, callbacks=[CustomCallback()]
)

res = model.predict(x_test, batch_size=128, callbacks=[CustomCallback()])
class LossAndErrorPrintingCallback(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        print(
            "Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"])
        )

    def on_test_batch_end(self, batch, logs=None):
        print(
            "Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"])
        )

    def on_epoch_end(self, epoch, logs=None):
        print(
            "The average loss for epoch {} is {:7.2f} "
            "and mean absolute error is {:7.2f}.".format(
                epoch, logs["loss"], logs["mean_absolute_error"]
            )
        )


model = get_model()
model.fit(
    x_train,
    y_train,
    batch_size=128,
    epochs=2,
    verbose=0,
    callbacks=[LossAndErrorPrintingCallback()],
)

res = model.evaluate(
    x_test,
    y_test,
    batch_size=128,
    verbose=0,
    callbacks=[LossAndErrorPrintingCallback()],
)
''', lambda ns: ns["res"][0] > 0 and "mean_absolute_error" in ns["model"].history.history),
    ("callbacks: early stopping at minimum loss, a learning-rate schedule", CALLBACKS_GUIDE,
     '''
import keras
import numpy as np


class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
    """Stop training when the loss is at its min, i.e. the loss stops decreasing.

    Arguments:
        patience: Number of epochs to wait after min has been hit. After this
        number of no improvement, training stops.
    """

    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
        # best_weights to store the weights at which the minimum loss occurs.
        self.best_weights = None

    def on_train_begin(self, logs=None):
        # The number of epoch it has waited when loss is no longer minimum.
        self.wait = 0
        # The epoch the training stops at.
        self.stopped_epoch = 0
        # Initialize the best as infinity.
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = logs.get("loss")
        if np.less(current, self.best):
            self.best = current
            self.wait = 0
            # Record the best weights if current results is better (less).
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                print("Restoring model weights from the end of the best epoch.")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


model = get_model()
model.fit(
    x_train,
    y_train,
    batch_size=64,
    epochs=30,
    verbose=0,
    callbacks=[LossAndErrorPrintingCallback(), EarlyStoppingAtMinLoss()],
)
class CustomLearningRateScheduler(keras.callbacks.Callback):
    """Learning rate scheduler which sets the learning rate according to schedule.

    Arguments:
        schedule: a function that takes an epoch index
            (integer, indexed from 0) and current learning rate
            as inputs and returns a new learning rate as output (float).
    """

    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        # Get the current learning rate from model's optimizer.
        lr = self.model.optimizer.learning_rate
        # Call schedule function to get the scheduled learning rate.
        scheduled_lr = self.schedule(epoch, lr)
        # Set the value back to the optimizer before this epoch starts
        self.model.optimizer.learning_rate = scheduled_lr
        print(f"\\nEpoch {epoch}: Learning rate is {float(np.array(scheduled_lr))}.")


LR_SCHEDULE = [
    # (epoch to start, learning rate) tuples
    (3, 0.05),
    (6, 0.01),
    (9, 0.005),
    (12, 0.001),
]


def lr_schedule(epoch, lr):
    """Helper function to retrieve the scheduled learning rate based on epoch."""
    if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
        return lr
    for i in range(len(LR_SCHEDULE)):
        if epoch == LR_SCHEDULE[i][0]:
            return LR_SCHEDULE[i][1]
    return lr


model = get_model()
model.fit(
    x_train,
    y_train,
    batch_size=64,
    epochs=15,
    verbose=0,
    callbacks=[
        LossAndErrorPrintingCallback(),
        CustomLearningRateScheduler(lr_schedule),
    ],
)
''', lambda ns: ns["model"].optimizer.learning_rate == 0.001),
    ("EarlyStopping page", "https://keras.io/api/callbacks/early_stopping/", '''
import keras
import numpy as np

callback = keras.callbacks.EarlyStopping(monitor='loss',
                                              patience=3)
# This callback will stop the training when there is no improvement in
# the loss for three consecutive epochs.
model = keras.models.Sequential([keras.layers.Dense(10)])
model.compile(keras.optimizers.SGD(), loss='mse')
history = model.fit(np.arange(100).reshape(5, 20), np.zeros(5),
                    epochs=10, batch_size=1, callbacks=[callback],
                    verbose=0)
len(history.history['loss'])  # Only 4 epochs are run.
''', lambda ns: 1 <= len(ns["history"].history["loss"]) <= 4),
    ("LearningRateScheduler page", "https://keras.io/api/callbacks/learning_rate_scheduler/",
     '''
import keras
from keras import ops
import numpy as np

# This function keeps the initial learning rate for the first ten epochs
# and decreases it exponentially after that.
def scheduler(epoch, lr):
    if epoch < 10:
        return lr
    else:
        return lr * ops.exp(-0.1)

model = keras.models.Sequential([keras.layers.Dense(10)])
model.compile(keras.optimizers.SGD(), loss='mse')
round(model.optimizer.learning_rate, 5)
callback = keras.callbacks.LearningRateScheduler(scheduler)
history = model.fit(np.arange(100).reshape(5, 20), np.zeros(5),
                    epochs=15, callbacks=[callback], verbose=0)
round(model.optimizer.learning_rate, 5)
''', lambda ns: ns["model"].stop_reason in ("nan", "diverged") and  # Keras: 0.00607 after
        ns["history"].history["learning_rate"][0] == 0.01),  # 15 diverging epochs; mlplab stops
]


def prelude(x_train=None, y_train=None):
    """The training guide's functional model ("dense_1", "dense_2", "predictions") as the
    Sequential it equals, and its get_compiled_model()."""
    from mlplab import layers

    def get_uncompiled_model():
        return mlplab.Sequential([mlplab.Input(shape=(784,), name="digits"),
                                  layers.Dense(64, activation="relu", name="dense_1"),
                                  layers.Dense(64, activation="relu", name="dense_2"),
                                  layers.Dense(10, activation="softmax", name="predictions")],
                                 seed=0)

    def get_compiled_model():
        model = get_uncompiled_model()
        model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                      metrics=["sparse_categorical_accuracy"])
        return model

    return {"model": get_uncompiled_model(), "get_compiled_model": get_compiled_model}


def test_only_the_imports_change():
    for name, _, code, _ in GUIDE_EXAMPLES:
        original = code.splitlines()
        changed = as_mlplab(code).splitlines()
        assert len(original) == len(changed), name
        for before, after in zip(original, changed):
            assert before == after or before.strip() in IMPORTS, (name, before)


@pytest.mark.parametrize("name, url, code, check", GUIDE_EXAMPLES,
                         ids=[e[0] for e in GUIDE_EXAMPLES])
def test_keras_guide_example(name, url, code, check, mnist_dir, monkeypatch, capsys):
    monkeypatch.setenv("MLPLAB_DATA", str(mnist_dir))
    ns = {"__name__": "__guide__"}
    if name.startswith("training"):
        ns.update(prelude())
    with warnings.catch_warnings():
        # mlplab's own notes (a ConfigWarning on the EarlyStopping page's zero targets and on
        # the callbacks guide's mse on digit labels, the RuntimeWarning when a loss overflows)
        # are not failures of the example
        warnings.simplefilter("ignore", mlplab.ConfigWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        if name.startswith("training: compile"):  # the data of the guide's first example
            exec(as_mlplab(GUIDE_EXAMPLES[[e[0] for e in GUIDE_EXAMPLES].index(
                "training: the end-to-end MNIST workflow")][2]).split("model.compile(")[0], ns)
        if "early stopping at minimum" in name:  # the guide's earlier cells: data, get_model
            exec(as_mlplab(next(e[2] for e in GUIDE_EXAMPLES
                                if e[0].startswith("callbacks: every hook"))), ns)
        exec(compile(as_mlplab(code), f"<{url}>", "exec"), ns)
    assert check(ns), name
    out = capsys.readouterr().out
    if name.startswith("callbacks: every hook"):
        assert "Start testing; got log keys: []" in out            # validation inside fit
        assert re.search(r"Stop predicting; got log keys: \[\]", out)
        assert "...Evaluating: end of batch 7; got log keys: ['loss', 'mean_absolute_error']" \
            in out                                                  # 1000 / 128 -> 8 batches
