"""XOR with a 2-10-1 network (lecture 000): 41 parameters, sigmoid units, 100% accuracy.

    python examples/xor.py
"""
import mlplab
from mlplab.layers import Dense, Input


def main(seed: int = 1) -> float:
    x, y = mlplab.datasets.load_xor()
    model = mlplab.Sequential([Input((2,)),
                               Dense(10, activation="sigmoid"),   # 2 x 10 + 10 = 30 parameters
                               Dense(1, activation="sigmoid")],   # 10 x 1 + 1 = 11 parameters
                              seed=seed)
    model.summary()
    model.compile(optimizer=mlplab.SGD(learning_rate=1.0), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=2000, batch_size=4, verbose=0)
    print(f"loss after {len(history.epoch)} epochs: {history.history['loss'][-1]:.4f}")
    for xi, yi in zip(x, model.predict(x)):
        print(f"  {xi.astype(int)} -> {yi[0]:.3f}")
    _, accuracy = model.evaluate(x, y)
    print(f"accuracy: {accuracy:.0%}")
    return accuracy


if __name__ == "__main__":
    main()
