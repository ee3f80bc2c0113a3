"""The whole RL loop on a CPU: a tiny model goes SFT -> GRPO on logic-v2, with the bundled
real Lean as the only judge, and pass@1 / pass@8 on `test-iid` and `test-ood` is measured
before SFT, after SFT and after GRPO; the final model is also tried on theorems written by
hand (data/logic/handwritten.jsonl), phrased in ways neither generator produces.

    python benchmarks/train_logic.py            # the full run (target: under 30 min on 2 cores)
    python benchmarks/train_logic.py --quick    # a short run (< 15 min)

SFT (configs/sft_logic_v2_steps.yaml) trains a tactic policy from scratch on the rows of
search/step_data.py: each train theorem's reference tactic proof as a flat script, and one
(goal state -> next tactic) pair per proof state read from the Lean server, so MCTS and BFS
have intermediate states to work from (benchmarks/search.py). The step file is built first
when it is missing (about 2 minutes of Lean). GRPO (configs/grpo_logic_v2.yaml) then trains on
logic-v2's train theorems with Lean's verdict as the reward. Prints one table per held-out
split: pass@1, pass@k and wall time split into generation / verification / optimisation.
logic-v1's demo is `--sft-config configs/sft_logic.yaml --grpo-config configs/grpo_logic.yaml
--splits test --no-handwritten`.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prover.train.config import load_config  # noqa: E402
from prover.train.evaluate import HeldoutResult, evaluate_model  # noqa: E402
from prover.train.models import apply_threads, config_checker, load_model_and_tokenizer  # noqa: E402
from prover.train.stages.grpo import run_grpo  # noqa: E402
from prover.train.stages.sft import run_sft  # noqa: E402

# --quick: a shorter SFT, a few GRPO steps, smaller held-out sets.
QUICK_SFT = {"max_steps": 200, "save_steps": 1000}
QUICK_GRPO = {"max_steps": 16, "save_steps": 1000, "logging_steps": 4}
QUICK_HELDOUT = 24
HANDWRITTEN = ROOT / "data/logic/handwritten.jsonl"
STEPS_FILE = "runs/logic_v2_steps.jsonl"


def ensure_steps(dataset: str) -> None:
    """Walk logic-v2's reference proofs on Lean for the step file, if the SFT config wants it."""
    path = Path(dataset)
    if dataset.endswith(STEPS_FILE) and not path.exists():
        from search.step_data import write_steps

        t0 = time.monotonic()
        n = write_steps(path, "logic-v2", ["train"], with_proofs=True, workers=2,
                        log=lambda s: print(f"  step data: {s}", flush=True))
        print(f"step data: {n} rows in {time.monotonic() - t0:.0f}s -> {path}", flush=True)


def row(stage: str, split: str, ev: HeldoutResult, k: int, gen: float, ver: float, opt: float) -> dict:
    return {"stage": stage, "split": split, "pass@1": ev.pass_at[1], f"pass@{k}": ev.pass_at.get(k, ev.pass_at[1]),
            "solved": f"{ev.solved}/{ev.theorems}", "generation_s": gen, "verification_s": ver,
            "optimisation_s": opt, "eval_generation_s": ev.generation_seconds,
            "eval_verification_s": ev.verification_seconds}


