"""Training methods side by side: from the same SFT checkpoint on logic-v2, each method gets the
same budget of Lean checks, then held-out pass@1 / pass@k on test-iid and test-ood.

    python benchmarks/train_methods.py            # the full comparison
    python benchmarks/train_methods.py --quick    # every method, short (under 20 min on 2 cores)

Methods (the first cell of each row is the name `prover train` uses):
  sft               more SFT on the reference proofs (no Lean checks: the zero-budget baseline)
  grpo              GRPO, DAPO loss + dynamic sampling (Lean checks = steps x batch)
  rloo              RLOO, leave-one-out baseline, same rollouts as grpo (Lean checks = steps x batch)
  expert-iteration  rounds of search -> keep verified -> SFT (checks = statements searched x k)
  dpo               one search, then DPO on verified vs failed (checks = statements x k)
  kto               one search, then KTO on verified / failed  (checks = statements x k)
The start checkpoint is `prover train sft` on logic-v2 (configs/sft_logic_v2.yaml) with a tiny
model from scratch; every method loads it from disk, so they start alike. Held-out checks are
not part of a method's budget. Time is split into generation / verification (Lean) /
optimisation (the rest of training). Writes summary.json and pass_vs_checks.png to --out.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prover.train.config import from_dict, load_config  # noqa: E402
from prover.train.registry import get_stage  # noqa: E402

METHODS = ("sft", "grpo", "rloo", "expert-iteration", "dpo", "kto")
SPLITS = ("test-iid", "test-ood")

# Budgets: B Lean checks per method. grpo: steps * prompts * G; search methods: statements * k (* rounds).
FULL = {"start_steps": 1000, "budget": 1024, "heldout": 64, "k": 8, "opt_steps": 48, "G": 8, "prompts": 4}
QUICK = {"start_steps": 300, "budget": 256, "heldout": 32, "k": 8, "opt_steps": 16, "G": 4, "prompts": 4}
COMMON = {"dataset": "logic-v2", "prompt_format": "deepseek-v1.5", "torch_threads": 1, "checker_backend": "server",
          "checker_workers": 2, "checker_timeout": 30, "heldout_every": 0, "seed": 0, "report_to": "none",
          "logging_steps": 5, "save_steps": 1000}
MAX_TOKENS = 96


def method_config(method: str, start: str, out: Path, p: dict) -> dict:
    """The YAML-equivalent options of one method under budget p["budget"]."""
    base = {**COMMON, "model": start, "output_dir": str(out / method)}
    search_k = 4
    if method == "sft":
        return {**base, "max_steps": p["opt_steps"], "per_device_train_batch_size": 16, "learning_rate": 5e-4,
                "lr_scheduler_type": "constant"}
    if method == "grpo":
        per_step = p["prompts"] * p["G"]
        return {**base, "max_steps": max(1, p["budget"] // per_step), "num_generations": p["G"],
                "per_device_train_batch_size": per_step, "max_completion_length": MAX_TOKENS,
                "max_rows": p["budget"] // p["G"], "learning_rate": 1e-4, "lr_scheduler_type": "constant",
                "loss_type": "dapo", "beta": 0.0, "epsilon_high": 0.28, "mask_truncated_completions": True,
                "dynamic_sampling": True}
    if method == "rloo":
        per_step = p["prompts"] * p["G"]
        return {**base, "max_steps": max(1, p["budget"] // per_step), "num_generations": p["G"],
                "per_device_train_batch_size": per_step, "max_completion_length": MAX_TOKENS,
                "max_rows": p["budget"] // p["G"], "learning_rate": 1e-4, "lr_scheduler_type": "constant",
                "beta": 0.0, "epsilon_high": 0.28, "mask_truncated_completions": True, "dynamic_sampling": False}
    search = {"k": search_k, "search_max_tokens": MAX_TOKENS, "stop_at_first": False}
    if method == "expert-iteration":
        rounds = 2
        return {**base, **search, "rounds": rounds, "max_rows": p["budget"] // (search_k * rounds),
                "proofs_per_statement": 2, "max_steps": max(1, p["opt_steps"] // rounds),
                "per_device_train_batch_size": 16, "learning_rate": 5e-4, "lr_scheduler_type": "constant"}
    if method in ("dpo", "kto"):
        return {**base, **search, "max_rows": p["budget"] // search_k, "per_statement": 2, "beta": 0.1,
                "max_steps": p["opt_steps"], "per_device_train_batch_size": 8, "learning_rate": 5e-5,
                "max_length": 512}
    raise ValueError(f"no benchmark settings for method {method!r}")


def heldout(model, tok, p: dict, checker) -> dict:
    from prover.train.evaluate import evaluate_model

    out = {}
    for split in SPLITS:
        cfg = from_dict({**COMMON, "eval_split": split, "heldout_size": p["heldout"],
                         "heldout_max_new_tokens": MAX_TOKENS}, "sft")
        ev = evaluate_model(cfg, model, tok, p["k"], checker, MAX_TOKENS)
        out[split] = {"pass@1": ev.pass_at[1], f"pass@{p['k']}": ev.pass_at.get(p["k"], ev.pass_at[1]),
                      "solved": ev.solved, "theorems": ev.theorems}
    return out


def no_data_row(method: str, cfg, start_eval: dict, wall: float, why: str) -> dict:
    """A method that found nothing to train on: the start's numbers, the checks its search spent."""
    card = Path(cfg.output_dir) / "search" / "run_card.json"
    timing = json.loads(card.read_text()).get("timing", {}) if card.is_file() else {}
    return {"method": method, "lean_checks": int(timing.get("checks", 0)), "heldout": start_eval,
            "generation_s": timing.get("generation_seconds", 0.0),
            "verification_s": max(0.0, timing.get("wall_seconds", 0.0) - timing.get("generation_seconds", 0.0)),
            "optimisation_s": 0.0, "wall_s": wall, "steps": 0, "extra": {"no_data": why}}


