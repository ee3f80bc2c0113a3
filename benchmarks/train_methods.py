"""Training methods side by side: from the same start model, each method trains on the same pool of
fresh logic-v2 statements under the same budget of Lean checks; then held-out pass@1 / pass@k on
test-iid and test-ood with 95% bootstrap intervals over theorems, and each method's paired
difference from the start.

    # the start: the CPU world's whole-proof recipe, SFT only (benchmarks/train_logic.py)
    python benchmarks/train_logic.py --recipe whole --grpo-steps 0 --bfs-checks 0 --out runs/whole
    python benchmarks/train_methods.py --start runs/whole/sft      # every method from it
    python benchmarks/train_methods.py --quick                      # trains a small start itself, short methods

The start: a tiny Llama from scratch with a tokenizer fitted to its rows, SFT on the flat
whole proofs (+ some goal -> tactic rows) of generated theorems `logic-v2-train:N:seed=S` in the
`compact` prompt format (configs/sft_logic_v2_scale.yaml). Without --start this script makes it
by running train_logic's whole recipe with no GRPO and no BFS (`--quick` passes on: its small
sizes) into OUT/start/sft. The prompt format every method trains and is measured in is the one
the start's prover.json records. When the start's run left its summary.json next to it (train_logic
does), its train size is read from there (else --start-train), and its held-out best-of-k is reused
when it measured the same theorems with the same k.

The pool: fresh statements the start never saw, the same for every method: the stream of
another seed, `logic-v2-train:M:seed=S+1` (M = 2P, doubled until P pass), less every statement
whose core (the sequent up to renaming) is a core of the start's train theorems
`logic-v2-train:N:seed=S`, first P kept (P = budget / 4, the most statements any method reads;
each method reads the first rows it needs). Only `sft` reads their reference proofs (as flat
whole proofs, train_logic.whole_proof_rows); the other methods get the statements without them.
GRPO-family rows train on the pool as it is (no frontier screening: its checks would come out of
the same budget, and dynamic sampling already drops the groups whose rewards agree).

Methods (the first cell of each row; the stage `prover train` runs is the same name except gspo):
  sft               SFT on the pool's reference proofs (no Lean checks: the zero-budget baseline)
  grpo              GRPO, DAPO loss + dynamic sampling (Lean checks = steps x prompts x G)
  rloo              RLOO, leave-one-out baseline, same rollouts as grpo (checks = steps x prompts x G)
  gspo              the grpo stage with configs/gspo_logic_v2.yaml's GSPO knobs (sequence-level
                    ratios, Dr. GRPO scaling, dropped negatives, overlong punishment), same rollouts
  expert-iteration  2 rounds of best-of-4 -> keep verified -> SFT (checks <= statements x 4 x 2)
  dpo               one best-of-4 search, then DPO on verified vs failed (checks = statements x 4)
  kto               one best-of-4 search, then KTO on verified / failed  (checks = statements x 4)
The budget counts every Lean check a method spends on its training data or rewards (what its
run reports; an upper bound is planned, `planned_checks`). Held-out checks are not part of it.
Time is split into generation / verification (Lean) / optimisation (the rest of training).
Writes summary.json (per-theorem lists, intervals, paired differences) and pass_vs_checks.png
(held-out test-iid pass@1 against Lean checks spent, with 95% intervals) to --out.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import train_logic  # noqa: E402  (benchmarks/train_logic.py: the start's recipe and best-of-n)
from prover.train.config import from_dict  # noqa: E402
from prover.train.registry import get_stage  # noqa: E402

METHODS = ("sft", "grpo", "rloo", "gspo", "expert-iteration", "dpo", "kto")
STAGE_OF = {"gspo": "grpo"}  # a row that is a variant of another stage
SPLITS = ("test-iid", "test-ood")
GSPO_CONFIG = ROOT / "configs/gspo_logic_v2.yaml"
GSPO_KNOBS = ("dynamic_sampling", "drop_negatives", "overlong_buffer", "overlong_penalty", "importance_sampling_level",
              "loss_type", "scale_rewards", "epsilon", "epsilon_high", "beta", "mask_truncated_completions")

# Budgets: B Lean checks per method. online RL: steps * prompts * G; search methods: statements * k (* rounds).
FULL = {"budget": 1024, "heldout": 100, "k": 8, "opt_steps": 48, "G": 8, "prompts": 4}
QUICK = {"budget": 256, "heldout": 24, "k": 8, "opt_steps": 16, "G": 4, "prompts": 4}
COMMON = {"torch_threads": 1, "checker_backend": "server", "checker_workers": 2, "checker_timeout": 30,
          "heldout_every": 0, "seed": 0, "report_to": "none", "logging_steps": 5, "save_steps": 1000}
MAX_TOKENS = 96
SEARCH_K = 4
EI_ROUNDS = 2


def stage_of(method: str) -> str:
    return STAGE_OF.get(method, method)


def pool_size(p: dict) -> int:
    """Statements in the fresh pool: the most any method reads (dpo and kto: budget / k)."""
    return max(1, p["budget"] // SEARCH_K)


def gspo_knobs() -> dict:
    import yaml

    recipe = yaml.safe_load(GSPO_CONFIG.read_text(encoding="utf-8"))
    return {k: recipe[k] for k in GSPO_KNOBS}


def method_config(method: str, start: str, fmt: str, pool: dict, out: Path, p: dict) -> dict:
    """The YAML-equivalent options of one method under budget p["budget"]: the start model, its
    prompt format, the pool's statements (`pool["statements"]`; sft: their proofs, `pool["proofs"]`)."""
    base = {**COMMON, "model": start, "prompt_format": fmt, "dataset": str(pool["statements"]), "split": "train",
            "output_dir": str(out / method)}
    if method == "sft":
        return {**base, "dataset": str(pool["proofs"]), "max_steps": p["opt_steps"], "per_device_train_batch_size": 16,
                "learning_rate": 5e-4, "lr_scheduler_type": "constant"}
    if method in ("grpo", "rloo", "gspo"):
        per_step = p["prompts"] * p["G"]
        online = {**base, "max_steps": max(1, p["budget"] // per_step), "num_generations": p["G"],
                  "per_device_train_batch_size": per_step, "max_completion_length": MAX_TOKENS,
                  "max_rows": max(1, p["budget"] // p["G"]), "learning_rate": 1e-4, "lr_scheduler_type": "constant",
                  "beta": 0.0, "mask_truncated_completions": True}
        if method == "grpo":
            return {**online, "loss_type": "dapo", "epsilon_high": 0.28, "dynamic_sampling": True}
        if method == "rloo":
            return {**online, "epsilon_high": 0.28, "dynamic_sampling": False}
        return {**online, **gspo_knobs()}
    search = {"k": SEARCH_K, "search_max_tokens": MAX_TOKENS, "stop_at_first": False}
    if method == "expert-iteration":
        return {**base, **search, "rounds": EI_ROUNDS, "max_rows": max(1, p["budget"] // (SEARCH_K * EI_ROUNDS)),
                "proofs_per_statement": 2, "max_steps": max(1, p["opt_steps"] // EI_ROUNDS),
                "per_device_train_batch_size": 16, "learning_rate": 5e-4, "lr_scheduler_type": "constant"}
    if method in ("dpo", "kto"):
        return {**base, **search, "max_rows": pool_size(p), "per_statement": 2, "beta": 0.1,
                "max_steps": p["opt_steps"], "per_device_train_batch_size": 8, "learning_rate": 5e-5,
                "max_length": 512}
    raise ValueError(f"no benchmark settings for method {method!r}")


def planned_checks(cfg) -> int:
    """The most Lean checks a built config can spend on training (the budget it was given)."""
    if cfg.stage == "sft":
        return 0
    if cfg.stage in ("grpo", "rloo"):
        return int(cfg.trl["max_steps"]) * int(cfg.trl["per_device_train_batch_size"])
    rounds = getattr(cfg.options, "rounds", 1)
    return cfg.max_rows * cfg.options.k * rounds


def start_format(start: str) -> str:
    """The prompt format the start expects: what its prover.json records (prover.models)."""
    from prover.models import default_prompt_format

    return default_prompt_format(start)


def start_run(start: str) -> dict:
    """The summary.json train_logic wrote next to the start's directory (RUN/summary.json for RUN/sft), or {}."""
    path = Path(start).parent / "summary.json"
    if Path(start).name != "sft" or not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def train_start(args, p: dict, out: Path) -> str:
    """The whole recipe's SFT model (train_logic --recipe whole, no GRPO, no BFS) in out/start/sft."""
    argv = ["--recipe", "whole", "--out", str(out / "start"), "--grpo-steps", "0", "--bfs-checks", "0",
            "--no-handwritten", "--heldout", str(p["heldout"]), "-k", str(p["k"]), "--seed", str(args.start_seed)]
    if args.quick:
        argv.append("--quick")
    for flag, value in (("--sft-steps", args.start_steps), ("--train", args.start_train),
                        ("--step-theorems", args.start_step_theorems)):
        if value is not None:
            argv += [flag, str(value)]
    print(f"start: python benchmarks/train_logic.py {' '.join(argv)}", flush=True)
    if train_logic.main(argv) != 0:
        raise SystemExit("train_logic failed to make the start")
    return str(out / "start" / "sft")


def fresh_statements(candidates: list[dict], seen_cores: set, n: int) -> list[dict]:
    """The first n candidates whose core is none of `seen_cores` (the start's train theorems)."""
    return [r for r in candidates if r["core"] not in seen_cores][:n]


def make_pool(start_seed: int, start_train: int | None, n: int, fmt: str, out: Path) -> dict:
    """The fresh pool (see the module docstring) as two jsonl files: the statements without their
    proofs (what every method but sft reads) and their flat whole proofs as prompt/completion rows."""
    import data
    from data.logic import write_jsonl

    start_spec = f"logic-v2-train:{start_train}:seed={start_seed}" if start_train else ""
    seen = {r["core"] for r in data.load(start_spec)} if start_spec else set()
    want = 2 * n
    while True:  # a longer prefix of the same stream until n statements pass the filter
        spec = f"logic-v2-train:{want}:seed={start_seed + 1}"
        rows = fresh_statements(data.load(spec), seen, n)
        if len(rows) == n or want >= 64 * n:
            break
        want *= 2
    out.mkdir(parents=True, exist_ok=True)
    statements, proofs = out / "pool_statements.jsonl", out / "pool_proofs.jsonl"
    train_logic.write_statements(rows, statements)
    proof_rows = train_logic.whole_proof_rows(rows, fmt)
    write_jsonl(proof_rows, proofs)
    return {"statements": statements, "proofs": proofs, "spec": spec, "statements_n": len(rows),
            "proofs_n": len(proof_rows), "cores_excluded_of": start_spec or None}


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def split_result(pass1: list[float], passk: list[float]) -> dict:
    """Means and 95% bootstrap intervals over theorems of per-theorem pass@1 and pass@k."""
    from search.metrics import bootstrap_interval

    if len(pass1) != len(passk):
        raise ValueError(f"pass@1 and pass@k lists cover different theorems: {len(pass1)} vs {len(passk)}")
    return {"theorems": len(pass1), "pass@1": mean(pass1), "pass@1 CI": list(bootstrap_interval(pass1)),
            "pass@k": mean(passk), "pass@k CI": list(bootstrap_interval(passk)), "pass1": list(pass1),
            "passk": list(passk)}


def versus(ev: dict, start: dict) -> dict:
    """Per split: method - start on pass@1 and pass@k, with a paired bootstrap 95% interval."""
    from search.metrics import paired_bootstrap_difference

    out = {}
    for split in SPLITS:
        out[split] = {}
        for metric, key in (("pass@1", "pass1"), ("pass@k", "passk")):
            a, b = ev[split][key], start[split][key]
            out[split][metric] = {"difference": mean(a) - mean(b), "CI": list(paired_bootstrap_difference(a, b))}
    return out


def heldout(cfg, model, tok, checker, p: dict) -> dict:
    """Best-of-k on the first p["heldout"] theorems of each test split (train_logic.best_of_n)."""
    out = {}
    for split in SPLITS:
        r = train_logic.best_of_n(cfg, model, tok, checker, split, p["k"], p["heldout"])
        out[split] = {**split_result(r["pass1"], r["passk"]), "checks": r["checks"]}
    return out


def start_eval_from_run(run: dict, p: dict) -> dict | None:
    """The start's held-out results as train_logic measured them (stage SFT, best-of-k on the
    same number of theorems), or None when it measured something else."""
    out = {}
    for split in SPLITS:
        r = next((x for x in run.get("results", []) if x.get("stage") == "SFT" and x.get("split") == split
                  and x.get("method") == f"best-of-{p['k']}" and x.get("theorems") == p["heldout"]), None)
        if r is None:
            return None
        out[split] = {**split_result(r["pass1"], r["passk"]), "checks": r["checks"]}
    return out


def no_data_row(method: str, cfg, start_eval: dict, wall: float, why: str) -> dict:
    """A method that found nothing to train on: the start's numbers, the checks its search spent."""
    card = Path(cfg.output_dir) / "search" / "run_card.json"
    timing = json.loads(card.read_text()).get("timing", {}) if card.is_file() else {}
    return {"method": method, "stage": cfg.stage, "lean_checks": int(timing.get("checks", 0)),
            "planned_checks": planned_checks(cfg), "heldout": start_eval,
            "vs_start": versus(start_eval, start_eval), "generation_s": timing.get("generation_seconds", 0.0),
            "verification_s": max(0.0, timing.get("wall_seconds", 0.0) - timing.get("generation_seconds", 0.0)),
            "optimisation_s": 0.0, "wall_s": wall, "steps": 0, "extra": {"no_data": why}}


def cell(r: dict, metric: str) -> str:
    lo, hi = r[f"{metric} CI"]
    return f"{r[metric]:.3f} [{lo:.3f}, {hi:.3f}]"


def diff_cell(d: dict) -> str:
    lo, hi = d["CI"]
    return f"{100 * d['difference']:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]"


def print_tables(start: dict, rows: list[dict], k: int) -> None:
    metrics = (("pass@1", "pass@1"), ("pass@k", f"pass@{k}"))
    head = ["method", "Lean checks"] + [f"{s} {name} [95% CI]" for s in SPLITS for _, name in metrics] + [
        "generation s", "verification s", "optimisation s", "wall s"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    print("| (start) | 0 | " + " | ".join(cell(start[s], m) for s in SPLITS for m, _ in metrics) + " | 0 | 0 | 0 | 0 |")
    for r in rows:
        print("| " + " | ".join([r["method"], str(r["lean_checks"])]
                                + [cell(r["heldout"][s], m) for s in SPLITS for m, _ in metrics]
                                + [f"{r['generation_s']:.0f}", f"{r['verification_s']:.0f}",
                                   f"{r['optimisation_s']:.0f}", f"{r['wall_s']:.0f}"]) + " |")
    print("\nmethod - start, points, paired 95% bootstrap interval over theorems:\n")
    head = ["method"] + [f"{s} {name}" for s in SPLITS for _, name in metrics]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        print("| " + " | ".join([r["method"]] + [diff_cell(r["vs_start"][s][m]) for s in SPLITS for m, _ in metrics])
              + " |")


def plot(start: dict, rows: list[dict], path: Path, title: str) -> None:
    """Held-out test-iid pass@1 against the Lean checks each method spent, 95% intervals as bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def bar(r: dict) -> list[list[float]]:
        lo, hi = r["pass@1 CI"]
        return [[r["pass@1"] - lo], [hi - r["pass@1"]]]

    fig, ax = plt.subplots(figsize=(6.5, 4))
    base = start["test-iid"]
    ax.errorbar([0], [base["pass@1"]], yerr=bar(base), fmt="s", color="black", capsize=3, label="start")
    spread = max([r["lean_checks"] for r in rows] + [1]) * 0.01  # methods at equal checks side by side
    for i, r in enumerate(rows):
        ev = r["heldout"]["test-iid"]
        x = r["lean_checks"] + (i - len(rows) / 2) * spread if r["lean_checks"] else (i + 1) * spread
        line = ax.plot([0, x], [base["pass@1"], ev["pass@1"]], alpha=0.35)[0]
        ax.errorbar([x], [ev["pass@1"]], yerr=bar(ev), fmt="o", color=line.get_color(), capsize=3, label=r["method"])
    ax.set_xlabel("Lean checks spent on training")
    ax.set_ylabel("held-out pass@1 (test-iid), 95% CI")
    ax.set_title(title, fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small start (train_logic --quick), short methods")
    ap.add_argument("--out", default="runs/train_methods", help="models, summary.json and the PNG go here")
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset of " + ", ".join(METHODS))
    ap.add_argument("--budget", type=int, help="Lean checks per method (default: 256 quick, 1024 full)")
    ap.add_argument("--heldout", type=int, help="theorems of each test split (default: 24 quick, 100 full)")
    ap.add_argument("-k", type=int, help="samples per held-out theorem (default 8)")
    ap.add_argument("--opt-steps", type=int, help="optimisation steps of sft, dpo, kto (expert iteration: "
                    "split over its rounds; default: 16 quick, 48 full)")
    ap.add_argument("--start", help="the start model directory, e.g. RUN/sft of train_logic --recipe whole "
                    "(default: train one into OUT/start)")
    ap.add_argument("--start-seed", type=int, default=0, help="the seed of the start's train stream (the pool "
                    "draws from seed+1)")
    ap.add_argument("--start-train", type=int, help="the start's train theorems: their cores leave the pool "
                    "(default: read from the start run's summary.json; when training the start, train_logic's --train)")
    ap.add_argument("--start-steps", type=int, help="when training the start: its SFT steps (train_logic --sft-steps)")
    ap.add_argument("--start-step-theorems", type=int, help="when training the start: theorems walked on Lean "
                    "for step rows (train_logic --step-theorems; 0: none)")
    args = ap.parse_args(argv)
    p = dict(QUICK if args.quick else FULL)
    for key, value in (("budget", args.budget), ("heldout", args.heldout), ("opt_steps", args.opt_steps),
                       ("k", args.k)):
        if value:
            p[key] = value
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for m in methods:
        if m not in METHODS:
            raise SystemExit(f"unknown method {m!r}; use some of {', '.join(METHODS)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()

    from prover.train.models import apply_threads, config_checker, load_model_and_tokenizer

    start = args.start or train_start(args, p, out)
    fmt = start_format(start)
    if fmt == "state":
        raise SystemExit(f"{start} is a step policy (prompt format state): these methods train whole proofs; "
                         "start from train_logic --recipe whole")
    run = start_run(start)
    start_train = args.start_train or run.get("size", {}).get("train")
    pool = make_pool(args.start_seed, start_train, pool_size(p), fmt, out)
    print(f"[{time.monotonic() - t0:5.0f}s] start {start} (prompt format {fmt}); pool: {pool['statements_n']} "
          f"statements of {pool['spec']}" + (f" with no core of {pool['cores_excluded_of']}"
                                             if pool["cores_excluded_of"] else " (the start's train size unknown: "
                                             "cores not filtered; pass --start-train)")
          + f", {pool['proofs_n']} reference proofs for sft", flush=True)
    eval_cfg = from_dict({**COMMON, "model": start, "prompt_format": fmt}, "sft")
    checker = config_checker(eval_cfg)  # held-out evaluation only
    rows: list[dict] = []
    try:
        start_eval = start_eval_from_run(run, p)
        if start_eval is None:
            apply_threads(eval_cfg)
            model, tok = load_model_and_tokenizer(eval_cfg)
            start_eval = heldout(eval_cfg, model, tok, checker, p)
        else:
            print(f"start's held-out results: from {Path(start).parent / 'summary.json'}", flush=True)
        print(f"[{time.monotonic() - t0:5.0f}s] start: " + ", ".join(
            f"{s} pass@1 {cell(start_eval[s], 'pass@1')}" for s in SPLITS), flush=True)
        for method in methods:
            cfg = from_dict(method_config(method, start, fmt, pool, out, p), stage_of(method))
            began = time.monotonic()
            try:
                result = get_stage(stage_of(method)).run(cfg, log=print)
            except ValueError as exc:  # e.g. no verified proof to build pairs from: the model stays the start
                print(f"{method}: {exc}", flush=True)
                rows.append(no_data_row(method, cfg, start_eval, time.monotonic() - began, str(exc)))
                continue
            wall = time.monotonic() - began
            ev = heldout(eval_cfg, result.model, result.tokenizer, checker, p)
            rows.append({"method": method, "stage": stage_of(method), "lean_checks": result.lean_checks,
                         "planned_checks": planned_checks(cfg), "heldout": ev, "vs_start": versus(ev, start_eval),
                         "generation_s": result.generation_seconds, "verification_s": result.verification_seconds,
                         "optimisation_s": max(0.0, wall - result.generation_seconds - result.verification_seconds),
                         "wall_s": wall, "steps": result.global_step,
                         "extra": {k: v for k, v in result.extra.items() if k != "rounds"}})
            print(f"[{time.monotonic() - t0:5.0f}s] {method}: {result.lean_checks} checks, {wall:.0f}s, "
                  + ", ".join(f"{s} pass@1 {cell(ev[s], 'pass@1')}" for s in SPLITS), flush=True)
    finally:
        checker.close()
    total = time.monotonic() - t0
    print()
    print(f"logic-v2, start {start} ({fmt}); pool {pool['statements_n']} fresh statements ({pool['spec']}); budget "
          f"{p['budget']} Lean checks per method; held-out: first {p['heldout']} theorems of each test split x "
          f"{p['k']} samples, 95% percentile bootstrap over theorems; total wall {total:.0f}s")
    print_tables(start_eval, rows, p["k"])
    plot(start_eval, rows, out / "pass_vs_checks.png", f"logic-v2, {p['budget']} Lean checks per method, "
         f"{p['heldout']} test-iid theorems")
    (out / "summary.json").write_text(json.dumps({
        "params": p, "start": {"model": start, "prompt_format": fmt, "seed": args.start_seed, "train": start_train,
                               "heldout": start_eval},
        "pool": {k: str(v) if isinstance(v, Path) else v for k, v in pool.items()}, "rows": rows,
        "total_seconds": total, "quick": args.quick}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
