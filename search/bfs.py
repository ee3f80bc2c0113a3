"""Tactic-level best-first search (as in GPT-f, LeanDojo/ReProver): the policy proposes
tactics for a proof state, a TacticEnv applies them, and the open state with the highest
cumulative log-probability is expanded next.

A state is a tactic script and the goals Lean reports after it. Expanding a state samples
`expand_k` one-line tactics from the policy (the prompt is the statement, the script so far
and the goals as a `/- tactic state -/` comment, search.tactic_env.resume_prompt), applies each
one, drops tactics that fail, and queues new states (a state whose goals were already reached
is not queued twice). Priority is the sum of the tactics' log-probabilities when the policy
reports them (vLLM, HF); without them every tactic scores 0 and the order is breadth-first.

Budget: model samples (each proposed tactic is one, so pass@k compares with best-of-n at
equal samples), and optionally Lean checks, expansions and seconds. With `max_checks` the search
stops when that many Lean checks are spent on the problem (the opening probe, every tactic
applied, the confirmation of a found proof; a proof found by the last check is still confirmed):
the budget of a comparison with best-of-n at equal Lean checks, where a tactic proposed twice at a
state costs a sample but no check. With `revisit_penalty` an expanded state goes back in the
queue that much lower, so it is sampled again later (a tactic already applied there is not
applied twice). A proof counts only after the whole proof text is checked by the Checker
(Checker.check), whatever the environment said.
"""
from __future__ import annotations

import heapq
import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from lean_env.soundness.verdict import ProofTask, Verdict
from protocol.policy import Completion, SamplingParams
from protocol.prompts import row_header
from search.base import Search, sample_seed
from search.records import Attempt, ProblemRecord, Row
from search.registry import register
from search.tactic_env import TacticEnv, TacticResult, clean_tactic, resume_prompt, tactic_proof

TACTIC_STOP = ("\n", "```")


@dataclass(order=True)
class _Queued:
    priority: float  # -(cumulative log-probability): heapq pops the smallest
    order: int  # FIFO among equal priorities
    result: TacticResult = field(compare=False)
    logprob: float = field(compare=False, default=0.0)
    depth: int = field(compare=False, default=0)


# The knobs a sharp step policy (prompt format `state`) searches best with, measured on the CPU
# world (docs/cpu-world.md): 2 tactics per expansion reach deeper within a budget, and revisited
# states do not run the queue dry (test-iid at 32 samples: 0.09 each state once, 0.25 revisited).
STEP_POLICY_OPTIONS = {"expand_k": 2, "revisit_penalty": 1.0}


@dataclass
class BestFirstConfig:
    expand_k: int = 4  # tactics sampled per expanded state
    max_expansions: Optional[int] = None  # states expanded per problem (None: only the sample budget limits)
    max_checks: Optional[int] = None  # Lean checks per problem, the opening probe included (None: no limit)
    max_seconds: Optional[float] = None  # wall time per problem
    max_depth: int = 32  # tactics in one proof at most
    # Re-queue an expanded state, this many nats lower per expansion, to be sampled again (None: a
    # state is expanded once). A sharp policy proposes few distinct tactics; expanded once, a
    # state whose samples all failed is lost and the queue can run dry with budget left.
    revisit_penalty: Optional[float] = None


