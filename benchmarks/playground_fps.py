"""Frames per second the playground page receives and draws, and the server's CPU use.

The set-up of the issue: a 2-8-8-8-8-1 tanh network on 250 training points (500 spiral points,
half for training), one epoch per frame, each frame the 100 x 100 output heatmap plus a
10 x 10 heatmap per neuron, drawn in headless Chromium. The server runs as its own process
(``python -m mlplab.playground``), so psutil measures its CPU alone: while playing, and while
paused (should be ~0: it only waits on the socket).

    PYTHONPATH=src python benchmarks/playground_fps.py [--seconds 10]

Needs the playground and dev extras (starlette, uvicorn, websockets, playwright, psutil) and
Debian's chromium at /usr/bin/chromium.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
SETUP = ("#dataset=spiral&samples=500&percTrainData=50&networkShape=8,8,8,8&activation=tanh"
         "&batchSize=10&learningRate=0.03&epochsPerFrame=1")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def cpu_seconds(procs) -> float:
    total = 0.0
    for proc in procs:
        try:
            c = proc.cpu_times()
            total += c.user + c.system
        except psutil.NoSuchProcess:
            pass
    return total


def cpu_percent(proc: psutil.Process, seconds: float, others=()) -> tuple[float, float]:
    """CPU time the process (and its threads), and the ``others`` together, used over
    ``seconds`` of wall time, in % of one core."""
    t0, c0, o0 = time.perf_counter(), cpu_seconds([proc]), cpu_seconds(others)
    time.sleep(seconds)
    t1, c1, o1 = time.perf_counter(), cpu_seconds([proc]), cpu_seconds(others)
    return 100 * (c1 - c0) / (t1 - t0), 100 * (o1 - o0) / (t1 - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring time")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen([sys.executable, "-m", "mlplab.playground", "--port", "0",
                               "--no-browser"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        url = re.search(r"http://\S+/", server.stdout.readline()).group(0)
        proc = psutil.Process(server.pid)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(url + SETUP)
            page.wait_for_function("() => window.__pg.frame !== null && window.__pg.data")
            idle_before, _ = cpu_percent(proc, 3.0)
            browser_procs = [c for c in psutil.Process().children(recursive=True)
                             if c.pid != server.pid]
            page.get_by_role("button", name="Play", exact=True).click()
            page.wait_for_timeout(2000)  # warm-up
            count = ("() => [window.__pg.received, window.__pg.drawn, window.__pg.frame.epoch, "
                     "window.__pg.drawMs]")
            r0, d0, e0, m0 = page.evaluate(count)
            t0 = time.perf_counter()
            playing_cpu, browser_cpu = cpu_percent(proc, args.seconds, browser_procs)
            r1, d1, e1, m1 = page.evaluate(count)
            elapsed = time.perf_counter() - t0
            page.get_by_role("button", name="Pause", exact=True).click()
            page.wait_for_timeout(1000)
            paused_cpu, _ = cpu_percent(proc, 5.0)
            layers = page.evaluate("() => window.__pg.data.layers")
            points = page.evaluate("() => window.__pg.data.train.length")
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    print(f"network 2-{'-'.join(map(str, layers))} tanh, {points} training points, "
          f"one epoch per frame, 100x100 boundary + 10x10 per neuron")
    print(f"frames received  {(r1 - r0) / elapsed:6.1f} per second")
    print(f"frames drawn     {(d1 - d0) / elapsed:6.1f} per second")
    print(f"epochs           {(e1 - e0) / elapsed:6.1f} per second")
    print(f"drawing a frame  {(m1 - m0) / max(d1 - d0, 1):6.1f} ms of page script")
    frames = max(r1 - r0, 1)
    print(f"server CPU       {playing_cpu:6.1f} % of a core while playing "
          f"({10 * playing_cpu * elapsed / frames:.1f} ms per frame)")
    print(f"browser CPU      {browser_cpu:6.1f} % of a core while playing "
          f"({10 * browser_cpu * elapsed / max(d1 - d0, 1):.1f} ms per drawn frame; "
          f"chromium and the playwright driver)")
    print(f"load average     {os.getloadavg()[0]:6.2f} on {os.cpu_count()} cores")
    print(f"server CPU       {paused_cpu:6.2f} % while paused "
          f"({idle_before:.2f} % before the first Play)")


if __name__ == "__main__":
    main()
