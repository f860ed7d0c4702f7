"""Run the property suite with a fixed number of examples and print its figures per API group.

    PYTHONPATH=src python -m tests.property.report [--examples N]

Every property test runs (derandomized, so the figures are reproducible) in counting mode:
internal errors and state changes are counted, not raised. The suite runs in a child process,
so a crash (a signal, an abort) would be seen and counted too. Exit status 1 when any internal
error, state change or crash appears.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["test_model_api", "test_data_api", "test_files_api"]
COLUMNS = ["cases run", "accepted", "rejected clearly", "internal errors",
           "state changes after rejection"]


def _child(out: str) -> None:
    """Run every property test in counting mode; write the tally as JSON to ``out``."""
    from tests.property.harness import TALLY

    failures = []
    for name in MODULES:
        module = importlib.import_module(f"tests.property.{name}")
        for attr in sorted(dir(module)):
            if attr.startswith("test_"):
                try:
                    getattr(module, attr)()
                except Exception as exc:  # noqa: BLE001 - a failing property, reported below
                    failures.append(f"{name}.{attr}: {type(exc).__name__}: {exc}")
        if hasattr(module, "teardown_module"):
            module.teardown_module()
    Path(out).write_text(json.dumps({
        "counts": {g: dict(c) for g, c in TALLY.counts.items()},
        "internal": {g: dict(c) for g, c in TALLY.internal.items()},
        "examples": {g: [list(map(str, e)) for e in v] for g, v in TALLY.examples.items()
                     if not g.endswith(" rejected")},
        "failures": failures}))


def table(result: dict) -> str:
    rows = []
    totals = [0] * len(COLUMNS)
    for group in sorted(result["counts"]):
        c = result["counts"][group]
        values = [sum(c.values()), c.get("accepted", 0), c.get("rejected", 0),
                  c.get("internal", 0), c.get("state change", 0)]
        totals = [t + v for t, v in zip(totals, values)]
        rows.append([group] + values)
    rows.append(["total"] + totals)
    header = "| API group | " + " | ".join(COLUMNS) + " |"
    lines = [header, "|" + "---|" * (len(COLUMNS) + 1)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=60,
                        help="hypothesis examples per property test, before each test's "
                             "scale factor (default 60; the pytest run uses 30)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"mlplab-property-{os.getpid()}.json"
    env = dict(os.environ, MLPLAB_PROPERTY_EXAMPLES=str(args.examples),
               MLPLAB_PROPERTY_STRICT="0",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT),
                                           os.environ.get("PYTHONPATH", "")]))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tests.property.report", "--child", str(out)],
                          cwd=ROOT, env=env)
    seconds = time.perf_counter() - start
    crashed = proc.returncode != 0 or not out.exists()
    if crashed:
        print(f"The suite's process ended with status {proc.returncode}: a crash.")
        return 1
    result = json.loads(out.read_text())
    out.unlink()
    print(table(result))
    internal = sum(c.get("internal", 0) for c in result["counts"].values())
    changed = sum(c.get("state change", 0) for c in result["counts"].values())
    print(f"\n{args.examples} examples per property test (scaled per test), derandomized; "
          f"{seconds:.0f} s; crashes: 0; internal exception types: "
          f"{sum(len(v) for v in result['internal'].values())}.")
    for group, kinds in sorted(result["internal"].items()):
        print(f"  {group}: {kinds}")
        for example in result["examples"].get(group, []):
            print("     ", " | ".join(example)[:300])
    for failure in result["failures"]:
        print("  failing property:", failure[:300])
    return 1 if internal or changed or result["failures"] else 0


if __name__ == "__main__":
    if __package__ in (None, ""):   # run as a script: python tests/property/report.py
        sys.path[:0] = [str(ROOT), str(ROOT / "src")]
    sys.exit(main())
