"""Policy rollouts of a step policy: from a proof state, one sampled tactic at a time, until
Lean says the proof is done, a tactic fails, or the depth runs out. No branching, no retry.

Why: a rollout is the step policy's single attempt, so the fraction of rollouts that prove a
theorem is its pass@1 (what GRPO's target is stated in), and a rollout from a state after a
given tactic is that tactic's Monte Carlo value, a binary reward that only Lean decides
(prover.rewards.StepReward). Rollouts run in lockstep: each round generates the next tactic of
every live rollout in one batch, then applies them on the Checker's `server` pool in parallel.

A rollout counts as proved only when the Checker accepts the whole proof text (statement,
every tactic from the start); ServerTacticEnv's "proved" is exactly that verdict.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from protocol.policy import SamplingParams
from search.bfs import TACTIC_STOP
from search.records import Row
from search.step_data import bfs_prefix
from search.tactic_env import ServerTacticEnv, TacticResult, resume_prompt


@dataclass
class Rollout:
    """One rollout: its row, the state it is at, and what it cost."""

    row: Row
    state: TacticResult
    first: Optional[str] = None  # the tactic to apply first instead of sampling one
    checks: int = 0  # Lean checks spent (tactics applied)
    samples: int = 0  # tactics sampled from the policy
    failed_here: int = 0  # sampled tactics that failed at the current state (retries spent)

    @property
    def proved(self) -> bool:
        return self.state.status == "proved"


def state_at(row: Row, tactics: Sequence[str], goals: Sequence[str]) -> TacticResult:
    """The open state reached by `tactics` whose goals Lean reported as `goals` (a walked
    reference proof's step), without a Lean check."""
    return TacticResult("open", list(goals), tuple(tactics), tuple(tactics))


def run_rollouts(policy: Any, checker: Any, fmt: str, rollouts: list[Rollout], params: SamplingParams,
                 max_depth: int = 24, workers: Optional[int] = None, retries: int = 0) -> list[Rollout]:
    """Advance every rollout until it is proved, fails or has `max_depth` tactics; returns them.
    With `retries`, a sampled tactic that fails is dropped and another sampled at the same state,
    up to that many times a state (a rollout's `first` tactic is never retried: it is the one
    being judged). `params.seed` (when set) makes each round's batch reproducible; round r uses
    seed + r."""
    workers = workers or max(1, getattr(checker, "workers", 1))

    def apply(r: Rollout, tactic: str, retry: bool = False) -> None:
        env = ServerTacticEnv(checker)
        env.row = r.row  # the state is the script itself: no probe needed to resume it
        before = r.state
        r.state = env.apply(r.state.tactics, tactic)
        r.checks += 1
        if r.state.status == "error" and retry and r.failed_here < retries:
            r.state, r.failed_here = before, r.failed_here + 1
        elif r.state.status == "open":
            r.failed_here = 0

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rollout") as pool:
        firsts = [r for r in rollouts if r.first is not None and r.state.status == "open"]
        list(pool.map(lambda r: apply(r, r.first), firsts))
        for rnd in range(max_depth * (1 + retries)):
            live = [r for r in rollouts if r.state.status == "open" and len(r.state.tactics) < max_depth]
            if not live:
                break
            prompts = [resume_prompt(r.row, fmt, bfs_prefix(r.row["formal_statement"], r.state.tactics),
                                     r.state.goals, getattr(policy, "tokenizer", None)) for r in live]
            seed = None if params.seed is None else params.seed + rnd
            outs = policy.generate(prompts, params.replace(n=1, seed=seed, stop=TACTIC_STOP))
            for r in live:
                r.samples += 1
            list(pool.map(lambda pair: apply(*pair, True), [(r, out[0].text if out else "") for r, out in zip(live, outs)]))
    return rollouts


def from_roots(checker: Any, rows: Sequence[Row], n: int) -> tuple[list[Rollout], int]:
    """`n` rollouts at the opening state of each row (one Lean probe a row, as BFS spends):
    (the rollouts, row by row, n each; the probes' Lean checks). A row whose statement does
    not elaborate gets failed rollouts."""
    out: list[Rollout] = []
    for row in rows:
        root = ServerTacticEnv(checker).start(row)
        out += [Rollout(row, root, checks=0) for _ in range(n)]
    return out, len(rows)
