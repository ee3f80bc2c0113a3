"""Verification throughput: cli vs server (vs repl where installed) on one generated task set.

    python benchmarks/verify.py [--tasks 60] [--workers N] [--repeat 5] [--baseline REV]

It also prints the pool's cost per check (wall / checks) at N workers against Lean's own floor
on the same check lines: plain `lean` processes, one file per core, all composed bodies in them.

Prints checks/second and ms/check for each backend at 1 and N workers, the ratios the design
targets (reported, not asserted: pooled server >= 10x cli throughput at equal workers; warm
per-check overhead over bare Lean elaboration <= 10 ms; ~linear 1 -> 2 workers), and the warm
overhead: a server check's latency minus what `lean` itself spends elaborating the same body
(bare `lean FILE` on header+body minus on header alone, no sandbox). Tasks: the logic
benchmark's generator (data/logic.py), half with their reference proofs, half with a proof
borrowed from another theorem (mostly wrong), all over the logic prelude on the bundled Lean.

`--baseline REV` (default: cbd9a7b, the checker before issue 9's hardening) also measures the
same tasks with that revision's lean_env/ and data/ (taken with `git archive` into a temporary
directory and run in a subprocess) and prints ms/check before and after, in the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lean_env.checker import Checker  # noqa: E402
from lean_env.soundness.checkfile import compose  # noqa: E402
from lean_env.running.environments import logic_header  # noqa: E402
from lean_env.running.settings import Settings  # noqa: E402
from lean_env.running.toolchain import find_toolchain  # noqa: E402
from lean_env.soundness.verdict import ProofTask  # noqa: E402


def task_set(n: int, seed: int = 11) -> list[ProofTask]:
    from data.logic import generate

    header = logic_header()
    rows = generate(n, seed=seed)
    out = []
    for i, r in enumerate(rows):
        proof = r["proof"] if i % 2 == 0 else rows[(i * 5 + 1) % len(rows)]["proof"]
        out.append(ProofTask(r["formal_statement"], header=header, proof=proof))
    return out


def measure(backend: str, workers: int, tasks: list[ProofTask], settings: Settings) -> dict:
    with Checker(backend, settings, workers=workers) as c:
        c.check_many(tasks[: 2 * workers])  # warm: start the pool's workers, load the header
        start = time.monotonic()
        verdicts = c.check_many(tasks)
        wall = time.monotonic() - start
    return {"backend": backend, "workers": workers, "wall": wall, "per_s": len(tasks) / wall,
            "ms_check": 1000 * statistics.median(v.seconds for v in verdicts),
            "ok": sum(v.ok for v in verdicts), "verdicts": [(v.ok, v.status) for v in verdicts]}


def bare_lean_ms(tasks: list[ProofTask], repeat: int) -> tuple[float, float]:
    """(median ms of `lean` on header+body, median ms of `lean` on the header alone)."""
    lean = str(find_toolchain().lean)

    def run(text: str) -> float:
        with tempfile.NamedTemporaryFile("w", suffix=".lean", delete=False) as fh:
            fh.write(text)
        try:
            t = time.monotonic()
            subprocess.run([lean, "--threads=1", fh.name], capture_output=True)
            return 1000 * (time.monotonic() - t)
        finally:
            os.unlink(fh.name)

    full, head = [], []
    for t in tasks[:repeat]:
        cf = compose(t)
        full.append(run(cf.text))
        head.append(run(cf.header))
    return statistics.median(full), statistics.median(head)


def floor_ms(tasks: list[ProofTask], files: int) -> float:
    """Lean's own speed on the same check lines: the tasks' composed bodies (each with its own
    nonce, so no name clashes) split into `files` files after one header, one plain `lean`
    process per file, all at once (one file per core). Wall ms per check."""
    tc = find_toolchain()
    cfs = [compose(t) for t in tasks]
    paths = []
    for k in range(files):
        with tempfile.NamedTemporaryFile("w", suffix=".lean", delete=False) as fh:
            fh.write(cfs[0].header + "\n".join(cf.body for cf in cfs[k::files]))
        paths.append(fh.name)
    env = {**os.environ, **tc.env()}
    try:
        t = time.monotonic()
        procs = [subprocess.Popen([str(tc.lean), "--threads=1", p], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env=env) for p in paths]
        for proc in procs:
            proc.wait()
        return 1000 * (time.monotonic() - t) / len(tasks)
    finally:
        for p in paths:
            os.unlink(p)


_BASELINE_SNIPPET = """
import json, statistics, sys, time
from lean_env.checker import Checker
from lean_env.running.environments import logic_header
from lean_env.running.settings import Settings
from lean_env.soundness.verdict import ProofTask
from data.logic import generate
n, backend = int(sys.argv[1]), sys.argv[2]
rows = generate(n, seed=11)
tasks = [ProofTask(r["formal_statement"], header=logic_header(),
                   proof=r["proof"] if i % 2 == 0 else rows[(i * 5 + 1) % len(rows)]["proof"]) for i, r in enumerate(rows)]