def print_table(rows: list[dict], k: int) -> None:
    head = ["stage", "split", "pass@1", f"pass@{k}", "solved", "generation_s", "verification_s", "optimisation_s"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        cells = [f"{r[h]:.3f}" if h.startswith("pass@") else f"{r[h]:.0f}" if h.endswith("_s") else str(r[h])
                 for h in head]
        print("| " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short stages (< 15 min)")
    ap.add_argument("--out", default="runs/train_logic_v2", help="where models and the json summary go")
    ap.add_argument("--sft-config", default=str(ROOT / "configs/sft_logic_v2_steps.yaml"))
    ap.add_argument("--grpo-config", default=str(ROOT / "configs/grpo_logic_v2.yaml"))
    ap.add_argument("--splits", nargs="+", default=["test-iid", "test-ood"], help="held-out splits")
    ap.add_argument("--no-handwritten", action="store_true", help="skip the hand-written theorems at the end")
    ap.add_argument("--sft-steps", type=int, help="override SFT max_steps")
    ap.add_argument("--grpo-steps", type=int, help="override GRPO max_steps")
    ap.add_argument("--backend", help="checker backend (default: the GRPO config's)")
    ap.add_argument("--ray", action="store_true", help="verify on the Ray checker")
    ap.add_argument("-k", type=int, default=8, help="samples per held-out theorem (pass@1 and pass@k)")
    ap.add_argument("--heldout", type=int, help="theorems per held-out split (default: the GRPO config's "
                    f"heldout_size; --quick: {QUICK_HELDOUT}; 0: the whole split)")
    args = ap.parse_args(argv)

    out = Path(args.out)
    sft_over = dict(QUICK_SFT if args.quick else {}, output_dir=str(out / "sft"), heldout_every=0)
    grpo_over = dict(QUICK_GRPO if args.quick else {}, output_dir=str(out / "grpo"), heldout_every=0)
    heldout = args.heldout if args.heldout is not None else (QUICK_HELDOUT if args.quick else None)
    for over, steps in ((sft_over, args.sft_steps), (grpo_over, args.grpo_steps)):
        if steps is not None:
            over["max_steps"] = steps
    if heldout is not None:
        grpo_over["heldout_size"] = heldout
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
    ensure_steps(sft_cfg.dataset)
    steps_s = time.monotonic() - t_start
    checker = config_checker(grpo_cfg)  # one verifier for every held-out evaluation
    table: list[dict] = []
    hand: dict = {}
    try:
        def evaluate(stage: str, model, tok, gen: float = 0.0, ver: float = 0.0, opt: float = 0.0) -> None:
            for split in args.splits:
                ev = evaluate_model(dataclasses.replace(grpo_cfg, eval_split=split), model, tok, k, checker, max_new)
                print(f"[{time.monotonic() - t_start:6.0f}s] {stage}, {split}: pass@1 {ev.pass_at[1]:.3f}, "
                      f"pass@{k} {ev.pass_at.get(k, 0):.3f} ({ev.solved}/{ev.theorems} solved; eval gen "
                      f"{ev.generation_seconds:.0f}s, verify {ev.verification_seconds:.0f}s)", flush=True)
                table.append(row(stage, split, ev, k, gen, ver, opt))

        model, tok = load_model_and_tokenizer(sft_cfg)  # the from-scratch initial model
        evaluate("before SFT", model, tok)

        sft = run_sft(sft_cfg, log=print)
        model = sft.trainer.model
        evaluate("after SFT", model, tok, opt=sft.train_seconds)

        grpo = run_grpo(grpo_cfg, model=model, tokenizer=tok, log=print)
        evaluate("after GRPO", grpo.trainer.model, tok, grpo.generation_seconds, grpo.verification_seconds,
                 grpo.optimisation_seconds)
        if not args.no_handwritten:
            hw_cfg = dataclasses.replace(grpo_cfg, dataset=str(HANDWRITTEN), eval_split="handwritten", heldout_size=0)
            for stage, m in (("after SFT", sft.trainer.model), ("after GRPO", grpo.trainer.model)):
                ev = evaluate_model(hw_cfg, m, tok, k, checker, max_new)
                hand[stage] = {"pass@1": ev.pass_at[1], f"pass@{k}": ev.pass_at.get(k, 0),
                               "solved": f"{ev.solved}/{ev.theorems}"}
    finally:
        if hasattr(checker, "close"):
            checker.close()

    total = time.monotonic() - t_start
    print()
    print(f"logic benchmark ({grpo_cfg.dataset}), held-out splits {', '.join(args.splits)}, {k} samples per "
          f"theorem; SFT {sft.global_step} steps, GRPO {grpo.global_step} steps; checker {grpo_cfg.checker_backend}")
    print("(generation / verification / optimisation: the stage's training time; evaluation time is extra)")
    print_table(table, k)
    gains = {}
    for split in args.splits:
        after = {r["stage"]: r["pass@1"] for r in table if r["split"] == split}
        gains[split] = after["after GRPO"] - after["after SFT"]
        print(f"GRPO gain over SFT on {split}: {100 * gains[split]:+.1f} points of pass@1")
    for stage, h in hand.items():
        print(f"hand-written theorems ({HANDWRITTEN.name}), {stage}: pass@1 {h['pass@1']:.3f}, "
              f"pass@{k} {h[f'pass@{k}']:.3f}, solved {h['solved']}")
    print(f"total wall {total:.0f}s (step data {steps_s:.0f}s)")
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps({"table": table, "gain_pass@1": gains, "handwritten": hand,
                                                  "total_seconds": total, "quick": args.quick}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
