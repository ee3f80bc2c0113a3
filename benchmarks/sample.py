"""Sampling throughput: tokens/s of the HF policy vs vLLM on the same prompts and model, and
where an evaluation's time goes (generation vs Lean verification).

    python benchmarks/sample.py [--model M] [--prompts 8] [-n 4] [--max-tokens 64] [--eval-problems 4]

Prints a table; the ratio column is each backend's tokens/s over the HF baseline measured in
the same run. vLLM is measured only when importable ("not installed" otherwise).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def measure(policy, prompts, params) -> tuple[float, int, float]:
    policy.generate(prompts[:1], params.replace(n=1, max_tokens=4))  # warm-up (kernels, caches)
    t0 = time.monotonic()
    out = policy.generate(prompts, params)
    dt = time.monotonic() - t0
    tokens = sum(c.num_tokens for cs in out for c in cs)
    return dt, tokens, tokens / dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="default: SmolLM2-135M-Instruct (offline)")
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("-n", type=int, default=4, help="completions per prompt")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--eval-problems", type=int, default=4, help="logic problems for the time split (0: skip)")
    ap.add_argument("--eval-k", type=int, default=4)
    args = ap.parse_args()

    import data
    from prover.policies import SamplingParams, load_policy
    from prover.policies.vllm import vllm_available
    from prover.prompts import build_prompt

    rows = data.load("logic", limit=args.prompts)
    prompts = [build_prompt(r).text for r in rows]
    # no stop strings and a fixed seed: both backends decode the same number of steps
    params = SamplingParams(n=args.n, max_tokens=args.max_tokens, temperature=1.0, top_p=0.95, seed=0)

    print(f"# sampling: {len(prompts)} prompts x n={args.n}, max_tokens={args.max_tokens}, model={args.model or 'default'}")
    print(f"{'backend':<8} {'seconds':>8} {'tokens':>7} {'tok/s':>8} {'vs hf':>6}")
    hf = load_policy(args.model, backend="hf")
    dt, tok, rate = measure(hf, prompts, params)
    print(f"{'hf':<8} {dt:8.2f} {tok:7d} {rate:8.1f} {1.0:6.2f}")
    if vllm_available():
        try:
            vl = load_policy(args.model, backend="vllm")
            vdt, vtok, vrate = measure(vl, prompts, params)
            print(f"{'vllm':<8} {vdt:8.2f} {vtok:7d} {vrate:8.1f} {vrate / rate:6.2f}")
        except Exception as exc:  # report, do not hide: the HF number still stands
            print(f"{'vllm':<8} failed: {type(exc).__name__}: {str(exc)[:200]}")
    else:
        print(f"{'vllm':<8} not installed")

    if args.eval_problems:
        from prover.evaluation import EvalSpec, run_eval

        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.monotonic()
            res = run_eval(EvalSpec(dataset="logic", limit=args.eval_problems, k=args.eval_k, model=args.model,
                                    max_tokens=args.max_tokens, stop_at_first=False), Path(tmp), policy=hf)
            wall = time.monotonic() - t0
        t = res.card["timing"]
        print(f"\n# eval time split: logic, {args.eval_problems} problems x k={args.eval_k} "
              f"({res.card['checker']['backend']} checker, {res.card['checker']['workers']} workers)")
        print(f"{'part':<24} {'seconds':>8} {'share of wall':>14}")
        print(f"{'generation':<24} {t['generation_seconds']:8.2f} {t['generation_seconds'] / wall:14.0%}")
        print(f"{'verification (summed)':<24} {t['verification_seconds']:8.2f} {t['verification_seconds'] / wall:14.0%}")
        print(f"{'wall (incl. setup)':<24} {wall:8.2f} {1:14.0%}")
        print(f"checks: {t['checks']}, {t['verification_seconds'] / max(1, t['checks']):.3f} s each; "
              "verification overlaps generation, so the shares can add up past 100%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