@register
class BestFirst(Search):
    """A ProblemRecord per problem (`method` "bfs"), like every search.base.Search. Tactics are
    applied one at a time in `env`, by default the Lean server or REPL behind `checker`."""

    name = "bfs"
    method = "bfs"
    Config = BestFirstConfig
    needs_continuation = True

    def __init__(self, *args: Any, env: Optional[TacticEnv] = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cfg = self.config
        self.expand_k = max(1, cfg.expand_k)
        self.max_expansions = cfg.max_expansions
        self.max_checks = cfg.max_checks
        if self.max_checks is not None and self.max_checks < 2:
            raise ValueError(f"max_checks={self.max_checks}: a search needs at least 2 Lean checks (the opening probe "
                             f"and one tactic)")
        self.max_seconds = cfg.max_seconds
        self.max_depth = cfg.max_depth
        self.revisit_penalty = cfg.revisit_penalty
        self._env = env if env is not None else self._default_env()
        self._calls = 0

    def _sampling(self, params: SamplingParams) -> SamplingParams:
        return params.replace(stop=TACTIC_STOP, logprobs=True)

    def _default_env(self) -> Optional[TacticEnv]:
        """The checker's own Lean process kind, which can apply one tactic at a time (server or
        REPL); None without a checker (tests pass `env`). A cli checker cannot: say what to pass."""
        if self.checker is None:
            return None
        from search.tactic_env import ReplTacticEnv, ServerTacticEnv

        kind = self.checker.backend.name
        if kind == "server":
            return ServerTacticEnv(self.checker)
        if kind == "repl":
            return ReplTacticEnv.from_settings(self.checker.settings)
        raise ValueError(f"--search bfs applies tactics one at a time, which needs the server or repl checker "
                         f"backend, not {kind!r}: pass --checker server")

    @property
    def env(self) -> TacticEnv:
        if self._env is None:
            raise ValueError("bfs needs a tactic environment: pass env= or a server/repl checker")
        return self._env

    # -- one problem ----------------------------------------------------------------------------
    def _solve(self, row: Row) -> ProblemRecord:
        started = time.monotonic()
        self._calls = 0  # generation calls of this problem: its seeds depend on nothing else
        record = ProblemRecord.for_row(row, self.method, self.budget)
        env = self.env
        root = env.start(row)
        extra: dict[str, Any] = {"env": env.name, "expansions": 0, "states": 0, "tactic_errors": 0,
                                 "env_proved_not_confirmed": 0, "checks": 1}  # the opening probe
        record.extra = extra
        if root.status != "open":
            extra["start_error"] = root.error
            record.seconds = round(time.monotonic() - started, 4)
            return record
        counter = itertools.count()
        queue = [_Queued(0.0, next(counter), root)]
        seen = {root.key}
        tried_at: dict[str, set[str]] = {}  # tactics applied at each state, over all its expansions
        gen_seconds = 0.0
        checks_before = self.stats.checks  # problems run one at a time: the difference is this problem's

        def checks_left() -> bool:
            return self.max_checks is None or 1 + self.stats.checks - checks_before < self.max_checks

        while queue and record.n < self.budget and not record.solved:
            if not checks_left():
                extra["stopped"] = "checks"
                break
            if self.max_expansions is not None and extra["expansions"] >= self.max_expansions:
                extra["stopped"] = "expansions"
                break
            if self.max_seconds is not None and time.monotonic() - started > self.max_seconds:
                extra["stopped"] = "time"
                break
            item = heapq.heappop(queue)
            extra["expansions"] += 1
            n = min(self.expand_k, self.budget - record.n)
            t0 = time.monotonic()
            completions = self._propose(row, item.result, n)
            gen_seconds += time.monotonic() - t0
            tried = tried_at.setdefault(item.result.key, set())
            for c in completions:
                if not checks_left():
                    break
                attempt, child = self._try(row, item, c, tried)
                record.attempts.append(attempt)
                if self.on_attempt:
                    self.on_attempt(row, attempt)
                if attempt.ok:
                    break
                if child is not None and child.status == "proved":
                    extra["env_proved_not_confirmed"] += 1
                if child is None:
                    continue
                if child.status == "error":
                    extra["tactic_errors"] += 1
                elif child.status == "open" and child.key not in seen and item.depth + 1 < self.max_depth:
                    seen.add(child.key)
                    lp = item.logprob + (c.logprob or 0.0)
                    heapq.heappush(queue, _Queued(-lp, next(counter), child, lp, item.depth + 1))
                    extra["states"] += 1
            if self.revisit_penalty is not None and not record.solved:
                heapq.heappush(queue, _Queued(item.priority + self.revisit_penalty, next(counter), item.result,
                                              item.logprob, item.depth))
        if not queue and not record.solved and record.n < self.budget:
            extra["stopped"] = "exhausted"
        extra["checks"] = 1 + self.stats.checks - checks_before
        record.close(record.attempts, gen_seconds, started, stop_at_first=False)
        record.stopped_early = record.solved
        return record

    def _propose(self, row: Row, state: TacticResult, n: int) -> list[Completion]:
        prefix = tactic_proof(row["formal_statement"], state.tactics) + "\n" if state.tactics else \
            tactic_proof(row["formal_statement"], [])
        prompt = resume_prompt(row, self.fmt, prefix, state.goals, getattr(self.policy, "tokenizer", None))
        seed = None if self.params.seed is None else sample_seed(
            self.params.seed, str(row.get("split", "")), str(row.get("name", "")), self._calls)
        self._calls += 1
        t0 = time.monotonic()
        out = self.policy.generate([prompt], self.params.replace(n=n, seed=seed))[0]
        self.stats.generation_seconds += time.monotonic() - t0
        self.stats.completions += len(out)
        self.stats.tokens += sum(c.num_tokens for c in out)
        return out

    def _try(self, row: Row, item: _Queued, c: Completion, tried: set[str]) -> tuple[Attempt, Optional[TacticResult]]:
        """Apply one proposed tactic: (the attempt to record, the env's result or None)."""
        tactic = clean_tactic(c.text)
        tactics = tuple(item.result.tactics) + (tactic,)
        attempt = Attempt(completion=c.text, finish_reason=c.finish_reason, num_tokens=c.num_tokens,
                          logprob=c.logprob, task={"proof": tactic_proof(row["formal_statement"], tactics)})
        if not tactic:
            attempt.why_not, attempt.task = "empty tactic", None
            return attempt, None
        if tactic in tried:
            attempt.why_not = "duplicate tactic (already applied to this state)"
            return attempt, None
        tried.add(tactic)
        result = self.env.apply(item.result.state, tactic)
        self.stats.checks += 1
        if result.verdict is not None:
            attempt.verdict = result.verdict.to_dict()
            self.stats.verification_seconds += result.verdict.seconds
        if result.status == "error":
            attempt.why_not = attempt.why_not or f"tactic failed: {result.error}"
        elif result.status == "open":
            attempt.why_not = attempt.why_not or f"open: {len(result.goals)} goal(s) left"
        else:
            verdict = self._confirm(row, tactics, result.verdict)
            attempt.verdict = verdict.to_dict()
            if not verdict.ok:
                attempt.why_not = ("the tactic environment reported a finished proof that the Checker did not "
                                   f"accept: {'; '.join(verdict.reasons)}")
        return attempt, result

    def _confirm(self, row: Row, tactics: tuple[str, ...], verdict: Optional[Verdict]) -> Verdict:
        """The Checker's verdict on the whole proof (reused when the env's verdict is already a
        Checker verdict on exactly this text)."""
        if verdict is not None and verdict.ok:
            return verdict
        task = ProofTask(formal_statement=row["formal_statement"], header=row_header(row),
                         proof=tactic_proof(row["formal_statement"], tactics))
        v = self.checker.check(task)
        self.stats.checks += 1
        self.stats.verification_seconds += v.seconds
        return v
