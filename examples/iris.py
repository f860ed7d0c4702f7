"""Iris with one hidden layer: 4-8-3 (tanh hidden, softmax output) on a stratified 70/30 split.

    python examples/iris.py
"""
import mlplab
from mlplab.layers import Dense, Input
from mlplab.preprocessing import StandardScaler, train_test_split


def main(seed: int = 0) -> float:
    x, y = mlplab.datasets.load_iris()                       # 150 x 4, labels 0, 1, 2
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, stratify=y,
                                                        seed=seed)
    scaler = StandardScaler().fit(x_train)                  # statistics of the training part
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    model = mlplab.Sequential([Input((4,)),
                               Dense(8, activation="tanh"),
                               Dense(3, activation="softmax")], seed=seed)
    model.summary()                                          # 4*8+8 + 8*3+3 = 67 parameters
    model.compile(optimizer=mlplab.SGD(learning_rate=0.1),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=200, batch_size=8, verbose=0)
    print(f"training accuracy after 200 epochs: {history.history['accuracy'][-1]:.2%}")
    _, accuracy = model.evaluate(x_test, y_test)
    print(f"test accuracy on {len(y_test)} held-out flowers: {accuracy:.2%}")
    print("confusion matrix (rows: true class, columns: predicted):")
    print(mlplab.metrics.confusion_matrix(y_test, model.predict(x_test).argmax(axis=1)))
    return accuracy


if __name__ == "__main__":
    main()
