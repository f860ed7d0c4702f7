"""Two concentric circles with a [2, 4, 4, 1] network (lecture 004): ReLU hidden units, a
sigmoid output and binary cross-entropy, learning rate 0.3 decayed by 0.95 per epoch.

    python examples/circles.py [--plot circles.png] [--seed 42]

With the lecture's seed 42: 89% train and 90% test accuracy (the notes' own NumPy MLP got 94%
and 92%). A network this small is at the mercy of its initialization: over seeds 0-9 the test
accuracy ranges from 52% to 98% (mean 85%), as ReLU units that start dead never recover.
Try a wider network ([2, 16, 16, 1]) to see the spread vanish.
"""
import argparse

import mlplab
from mlplab import plots
from mlplab.callbacks import LearningRateScheduler
from mlplab.datasets import make_circles
from mlplab.layers import Dense, Input
from mlplab.preprocessing import StandardScaler, train_test_split


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", help="save the decision boundary to this PNG file")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    x, y = make_circles(n_samples=200, factor=0.5, noise=0.08, seed=1)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, stratify=y,
                                                        seed=0)
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    model = mlplab.Sequential([Input((2,)),
                               Dense(4, activation="relu", kernel_initializer="he_normal"),
                               Dense(4, activation="relu", kernel_initializer="he_normal"),
                               Dense(1, activation="sigmoid")], seed=args.seed)
    model.compile(optimizer=mlplab.SGD(learning_rate=0.3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    decay = LearningRateScheduler(lambda epoch, lr: 0.3 * 0.95 ** epoch)
    model.fit(x_train, y_train, epochs=150, batch_size=32, verbose=0, callbacks=[decay])
    _, train_acc = model.evaluate(x_train, y_train)
    _, test_acc = model.evaluate(x_test, y_test)
    print(f"train accuracy {train_acc:.2%}, test accuracy {test_acc:.2%}")
    if args.plot:
        plot(model, x_train, y_train, args.plot)
    return test_acc


def plot(model, x, y, path):
    if not plots.available(f"the plot {path}"):
        return
    ax = plots.plot_decision_boundary(model, x, y, bounds=(-2.5, 2.5, -2.5, 2.5),
                                      title="[2, 4, 4, 1] ReLU network: P(inner circle)")
    print(f"decision boundary saved to {plots.save_figure(ax.figure, path, dpi=100)}")


if __name__ == "__main__":
    main()
