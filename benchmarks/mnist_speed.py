"""mlplab against PyTorch on MNIST, and against the GEMM floor: one table per BLAS setting.

    python benchmarks/mnist_speed.py                      # default: ../shared/data/mnist
    python benchmarks/mnist_speed.py --data PATH --reps 5 --envs haswell,unset
    python benchmarks/mnist_speed.py --reps 3 --envs as-is+threads=1,as-is+threads=default
    python benchmarks/mnist_speed.py --recipes R1 --reps 1 --no-scaling   # a quick look

Every measurement runs in a fresh Python process, alternating mlplab, PyTorch and the floor
(A B C A B C ...), so a slow spell of a shared machine hits all of them alike; the table
shows medians over the repetitions, and each ratio is taken per repetition first.

Recipes (same Glorot-uniform weights and zero biases, same float32 data in [0, 1], same
shuffled order every epoch: both sides draw their batches from ``BatchIterator`` with the
model's shuffling generator):

- R1, lecture: 784-512-10, sigmoid, softmax + cross-entropy, SGD lr 0.1, batch 32, 3 epochs
- R2, modern:  784-512-10, ReLU, softmax + cross-entropy, Adam lr 1e-3, batch 128, 5 epochs
- R0, online:  784-128-10, sigmoid, SGD lr 0.01, batch 1, the first 10,000 samples: updates/s
- P0, latency: ``predict`` of a 2-4-1 sigmoid network on one sample per call: us per call
- Scaling: R1's epoch against the hidden width and the number of samples, beside its FLOPs

Epoch times are medians of epochs 2..E (epoch 1 pays for first touches and JIT). The GEMM
floor is the matrix products of one epoch alone, in NumPy (same shapes, same BLAS). Peak RSS
is the worker process's ``ru_maxrss`` (MNIST loaded as float32 in both).

BLAS settings (``--envs``): ``haswell`` sets OPENBLAS_CORETYPE=Haswell (OpenBLAS's AVX2
kernel, as some machines here force it); ``unset`` removes OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE (OpenBLAS picks its kernel for the CPU); ``as-is`` keeps the caller's
environment; ``threads=N`` sets OPENBLAS_NUM_THREADS=N and ``threads=default`` removes it and
OMP_NUM_THREADS (one thread per core); settings join with ``+`` (``unset+threads=1``). The
default runs the two thread settings, ``threads=1,threads=default``. PyTorch's worker sets
``torch.set_num_threads(os.cpu_count())`` in every setting. The kernel and thread count each
worker actually used are read with threadpoolctl and printed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

import _spawn  # the worker call shared by the benchmarks (next to this file)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.environ.get("MLPLAB_DATA") or os.path.join(HERE, "..", "..", "shared",
                                                             "data", "mnist")

RECIPES = {
    "R1": dict(hidden=512, activation="sigmoid", optimizer="sgd", lr=0.1, batch=32, epochs=3,
               samples=60000),
    "R2": dict(hidden=512, activation="relu", optimizer="adam", lr=1e-3, batch=128, epochs=5,
               samples=60000),
    "R0": dict(hidden=128, activation="sigmoid", optimizer="sgd", lr=0.01, batch=1, epochs=3,
               samples=10000),
}
SCALING = [("width", 128, 60000), ("width", 512, 60000), ("width", 2048, 60000),
           ("samples", 512, 15000), ("samples", 512, 30000)]
P0_CALLS = 20000


# ---------------------------------------------------------------------------- workers
def _kernel():
    from threadpoolctl import threadpool_info

    return [f"{i['internal_api']} {i.get('architecture') or ''} {i.get('version') or ''} "
            f"threads={i['num_threads']}".replace("  ", " ")
            for i in threadpool_info() if i["user_api"] == "blas"]


def _peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _load(data, samples):
    import mlplab

    (x, y), (xt, yt) = mlplab.datasets.load_mnist(data, flatten=True, normalize=True)
    return x[:samples], y[:samples], xt, yt


def _mlplab_model(cfg, seed):
    import mlplab
    from mlplab.layers import Dense, Input

    return mlplab.Sequential([Input((784,)), Dense(cfg["hidden"], activation=cfg["activation"]),
                              Dense(10, activation="softmax")], seed=seed)


def worker_mlplab(cfg, data, seed):
    import mlplab
    from mlplab.callbacks import Callback

    x, y, xt, yt = _load(data, cfg["samples"])
    model = _mlplab_model(cfg, seed)
    opt = mlplab.SGD(cfg["lr"]) if cfg["optimizer"] == "sgd" else \
        mlplab.optimizers.Adam(cfg["lr"])
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")

    class EpochTimer(Callback):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.t0)

    timer = EpochTimer()
    hist = model.fit(x, y, epochs=cfg["epochs"], batch_size=cfg["batch"], shuffle=True,
                     verbose=0, callbacks=[timer])
    acc = float((model.predict(xt).argmax(axis=1) == yt).mean())
    rss = _peak_rss_mb()
    return {"epoch_times": timer.times, "accuracy": acc, "loss": hist.history["loss"],
            "rss_mb": rss, "kernel": _kernel(), "dtype_out": str(model.predict(xt[:2]).dtype),
            "accelerator": _accelerator()}


def _accelerator():
    try:
        from mlplab import fast
    except ImportError:
        return "numpy"
    return fast.backend()


def worker_torch(cfg, data, seed):
    import torch

    from mlplab.preprocessing import BatchIterator

    torch.set_num_threads(os.cpu_count())
    x, y, xt, yt = _load(data, cfg["samples"])
    ref = _mlplab_model(cfg, seed)  # the same initial weights and the same shuffling stream
    W1, b1, W2, b2 = ref.get_weights()
    act = torch.nn.Sigmoid() if cfg["activation"] == "sigmoid" else torch.nn.ReLU()
    net = torch.nn.Sequential(torch.nn.Linear(784, cfg["hidden"]), act, torch.nn.Linear(
        cfg["hidden"], 10))
    with torch.no_grad():
        for lin, W, b in ((net[0], W1, b1), (net[2], W2, b2)):
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
    opt = torch.optim.SGD(net.parameters(), lr=cfg["lr"]) if cfg["optimizer"] == "sgd" else \
        torch.optim.Adam(net.parameters(), lr=cfg["lr"])
    batches = BatchIterator(x, y, batch_size=cfg["batch"], shuffle=True, seed=ref._shuffle_rng)
    loss_fn = torch.nn.CrossEntropyLoss()
    times, losses = [], []
    limit = cfg.get("max_epoch_s")  # an epoch stopped there: its time extrapolated per batch
    steps = -(-len(x) // cfg["batch"])
    for _ in range(cfg["epochs"]):
        t0 = time.perf_counter()
        total, done = 0.0, 0
        for xb, yb in batches:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(torch.from_numpy(xb)), torch.from_numpy(yb))
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
            done += 1
            if limit and time.perf_counter() - t0 > limit:
                break
        times.append((time.perf_counter() - t0) * steps / done)
        losses.append(total / len(x))
    with torch.no_grad():
        acc = float((net(torch.from_numpy(xt)).argmax(dim=1).numpy() == yt).mean())
    return {"epoch_times": times, "accuracy": acc, "loss": losses, "rss_mb": _peak_rss_mb(),
            "kernel": _kernel(), "torch_threads": torch.get_num_threads()}


def worker_floor(cfg, data, seed):
    """Only the matrix products of an epoch: Xi = Y W forward, dW = Y^T delta and
    dY = delta W^T backward (none for the first layer's input), into reused outputs."""
    import numpy as np

    rng = np.random.default_rng(seed)
    sizes = [784, cfg["hidden"], 10]
    n, bs = cfg["samples"], cfg["batch"]
    f32 = np.float32
    Ws = [(rng.random((a, b), dtype=f32) - 0.5) * f32(0.1) for a, b in zip(sizes, sizes[1:])]
    dWs = [np.empty_like(W) for W in Ws]

    def buffers(m):
        Ys = [rng.random((m, s), dtype=f32) for s in sizes]  # Y_0 = X, Y_1, Y_2
        deltas = [rng.random((m, s), dtype=f32) for s in sizes[1:]]
        dYs = [np.empty((m, s), dtype=f32) for s in sizes[1:-1]]
        return Ys, deltas, dYs

    full = buffers(bs)
    last = buffers(n % bs) if n % bs else None
    steps = [full] * (n // bs) + ([last] if last else [])
    times = []
    for _ in range(cfg["epochs"]):
        t0 = time.perf_counter()
        for Ys, deltas, dYs in steps:
            for l, W in enumerate(Ws):
                np.matmul(Ys[l], W, out=Ys[l + 1])
            for l in range(len(Ws) - 1, -1, -1):
                np.matmul(Ys[l].T, deltas[l], out=dWs[l])
                if l > 0:
                    np.matmul(deltas[l], Ws[l].T, out=dYs[l - 1])
        times.append(time.perf_counter() - t0)
    return {"epoch_times": times, "rss_mb": _peak_rss_mb(), "kernel": _kernel()}


def worker_p0(impl, calls):
    import numpy as np

    x = np.array([[0.3, 0.7]], dtype=np.float32)
    if impl == "mlplab":
        import mlplab
        from mlplab.layers import Dense, Input

        model = mlplab.Sequential([Input((2,)), Dense(4, activation="sigmoid"),
                                   Dense(1, activation="sigmoid")], seed=0)
        predict = model.predict
        out = predict(x)
    else:
        import torch

        torch.set_num_threads(os.cpu_count())
        net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Sigmoid(),
                                  torch.nn.Linear(4, 1), torch.nn.Sigmoid())

        def predict(x):  # predict()'s contract: a NumPy array in, a NumPy array out
            with torch.inference_mode():
                return net(torch.from_numpy(x)).numpy()

        out = predict(x)
    blocks = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(calls // 7):
            predict(x)
        blocks.append((time.perf_counter() - t0) / (calls // 7) * 1e6)
    return {"us_per_call": statistics.median(blocks), "out_dtype": str(out.dtype),
            "rss_mb": _peak_rss_mb()}


def run_worker(args):
    spec = json.loads(args.worker)
    if spec["impl"] == "p0":
        res = worker_p0(spec["which"], P0_CALLS)
    else:
        fn = {"mlplab": worker_mlplab, "torch": worker_torch, "floor": worker_floor}[spec["impl"]]
        res = fn(spec["cfg"], spec["data"], spec["seed"])
    print("RESULT " + json.dumps(res))


# ---------------------------------------------------------------------------- driver
def _environ(name):
    env = dict(os.environ)
    for part in name.split("+"):
        if part == "haswell":
            env["OPENBLAS_CORETYPE"] = "Haswell"
        elif part == "unset":
            env.pop("OPENBLAS_CORETYPE", None)
            env.pop("OPENBLAS_L2_SIZE", None)
        elif part == "threads=default":
            env.pop("OPENBLAS_NUM_THREADS", None)
            env.pop("OMP_NUM_THREADS", None)
        elif part.startswith("threads=") and part[8:].isdigit() and int(part[8:]) > 0:
            env["OPENBLAS_NUM_THREADS"] = part[8:]
        elif part != "as-is":
            raise SystemExit(f"--envs: unknown setting {part!r}; use haswell, unset, as-is, "
                             f"threads=N or threads=default, joined by '+'.")
    return env


def spawn(spec, env):
    return _spawn.spawn(os.path.abspath(__file__), spec, env)


def med(values):
    return statistics.median(values)


def epoch_time(res):
    times = res["epoch_times"]
    return med(times[1:] if len(times) > 1 else times)


def bench_recipe(name, cfg, env, data, reps, impls=("mlplab", "torch", "floor")):
    runs = {impl: [] for impl in impls}
    for rep in range(reps):
        for impl in impls:  # A B C, A B C, ...
            runs[impl].append(spawn({"impl": impl, "cfg": cfg, "data": data, "seed": rep}, env))
    return runs


def bench_p0(env, reps):
    runs = {"mlplab": [], "torch": []}
    for _ in range(reps):
        for impl in runs:
            runs[impl].append(spawn({"impl": "p0", "which": impl}, env))
    return runs


def flops_per_epoch(cfg):
    """Multiply-adds x 2 of the matrix products of an epoch (no dX for the first layer)."""
    n, h = cfg["samples"], cfg["hidden"]
    return 2 * n * (784 * h * 2 + h * 10 * 3)


def fmt_ratio(values):
    return f"{med(values):.2f}"


def _each(values):
    return " ".join(f"{v:.2f}" for v in values)


def report_env(env_name, env, data, recipes, reps, scaling, out):
    load0 = os.getloadavg()
    t_start = time.perf_counter()
    rows, kernel, accel, per_rep = [], None, None, []
    result = {"env": env_name, "OPENBLAS_CORETYPE": env.get("OPENBLAS_CORETYPE"),
              "OPENBLAS_L2_SIZE": env.get("OPENBLAS_L2_SIZE"),
              "OPENBLAS_NUM_THREADS": env.get("OPENBLAS_NUM_THREADS"), "recipes": {}}
    for name in recipes:
        if name == "P0":
            runs = bench_p0(env, reps)
            m = [r["us_per_call"] for r in runs["mlplab"]]
            t = [r["us_per_call"] for r in runs["torch"]]
            ratio = [a / b for a, b in zip(m, t)]
            rows.append(["P0 predict 2-4-1, 1 sample", f"{med(m):.2f} us", f"{med(t):.2f} us",
                         "", fmt_ratio(ratio), "", "", "", "", ""])
            result["recipes"][name] = {"mlplab_us": m, "torch_us": t, "ratio": ratio}
            continue
        cfg = RECIPES[name]
        runs = bench_recipe(name, cfg, env, data, reps)
        kernel = kernel or runs["mlplab"][0]["kernel"]
        accel = accel or runs["mlplab"][0]["accelerator"]
        em = [epoch_time(r) for r in runs["mlplab"]]
        et = [epoch_time(r) for r in runs["torch"]]
        ef = [epoch_time(r) for r in runs["floor"]]
        to_torch = [a / b for a, b in zip(em, et)]
        to_floor = [a / b for a, b in zip(em, ef)]
        am = med([r["accuracy"] for r in runs["mlplab"]])
        at = med([r["accuracy"] for r in runs["torch"]])
        rm = med([r["rss_mb"] for r in runs["mlplab"]])
        rt = med([r["rss_mb"] for r in runs["torch"]])
        rss = [a["rss_mb"] / b["rss_mb"] for a, b in zip(runs["mlplab"], runs["torch"])]
        if name == "R0":
            n = cfg["samples"]
            label = "R0 online 784-128-10, batch 1"
            speedup = med([b / a for a, b in zip(em, et)])  # per repetition, then the median
            cells = [f"{n / med(em):,.0f} upd/s", f"{n / med(et):,.0f} upd/s",
                     f"{n / med(ef):,.0f} upd/s", f"{speedup:.2f}x the upd/s"]
        else:
            label = {"R1": "R1 lecture sigmoid SGD b32", "R2": "R2 modern ReLU Adam b128"}[name]
            cells = [f"{med(em):.3f} s", f"{med(et):.3f} s", f"{med(ef):.3f} s",
                     fmt_ratio(to_torch)]
        rows.append([label, *cells, fmt_ratio(to_floor), f"{am:.2%}", f"{at:.2%}",
                     f"{rm:.0f} / {rt:.0f}", fmt_ratio(rss)])
        if name == "R0":
            per_rep.append(f"- R0: x PyTorch's updates/s {_each([1 / r for r in to_torch])}")
        else:
            per_rep.append(f"- {name}: x PyTorch {_each(to_torch)}; x floor {_each(to_floor)}")
        result["recipes"][name] = {"mlplab_s": em, "torch_s": et, "floor_s": ef,
                                   "to_torch": to_torch, "to_floor": to_floor,
                                   "acc_mlplab": am, "acc_torch": at, "rss_mlplab": rm,
                                   "rss_torch": rt, "rss_ratio": rss}
    from tabulate import tabulate

    head = ["recipe", "mlplab", "PyTorch", "GEMM floor", "x PyTorch", "x floor", "acc mlplab",
            "acc PyTorch", "peak RSS MB (mlplab / torch)", "RSS ratio"]
    lines = [f"## BLAS setting: {env_name} (OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE')}, "
             f"OPENBLAS_L2_SIZE={env.get('OPENBLAS_L2_SIZE')}, "
             f"OPENBLAS_NUM_THREADS={env.get('OPENBLAS_NUM_THREADS')})",
             f"- kernel in use (threadpoolctl): {'; '.join(kernel or ['?'])}",
             f"- mlplab elementwise backend: {accel}", "",
             tabulate(rows, headers=head, tablefmt="github"), "",
             "Ratios of each repetition, in the order run (the table shows their medians):",
             *per_rep, ""]
    if scaling:
        srows = []
        for kind, h, n in SCALING:
            cfg = dict(RECIPES["R1"], hidden=h, samples=n, epochs=2)
            runs = bench_recipe("scale", cfg, env, data, 1, impls=("mlplab", "floor"))
            em, ef = epoch_time(runs["mlplab"][0]), epoch_time(runs["floor"][0])
            gf = flops_per_epoch(cfg) / 1e9
            srows.append([h, n, f"{gf:.1f}", f"{em:.3f}", f"{ef:.3f}", f"{em / ef:.2f}",
                          f"{gf / em:.0f}", f"{em / gf * 1e3:.1f}"])
        srows.sort(key=lambda r: (r[0], r[1]))
        lines += ["Scaling (R1: sigmoid, SGD, batch 32; one run each, epoch 2; FLOPs of the "
                  "products as in the floor):", "",
                  tabulate(srows, headers=["hidden", "samples", "GFLOP/epoch", "mlplab s",
                                           "floor s", "x floor", "mlplab GFLOP/s",
                                           "ms per GFLOP"], tablefmt="github"), ""]
        result["scaling"] = srows
    load1 = os.getloadavg()
    lines.append(f"- load average (1 min) before / after: {load0[0]:.2f} / {load1[0]:.2f} on "
                 f"{os.cpu_count()} cores; {time.perf_counter() - t_start:.0f} s; "
                 f"{reps} repetitions, medians")
    text = "\n".join(lines)
    print(text, flush=True)
    result["text"] = text
    out.append(result)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="folder with the MNIST IDX files")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each measurement")
    parser.add_argument("--recipes", default="R1,R2,R0,P0")
    parser.add_argument("--envs", default="threads=1,threads=default",
                        help="comma-separated BLAS settings: haswell, unset, as-is, threads=N "
                             "(OPENBLAS_NUM_THREADS=N), threads=default (unset), or several "
                             "joined by '+' (e.g. unset+threads=1)")
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return run_worker(args)
    import numpy
    import torch

    print(f"# mlplab vs PyTorch {torch.__version__} on MNIST ({platform.processor() or ''} "
          f"{_cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
          f"NumPy {numpy.__version__})\n")
    del torch
    data = os.path.abspath(args.data)
    out = []
    for env_name in args.envs.split(","):
        report_env(env_name, _environ(env_name), data, args.recipes.split(","), args.reps,
                   not args.no_scaling, out)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    flags = open("/proc/cpuinfo").read()
                    return name + (", AVX-512" if "avx512f" in flags else "")
    except OSError:
        pass
    return platform.machine()


if __name__ == "__main__":
    main()
