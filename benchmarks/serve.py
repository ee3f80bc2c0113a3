"""Load test of `prover serve` on loopback, against `prover check` on the same tasks, in one run.

    python benchmarks/serve.py [--tasks 60] [--workers 2] [--clients 1,4,16] [--checker server]

Starts `prover serve` as its own process on 127.0.0.1 (no verdict cache), then for each number
of concurrent clients sends every task once, one task per POST /v1/verify, and prints checks/s
and p50/p99 request latency; then the whole set as one batch request; then `prover check` on a
jsonl of the same tasks (its wall time includes starting Lean's pool, as a user would see it).
Tasks: the logic benchmark's generator (as in benchmarks/verify.py), half right, half wrong.
Bounded: each level sends exactly --tasks requests. Verdicts are compared across all runs.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from benchmarks.verify import task_set  # noqa: E402


def rows(tasks) -> list[dict]:
    return [{"header": t.header, "formal_statement": t.formal_statement, "proof": t.proof} for t in tasks]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, checker: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "PROVER_VERDICT_CACHE"}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen([sys.executable, "-m", "prover.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", str(workers), "--checker", checker, "--max-queue", "4096"],
                            cwd=ROOT, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("prover serve did not answer /health within 120 s")


async def load(url: str, body_rows: list[dict], clients: int) -> dict:
    """`clients` concurrent clients share the rows, one row per request; every row sent once."""
    queue: asyncio.Queue = asyncio.Queue()
    for i, r in enumerate(body_rows):
        queue.put_nowait((i, r))
    latencies: list[float] = []
    verdicts: dict[int, tuple] = {}

    async def client(http: httpx.AsyncClient) -> None:
        while True:
            try:
                i, r = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            t = time.monotonic()
            resp = await http.post(url + "/v1/verify", json={"tasks": [r]})
            latencies.append(time.monotonic() - t)
            v = resp.json()["verdicts"][0]
            verdicts[i] = (v["ok"], v["status"])

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=600, limits=limits) as http:
        start = time.monotonic()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        wall = time.monotonic() - start
    lat = sorted(latencies)
    return {"wall": wall, "per_s": len(body_rows) / wall, "p50": 1000 * statistics.median(lat),
            "p99": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))], "verdicts": [verdicts[i] for i in range(len(body_rows))]}


def batch(url: str, body_rows: list[dict]) -> dict:
    t = time.monotonic()
    vs = httpx.post(url + "/v1/verify", json={"tasks": body_rows}, timeout=600).json()["verdicts"]
    wall = time.monotonic() - t
    return {"wall": wall, "per_s": len(body_rows) / wall, "verdicts": [(v["ok"], v["status"]) for v in vs]}


def prover_check(body_rows: list[dict], workers: int, checker: str) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in body_rows))
    env = {k: v for k, v in os.environ.items() if k != "PROVER_VERDICT_CACHE"}
    env["PYTHONPATH"] = str(ROOT)
    try:
        t = time.monotonic()
        out = subprocess.run([sys.executable, "-m", "prover.cli", "check", fh.name, "--checker", checker,
                              "--workers", str(workers)], cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.monotonic() - t
    finally:
        os.unlink(fh.name)
    vs = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    return {"wall": wall, "per_s": len(body_rows) / wall, "verdicts": [(v["ok"], v["status"]) for v in vs]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=60)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--clients", default="1,4,16")
    ap.add_argument("--checker", default="server")
    args = ap.parse_args(argv)
    body_rows = rows(task_set(args.tasks))
    levels = [int(c) for c in args.clients.split(",")]

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(port, args.workers, args.checker)
    try:
        batch(url, body_rows[: 2 * args.workers])  # warm: the pool's workers start and load the header
        results = [(f"serve, {c} client(s)", asyncio.run(load(url, body_rows, c))) for c in levels]
        results.append(("serve, 1 batch request", batch(url, body_rows)))
    finally:
        proc.terminate()
        proc.wait(60)
    results.append(("prover check (incl. start)", prover_check(body_rows, args.workers, args.checker)))

    print(f"\n{len(body_rows)} tasks over the logic prelude, checker {args.checker}, {args.workers} workers, "
          f"{os.cpu_count()} cores, load avg {os.getloadavg()[0]:.1f}")
    print(f"{'run':28} {'checks/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'wall s':>7} {'ok':>4}")
    for name, r in results:
        p50 = f"{r['p50']:.0f}" if "p50" in r else "-"
        p99 = f"{r['p99']:.0f}" if "p99" in r else "-"
        print(f"{name:28} {r['per_s']:>9.1f} {p50:>8} {p99:>8} {r['wall']:>7.2f} {sum(ok for ok, _ in r['verdicts']):>4}")
    ref = results[-1][1]["verdicts"]
    print(f"\nverdicts identical to prover check in every run: {all(r['verdicts'] == ref for _, r in results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
