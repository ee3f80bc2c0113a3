"""The training runner every stage shares: start from a given or loaded model, train with a
TRL trainer, time it, save the final model and its card, and report a RunResult.

A stage (prover/train/stages/) builds its data and its trainer; everything before and after
`trainer.train()` is here, written once.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from prover.train.config import TrainConfig


@dataclass
class RunResult:
    """What a training run did, for the CLI summary and the benchmarks' tables."""

    output_dir: str
    global_step: int
    train_seconds: float
    generation_seconds: float = 0.0
    verification_seconds: float = 0.0
    heldout_seconds: float = 0.0
    heldout: list = field(default_factory=list)  # [(step, prover.train.evaluate.HeldoutResult)]
    trainer: Any = None
    model: Any = None  # the trained model, in memory (the next stage may continue from it)
    tokenizer: Any = None
    lean_checks: int = 0  # Lean checks the stage spent on training data or rewards (not held-out)
    extra: dict = field(default_factory=dict)  # stage-specific numbers (rounds, pairs ...)

    @property
    def optimisation_seconds(self) -> float:
        return max(0.0, self.train_seconds - self.generation_seconds - self.verification_seconds - self.heldout_seconds)


def no_gpu() -> bool:
    import torch

    return not torch.cuda.is_available()


def base_args(cfg: TrainConfig) -> dict:
    """TRL defaults every stage shares (a stage adds its own; the YAML overrides both)."""
    return {"output_dir": cfg.output_dir, "report_to": "none", "save_strategy": "steps",
            "use_cpu": no_gpu(), "bf16": False, "gradient_checkpointing": not no_gpu()}


def starting_model(cfg: TrainConfig, model: Any = None, tokenizer: Any = None) -> tuple[Any, Any]:
    """The model a stage trains: the one passed in (in memory), else cfg.model loaded."""
    from prover.train.models import apply_threads, load_model_and_tokenizer

    apply_threads(cfg)
    if model is None:
        return load_model_and_tokenizer(cfg)
    if tokenizer is None:
        raise ValueError("a model passed in needs its tokenizer too")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def save_final(trainer: Any, tokenizer: Any, output_dir: str, merged_lora: bool) -> Any:
    """The final model in HF format in output_dir; returns it (merged when LoRA). A LoRA run
    saves the merged weights, so the next stage (or `prover eval`) loads it like any model;
    checkpoints keep the adapter."""
    model = trainer.model
    if merged_lora and hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
        model.save_pretrained(output_dir)
    else:
        trainer.save_model(output_dir)
    tokenizer.save_pretrained(output_dir)
    return model


def write_card(output_dir: str, cfg: Any) -> None:
    from prover.train.card import write_card as _write

    _write(output_dir, cfg)


def train_and_save(cfg: TrainConfig, trainer: Any, tokenizer: Any, args: Any, resume: Optional[str | bool],
                   log: Callable[[str], None], callback: Any = None, closing: Any = None,
                   **timing: Any) -> RunResult:
    """Train (from `resume`, else the args' resume_from_checkpoint), then save model + card.
    `closing` (a checker) is closed however training ends; `callback` is the held-out
    PassAtKCallback whose time is counted apart; `timing` are callables read after training
    (generation_seconds=..., verification_seconds=..., lean_checks=...)."""
    from prover.train.progress import TrainingInterrupted, ctrl_c_stops_at_step_end, use_console_callbacks

    stop = use_console_callbacks(trainer, log)  # aligned log lines; Ctrl-C ends the step with a checkpoint
    from prover.train.models import apply_threads

    apply_threads(cfg)  # again: building the Trainer can reset torch's threads (accelerate does on CPU when
    # LOCAL_RANK/WORLD_SIZE are in the environment, e.g. after vLLM ran in this process); the config's count wins
    threads = None
    if cfg.adapt_threads:  # measured, not assumed: the faster thread count now, probed again every few hundred steps
        from prover.train.threads import adaptive_threads_callback

        threads = adaptive_threads_callback(log)
        trainer.add_callback(threads)
    from prover.train.signal import fingerprint, no_signal_reason

    resume = resume if resume is not None else (args.resume_from_checkpoint or None)
    before = None if resume else fingerprint(trainer.model)
    start = time.monotonic()
    try:
        with ctrl_c_stops_at_step_end(stop, log):
            trainer.train(resume_from_checkpoint=resume)
    finally:
        seconds = time.monotonic() - start
        if closing is not None and hasattr(closing, "close"):
            closing.close()
    if stop.requested:  # the checkpoint is what a resume continues from; the final model is not written
        step = trainer.state.global_step
        checkpoint = os.path.join(args.output_dir, f"checkpoint-{step}")
        raise TrainingInterrupted(step, trainer.state.max_steps, checkpoint if os.path.isdir(checkpoint) else None)
    model = save_final(trainer, tokenizer, args.output_dir, cfg.lora)
    write_card(args.output_dir, cfg)
    history = list(callback.history) if callback is not None else []
    heldout_secs = sum(r.generation_seconds + r.verification_seconds for _, r in history)
    measured = {k: (v() if callable(v) else v) for k, v in timing.items()}
    steps = trainer.state.global_step
    unchanged = before is not None and fingerprint(trainer.model) == before
    extra = {}
    reason = no_signal_reason(cfg.stage, trainer.state.log_history, unchanged, steps)
    if threads is not None and threads.chooser.history:
        extra["threads"] = threads.chooser.history
    if reason:
        log(f"WARNING {reason}")
        extra["no_learning_signal"] = reason
    return RunResult(output_dir=args.output_dir, global_step=steps, train_seconds=seconds,
                     heldout_seconds=heldout_secs, heldout=history, trainer=trainer, model=model,
                     tokenizer=tokenizer, extra=extra, **measured)