with Checker(backend, Settings.from_env(timeout=120), workers=1) as c:
    c.check_many(tasks[:2])
    t = time.monotonic()
    vs = c.check_many(tasks)
    wall = time.monotonic() - t
print(json.dumps({"ms_check": 1000 * statistics.median(v.seconds for v in vs), "per_s": len(tasks) / wall,
                  "verdicts": [[v.ok, v.status] for v in vs]}))
"""


def baseline(rev: str, n: int, backend: str) -> dict:
    """Measure `backend` at 1 worker with revision `rev`'s checker, in a subprocess."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(root), "archive", rev, "lean_env", "data"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        out = subprocess.run([sys.executable, "-c", _BASELINE_SNIPPET, str(n), backend], cwd=tmp,
                             env={**os.environ, "PYTHONPATH": tmp}, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def repl_installed(settings: Settings) -> bool:
    from lean_env.running.backends.repl import repl_available

    return repl_available(settings)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=60)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--repeat", type=int, default=7, help="bare-lean runs for the overhead baseline")
    ap.add_argument("--baseline", default="cbd9a7b", help="git revision to compare with ('' to skip)")
    args = ap.parse_args(argv)
    settings = Settings.from_env(timeout=120)
    tasks = task_set(args.tasks)
    backends = ["cli", "server"] + (["repl"] if repl_installed(settings) else [])
    worker_counts = sorted({1, args.workers})
    rows = [measure(b, w, tasks, settings) for b in backends for w in worker_counts]

    print(f"\n{len(tasks)} tasks over the logic prelude, {os.cpu_count()} cores, load avg {os.getloadavg()[0]:.1f}")
    print(f"{'backend':8} {'workers':>7} {'checks/s':>9} {'ms/check':>9} {'wall s':>7} {'ok':>4}")
    for r in rows:
        print(f"{r['backend']:8} {r['workers']:>7} {r['per_s']:>9.1f} {r['ms_check']:>9.1f} {r['wall']:>7.2f} {r['ok']:>4}")
    by = {(r["backend"], r["workers"]): r for r in rows}
    ref = by[("cli", worker_counts[0])]["verdicts"]
    agree = all(r["verdicts"] == ref for r in rows)
    print(f"\nverdicts identical across backends: {agree}")
    for w in worker_counts:
        print(f"server / cli throughput at {w} worker(s): {by[('server', w)]['per_s'] / by[('cli', w)]['per_s']:.1f}x"
              "   (target >= 10x)")
    if len(worker_counts) > 1:
        lo, hi = worker_counts
        for b in backends:
            print(f"{b}: {lo} -> {hi} workers: {by[(b, hi)]['per_s'] / by[(b, lo)]['per_s']:.2f}x   (linear: {hi / lo:.0f}x)")
    hi = worker_counts[-1]
    floor = floor_ms(tasks, hi)
    pool_ms = 1000 * by[("server", hi)]["wall"] / len(tasks)
    print(f"\nserver pool at {hi} workers: {pool_ms:.1f} ms per check (wall / checks); plain `lean`, one file per "
          f"core ({hi} files): {floor:.1f} ms -> pool / floor {pool_ms / floor:.1f}x   (target <= 3x)")
    full, head = bare_lean_ms(tasks, args.repeat)
    body = max(0.0, full - head)
    server_ms = by[("server", 1)]["ms_check"]
    print(f"\nbare lean: header+body {full:.1f} ms, header alone {head:.1f} ms -> body elaboration ~{body:.1f} ms")
    print(f"warm server check {server_ms:.1f} ms -> overhead over bare elaboration ~{server_ms - body:.1f} ms   (target <= 10 ms)")
    print(f"cli check {by[('cli', 1)]['ms_check']:.1f} ms -> overhead over a bare lean run ~{by[('cli', 1)]['ms_check'] - full:.1f} ms")
    if args.baseline:
        print(f"\nbefore ({args.baseline}) vs now, 1 worker, same {len(tasks)} tasks")
        print(f"{'backend':8} {'ms before':>9} {'ms now':>7} {'ratio':>6} {'ok before':>9} {'ok now':>6}")
        for b in ("cli", "server"):
            old = baseline(args.baseline, len(tasks), b)
            now = by[(b, 1)]
            print(f"{b:8} {old['ms_check']:>9.1f} {now['ms_check']:>7.1f} {now['ms_check'] / old['ms_check']:>6.2f}"
                  f" {sum(ok for ok, _ in old['verdicts']):>9} {now['ok']:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
