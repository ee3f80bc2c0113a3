"""`prover train sft`: supervised fine-tuning with TRL's SFTTrainer.

Rows become prompt/completion pairs in the run's prompt format (prover.train.data.sft_records),
so TRL trains on the completion only. Rows that already carry `prompt` and `completion`
(goal -> tactic pairs, expert iteration's verified proofs) are used as they are. LoRA through
peft when asked; the final model is saved in HF format in output_dir (merged when LoRA), ready
for `prover train grpo` or evaluation."""
from __future__ import annotations

from typing import Any, Callable, Optional

from prover.train.config import TrainConfig
from prover.train.registry import Stage
from prover.train.runner import RunResult, base_args, no_gpu


def _sft_trainer_class():
    from trl import SFTTrainer

    from prover.train.evaluate import PendingLogsMixin

    class ProverSFTTrainer(PendingLogsMixin, SFTTrainer):
        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.pending_logs: dict = {}

    return ProverSFTTrainer


def default_sft_args(cfg: TrainConfig) -> dict:
    return {**base_args(cfg), "logging_steps": 10, "save_steps": 200, "per_device_train_batch_size": 16,
            "learning_rate": 1e-3, "num_train_epochs": 1, "max_length": 512, "gradient_checkpointing": not no_gpu()}


def run_sft(cfg: TrainConfig, resume: Optional[str | bool] = None, model: Any = None, tokenizer: Any = None,
            log: Callable[[str], None] = print, rows: Optional[list[dict]] = None) -> RunResult:
    """Fine-tune as `cfg` says, on `rows` (default: cfg.split of cfg.dataset, at most
    cfg.max_rows); `model`/`tokenizer` train an in-memory model instead of loading cfg.model."""
    from datasets import Dataset

    from prover.train.data import limit, training_rows, sft_records
    from prover.train.evaluate import heldout_callback
    from prover.train.models import peft_config
    from prover.train.runner import starting_model, train_and_save
    from prover.train.verifier import training_checker

    model, tokenizer = starting_model(cfg, model, tokenizer)
    args = cfg.trl_args(**default_sft_args(cfg))
    if rows is None:
        rows = limit(training_rows(cfg, cfg.split), cfg.max_rows)
    records = sft_records(rows, cfg, tokenizer)
    if not records:
        raise ValueError(f"no rows with a reference proof (or prompt + completion) in split {cfg.split!r} "
                         f"of {cfg.dataset!r}")
    checker = training_checker(cfg, log) if cfg.heldout_every else None
    cb = heldout_callback(cfg, tokenizer, checker, 256) if checker is not None else None
    trainer = _sft_trainer_class()(model=model, args=args, train_dataset=Dataset.from_list(records),
                                   processing_class=tokenizer, peft_config=peft_config(cfg),
                                   callbacks=[cb] if cb else [])
    if cb is not None:
        cb.attach(trainer)
    log(f"sft: {len(records)} examples, format {cfg.prompt_format}, lora={cfg.lora}, output {args.output_dir}")
    return train_and_save(cfg, trainer, tokenizer, args, resume, log, callback=cb, closing=checker)


STAGE = Stage("sft", "Supervised fine-tuning on statement + reference-proof rows (TRL SFTTrainer).",
              "SFTConfig", run_sft, defaults=default_sft_args)
