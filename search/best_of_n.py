"""Best-of-n: sample proofs for each problem in rounds, up to a budget, and stop a problem at
its first proof. Checking overlaps generation: a round's candidates go to the Checker's
threads, and the next round is generated while Lean checks them. Several problems share each
generate call (the prompts of one round are batched), which is what keeps a GPU busy.

The policy only writes text; extraction (protocol.extract) turns it into a ProofTask and the
Checker alone decides whether it is a proof.
"""
from __future__ import annotations

import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Optional

from protocol.extract import extract
from protocol.policy import Completion, SamplingParams
from protocol.prompts import build_prompt, default_stop
from search.base import Search, sample_seed, task_dict
from search.records import Attempt, ProblemRecord, Row
from search.registry import register


@dataclass
class _State:
    row: Row
    prompt: str
    started: float
    record: ProblemRecord
    attempts: list[Attempt] = field(default_factory=list)
    futures: dict[int, Future] = field(default_factory=dict)
    gen_seconds: float = 0.0

    @property
    def drawn(self) -> int:
        return len(self.attempts)

    def first_ok(self) -> Optional[int]:
        return next((i for i, a in enumerate(self.attempts) if a.ok), None)


@dataclass
class BestOfNConfig:
    round_size: Optional[int] = None  # samples per problem per generate call (default: min(budget, 16))
    stop_at_first: bool = True  # end a problem at its first proof
    batch_problems: int = 8  # problems in flight: their prompts share each generate call


@register
class BestOfN(Search):
    """`budget` samples per problem at most, `round_size` per generate call, up to
    `batch_problems` problems in flight. With `stop_at_first` a problem ends at its first proof
    (its record keeps the attempts up to it; search.metrics reads pass@k accordingly); without,
    every problem gets the whole budget (Chen et al.'s estimator over all n samples)."""

    name = "best-of-n"
    method = "best_of_n"
    Config = BestOfNConfig

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cfg = self.config
        self.round_size = max(1, min(cfg.round_size or min(self.budget, 16), self.budget))
        self.stop_at_first = cfg.stop_at_first
        self.batch_problems = max(1, cfg.batch_problems)

    def _sampling(self, params: SamplingParams) -> SamplingParams:
        return params.replace(stop=params.stop or default_stop(self.fmt))

    # -- many problems -----------------------------------------------------------------------
    def run(self, rows: Iterable[Row]) -> Iterator[ProblemRecord]:
        """Records in the order problems finish (not input order)."""
        start = time.monotonic()
        pending = deque(rows)
        active: list[_State] = []
        try:
            while pending or active:
                while pending and len(active) < self.batch_problems:
                    active.append(self._start(pending.popleft()))
                wanting = [s for s in active if self._wants_more(s)]
                if wanting:
                    self._generate_round(wanting)
                else:  # nothing to generate: wait for Lean
                    futs = [f for s in active for f in s.futures.values() if not f.done()]
                    if futs:
                        wait(futs, return_when=FIRST_COMPLETED)
                self._harvest(active)
                for s in [s for s in active if self._finished(s)]:
                    active.remove(s)
                    yield self._finalize(s)
        finally:
            for s in active:
                for f in s.futures.values():
                    f.cancel()
            self.stats.wall_seconds += time.monotonic() - start

    def _start(self, row: Row) -> _State:
        prompt = build_prompt(row, self.fmt, getattr(self.policy, "tokenizer", None)).text
        record = ProblemRecord.for_row(row, self.method, self.budget)
        return _State(row=row, prompt=prompt, started=time.monotonic(), record=record)

    def _wants_more(self, s: _State) -> bool:
        if s.drawn >= self.budget:
            return False
        return not (self.stop_at_first and s.first_ok() is not None)

    def _generate_round(self, states: list[_State]) -> None:
        by_n: dict[int, list[_State]] = {}
        for s in states:
            by_n.setdefault(min(self.round_size, self.budget - s.drawn), []).append(s)
        for n, group in by_n.items():
            params = self.params.replace(n=n)
            if self.params.seed is not None:  # sample i of a problem has the same seed in every run
                seeds = tuple(tuple(sample_seed(self.params.seed, s.record.split, s.record.name, s.drawn + j)
                                    for j in range(n)) for s in group)
                params = params.replace(seed=seeds[0][0], seeds=seeds)
            t0 = time.monotonic()
            outs = self.policy.generate([s.prompt for s in group], params)
            dt = time.monotonic() - t0
            self.stats.generation_seconds += dt
            for s, completions in zip(group, outs):
                s.gen_seconds += dt / len(group)
                for c in completions:
                    self._add_attempt(s, c)

    def _add_attempt(self, s: _State, c: Completion) -> None:
        self.stats.completions += 1
        self.stats.tokens += c.num_tokens
        ex = extract(s.row, c.text, self.fmt, truncated=c.truncated)
        attempt = Attempt(completion=c.text, finish_reason=c.finish_reason, num_tokens=c.num_tokens, logprob=c.logprob)
        index = len(s.attempts)
        s.attempts.append(attempt)
        if ex.task is None:
            attempt.why_not = ex.reason
            if self.on_attempt:
                self.on_attempt(s.row, attempt)
            return
        attempt.task = task_dict(ex.task)
        s.futures[index] = self.checker.submit(ex.task)

    def _harvest(self, active: list[_State]) -> None:
        for s in active:
            for index in [i for i, f in s.futures.items() if f.done() and not f.cancelled()]:
                verdict = s.futures.pop(index).result()
                s.attempts[index].verdict = verdict.to_dict()
                self.stats.checks += 1
                self.stats.verification_seconds += verdict.seconds
                if self.on_attempt:
                    self.on_attempt(s.row, s.attempts[index])
            ok = s.first_ok()
            if self.stop_at_first and ok is not None:
                for index in [i for i in s.futures if i > ok]:  # not needed any more
                    s.futures.pop(index).cancel()

    def _finished(self, s: _State) -> bool:
        ok = s.first_ok()
        if self.stop_at_first and ok is not None:
            return all(i > ok for i in s.futures)
        return s.drawn >= self.budget and not s.futures

    def _finalize(self, s: _State) -> ProblemRecord:
        s.record.close(s.attempts, s.gen_seconds, s.started, self.stop_at_first)
        return s.record
