"""What the sealed filesystem costs per check: the same cli check (bundled Lean, logic prelude)
under each sandbox method that works here, interleaved so machine load hits all alike.

    python benchmarks/sandbox_cost.py [--reps 20]

Prints the median and quartiles of ms per check and per bare `true` for each method.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lean_env.running.isolation import isolation_method  # noqa: E402
from lean_env.running.sandbox import Sandbox  # noqa: E402
from lean_env.running.sandbox_limits import Limits  # noqa: E402
from lean_env.checker import Checker  # noqa: E402
from lean_env.running.environments import logic_header  # noqa: E402
from lean_env.running.settings import Settings  # noqa: E402
from lean_env.soundness.verdict import ProofTask  # noqa: E402

METHODS = ("none", "unshare+nobody", "bwrap+nobody", "mountns+nobody")


def use(method: str) -> bool:
    os.environ["PROVER_SANDBOX"] = method
    isolation_method.cache_clear()
    return isolation_method() == method


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    methods = [m for m in METHODS if use(m)]
    task = ProofTask("theorem and_swap (p q : Prop) (h : And p q) : And q p :=", header=logic_header(),
                     proof=" And.intro h.2 h.1")
    checks: dict[str, list[float]] = {m: [] for m in methods}
    trues: dict[str, list[float]] = {m: [] for m in methods}
    checkers = {}
    for m in methods:  # a backend names the method active when it started
        use(m)
        checkers[m] = Checker("cli", Settings.from_env(timeout=60), workers=1)
    try:
        for _ in range(args.reps):
            for m in methods:
                use(m)
                t = time.perf_counter()
                v = checkers[m].check(task)
                checks[m].append(1000 * (time.perf_counter() - t))
                assert v.ok and v.isolation == m, (m, v.isolation, v.reasons)
                t = time.perf_counter()
                Sandbox(Limits(timeout_s=10)).run(["/usr/bin/true"])
                trues[m].append(1000 * (time.perf_counter() - t))
    finally:
        for c in checkers.values():
            c.close()
    print(f"cli check of one proof, {args.reps} reps per method, load avg {os.getloadavg()[0]:.1f}")
    print(f"{'method':<16} {'check ms (median, q1-q3)':<28} {'bare true ms (median)':<20}")
    for m in methods:
        q = statistics.quantiles(checks[m], n=4)
        print(f"{m:<16} {statistics.median(checks[m]):7.1f}  ({q[0]:.1f}-{q[2]:.1f}){'':8} {statistics.median(trues[m]):7.1f}")


if __name__ == "__main__":
    main()
