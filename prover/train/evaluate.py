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
    correct: list = field(default_factory=list)  # accepted samples per theorem (for paired intervals)

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
        self.trainer: Any = None  # set by the runner; its pending_logs receive the metrics

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if not (self.every and state.global_step % self.every == 0 and state.is_world_process_zero):
            return
        if model is None or not self.records:
            return
        result = evaluate_pass_at_k(model, self.tokenizer, self.records, self.reward, self.k,
                                    self.max_new_tokens, self.temperature)
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
