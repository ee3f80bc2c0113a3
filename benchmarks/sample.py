"""Sampling throughput: tokens/s of the HF policy vs vLLM on the same model and prompts, at
several n (completions per prompt), and where an evaluation's time goes (generation vs Lean
verification) with each backend.

    python benchmarks/sample.py [--model M] [--prompts 4] [--ns 1 8 32] [--max-tokens 32] [--eval-problems 4]

Both backends get the same SamplingParams (seeded, no stop strings, so both decode up to
max_tokens). vLLM is measured only when importable ("not installed" otherwise; `prover setup
vllm` installs it). The last line is `sample: vllm X tok/s, hf Y tok/s, ratio R` at the largest n.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def measure(policy, prompts, params) -> tuple[float, int]:
    t0 = time.monotonic()
    out = policy.generate(prompts, params)
    return time.monotonic() - t0, sum(c.num_tokens for cs in out for c in cs)


def eval_split(policy, args) -> dict:
    from prover.evaluation import EvalSpec, run_eval

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        res = run_eval(EvalSpec(dataset="logic", limit=args.eval_problems, k=args.eval_k, model=args.model,
                                max_tokens=args.max_tokens, stop_at_first=False), Path(tmp), policy=policy)
        wall = time.monotonic() - t0
    t = res.card["timing"]
    return {"wall": wall, "gen": t["generation_seconds"], "ver": t["verification_seconds"], "checks": t["checks"],
            "checker": f"{res.card['checker']['backend']} checker, {res.card['checker']['workers']} workers"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="default: SmolLM2-135M-Instruct (offline)")
    ap.add_argument("--prompts", type=int, default=4)
    ap.add_argument("--ns", type=int, nargs="+", default=[1, 8, 32], help="completions per prompt to measure")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--eval-problems", type=int, default=4, help="logic problems for the time split (0: skip)")
    ap.add_argument("--eval-k", type=int, default=4)
    args = ap.parse_args()

    import data
    from prover.policies import SamplingParams, load_policy
    from prover.policies.vllm import vllm_available
    from protocol.prompts import build_prompt

    prompts = [build_prompt(r).text for r in data.load("logic", limit=args.prompts)]
    rates: dict[tuple[str, int], float] = {}
    rows: list[str] = []
    splits: list[str] = []

    def run_backend(name: str, policy) -> None:
        for n in args.ns:
            params = SamplingParams(n=n, max_tokens=args.max_tokens, temperature=1.0, top_p=0.95, seed=0)
            # warm-up at the same batch shape: vLLM's CPU kernels build a oneDNN primitive per new shape
            measure(policy, prompts, params.replace(max_tokens=4, seed=1))
            dt, tok = measure(policy, prompts, params)
            rates[name, n] = tok / dt
            rows.append(f"| {name} | {n} | {len(prompts) * n} | {tok} | {dt:.2f} | {rates[name, n]:.1f} | "
                        f"{rates[name, n] / rates['hf', n]:.2f} |")
            print("progress:", rows[-1], file=sys.stderr, flush=True)
        if args.eval_problems:
            s = eval_split(policy, args)
            splits.append(f"| {name} | {s['gen']:.2f} | {s['ver']:.2f} | {s['wall']:.2f} | {s['checks']} | {s['checker']} |")
            print("progress:", splits[-1], file=sys.stderr, flush=True)

    # HF first, in full: vLLM's CPU worker binds this process's threads when it loads
    run_backend("hf", load_policy(args.model, backend="hf"))
    vllm_note = "not installed (`prover setup vllm`)"
    if vllm_available():
        try:
            vl = load_policy(args.model, backend="vllm")
        except Exception as exc:  # report, do not hide: the HF numbers still stand
            vl, vllm_note = None, f"failed to load: {type(exc).__name__}: {str(exc)[:200]}"
        if vl is not None:
            run_backend("vllm", vl)
    if ("vllm", max(args.ns)) not in rates:
        rows.append(f"| vllm | - | - | - | - | {vllm_note} | - |")

    print(f"# sampling: {len(prompts)} prompts, max_tokens={args.max_tokens}, temperature 1, top_p 0.95, seed 0, "
          f"model={args.model or 'default'}")
    print("| backend | n | sequences | tokens | seconds | tok/s | vs hf |\n|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    if splits:
        print(f"\n# eval time split: logic, {args.eval_problems} problems x k={args.eval_k}, "
              f"max_tokens={args.max_tokens}")
        print("| backend | generation s | verification s (summed) | wall s | checks | checker |\n"
              "|---|---:|---:|---:|---:|---|")
        print("\n".join(splits))
        print("verification overlaps generation, so the parts can add up past the wall time")

    n = max(args.ns)
    if ("vllm", n) in rates:
        print(f"sample: vllm {rates['vllm', n]:.1f} tok/s, hf {rates['hf', n]:.1f} tok/s, "
              f"ratio {rates['vllm', n] / rates['hf', n]:.2f}")
    else:
        print(f"sample: vllm {vllm_note}, hf {rates['hf', n]:.1f} tok/s, ratio -")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
