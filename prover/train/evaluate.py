"""Held-out pass@k of the model being trained, with the real Checker.

Used before/after each stage of the CPU demo and, through `PassAtKCallback`, every N training
steps. Answers are cut and checked exactly as the GRPO reward does (`ProofReward.score`), so
a number here means the same thing as a reward there. pass@k comes from search.metrics.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Optional

from transformers import TrainerCallback

from prover.rewards import ProofReward, VerifyStats


@dataclass
class HeldoutResult:
    """pass@1 / pass@k over the held-out theorems, with the time spent on each part."""

    theorems: int
    samples: int
    pass_at: dict[int, float]
    solved: int  # theorems with at least one accepted sample
    generation_seconds: float
    verification_seconds: float
    stats: VerifyStats = field(default_factory=VerifyStats)
    correct: list = field(default_factory=list)  # accepted samples (of k) per theorem

    def metrics(self, prefix: str = "heldout/") -> dict[str, float]:
        out = {f"{prefix}pass@{k}": v for k, v in self.pass_at.items()}
        out[f"{prefix}generation_seconds"] = self.generation_seconds
        out[f"{prefix}verification_seconds"] = self.verification_seconds
        return out


def sample(model: Any, tokenizer: Any, prompts: list[str], n: int, max_new_tokens: int,
           temperature: float = 1.0, batch_size: int = 64, seed: Optional[int] = None) -> list[list[tuple[str, bool]]]:
    """n sampled completions per prompt from the live model, through the project's HF policy:
    (text, truncated) where truncated means the token limit was hit before end-of-sequence.
    The model's train/eval mode and the tokenizer's padding side are restored afterwards."""
    from protocol.policy import SamplingParams
    from prover.policies.hf import HFPolicy

    was_training, side = model.training, tokenizer.padding_side
    model.eval()
    try:
        policy = HFPolicy(model, tokenizer, max_batch=batch_size)
        params = SamplingParams(n=n, temperature=temperature, top_p=1.0, max_tokens=max_new_tokens, seed=seed)
        groups = policy.generate(prompts, params)
    finally:
        tokenizer.padding_side = side
        if was_training:
            model.train()
    return [[(c.text, c.truncated) for c in g] for g in groups]


def evaluate_pass_at_k(model: Any, tokenizer: Any, records: list[dict], reward: ProofReward, k: int = 1,
                       max_new_tokens: int = 128, temperature: float = 1.0, batch_size: int = 64,
                       seed: Optional[int] = 0) -> HeldoutResult:
    """Sample k completions for each record (GRPO-style: prompt + checker columns) and check
    them all in one batch. pass@j for j in {1, k} by the unbiased estimator."""
    from search.metrics import pass_at_k

    if not records:  # a rank whose share of a small held-out set is empty
        return HeldoutResult(theorems=0, samples=0, pass_at={j: 0.0 for j in sorted({1, k})}, solved=0,
                             generation_seconds=0.0, verification_seconds=0.0)
    t0 = time.monotonic()
    groups = sample(model, tokenizer, [r["prompt"] for r in records], k, max_new_tokens, temperature,
                    batch_size, seed)
    t1 = time.monotonic()
    rows = [r for r in records for _ in range(k)]
    texts = [text for g in groups for text, _ in g]
    truncated = [tr for g in groups for _, tr in g]
    rewards, _, stats = reward.score(rows, texts, truncated=truncated)
    t2 = time.monotonic()
    correct = [int(sum(rewards[i * k:(i + 1) * k])) for i in range(len(records))]
    ks = sorted({1, k})
    pass_at = {j: (sum(pass_at_k(k, c, j) for c in correct) / max(len(records), 1)) for j in ks}
    return HeldoutResult(theorems=len(records), samples=len(texts), pass_at=pass_at,
                      solved=sum(c > 0 for c in correct), generation_seconds=t1 - t0,
                      verification_seconds=t2 - t1, stats=stats, correct=correct)


def combine(parts: list[HeldoutResult], k: int) -> HeldoutResult:
    """One result from the ranks' shares of the held-out theorems (pass@j over all of them;
    seconds are the slowest rank's, the ranks ran at the same time)."""
    from search.metrics import pass_at_k

    correct = [c for p in parts for c in p.correct]
    stats = VerifyStats()
    for p in parts:
        stats.add(p.stats)
    ks = sorted({1, k})
    pass_at = {j: (sum(pass_at_k(k, c, j) for c in correct) / max(len(correct), 1)) for j in ks}
    return HeldoutResult(theorems=len(correct), samples=sum(p.samples for p in parts), pass_at=pass_at,
                         solved=sum(c > 0 for c in correct),
                         generation_seconds=max((p.generation_seconds for p in parts), default=0.0),
                         verification_seconds=max((p.verification_seconds for p in parts), default=0.0),
                         stats=stats, correct=correct)


