"""The classic neurons against scikit-learn: fit time on 50,000 x 50 for 5 epochs.

    python benchmarks/classic_speed.py              # 5 repetitions of every case
    python benchmarks/classic_speed.py --reps 3 --cases perceptron,adaline_online

Cases (mlplab | scikit-learn, the same data, 5 epochs):

- perceptron:       Perceptron(max_epochs=5, shuffle=True) on linearly separable points
                    | Perceptron(max_iter=5, tol=None, shuffle=True)
- adaline_online:   AdalineRegressor(learning_rate=1e-3, batch_size=1, tol=None) on a
                    regression | SGDRegressor(learning_rate="constant", eta0=1e-3,
                    penalty=None, max_iter=5, tol=None, shuffle=True)
- adaline_batch:    AdalineRegressor(learning_rate=1e-5, batch_size=None, tol=None) | the same
                    SGDRegressor
- linear_gd:        LinearNetwork(solver="gd", learning_rate=1e-5, tol=None) (batch) | the same
                    SGDRegressor

The two batch rules keep mlplab's default shuffle=False: a batch update sums over all samples,
so their order changes only the rounding (scikit-learn has no batch rule; its online SGD is
the reference time the issue set).

Every measurement runs in a fresh Python process, alternating mlplab and scikit-learn
(A B A B ...), so a slow spell of a shared machine hits both alike; each process makes the
data, warms up on 100 samples (imports, first calls) and times one ``fit``. Every repetition
is printed, then the median of the per-repetition ratios mlplab / scikit-learn. "same W"
says whether the timed fit's weights equal, bit for bit, those of the Python rule
(``mlplab.fast.use(False)``), checked once per case in its own process.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import _spawn  # the worker call shared by the benchmarks (next to this file)

N_SAMPLES, N_FEATURES, EPOCHS = 50_000, 50, 5
CASES = ("perceptron", "adaline_online", "adaline_batch", "linear_gd")


def _data(case):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(N_SAMPLES, N_FEATURES))
    w = rng.normal(size=N_FEATURES)
    if case == "perceptron":  # separable: the labels are a linear threshold of x
        return x, (x @ w + 0.5 > 0).astype(np.int64)
    return x, x @ w + 0.5 + 0.1 * rng.normal(size=N_SAMPLES)


def _mlplab(case):
    import mlplab

    if case == "perceptron":
        return mlplab.Perceptron(max_epochs=EPOCHS, shuffle=True, random_state=0)
    if case == "adaline_online":
        return mlplab.AdalineRegressor(learning_rate=1e-3, max_epochs=EPOCHS, batch_size=1,
                                       tol=None, shuffle=True, random_state=0)
    if case == "adaline_batch":
        return mlplab.AdalineRegressor(learning_rate=1e-5, max_epochs=EPOCHS, batch_size=None,
                                       tol=None)
    return mlplab.LinearNetwork(solver="gd", learning_rate=1e-5, max_epochs=EPOCHS, tol=None)


def _sklearn(case):
    from sklearn.linear_model import Perceptron, SGDRegressor

    if case == "perceptron":
        return Perceptron(max_iter=EPOCHS, tol=None, shuffle=True, random_state=0)
    return SGDRegressor(learning_rate="constant", eta0=1e-3, penalty=None, max_iter=EPOCHS,
                        tol=None, shuffle=True, random_state=0)


def worker(spec):
    import warnings

    import numpy as np

    case, impl = spec["case"], spec["impl"]
    x, y = _data(case)
    make = _mlplab if impl in ("mlplab", "check") else _sklearn
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 5 epochs do not converge; scikit-learn says so
        make(case).fit(x[:100], y[:100])  # warm-up: imports and first calls
        start = time.perf_counter()
        model = make(case).fit(x, y)
        seconds = time.perf_counter() - start
        result = {"seconds": seconds}
        if impl == "check":
            import mlplab

            result["compiled"] = mlplab.fast.classic.available()
            mlplab.fast.use(False)
            reference = make(case).fit(x, y)
            result["same_w"] = bool(np.array_equal(model.W_, reference.W_) and
                                    np.array_equal(model.history_, reference.history_))
    print("RESULT " + json.dumps(result))


def spawn(spec):
    return _spawn.spawn(os.path.abspath(__file__), spec)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each measurement")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--no-check", action="store_true",
                        help="skip the bit-for-bit comparison with the Python rule")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(json.loads(args.worker))
    cases = [c for c in args.cases.split(",") if c]
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        raise SystemExit(f"--cases: unknown {', '.join(unknown)}; choose from {', '.join(CASES)}.")
    print(f"{N_SAMPLES} x {N_FEATURES}, {EPOCHS} epochs, {args.reps} repetitions, fresh "
          f"alternating processes; seconds per fit")
    summary = []
    for case in cases:
        ratios = []
        for rep in range(args.reps):
            ours = spawn({"case": case, "impl": "mlplab"})["seconds"]
            theirs = spawn({"case": case, "impl": "sklearn"})["seconds"]
            ratios.append(ours / theirs)
            print(f"  {case:15s} rep {rep + 1}: mlplab {ours:.3f} s  scikit-learn {theirs:.3f} s"
                  f"  ratio {ours / theirs:.2f}x", flush=True)
        same = "not checked"
        if not args.no_check:
            check = spawn({"case": case, "impl": "check"})
            same = ("yes" if check["same_w"] else "NO") + \
                ("" if check["compiled"] else " (the compiled rules are unavailable: Python ran)")
        summary.append((case, statistics.median(ratios), same))
    print(f"\n{'case':15s}  median mlplab/scikit-learn  same W as the Python rule")
    for case, ratio, same in summary:
        print(f"{case:15s}  {ratio:25.2f}x  {same}")


if __name__ == "__main__":
    main()
