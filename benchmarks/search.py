"""Search methods at equal sample budgets: best-of-n vs MCTS (RMaxTS-style) vs tactic-level
best-first search, on the logic benchmark with the bundled real Lean and a small model.

    python benchmarks/search.py                          # SmolLM2-135M, 4 test problems, budgets 2 4
    python benchmarks/search.py --model runs/train_logic/grpo --budgets 8 32 --limit 20

Every method gets the same budget of model samples per problem (a whole proof for best-of-n
and MCTS, one tactic for BFS) and stops at its first proof; the table shows how many
problems each solved, the samples and Lean checks it spent, and wall time. The defaults are
scaled down to run in a few minutes on 2 CPU cores; the issue's budgets (8, 32, 128) are a
matter of --budgets on a GPU. Logic statements end in `:=`: best-of-n and MCTS see the same
prompt (a model may answer with a term or with ` by` and tactics; MCTS can only resume
tactic proofs), BFS always writes `by` and asks for one tactic a line.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

METHODS = ("best-of-n", "mcts", "bfs")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="a model directory / hub id / .gguf (default: the built-in SmolLM2-135M)")
    ap.add_argument("--budgets", type=int, nargs="+", default=[2, 4])
    ap.add_argument("--limit", type=int, default=4, help="logic test problems")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    import data
    from lean_env.checker import Checker
    from lean_env.settings import Settings
    from prover.evaluation import make_search
    from prover.policies import SamplingParams, load_policy
    from prover.protocol.prompts import default_stop

    rows = data.load("logic", split="test", limit=args.limit)
    fmt = "deepseek-v1.5"
    t0 = time.monotonic()
    policy = load_policy(args.model)
    load_s = time.monotonic() - t0
    params = SamplingParams(temperature=1.0, top_p=0.95, max_tokens=args.max_tokens, seed=args.seed,
                            stop=default_stop(fmt))
    results = []
    with Checker("server", Settings.from_env(timeout=60), workers=args.workers) as checker:
        for budget in args.budgets:
            for method in args.methods:
                search = make_search(method, policy, checker, params, budget, fmt, round_size=min(budget, 4))
                start = time.monotonic()
                records = list(search.run(rows))
                wall = time.monotonic() - start
                st = search.stats
                results.append({
                    "budget": budget, "method": method, "solved": sum(r.solved for r in records),
                    "problems": len(records), "samples": sum(r.n for r in records), "checks": st.checks,
                    "gen_s": st.generation_seconds, "wall_s": wall,
                    "nodes": sum(r.extra.get("nodes", 0) for r in records) if method == "mcts" else None,
                    "bfs_states": sum(r.extra.get("states", 0) for r in records) if method == "bfs" else None,
                })
                print(f"  budget {budget} {method}: {results[-1]['solved']}/{len(records)} in {wall:.0f}s",
                      file=sys.stderr, flush=True)
    policy.close()

    print(f"model: {getattr(policy, 'name', args.model)} (loaded in {load_s:.0f}s); {len(rows)} logic test problems; "
          f"Lean 4.35 (bundled), server checker, {args.workers} workers\n")
    print("| budget | method | solved | samples | Lean checks | tree nodes / BFS states | generation s | wall s |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        extra = r["nodes"] if r["nodes"] is not None else r["bfs_states"] if r["bfs_states"] is not None else "—"
        print(f"| {r['budget']} | {r['method']} | {r['solved']}/{r['problems']} | {r['samples']} | {r['checks']} | "
              f"{extra} | {r['gen_s']:.0f} | {r['wall_s']:.0f} |")
    for budget in args.budgets:
        base = next((r for r in results if r["budget"] == budget and r["method"] == "best-of-n"), None)
        if base is None:
            continue
        for r in results:
            if r["budget"] == budget and r["method"] != "best-of-n":
                print(f"budget {budget}: {r['method']} solved {r['solved'] - base['solved']:+d} vs best-of-n, "
                      f"wall time x{r['wall_s'] / max(base['wall_s'], 1e-9):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