def sharded_model_reason(trainer: Any) -> Optional[str]:
    """Why the held-out callback cannot sample from this trainer's model, or None. Each rank
    samples from its own full copy of the weights: DDP and ZeRO-1/2 keep one, ZeRO-3 and FSDP
    do not (a rank would wait in a parameter gather the others never join)."""
    if getattr(trainer, "is_fsdp_enabled", False):
        return "FSDP shards the weights"
    plugin = getattr(getattr(getattr(trainer, "accelerator", None), "state", None), "deepspeed_plugin", None)
    if getattr(trainer, "is_deepspeed_enabled", False) and plugin is not None and plugin.zero_stage == 3:
        return "DeepSpeed ZeRO-3 shards the weights"
    return None


class PendingLogsMixin:
    """Trainer mixin: metrics a callback computed between logging steps (held-out pass@k)
    are merged into the next `log` call, so they reach the progress bar and every report_to
    backend alongside the trainer's own metrics."""

    pending_logs: dict

    def log(self, logs: dict, start_time: Optional[float] = None) -> None:
        pending = getattr(self, "pending_logs", None)
        if pending:
            logs = {**logs, **pending}
            pending.clear()
        super().log(logs, start_time)  # type: ignore[misc]


class PassAtKCallback(TrainerCallback):
    """Every `every` optimizer steps, held-out pass@k with the real Checker: kept in
    `history` and logged at that step (through PendingLogsMixin on the trainer)."""

    def __init__(self, records: list[dict], reward: ProofReward, tokenizer: Any, every: int, k: int = 1,
                 max_new_tokens: int = 128, temperature: float = 1.0):
        self.records = records
        self.reward = reward
        self.tokenizer = tokenizer
        self.every = every
        self.k = k
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.history: list[tuple[int, HeldoutResult]] = []
        self.trainer: Any = None  # set by attach(); its pending_logs receive the metrics

    def attach(self, trainer: Any) -> None:
        """Log into `trainer`; refuse (ValueError, before any step) a trainer whose ranks hold
        only a shard of the weights."""
        why = sharded_model_reason(trainer)
        if why:
            raise ValueError(f"heldout_every: the held-out pass@k samples from each rank's own copy of the model, "
                             f"and {why}; set heldout_every: 0 and evaluate the saved checkpoints with "
                             f"`prover eval --model OUTPUT_DIR/checkpoint-N` (or train with DDP / ZeRO-2)")
        self.trainer = trainer

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if not (self.every and state.global_step % self.every == 0):
            return
        if model is None or not self.records:
            return
        # Every rank takes its share of the theorems (all ranks must reach the gather below).
        rank, world = args.process_index, args.world_size
        result = evaluate_pass_at_k(model, self.tokenizer, self.records[rank::world], self.reward, self.k,
                                    self.max_new_tokens, self.temperature)
        if world > 1:
            from accelerate.utils import gather_object

            result = combine(gather_object([result]), self.k)
        self.history.append((state.global_step, result))
        if self.trainer is not None:
            self.trainer.pending_logs.update(result.metrics())
            control.should_log = True


def heldout_records(cfg: Any, tokenizer: Any) -> list[dict]:
    """The held-out theorems (cfg.eval_split, at most cfg.heldout_size) as prompt + checker rows."""
    from prover.train.data import grpo_records, limit, training_rows

    if not cfg.eval_split:
        return []
    return grpo_records(limit(training_rows(cfg, cfg.eval_split), cfg.heldout_size), cfg, tokenizer)


def reward_for_eval(checker: Any, cfg: Any) -> ProofReward:
    """A separate ProofReward for held-out checks, so their time and counts stay out of the
    training reward's statistics. Evaluation samples stop at EOS or the limit: the sampler
    reports truncation itself."""
    return ProofReward(checker, cfg.prompt_format)


def heldout_callback(cfg: Any, tokenizer: Any, checker: Any, max_new_tokens: int) -> Optional[PassAtKCallback]:
    """The every-N-steps held-out pass@k callback a stage adds when cfg.heldout_every is set."""
    if not cfg.heldout_every:
        return None
    records = heldout_records(cfg, tokenizer)
    if not records:
        return None
    return PassAtKCallback(records, reward_for_eval(checker, cfg), tokenizer, cfg.heldout_every, cfg.heldout_k,
                           cfg.heldout_max_new_tokens or max_new_tokens, cfg.heldout_temperature)


def evaluate_model(cfg: Any, model: Any, tokenizer: Any, k: int, checker: Any = None,
                   max_new_tokens: Optional[int] = None) -> HeldoutResult:
    """Held-out pass@k of `model` outside training (the benchmarks' before/after columns)."""
    from prover.train.models import config_checker

    own = checker is None
    checker = checker or config_checker(cfg)
    try:
        return evaluate_pass_at_k(model, tokenizer, heldout_records(cfg, tokenizer), reward_for_eval(checker, cfg),
                                  k, max_new_tokens or cfg.heldout_max_new_tokens or 128, cfg.heldout_temperature)
    finally:
        if own and hasattr(checker, "close"):
            checker.close()
