"""McCulloch-Pitts neurons (lecture 001): AND, OR, NOT and a two-layer XOR network.

Each neuron has fixed integer weights (+1 excitatory, -1 inhibitory) and a threshold theta;
nothing is learned. The script prints every truth table and checks it against Python's own
logic operators.

    python examples/neurons_mcculloch_pitts.py
"""
from mlplab.neurons import McCullochPitts, McCullochPittsNetwork


def show(name, model, expected) -> bool:
    x, y = model.truth_table()
    ok = [expected(*row) for row in x.tolist()] == y.tolist()
    print(f"{name}  ({model!r})" if isinstance(model, McCullochPitts) else name)
    for row, out in zip(x.tolist(), y.tolist()):
        print(f"  {row} -> {out}")
    print(f"  matches the truth table: {ok}\n")
    return ok


def main() -> bool:
    ok = [
        show("AND: theta = 2, both inputs excitatory", McCullochPitts.and_gate(),
             lambda a, b: int(a and b)),
        show("OR: theta = 1", McCullochPitts.or_gate(), lambda a, b: int(a or b)),
        show("NOT: one inhibitory input, theta = 0", McCullochPitts.not_gate(),
             lambda a: int(not a)),
        show("AND of three inputs: theta = 3", McCullochPitts.and_gate(3),
             lambda a, b, c: int(a and b and c)),
        show("XOR = (x1 AND NOT x2) OR (NOT x1 AND x2), two layers", McCullochPittsNetwork.xor(),
             lambda a, b: a ^ b),
    ]
    # Absolute inhibition (1943): one active inhibitory input vetoes firing. The weighted
    # variant only subtracts the inhibitory weight from the sum.
    weights = [1, 1, -1]
    for inhibition in ("absolute", "weighted"):
        neuron = McCullochPitts(weights, threshold=1, inhibition=inhibition)
        print(f"{inhibition:>8} inhibition, weights {weights}, theta 1: x = [1, 1, 1] -> "
              f"{neuron.predict([[1, 1, 1]])[0]}")
    print(f"\nall truth tables reproduced: {all(ok)}")
    return all(ok)


if __name__ == "__main__":
    main()
