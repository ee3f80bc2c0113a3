"""The whole RL loop on a CPU: a tiny model goes SFT -> GRPO on the logic benchmark, with the
bundled real Lean as the only judge, and held-out pass@1 / pass@k is measured before SFT,
after SFT and after GRPO.

    python benchmarks/train_logic.py            # the full run (~30 min on 2 cores)
    python benchmarks/train_logic.py --quick    # a short run (a few minutes)

The SFT stage is deliberately partial (few steps from scratch), so the SFT model proves some
held-out theorems some of the time: that is the headroom GRPO turns into pass@1. Configs:
configs/sft_logic.yaml and configs/grpo_logic.yaml; --quick and the flags override them.
Prints a table: pass@1, pass@k and wall time split into generation / verification /
optimisation for each stage, and the GRPO gain over SFT (target: >= 10 points of pass@1).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prover.train.config import load_config  # noqa: E402
from prover.train.evaluate import EvalResult  # noqa: E402
from prover.train.grpo import evaluate_model, run_grpo  # noqa: E402
from prover.train.models import apply_threads, load_model_and_tokenizer, make_checker  # noqa: E402
from prover.train.sft import run_sft  # noqa: E402

# --quick: a shorter partial SFT, a few GRPO steps, a smaller held-out set.
QUICK_SFT = {"max_steps": 200, "save_steps": 1000}
QUICK_GRPO = {"max_steps": 12, "save_steps": 1000, "logging_steps": 4}
QUICK_HELDOUT = 32


def row(stage: str, ev: EvalResult, k: int, gen: float, ver: float, opt: float) -> dict:
    return {"stage": stage, "pass@1": ev.pass_at[1], f"pass@{k}": ev.pass_at.get(k, ev.pass_at[1]),
            "solved": f"{ev.solved}/{ev.theorems}", "generation_s": gen, "verification_s": ver,
            "optimisation_s": opt}


def print_table(rows: list[dict], k: int) -> None:
    head = ["stage", "pass@1", f"pass@{k}", "solved", "generation_s", "verification_s", "optimisation_s"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        cells = [f"{r[h]:.3f}" if h.startswith("pass@") else f"{r[h]:.0f}" if h.endswith("_s") else str(r[h])
                 for h in head]
        print("| " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short stages (a few minutes)")
    ap.add_argument("--out", default="runs/train_logic", help="where models and the json summary go")
    ap.add_argument("--sft-config", default=str(ROOT / "configs/sft_logic.yaml"))
    ap.add_argument("--grpo-config", default=str(ROOT / "configs/grpo_logic.yaml"))
    ap.add_argument("--sft-steps", type=int, help="override SFT max_steps")
    ap.add_argument("--grpo-steps", type=int, help="override GRPO max_steps")
    ap.add_argument("--backend", help="checker backend (default: the GRPO config's)")
    ap.add_argument("--ray", action="store_true", help="verify on the Ray checker")
    ap.add_argument("-k", type=int, default=8, help="samples per held-out theorem (pass@1 and pass@k)")
    ap.add_argument("--heldout", type=int, help="held-out theorems (default: the GRPO config's heldout_size; "
                    f"--quick: {QUICK_HELDOUT}; 0: the whole test split)")
    args = ap.parse_args(argv)

    out = Path(args.out)
    sft_over = dict(QUICK_SFT if args.quick else {}, output_dir=str(out / "sft"), heldout_every=0)
    # the demo measures held-out pass@k itself, between the stages
    grpo_over = dict(QUICK_GRPO if args.quick else {}, output_dir=str(out / "grpo"), heldout_every=0)
    heldout = args.heldout if args.heldout is not None else (QUICK_HELDOUT if args.quick else None)
    for over, steps in ((sft_over, args.sft_steps), (grpo_over, args.grpo_steps)):
        if steps is not None:
            over["max_steps"] = steps
        if heldout is not None:
            over["heldout_size"] = heldout
    if args.backend:
        grpo_over["checker_backend"] = args.backend
    if args.ray:
        grpo_over["ray"] = True
    sft_cfg = load_config(args.sft_config, "sft", sft_over)
    grpo_cfg = load_config(args.grpo_config, "grpo", grpo_over)
    apply_threads(sft_cfg)
    k = args.k
    max_new = grpo_cfg.heldout_max_new_tokens or grpo_cfg.trl.get("max_completion_length", 96)
    t_start = time.monotonic()
    checker = make_checker(grpo_cfg)  # one verifier for every held-out evaluation
    table: list[dict] = []
    try:
        def evaluate(stage: str, model, tok, gen: float = 0.0, ver: float = 0.0, opt: float = 0.0) -> EvalResult:
            ev = evaluate_model(grpo_cfg, model, tok, k, checker, max_new)
            print(f"[{time.monotonic() - t_start:6.0f}s] {stage}: held-out pass@1 {ev.pass_at[1]:.3f}, "
                  f"pass@{k} {ev.pass_at.get(k, 0):.3f} ({ev.solved}/{ev.theorems} solved; eval gen "
                  f"{ev.generation_seconds:.0f}s, verify {ev.verification_seconds:.0f}s)", flush=True)
            table.append(row(stage, ev, k, gen, ver, opt))
            table[-1]["eval_generation_s"] = ev.generation_seconds
            table[-1]["eval_verification_s"] = ev.verification_seconds
            return ev

        model, tok = load_model_and_tokenizer(sft_cfg)  # the from-scratch initial model
        evaluate("before SFT", model, tok)

        sft = run_sft(sft_cfg, log=print)
        model = sft.trainer.model
        evaluate("after SFT", model, tok, opt=sft.train_seconds)

        grpo = run_grpo(grpo_cfg, model=model, tokenizer=tok, log=print)
        evaluate("after GRPO", grpo.trainer.model, tok, grpo.generation_seconds, grpo.verification_seconds,
                 grpo.optimisation_seconds)
    finally:
        if hasattr(checker, "close"):
            checker.close()

    total = time.monotonic() - t_start
    print()
    print(f"logic benchmark, held-out split `{grpo_cfg.eval_split}`, {k} samples per theorem; "
          f"SFT {sft.global_step} steps, GRPO {grpo.global_step} steps; checker {grpo_cfg.checker_backend}")
    print("(generation / verification / optimisation: the stage's training time; evaluation time is extra)")
    print_table(table, k)
    gain = table[2]["pass@1"] - table[1]["pass@1"]
    print(f"\nGRPO gain over SFT: {100 * gain:+.1f} points of pass@1 (target >= +10); total wall {total:.0f}s")
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps({"table": table, "gain_pass@1": gain, "total_seconds": total,
                                                  "quick": args.quick}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
