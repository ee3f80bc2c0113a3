"""Where a warm `server` check's time goes: one worker, checks one after another, each step of
Checker.check timed by wrapping it, the Lean process tree's CPU per check, and the floor (plain
`lean` on one file holding the same composed bodies after one header).

    python benchmarks/profile_server.py [--tasks 100]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402

import lean_env.running.backends.server as server  # noqa: E402
import lean_env.checker as checker  # noqa: E402
import lean_env.running.pool as pool  # noqa: E402
from benchmarks.verify import task_set  # noqa: E402
from lean_env.soundness.checkfile import compose  # noqa: E402
from lean_env.running.settings import Settings  # noqa: E402
from lean_env.running.toolchain import find_toolchain  # noqa: E402

TIMES: dict[str, list[float]] = defaultdict(list)


def timed(name, fn):
    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            TIMES[name].append(time.perf_counter() - t)
    return wrapper


def instrument() -> None:
    checker.precheck = timed("precheck (policy lexer)", checker.precheck)
    checker.compose = timed("compose", checker.compose)
    checker.judge = timed("judge", checker.judge)
    pool.Pool._take = timed("pool: take a worker", pool.Pool._take)
    pool.Pool._give_back = timed("pool: give it back (incl. psutil probes)", pool.Pool._give_back)
    server.ServerWorker.run = timed("worker.run (LSP + Lean)", server.ServerWorker.run)
    wait_for = server.LspClient.wait_for
    calls = [0]

    def waits(self, pred, deadline):
        calls[0] += 1
        name = ("  until Lean answers waitForDiagnostics" if calls[0] % 2
                else "  then until fileProgress reports idle")
        return timed(name, wait_for)(self, pred, deadline)

    server.LspClient.wait_for = waits


def floor_ms(tasks) -> float:
    tc = find_toolchain()
    cfs = [compose(t) for t in tasks]
    env = {**os.environ, **tc.env()}

    def run(text: str) -> float:
        with tempfile.NamedTemporaryFile("w", suffix=".lean", delete=False) as fh:
            fh.write(text)
        try:
            t = time.perf_counter()
            subprocess.run([str(tc.lean), "--threads=1", fh.name], capture_output=True, env=env)
            return time.perf_counter() - t
        finally:
            os.unlink(fh.name)

    whole = run(cfs[0].header + "\n".join(cf.body for cf in cfs))
    return 1000 * (whole - run(cfs[0].header)) / len(tasks)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=100)
    args = ap.parse_args()
    tasks = task_set(args.tasks)
    instrument()
    with checker.Checker("server", Settings.from_env(timeout=60), workers=1) as c:
        c.check_many(tasks[:4])
        TIMES.clear()
        procs = [psutil.Process(p) for p in c.backend.pool.worker_pids()]
        cpu = lambda: sum(sum(p.cpu_times()[:2]) for p in procs if p.is_running())  # noqa: E731
        cpu0, t0 = cpu(), time.perf_counter()
        for task in tasks:
            timed("Checker.check (all of it)", c.check)(task)
        wall, lean_cpu = time.perf_counter() - t0, cpu() - cpu0
    n = len(tasks)
    print(f"{n} checks, 1 worker, one after another; load avg {os.getloadavg()[0]:.1f}")
    print(f"wall {1000 * wall / n:.1f} ms/check; CPU of the Lean process tree {1000 * lean_cpu / n:.1f} ms/check")
    for name, v in TIMES.items():
        print(f"  {name:45} median {1000 * statistics.median(v):6.2f} ms   mean {1000 * statistics.mean(v):6.2f} ms")
    print(f"floor: plain lean, one file of the {n} bodies: {floor_ms(tasks):.1f} ms/check")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
