"""One measurement in a fresh Python process: the benchmarks' shared worker call."""
from __future__ import annotations

import json
import subprocess
import sys


def spawn(script: str, spec: dict, env=None) -> dict:
    """Run ``script --worker SPEC`` and return the JSON after its ``RESULT`` line."""
    cmd = [sys.executable, script, "--worker", json.dumps(spec)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"worker {spec.get('impl', spec)} failed:\n{proc.stdout}\n{proc.stderr}")
