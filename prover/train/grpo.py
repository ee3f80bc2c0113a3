"""`prover train grpo`: TRL's GRPOTrainer with the Lean reward, DAPO dynamic sampling and a
held-out pass@k callback. TRL does the math (group sampling, advantages, clipping, KL, loss
types, LoRA, vLLM); this module wires our data, reward and checker into it."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from prover.rewards import FormatReward, ProofReward
from prover.train.config import TrainConfig
from prover.train.data import grpo_records, limit, load_rows
from prover.train.dynamic_sampling import DynamicSamplingGRPOTrainer
from prover.train.evaluate import EvalResult, PassAtKCallback, PendingLogsMixin, evaluate_pass_at_k
from prover.train.models import apply_threads, load_model_and_tokenizer, make_checker, peft_config


class ProverGRPOTrainer(PendingLogsMixin, DynamicSamplingGRPOTrainer):
    """Also times generation, so a run can report generation / verification / optimisation."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.pending_logs: dict = {}
        self.generation_seconds = 0.0

    def _generate(self, prompts):
        start = time.monotonic()
        try:
            return super()._generate(prompts)
        finally:
            self.generation_seconds += time.monotonic() - start


@dataclass
class RunResult:
    """What a training run did, for the CLI summary and the demo's table."""

    output_dir: str
    global_step: int
    train_seconds: float
    generation_seconds: float = 0.0
    verification_seconds: float = 0.0
    heldout_seconds: float = 0.0
    heldout: list[tuple[int, EvalResult]] = field(default_factory=list)
    trainer: Any = None

    @property
    def optimisation_seconds(self) -> float:
        return max(0.0, self.train_seconds - self.generation_seconds - self.verification_seconds - self.heldout_seconds)


def default_grpo_args(cfg: TrainConfig) -> dict:
    return {"output_dir": cfg.output_dir, "report_to": "none", "logging_steps": 1, "save_strategy": "steps",
            "save_steps": 50, "max_completion_length": 128, "num_generations": 8,
            "per_device_train_batch_size": 8, "use_cpu": _no_gpu(), "bf16": False,
            "gradient_checkpointing": not _no_gpu()}


def _no_gpu() -> bool:
    import torch

    return not torch.cuda.is_available()


def heldout_records(cfg: TrainConfig, tokenizer: Any) -> list[dict]:
    if not cfg.eval_split:
        return []
    return grpo_records(limit(load_rows(cfg, cfg.eval_split), cfg.heldout_size), cfg, tokenizer)


def run_grpo(cfg: TrainConfig, resume: Optional[str | bool] = None, model: Any = None, tokenizer: Any = None,
             log: Callable[[str], None] = print, on_scored: Optional[Callable] = None) -> RunResult:
    """Train with GRPO as `cfg` says. `model`/`tokenizer` skip loading (the demo passes its
    SFT result); `resume` is a checkpoint directory, or True for the output_dir's latest;
    `on_scored(rows, texts, verdicts, rewards)` sees every reward batch (logging, tests)."""
    apply_threads(cfg)
    args = cfg.trl_args(**default_grpo_args(cfg))
    rows = limit(load_rows(cfg, cfg.split), cfg.max_rows)
    if not rows:
        raise ValueError(f"no training rows in split {cfg.split!r} of {cfg.dataset!r}")
    if model is None:
        model, tokenizer = load_model_and_tokenizer(cfg)
    records = grpo_records(rows, cfg, tokenizer)
    heldout = heldout_records(cfg, tokenizer)

    from datasets import Dataset

    checker = make_checker(cfg)
    eos = model.generation_config.eos_token_id
    eos_ids = [eos] if isinstance(eos, int) else list(eos or [])
    if tokenizer.eos_token_id is not None:
        eos_ids.append(tokenizer.eos_token_id)
    reward = ProofReward(checker, cfg.prompt_format, eos_token_ids=eos_ids,
                         max_completion_length=args.max_completion_length, on_scored=on_scored)
    reward_funcs: list[Any] = [reward]
    if cfg.format_reward > 0:
        reward_funcs.append(FormatReward(cfg.prompt_format))
        if args.reward_weights is None:
            args.reward_weights = [1.0, cfg.format_reward]

    callbacks = []
    cb = None
    if cfg.heldout_every and heldout:
        cb = PassAtKCallback(heldout, reward_for_eval(checker, cfg), tokenizer, cfg.heldout_every, cfg.heldout_k,
                             cfg.heldout_max_new_tokens or args.max_completion_length, cfg.heldout_temperature)
        callbacks.append(cb)
    trainer = ProverGRPOTrainer(model=model, reward_funcs=reward_funcs, args=args,
                                train_dataset=Dataset.from_list(records), processing_class=tokenizer,
                                peft_config=peft_config(cfg), callbacks=callbacks,
                                dynamic_sampling=cfg.dynamic_sampling)
    if cb is not None:
        cb.trainer = trainer
    resume = resume if resume is not None else (args.resume_from_checkpoint or None)
    log(f"grpo: {len(records)} prompts x {args.num_generations} samples, loss_type={args.loss_type}, "
        f"beta={args.beta}, dynamic_sampling={cfg.dynamic_sampling}, checker={cfg.checker_backend}"
        f"{' (ray)' if cfg.ray else ''}, output {args.output_dir}")
    start = time.monotonic()
    try:
        trainer.train(resume_from_checkpoint=resume)
    finally:
        seconds = time.monotonic() - start
        if hasattr(checker, "close"):
            checker.close()
    save_final(trainer, tokenizer, args.output_dir, cfg.lora)
    write_card(args.output_dir, cfg)
    heldout_secs = sum(r.generation_seconds + r.verification_seconds for _, r in (cb.history if cb else []))
    return RunResult(output_dir=args.output_dir, global_step=trainer.state.global_step, train_seconds=seconds,
                     generation_seconds=trainer.generation_seconds, verification_seconds=reward.total.wall_seconds,
                     heldout_seconds=heldout_secs, heldout=list(cb.history) if cb else [], trainer=trainer)


def reward_for_eval(checker: Any, cfg: TrainConfig) -> ProofReward:
    """A separate ProofReward for held-out checks, so their time and counts stay out of the
    training reward's statistics. Evaluation samples stop at EOS or the limit: the sampler
    reports truncation itself."""
    return ProofReward(checker, cfg.prompt_format)


def write_card(output_dir: str, cfg: Any) -> None:
    from prover.train.card import write_card as _write

    _write(output_dir, cfg)


def save_final(trainer: Any, tokenizer: Any, output_dir: str, merged_lora: bool) -> None:
    """The final model in HF format in output_dir. A LoRA run saves the merged weights, so the
    next stage (or `prover eval`) loads it like any model; checkpoints keep the adapter."""
    model = trainer.model
    if merged_lora and hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
        model.save_pretrained(output_dir)
    else:
        trainer.save_model(output_dir)
    tokenizer.save_pretrained(output_dir)


def evaluate_model(cfg: TrainConfig, model: Any, tokenizer: Any, k: int, checker: Any = None,
                   max_new_tokens: Optional[int] = None) -> EvalResult:
    """Held-out pass@k of `model` outside training (the demo's before/after columns)."""
    own = checker is None
    checker = checker or make_checker(cfg)
    try:
        return evaluate_pass_at_k(model, tokenizer, heldout_records(cfg, tokenizer), reward_for_eval(checker, cfg),
                                  k, max_new_tokens or cfg.heldout_max_new_tokens or 128, cfg.heldout_temperature)
    finally:
        if own and hasattr(checker, "close"):
            checker.close()
