"""What DPO and KTO share: their data from eval records and a reference model.

The data: the attempts of an eval (`records: DIR` - any `prover eval --out DIR`, or
results.jsonl), or, when `records` is empty, a search this stage runs first with its starting
model over cfg.split (prover.train.search_round; resumable like any eval, in
output_dir/search). Labels are Lean's recorded verdicts (prover.train.proof_data).

The reference model: `ref_model: PATH`, else a frozen copy of the starting model (TRL would
otherwise reload the policy from its config's path, which for an in-memory model - one that
expert iteration or an earlier stage just trained - is not the model being trained). With
LoRA, TRL uses the adapter-free base as the reference, so no copy is made.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from prover.train.config import TrainConfig
from prover.train.runner import RunResult, base_args
from prover.train.search_round import SearchSettings

SEARCH_DIR = "search"


@dataclass
class PreferenceOptions(SearchSettings):
    records: str = ""  # eval dir or results.jsonl to learn from ("": search cfg.split with the starting model first)
    per_statement: int = 0  # at most this many pairs (DPO) / examples of each label (KTO) per statement (0: all)
    ref_model: str = ""  # the reference model ("": a frozen copy of the starting model)


def default_preference_args(cfg: TrainConfig) -> dict:
    return {**base_args(cfg), "logging_steps": 1, "save_steps": 50, "per_device_train_batch_size": 4,
            "learning_rate": 1e-4, "num_train_epochs": 1, "max_length": 512}


def gather_records(cfg: TrainConfig, opts: PreferenceOptions, model: Any, tokenizer: Any, rows: list[dict],
                   log: Callable[[str], None]) -> tuple[list, dict]:
    """(records, timing) - timing: lean_checks, generation_seconds, verification_seconds."""
    from prover.train.search_round import ensure_checker, eval_checks, eval_timing, read_results, search_pool

    if opts.records:
        records = read_results(opts.records)
        checks = sum(a.verdict is not None for r in records for a in r.attempts)
        log(f"{cfg.stage}: {len(records)} eval records from {opts.records} ({checks} Lean checks behind them)")
        return records, {"lean_checks": checks}
    checker, own = ensure_checker(cfg, None)
    try:
        result = search_pool(cfg, opts, model, tokenizer, rows, Path(cfg.output_dir) / SEARCH_DIR,
                             f"{cfg.stage}-start:{cfg.model}", checker=checker)
    finally:
        if own:
            checker.close()
    gen, ver = eval_timing(result)
    log(f"{cfg.stage}: searched {len(rows)} statements x {opts.k} ({opts.search}): "
        f"{sum(r.solved for r in result.records)} solved, {eval_checks(result)} Lean checks")
    return result.records, {"lean_checks": eval_checks(result), "generation_seconds": gen, "verification_seconds": ver}


def reference_model(cfg: TrainConfig, opts: PreferenceOptions, model: Any) -> Optional[Any]:
    if cfg.lora:
        return None
    if opts.ref_model:
        from transformers import AutoModelForCausalLM

        from prover.models import resolve_model

        ref = AutoModelForCausalLM.from_pretrained(resolve_model(opts.ref_model))
    else:
        ref = copy.deepcopy(model)
    ref.eval()
    for p in ref.parameters():
        p.requires_grad_(False)
    return ref


def run_preference(cfg: TrainConfig, trainer_name: str, build: Callable, resume: Optional[str | bool],
                   model: Any, tokenizer: Any, log: Callable[[str], None]) -> RunResult:
    """Gather records, build the stage's rows with `build(records, rows_by_key, cfg, tokenizer,
    per_statement)`, train with trl.<trainer_name> against the reference model, save."""
    import trl
    from datasets import Dataset

    from prover.train.data import limit, training_rows
    from prover.train.evaluate import PendingLogsMixin, heldout_callback
    from prover.train.models import peft_config
    from prover.train.proof_data import rows_by_key
    from prover.train.runner import starting_model, train_and_save
    from prover.train.verifier import training_checker

    opts: PreferenceOptions = cfg.options
    model, tokenizer = starting_model(cfg, model, tokenizer)
    args = cfg.trl_args(**default_preference_args(cfg))
    rows = limit(training_rows(cfg, cfg.split), cfg.max_rows)
    records, timing = gather_records(cfg, opts, model, tokenizer, rows, log)
    data = build(records, rows_by_key(rows), cfg, tokenizer, opts.per_statement)
    if not data:
        raise ValueError(f"{cfg.stage}: the eval records give no training data (DPO needs a statement with both a "
                         "verified and a failed attempt; KTO any checked attempt): search more (k) or other statements")
    columns = ("prompt", "chosen", "rejected") if "chosen" in data[0] else ("prompt", "completion", "label")
    dataset = Dataset.from_list([{c: d[c] for c in columns} for d in data])
    checker = training_checker(cfg, log) if cfg.heldout_every else None
    cb = heldout_callback(cfg, tokenizer, checker, 256) if checker is not None else None

    base = getattr(trl, trainer_name)

    class Trainer(PendingLogsMixin, base):  # type: ignore[misc, valid-type]
        pending_logs: dict = {}

    trainer = Trainer(model=model, ref_model=reference_model(cfg, opts, model), args=args, train_dataset=dataset,
                      processing_class=tokenizer, peft_config=peft_config(cfg), callbacks=[cb] if cb else [])
    trainer.pending_logs = {}
    if cb is not None:
        cb.attach(trainer)
    log(f"{cfg.stage}: {len(data)} examples from {len(records)} eval records, beta={args.beta}, "
        f"loss_type={args.loss_type}, output {args.output_dir}")
    result = train_and_save(cfg, trainer, tokenizer, args, resume, log, callback=cb, closing=checker, **timing)
    result.extra["examples"] = len(data)
    if columns[-1] == "label":
        result.extra["desirable"] = sum(bool(d["label"]) for d in data)
    return result
