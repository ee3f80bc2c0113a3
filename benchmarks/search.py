"""Search methods at equal budgets on logic-v2: best-of-n vs MCTS (RMaxTS-style) vs tactic-level
best-first search vs repair, on `test-iid` and `test-ood`, with the bundled real Lean.

    python benchmarks/search.py --model runs/train_logic_v2/grpo            # budgets 8 32 128
    python benchmarks/search.py --model runs/train_logic_v2/grpo --quick    # budgets 8 32 (checks: 32), 5 problems

Two comparisons, each method run separately at each budget (all stop at their first proof):
- equal sample budgets: every method gets B model samples per problem (a whole proof for
  best-of-n, MCTS and repair, one tactic for BFS);
- equal Lean-check budgets: every method gets C Lean checks per problem. best-of-n spends one
  check per sample, so it gets B = C samples; BFS (a tactic proposed again at a state costs no
  check), MCTS (prefix checks) and repair (goal checks) get `max_checks=C` and up to 4C samples.
For each: problems solved, a 95% percentile bootstrap interval over problems
(search.metrics.bootstrap_interval), the paired interval of the difference to best-of-n, the
samples and Lean checks spent, and wall time. The solve rates go to a PNG plot.
The model is any `prover.policies.load_policy` target; the CPU demo's is
runs/train_logic_v2/grpo (benchmarks/train_logic.py), whose prover.json says its prompt format.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

METHODS = ("best-of-n", "mcts", "bfs", "repair")
QUICK = {"budgets": [8, 32], "check_budgets": [32], "limit": 5}


def make(method: str, policy, checker, params, budget: int, fmt: str, max_checks=None):
    """One search object from the registry; `max_checks` (BFS, MCTS and repair's knob) caps Lean
    checks per problem, checked between rounds, so a round is at most that many samples."""
    from prover.evaluation import make_search

    options = {"max_checks": max_checks} if max_checks is not None else {}
    return make_search(method, policy, checker, params, budget, fmt, round_size=min(max_checks or budget, 8),
                       options=options)


def problem_checks(method: str, record) -> int:
    """Lean checks spent on one problem, from its record."""
    if method in ("mcts", "repair", "bfs"):  # BFS's count includes its opening probe
        return int(record.extra.get("checks", 0))
    return sum(a.verdict is not None for a in record.attempts)


def run_one(method, policy, checker, params, rows, budget, fmt, mode: str, seed: int) -> dict:
    from search.metrics import bootstrap_interval

    if mode == "samples":
        search = make(method, policy, checker, params, budget, fmt)
    elif method == "best-of-n":
        search = make(method, policy, checker, params, budget, fmt)
    else:
        search = make(method, policy, checker, params, 4 * budget, fmt, max_checks=budget)
    start = time.monotonic()
    records = list(search.run(rows))
    wall = time.monotonic() - start
    solved = [1.0 if r.solved else 0.0 for r in records]
    lo, hi = bootstrap_interval(solved, seed=seed)
    return {"mode": mode, "budget": budget, "method": method, "split": rows[0]["split"],
            "solved": int(sum(solved)), "problems": len(records), "rate": sum(solved) / len(records),
            "ci": [lo, hi], "per_problem": solved, "samples": sum(r.n for r in records),
            "checks": sum(problem_checks(method, r) for r in records), "gen_s": search.stats.generation_seconds,
            "wall_s": wall,
            "nodes": sum(r.extra.get("nodes", 0) for r in records) if method == "mcts" else None,
            "bfs_states": sum(r.extra.get("states", 0) for r in records) if method == "bfs" else None}


def compare(results: list[dict], seed: int) -> None:
    """Each method's paired bootstrap interval of (its solve rate - best-of-n's), same problems."""
    from search.metrics import paired_bootstrap_difference

    for r in results:
        base = next((b for b in results if b["method"] == "best-of-n" and b["mode"] == r["mode"]
                     and b["budget"] == r["budget"] and b["split"] == r["split"]), None)
        if base is None or r is base:
            r["vs_bon"] = None
            continue
        d = r["rate"] - base["rate"]
        lo, hi = paired_bootstrap_difference(r["per_problem"], base["per_problem"], seed=seed)
        r["vs_bon"] = {"diff": d, "ci": [lo, hi], "beats": lo > 0}


def print_tables(results: list[dict]) -> None:
    for mode, title in (("samples", "equal sample budgets (B model samples per problem)"),
                        ("checks", "equal Lean-check budgets (C Lean checks per problem)")):
        rows = [r for r in results if r["mode"] == mode]
        if not rows:
            continue
        print(f"\n{title}\n")
        print("| split | budget | method | solved | 95% CI | vs best-of-n (95% CI) | samples | Lean checks | "
              "tree nodes / BFS states | wall s |")
        print("|---|---:|---|---:|---|---|---:|---:|---:|---:|")
        for r in rows:
            extra = r["nodes"] if r["nodes"] is not None else r["bfs_states"] if r["bfs_states"] is not None else "—"
            vs = "—" if not r.get("vs_bon") else (f"{100 * r['vs_bon']['diff']:+.0f} pts "
                                                  f"[{100 * r['vs_bon']['ci'][0]:+.0f}, {100 * r['vs_bon']['ci'][1]:+.0f}]"
                                                  + (" **beats**" if r["vs_bon"]["beats"] else ""))
            print(f"| {r['split']} | {r['budget']} | {r['method']} | {r['solved']}/{r['problems']} | "
                  f"[{r['ci'][0]:.2f}, {r['ci'][1]:.2f}] | {vs} | {r['samples']} | {r['checks']} | {extra} | "
                  f"{r['wall_s']:.0f} |")


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = sorted({r["split"] for r in results})
    modes = [m for m in ("samples", "checks") if any(r["mode"] == m for r in results)]
    fig, axes = plt.subplots(len(modes), len(splits), figsize=(5 * len(splits), 3.6 * len(modes)), squeeze=False)
    for i, mode in enumerate(modes):
        for j, split in enumerate(splits):
            ax = axes[i][j]
            for method in METHODS:
                pts = sorted((r["budget"], r["rate"], r["ci"]) for r in results
                             if r["mode"] == mode and r["split"] == split and r["method"] == method)
                if not pts:
                    continue
                xs = [p[0] for p in pts]
                ax.plot(xs, [p[1] for p in pts], marker="o", label=method)
                ax.fill_between(xs, [p[2][0] for p in pts], [p[2][1] for p in pts], alpha=0.15)
            ax.set_xscale("log", base=2)
            ax.set_ylim(0, 1)
            ax.set_xlabel("model samples per problem" if mode == "samples" else "Lean checks per problem")
            ax.set_ylabel("solved (95% bootstrap CI)")
            ax.set_title(f"{split}, equal {'sample' if mode == 'samples' else 'Lean-check'} budget")
            ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="runs/train_logic_v2/grpo",
                    help="a model directory / hub id / .gguf (default: the CPU demo's GRPO model)")
    ap.add_argument("--quick", action="store_true", help=f"sample budgets {QUICK['budgets']}, check budgets "
                    f"{QUICK['check_budgets']}, {QUICK['limit']} problems a split")
    ap.add_argument("--budgets", type=int, nargs="+", help="sample budgets (default 8 32 128; --quick: 8 32)")
    ap.add_argument("--check-budgets", type=int, nargs="+", help="Lean-check budgets (default: the sample "
                    "budgets; --quick: 32)")
    ap.add_argument("--modes", nargs="+", default=["samples", "checks"], choices=["samples", "checks"])
    ap.add_argument("--splits", nargs="+", default=["test-iid", "test-ood"])
    ap.add_argument("--dataset", default="logic-v2")
    ap.add_argument("--limit", type=int, help="problems per split (default 50; --quick: 8)")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", default="runs/search_logic_v2.png")
    ap.add_argument("--out", default="runs/search_logic_v2.json")
    args = ap.parse_args(argv)
    budgets = args.budgets or (QUICK["budgets"] if args.quick else [8, 32, 128])
    check_budgets = args.check_budgets or (QUICK["check_budgets"] if args.quick and not args.budgets else budgets)
    limit = args.limit or (QUICK["limit"] if args.quick else 50)

    import data
    from lean_env.checker import Checker
    from lean_env.running.settings import Settings
    from prover.policies import SamplingParams, load_policy
    from protocol.prompts import default_stop

    from prover.models import default_prompt_format

    fmt = default_prompt_format(args.model)  # the format the model was trained with (its prover.json)
    t0 = time.monotonic()
    policy = load_policy(args.model)
    load_s = time.monotonic() - t0
    params = SamplingParams(temperature=1.0, top_p=0.95, max_tokens=args.max_tokens, seed=args.seed,
                            stop=default_stop(fmt))
    results = []
    with Checker("server", Settings.from_env(timeout=60), workers=args.workers) as checker:
        for split in args.splits:
            rows = data.load(args.dataset, split=split, limit=limit)
            for mode in args.modes:
                for budget in (budgets if mode == "samples" else check_budgets):
                    for method in args.methods:
                        r = run_one(method, policy, checker, params, rows, budget, fmt, mode, args.seed)
                        results.append(r)
                        print(f"  {split} {mode} {budget} {method}: {r['solved']}/{r['problems']} "
                              f"({r['samples']} samples, {r['checks']} checks) in {r['wall_s']:.0f}s",
                              file=sys.stderr, flush=True)
    policy.close()
    compare(results, args.seed)
    total = time.monotonic() - t0

    print(f"model: {getattr(policy, 'name', args.model)} (loaded in {load_s:.0f}s); {args.dataset} "
          f"{', '.join(args.splits)}, {limit} problems each; Lean 4.35 (bundled), server checker, "
          f"{args.workers} workers; 95% percentile bootstrap over problems (2000 resamples, seed {args.seed}); "
          f"total wall {total:.0f}s")
    print_tables(results)
    wins = [r for r in results if r.get("vs_bon") and r["vs_bon"]["beats"]]
    print("\nbeats best-of-n by more than the 95% interval: "
          + (", ".join(f"{r['method']} ({r['split']}, {r['mode']} {r['budget']})" for r in wins) or "none"))
    plot(results, Path(args.plot))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"results": results, "total_seconds": total, "model": args.model,
                                          "quick": args.quick}, indent=1))
    print(f"plot: {args.plot}; results: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