def print_table(start: dict, rows: list[dict], k: int) -> None:
    def cells(ev: dict) -> list[str]:
        return [x for s in SPLITS for x in (f"{ev[s]['pass@1']:.3f}", f"{ev[s][f'pass@{k}']:.3f}")]

    head = ["method", "Lean checks"] + [f"{s} {m}" for s in SPLITS for m in ("pass@1", f"pass@{k}")] + [
        "generation s", "verification s", "optimisation s", "wall s"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    print("| (start: SFT checkpoint) | 0 | " + " | ".join(cells(start)) + " | 0 | 0 | 0 | 0 |")
    for r in rows:
        print("| " + " | ".join([r["method"], str(r["lean_checks"])] + cells(r["heldout"]) + [
            f"{r['generation_s']:.0f}", f"{r['verification_s']:.0f}", f"{r['optimisation_s']:.0f}",
            f"{r['wall_s']:.0f}"]) + " |")


def plot(start: dict, rows: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    base = start["test-iid"]["pass@1"]
    for r in rows:
        ax.plot([0, r["lean_checks"]], [base, r["heldout"]["test-iid"]["pass@1"]], marker="o", label=r["method"])
    ax.set_xlabel("Lean checks spent on training")
    ax.set_ylabel("held-out pass@1 (test-iid)")
    ax.set_title(title, fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="every method, short (under 20 min on 2 cores)")
    ap.add_argument("--out", default="runs/train_methods", help="models, summary.json and the PNG go here")
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset of " + ", ".join(METHODS))
    ap.add_argument("--budget", type=int, help="Lean checks per method (default: 256 quick, 1024 full)")
    ap.add_argument("--start-steps", type=int, help="SFT steps of the start checkpoint (default: 300 quick, 1000 full)")
    ap.add_argument("--heldout", type=int, help="theorems of each test split (default: 32 quick, 64 full)")
    ap.add_argument("--opt-steps", type=int, help="optimisation steps per method (default: 16 quick, 48 full)")
    ap.add_argument("--start", help="an existing SFT checkpoint to start from (default: train one)")
    args = ap.parse_args(argv)
    p = dict(QUICK if args.quick else FULL)
    for key, value in (("budget", args.budget), ("start_steps", args.start_steps), ("heldout", args.heldout),
                       ("opt_steps", args.opt_steps)):
        if value:
            p[key] = value
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for m in methods:
        get_stage(m)  # an unknown name fails before anything trains
    out = Path(args.out)
    t0 = time.monotonic()

    from prover.train.models import apply_threads, load_model_and_tokenizer, config_checker
    from prover.train.stages.sft import run_sft

    start = args.start
    if not start:
        sft_cfg = load_config(ROOT / "configs/sft_logic_v2.yaml", "sft",
                              {"output_dir": str(out / "start"), "max_steps": p["start_steps"], "save_steps": 1000})
        run_sft(sft_cfg, log=print)
        start = str(out / "start")
    print(f"[{time.monotonic() - t0:5.0f}s] start checkpoint: {start}", flush=True)
    checker = config_checker(from_dict(COMMON, "sft"))  # held-out evaluation only
    rows: list[dict] = []
    try:
        cfg0 = from_dict({**COMMON, "model": start}, "sft")
        apply_threads(cfg0)
        model, tok = load_model_and_tokenizer(cfg0)
        start_eval = heldout(model, tok, p, checker)
        print(f"[{time.monotonic() - t0:5.0f}s] start: {json.dumps(start_eval)}", flush=True)
        for method in methods:
            cfg = from_dict(method_config(method, start, out, p), method)
            began = time.monotonic()
            try:
                result = get_stage(method).run(cfg, log=print)
            except ValueError as exc:  # e.g. no verified proof to build pairs from: the model stays the start
                print(f"{method}: {exc}", flush=True)
                rows.append(no_data_row(method, cfg, start_eval, time.monotonic() - began, str(exc)))
                continue
            wall = time.monotonic() - began
            ev = heldout(result.model, result.tokenizer, p, checker)
            rows.append({"method": method, "lean_checks": result.lean_checks, "heldout": ev,
                         "generation_s": result.generation_seconds, "verification_s": result.verification_seconds,
                         "optimisation_s": max(0.0, wall - result.generation_seconds - result.verification_seconds),
                         "wall_s": wall, "steps": result.global_step,
                         "extra": {k: v for k, v in result.extra.items() if k != "rounds"}})
            print(f"[{time.monotonic() - t0:5.0f}s] {method}: {result.lean_checks} checks, {wall:.0f}s, "
                  f"{json.dumps(ev)}", flush=True)
    finally:
        checker.close()
    total = time.monotonic() - t0
    print()
    print(f"logic-v2, start = tiny model SFT {p['start_steps']} steps; budget {p['budget']} Lean checks per method; "
          f"held-out: first {p['heldout']} theorems of each test split x {p['k']} samples; total wall {total:.0f}s")
    print_table(start_eval, rows, p["k"])
    out.mkdir(parents=True, exist_ok=True)
    plot(start_eval, rows, out / "pass_vs_checks.png", f"logic-v2, {p['budget']} Lean checks per method")
    (out / "summary.json").write_text(json.dumps({"params": p, "start": start_eval, "rows": rows,
                                                  "total_seconds": total, "quick": args.quick}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
