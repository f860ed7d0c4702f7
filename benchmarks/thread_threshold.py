"""Where a second BLAS thread pays: the products of a training step on 1 and on 2 threads.

    python benchmarks/thread_threshold.py                 # float32, about a minute
    python benchmarks/thread_threshold.py --dtype float64 --batches 32,256

For batch sizes n and widths w, the three products of a Dense layer's step, ``Xi = Y W``
(n, k) x (k, u), ``dW = Y^T delta`` and ``dE/dY = delta W^T``, with k = u = w (784 -> 256 for
the MNIST input layer), each timed on one and on two OpenBLAS threads (the best of three
blocks of repetitions, one process, switched with ``openblas_set_num_threads``). It prints
the ratio 1-thread / 2-thread time against the product's flops (2 n k u): above 1 the second
thread pays. ``mlplab.fast.threads.THRESHOLD_FLOPS`` is set from this table, measured on an
idle machine; on a loaded one the two-thread column shows the collapse the policy avoids.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from mlplab.fast import threads  # noqa: E402


def best_time(f, reps):
    blocks = []
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            f()
        blocks.append((time.perf_counter() - t0) / reps)
    return min(blocks)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--batches", default="1,32,128,256")
    parser.add_argument("--widths", default="128,256,512,784,1024,2048")
    args = parser.parse_args(argv)
    if not threads.available():
        raise SystemExit("NumPy's OpenBLAS was not found: nothing to measure.")
    put = threads._functions()[1]
    user = threads.blas_threads()
    dtype, rng = np.dtype(args.dtype), np.random.default_rng(0)
    print(f"# {args.dtype} products on 1 and 2 OpenBLAS threads; {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}; THRESHOLD_FLOPS = "
          f"{threads.THRESHOLD_FLOPS:.3g}\n")
    print("| n | k | u | product | flops | 1 thread us | 2 threads us | 1t / 2t |")
    print("|---|---|---|---|---|---|---|---|")
    try:
        for n in map(int, args.batches.split(",")):
            for w in map(int, args.widths.split(",")):
                k, u = w, (256 if w == 784 else w)
                Y, W, D = (rng.random(s).astype(dtype) for s in ((n, k), (k, u), (n, u)))
                outs = [np.empty(s, dtype) for s in ((n, u), (k, u), (n, k))]
                products = {"Y W": lambda: np.matmul(Y, W, out=outs[0]),
                            "Y^T delta": lambda: np.matmul(Y.T, D, out=outs[1]),
                            "delta W^T": lambda: np.matmul(D, W.T, out=outs[2])}
                flops = 2 * n * k * u
                reps = max(3, int(2e7 / flops) + 1)
                for name, f in products.items():
                    put(1)
                    f()
                    one = best_time(f, reps)
                    put(2)
                    f()
                    two = best_time(f, reps)
                    print(f"| {n} | {k} | {u} | {name} | {flops:.3g} | {one * 1e6:.1f} | "
                          f"{two * 1e6:.1f} | {one / two:.2f} |", flush=True)
    finally:
        put(user)
    print(f"\n- load average (1 min) after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
