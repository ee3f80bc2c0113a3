"""Walking reference proofs for step rows: read every state from one elaboration of the whole
script (search.step_data.walk) against applying the tactics one at a time as search does
(search.tactic_env.ServerTacticEnv, the walk before 2026-12-07), on the same theorems,
interleaved in rounds so both see the same load; the states of both are compared.

    python benchmarks/walk.py [--theorems 200] [--workers 1] [--rounds 2]

Why: the walk of 8,000 train proofs was the CPU world's slowest stage after SFT (848 s).
Lean's own CPU is in its worker processes, so the table gives wall seconds and the load."""
from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def stepwise(checker, row) -> tuple[bool, list]:
    """The goals before each tactic, applying one tactic at a time (BFS's view)."""
    from search.step_data import flat_tactics
    from search.tactic_env import ServerTacticEnv

    env = ServerTacticEnv(checker)
    tactics = flat_tactics(row["proof_tactic"])
    start = env.start(row)
    goals, state = [start.goals], start.state
    for i, tactic in enumerate(tactics):
        res = env.apply(state, tactic)
        if res.status != "open":
            return res.status == "proved" and i == len(tactics) - 1, goals
        goals.append(res.goals)
        state = res.state
    return False, goals


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--theorems", type=int, default=200, help="generated train theorems (logic-v2-train, seed 11)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)

    import data
    from lean_env.checker import Checker
    from lean_env.running.settings import Settings
    from search.step_data import walk

    rows = data.load(f"logic-v2-train:{args.theorems}:seed=11")

    def at_once(checker, row) -> tuple[bool, list]:
        w = walk(checker, row)
        return w.proved, w.goals

    ways = {"one elaboration (walk)": at_once, "tactic by tactic (before)": stepwise}
    seconds = {k: 0.0 for k in ways}
    results: dict = {}
    with Checker("server", Settings.from_env(timeout=60), workers=args.workers) as checker:
        for fn in ways.values():  # warm-up: the pool starts its Lean workers on first use
            fn(checker, rows[0])
        for _ in range(args.rounds):
            for name, fn in ways.items():
                t0 = time.monotonic()
                with ThreadPoolExecutor(args.workers) as ex:
                    results[name] = list(ex.map(lambda r: fn(checker, r), rows))
                seconds[name] += time.monotonic() - t0
    print(f"{len(rows)} theorems x {args.rounds} rounds, {args.workers} Lean worker(s), "
          f"load {'%.1f %.1f %.1f' % os.getloadavg()}\n")
    print("| walk | proofs walked | wall s | proofs/s |\n|---|---:|---:|---:|")
    for name in ways:
        proved = sum(p for p, _ in results[name])
        print(f"| {name} | {proved}/{len(rows)} | {seconds[name]:.1f} | {args.rounds * len(rows) / seconds[name]:.1f} |")
    new, old = (results[k] for k in ways)
    same = sum(a == b for a, b in zip(new, old))
    base, fast = seconds["tactic by tactic (before)"], seconds["one elaboration (walk)"]
    print(f"\nspeed-up {base / fast:.2f}x; the same states for {same}/{len(rows)} theorems")
    return 0 if same == len(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
