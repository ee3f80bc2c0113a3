"""Rewards for GRPO: Lean's verdict as a number, in TRL's reward-function calling convention.

TRL's GRPOTrainer calls each reward function once per generation batch with
`prompts=[...], completions=[...], completion_ids=[...]` plus every dataset column as a list
(one entry per completion) and `log_metric`, `trainer_state`, `log_extra`. The batch holds
whole groups (num_generations completions of each prompt), so `ProofReward` extracts every
proof and verifies them together with `Checker.check_many` — the group is checked in parallel,
never one by one. The reward is 1.0 for an ok verdict and 0.0 for anything else (including
output with nothing to check); the verdict statistics are logged per step through TRL's
`log_metric` hook and kept on the object for callers (the CPU demo's time split).
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Sequence

from lean_env.soundness.verdict import STATUSES, Verdict
from protocol.extract import extract

# Dataset columns a row needs for extraction (protocol.prompts reads these).
EXTRACTION_KEYS = ("formal_statement", "header", "informal_prefix", "name")


def completion_text(completion: Any) -> str:
    """The text of one completion: TRL gives a string for plain prompts and a list of
    messages for conversational ones (the assistant's answer is the last message)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        last = completion[-1]
        content = last.get("content", "") if isinstance(last, dict) else last
        if isinstance(content, list):  # content blocks
            return "".join(b.get("text", "") for b in content if isinstance(b, dict))
        return str(content)
    return ""


def rows_from_kwargs(n: int, kwargs: dict) -> list[dict]:
    """Rebuild the dataset rows from TRL's per-column lists."""
    rows = [{} for _ in range(n)]
    for key in EXTRACTION_KEYS:
        values = kwargs.get(key)
        if values is None:
            continue
        for row, value in zip(rows, values):
            if value is not None:
                row[key] = value
    missing = [i for i, r in enumerate(rows) if "formal_statement" not in r]
    if missing:
        raise ValueError("the GRPO dataset needs a `formal_statement` column for the Lean reward")
    return rows


@dataclass
class VerifyStats:
    """Counts and seconds of one reward call (or, summed, of a whole run)."""

    completions: int = 0
    statuses: Counter = field(default_factory=Counter)  # proved / rejected / timeout / crashed / refused
    unextracted: int = 0  # nothing to check (no proof, cut off): reward 0 without Lean
    check_seconds: float = 0.0  # sum of per-verdict Lean seconds
    checked: int = 0
    wall_seconds: float = 0.0  # wall clock of the whole batch verification

    def add(self, other: "VerifyStats") -> None:
        self.completions += other.completions
        self.statuses.update(other.statuses)
        self.unextracted += other.unextracted
        self.check_seconds += other.check_seconds
        self.checked += other.checked
        self.wall_seconds += other.wall_seconds

    def metrics(self, prefix: str = "verifier/") -> dict[str, float]:
        n = max(self.completions, 1)
        out = {f"{prefix}{s}": self.statuses.get(s, 0) / n for s in STATUSES}
        out[f"{prefix}unextracted"] = self.unextracted / n
        out[f"{prefix}mean_check_seconds"] = self.check_seconds / max(self.checked, 1)
        out[f"{prefix}batch_seconds"] = self.wall_seconds
        return out


class ProofReward:
    """1.0 when Lean accepts the completion's proof of the row's theorem, else 0.0.

    `checker` is anything with `check_many(tasks) -> list[Verdict]` (lean_env.Checker with any
    backend, or the Ray checker). `fmt` is the prompt format the prompts were built with, so
    extraction cuts the answer the same way evaluation does. `eos_token_ids` and
    `max_completion_length` let extraction tell a proof cut off by the token limit from one
    that ended.
    """

    __name__ = "lean_proof"  # TRL names the reward column after this

    def __init__(self, checker: Any, fmt: str = "deepseek-v1.5", *, eos_token_ids: Iterable[int] = (),
                 max_completion_length: Optional[int] = None,
                 on_scored: Optional[Callable[[list[dict], list[str], list[Optional[Verdict]], list[float]], None]] = None):
        self.checker = checker
        self.fmt = fmt
        self.eos_token_ids = set(eos_token_ids)
        self.max_completion_length = max_completion_length
        self.on_scored = on_scored  # sees every scored batch: (rows, texts, verdicts, rewards)
        self.last = VerifyStats()
        self.total = VerifyStats()
        self.calls = 0
        self.batch_sizes: list[int] = []
        self._lock = threading.Lock()

    def _truncated(self, ids: Optional[Sequence[int]]) -> bool:
        if not ids or self.max_completion_length is None:
            return False
        return len(ids) >= self.max_completion_length and ids[-1] not in self.eos_token_ids

    def score(self, rows: list[dict], texts: list[str], truncated: Optional[list[bool]] = None
              ) -> tuple[list[float], list[Optional[Verdict]], VerifyStats]:
        """Rewards, verdicts (None where nothing could be checked) and statistics for a batch.
        `truncated[i]` says completion i stopped at the token limit rather than at EOS."""
        start = time.monotonic()
        truncated = truncated or [False] * len(texts)
        extractions = [extract(row, text, self.fmt, truncated=cut) for row, text, cut in zip(rows, texts, truncated)]
        todo = [k for k, e in enumerate(extractions) if e.ok]
        verdicts: list[Optional[Verdict]] = [None] * len(texts)
        if todo:
            for k, v in zip(todo, self.checker.check_many([extractions[k].task for k in todo])):
                verdicts[k] = v
        stats = VerifyStats(completions=len(texts), unextracted=len(texts) - len(todo), checked=len(todo))
        for v in verdicts:
            if v is not None:
                stats.statuses[v.status] += 1
                stats.check_seconds += v.seconds
        stats.wall_seconds = time.monotonic() - start
        rewards = [1.0 if (v is not None and v.ok) else 0.0 for v in verdicts]
        if self.on_scored:
            self.on_scored(rows, texts, verdicts, rewards)
        return rewards, verdicts, stats

    def __call__(self, prompts: list, completions: list, completion_ids: Optional[list] = None,
                 log_metric: Optional[Callable[[str, float], None]] = None, **kwargs) -> list[float]:
        rows = rows_from_kwargs(len(completions), kwargs)
        truncated = [self._truncated(ids) for ids in completion_ids] if completion_ids else None
        rewards, _, stats = self.score(rows, [completion_text(c) for c in completions], truncated)
        with self._lock:
            self.last = stats
            self.total.add(stats)
            self.calls += 1
            self.batch_sizes.append(len(completions))
        if log_metric is not None:
            for name, value in stats.metrics().items():
                log_metric(name, value)
        return rewards


class FormatReward:
    """1.0 when the completion has a checkable shape (extraction finds a proof), else 0.0.
    A shaping signal for models that do not yet close their code block; off by default,
    because it rewards form the Checker has not judged."""

    __name__ = "proof_format"

    def __init__(self, fmt: str = "deepseek-v1.5"):
        self.fmt = fmt

    def __call__(self, prompts: list, completions: list, **kwargs) -> list[float]:
        rows = rows_from_kwargs(len(completions), kwargs)
        return [1.0 if extract(r, completion_text(c), self.fmt).ok else 0.0 for r, c in zip(rows, completions)]


class StepReward:
    """For GRPO on a step policy (prompt format `state`): 1.0 when the row's proof state, then the
    completion's tactic, then the policy's own tactics one at a time (search.rollout) end in a
    proof the Checker accepts, else 0.0. The reward of a tactic is one Monte Carlo sample of its
    value under the current policy; only Lean decides it (the whole proof text is checked).

    Rows carry the state as JSON columns: `tactics` (the script that reached it) and `goals` (what
    Lean reported there), besides `formal_statement` and `header`. `policy` is the model being
    trained, wrapped (prover.policies.hf.HFPolicy), so the continuation improves with it."""

    __name__ = "lean_step"

    def __init__(self, checker: Any, policy: Any, fmt: str = "state", *, max_depth: int = 24, seed: int = 0,
                 temperature: float = 1.0, top_p: float = 0.95, max_tokens: int = 48, retries: int = 0):
        from protocol.policy import SamplingParams

        self.checker = checker
        self.policy = policy
        self.fmt = fmt
        self.max_depth = max_depth
        self.retries = retries
        self.params = SamplingParams(temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed)
        self.total = VerifyStats()
        self.calls = 0

    def score(self, rows: list[dict], texts: list[str]) -> list[float]:
        import json

        from search.rollout import Rollout, run_rollouts, state_at

        start = time.monotonic()
        rollouts = [Rollout(row, state_at(row, json.loads(row["tactics"]), json.loads(row["goals"])), first=text)
                    for row, text in zip(rows, texts)]
        params = self.params.replace(seed=None if self.params.seed is None else self.params.seed + 1000 * self.calls)
        run_rollouts(self.policy, self.checker, self.fmt, rollouts, params, self.max_depth, retries=self.retries)
        self.calls += 1
        self.total.add(VerifyStats(completions=len(texts), checked=sum(r.checks for r in rollouts),
                                   wall_seconds=time.monotonic() - start))
        return [1.0 if r.proved else 0.0 for r in rollouts]

    def __call__(self, prompts: list, completions: list, log_metric: Optional[Callable[[str, float], None]] = None,
                 **kwargs) -> list[float]:
        rows = [{**row, "tactics": t, "goals": g} for row, t, g in
                zip(rows_from_kwargs(len(completions), kwargs), kwargs["tactics"], kwargs["goals"])]
        return self.score(rows, [completion_text(c) for c in completions])
