"""`prover train sft`: supervised fine-tuning on statement + proof rows with TRL's SFTTrainer.

Rows become prompt/completion pairs in the run's prompt format (prover.train.data), so TRL
trains on the proof only; LoRA through peft when asked; the final model is saved in HF
format in output_dir (merged when LoRA), ready for `prover train grpo` or evaluation."""
from __future__ import annotations

import time
from typing import Any, Callable, Optional

from prover.train.config import TrainConfig
from prover.train.data import limit, load_rows, sft_records
from prover.train.evaluate import PassAtKCallback, PendingLogsMixin
from prover.train.grpo import RunResult, _no_gpu, heldout_records, reward_for_eval, save_final, write_card
from prover.train.models import apply_threads, load_model_and_tokenizer, make_checker, peft_config


def _sft_trainer_class():
    from trl import SFTTrainer

    class ProverSFTTrainer(PendingLogsMixin, SFTTrainer):
        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.pending_logs: dict = {}

    return ProverSFTTrainer


def default_sft_args(cfg: TrainConfig) -> dict:
    return {"output_dir": cfg.output_dir, "report_to": "none", "logging_steps": 10, "save_strategy": "steps",
            "save_steps": 200, "per_device_train_batch_size": 16, "learning_rate": 1e-3, "num_train_epochs": 1,
            "max_length": 512, "use_cpu": _no_gpu(), "bf16": False,
            "gradient_checkpointing": not _no_gpu()}


def run_sft(cfg: TrainConfig, resume: Optional[str | bool] = None, log: Callable[[str], None] = print) -> RunResult:
    """Fine-tune as `cfg` says; returns where the model went and how long it took."""
    apply_threads(cfg)
    args = cfg.trl_args(**default_sft_args(cfg))
    rows = limit(load_rows(cfg, cfg.split), cfg.max_rows)
    model, tokenizer = load_model_and_tokenizer(cfg)
    records = sft_records(rows, cfg, tokenizer)
    if not records:
        raise ValueError(f"no rows with a reference proof in split {cfg.split!r} of {cfg.dataset!r}")

    from datasets import Dataset

    callbacks = []
    cb = None
    checker = None
    if cfg.heldout_every:
        heldout = heldout_records(cfg, tokenizer)
        if heldout:
            checker = make_checker(cfg)
            cb = PassAtKCallback(heldout, reward_for_eval(checker, cfg), tokenizer, cfg.heldout_every,
                                 cfg.heldout_k, cfg.heldout_max_new_tokens or 256, cfg.heldout_temperature)
            callbacks.append(cb)
    trainer = _sft_trainer_class()(model=model, args=args, train_dataset=Dataset.from_list(records),
                                   processing_class=tokenizer, peft_config=peft_config(cfg), callbacks=callbacks)
    if cb is not None:
        cb.trainer = trainer
    resume = resume if resume is not None else (args.resume_from_checkpoint or None)
    log(f"sft: {len(records)} examples, format {cfg.prompt_format}, lora={cfg.lora}, output {args.output_dir}")
    start = time.monotonic()
    try:
        trainer.train(resume_from_checkpoint=resume)
    finally:
        seconds = time.monotonic() - start
        if checker is not None:
            checker.close()
    save_final(trainer, tokenizer, args.output_dir, cfg.lora)
    write_card(args.output_dir, cfg)
    heldout_secs = sum(r.generation_seconds + r.verification_seconds for _, r in (cb.history if cb else []))
    return RunResult(output_dir=args.output_dir, global_step=trainer.state.global_step, train_seconds=seconds,
                     heldout_seconds=heldout_secs, heldout=list(cb.history) if cb else [], trainer=trainer)
