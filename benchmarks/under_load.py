"""mlplab's R1 epoch idle and beside one competing CPU-bound process, with PyTorch's beside it.

    python benchmarks/under_load.py --reps 3          # about 2-3 minutes on 2 cores
    python benchmarks/under_load.py --reps 5 --no-forced --samples 60000

R1 is ``mnist_speed.py``'s recipe (784-512-10, sigmoid, softmax + cross-entropy, SGD lr 0.1,
batch 32) on the first ``--samples`` MNIST images (20,000 by default), 3 epochs; the epoch time
is the median of epochs 2 and 3. Every measurement is a fresh Python process (the workers are
``mnist_speed.py``'s), in the order mlplab idle, mlplab loaded, PyTorch idle, PyTorch loaded
(then mlplab with two BLAS threads forced by ``mlplab.set_num_threads(2)``, the behaviour
before the thread policy, unless ``--no-forced``), repeated ``--reps`` times. "Loaded" starts a
Python busy loop in a subprocess half a second before the worker and kills it after. The
ratio loaded / idle is taken per repetition; the summary shows its median. A PyTorch epoch
that runs past ``--max-epoch-s`` is stopped there and its time extrapolated from the batches
done (under load it can take a minute). The BLAS setting
is the caller's environment (OPENBLAS_NUM_THREADS unset: one thread per core).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import mnist_speed  # noqa: E402  (the workers and the recipes, next to this file)

BUSY_LOOP = "while True:\n    pass\n"


def run_worker(spec):
    """In the worker process: one R1 run; prints RESULT {json}."""
    if spec.get("threads"):
        import mlplab

        mlplab.set_num_threads(spec["threads"])
    fn = mnist_speed.worker_torch if spec["impl"] == "torch" else mnist_speed.worker_mlplab
    res = fn(spec["cfg"], spec["data"], spec["seed"])
    print("RESULT " + json.dumps({"epoch_times": res["epoch_times"], "kernel": res["kernel"],
                                  "accuracy": res["accuracy"]}))


def measure(spec, loaded: bool) -> float:
    """R1's epoch time in a fresh process, with a busy loop beside it when ``loaded``."""
    busy = subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) if loaded else None
    try:
        if busy is not None:
            time.sleep(0.5)  # the loop has started and holds a core
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            res = json.loads(line[7:])
            return statistics.median(res["epoch_times"][1:]), res["kernel"]
    raise RuntimeError(f"worker {spec['impl']} failed:\n{proc.stdout}\n{proc.stderr}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=mnist_speed.DEFAULT_DATA)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--max-epoch-s", type=float, default=6.0,
                        help="stop a PyTorch epoch after this long and extrapolate its time "
                             "from the batches done (it collapses under load)")
    parser.add_argument("--no-forced", action="store_true",
                        help="skip mlplab with two BLAS threads forced")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return run_worker(json.loads(args.worker))
    cfg = dict(mnist_speed.RECIPES["R1"], samples=args.samples, epochs=3,
               max_epoch_s=args.max_epoch_s)
    impls = [("mlplab", "mlplab", None), ("PyTorch", "torch", None)]
    if not args.no_forced:
        impls.append(("mlplab, 2 threads forced", "mlplab", 2))
    load0, start = os.getloadavg(), time.perf_counter()
    print(f"# R1 epoch ({args.samples:,} MNIST images, 784-512-10 sigmoid SGD batch 32) idle and "
          f"beside one CPU-bound busy loop; {os.cpu_count()} cores, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}\n", flush=True)
    ratios = {label: [] for label, _, _ in impls}
    times = {label: ([], []) for label, _, _ in impls}
    data = os.path.abspath(args.data)
    for rep in range(args.reps):
        for label, impl, threads in impls:
            spec = {"impl": impl, "cfg": cfg, "data": data, "seed": rep, "threads": threads}
            idle, kernel = measure(spec, loaded=False)
            loaded, _ = measure(spec, loaded=True)
            ratios[label].append(loaded / idle)
            times[label][0].append(idle)
            times[label][1].append(loaded)
            print(f"rep {rep + 1} {label:26s} idle {idle:.3f} s  loaded {loaded:.3f} s  "
                  f"loaded/idle {loaded / idle:.2f}  ({'; '.join(kernel)})", flush=True)
    print("\n| implementation | idle s (median) | loaded s (median) | loaded / idle (median) "
          "| each repetition |\n|---|---|---|---|---|")
    for label, _, _ in impls:
        idle, loaded = times[label]
        print(f"| {label} | {statistics.median(idle):.3f} | {statistics.median(loaded):.3f} | "
              f"{statistics.median(ratios[label]):.2f} | "
              f"{' '.join(f'{r:.2f}' for r in ratios[label])} |")
    load1 = os.getloadavg()
    print(f"\n- target: mlplab's loaded / idle at most 1.30 (median "
          f"{statistics.median(ratios['mlplab']):.2f}); a PyTorch epoch over "
          f"{args.max_epoch_s:g} s is extrapolated from its batches"
          f"\n- load average (1 min) before / after: {load0[0]:.2f} / {load1[0]:.2f}; "
          f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
