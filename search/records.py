"""The per-problem record every search method returns (best-of-n now; MCTS and best-first
search later): what was tried, what Lean said, and the counts pass@k needs. Evaluation writes
one record per jsonl line and reads them back to resume and to report."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Optional

# A dataset row as searches read it (name, split, header, formal_statement, informal_prefix ...).
Row = Mapping[str, Any]


@dataclass
class Attempt:
    """One model output. `task` is what was sent to the Checker ({"proof": ...} or {"code": ...}),
    None when extraction found nothing to check (`why_not` says why); `verdict` is the
    Checker's Verdict as a dict (None when nothing was checked)."""

    completion: str
    task: Optional[dict] = None
    why_not: str = ""
    verdict: Optional[dict] = None
    finish_reason: str = ""
    num_tokens: int = 0
    logprob: Optional[float] = None

    @property
    def ok(self) -> bool:
        return bool(self.verdict and self.verdict.get("ok"))


@dataclass
class ProblemRecord:
    """n attempts were made and judged, c of them proofs. With `stopped_early` the search stopped
    at its first proof: attempts are then the prefix up to and including it (n = index + 1), and
    pass@k is read from first_success_index (see search.metrics)."""

    name: str
    split: str = ""
    source: str = ""
    method: str = "best_of_n"
    budget: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    stopped_early: bool = False
    seconds: float = 0.0
    generation_seconds: float = 0.0
    verification_seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @classmethod
    def for_row(cls, row: Mapping[str, Any], method: str, budget: int) -> "ProblemRecord":
        """An empty record for a dataset row (name, split and source taken from it)."""
        return cls(name=str(row.get("name", "")), split=str(row.get("split", "")),
                   source=str(row.get("source", "")), method=method, budget=budget)

    def close(self, attempts: list[Attempt], generation_seconds: float, started: float,
              stop_at_first: bool = True) -> None:
        """Store a finished search's attempts (up to its first proof when it stops there) and
        its times (`started`: time.monotonic() when the problem began)."""
        ok = next((i for i, a in enumerate(attempts) if a.ok), None)
        if stop_at_first and ok is not None:
            self.attempts, self.stopped_early = attempts[: ok + 1], True
        else:
            self.attempts = attempts
        self.generation_seconds = round(generation_seconds, 4)
        self.verification_seconds = round(sum((a.verdict or {}).get("seconds", 0.0) for a in self.attempts), 4)
        self.seconds = round(time.monotonic() - started, 4)

    @property
    def n(self) -> int:
        return len(self.attempts)

    @property
    def c(self) -> int:
        return sum(a.ok for a in self.attempts)

    @property
    def solved(self) -> bool:
        return self.c > 0

    @property
    def first_success_index(self) -> Optional[int]:
        return next((i for i, a in enumerate(self.attempts) if a.ok), None)

    def best_attempt(self) -> Optional[Attempt]:
        """The first proof; else the checked attempt with the fewest errors; else the first."""
        if not self.attempts:
            return None
        if self.solved:
            return self.attempts[self.first_success_index]  # type: ignore[index]
        checked = [a for a in self.attempts if a.verdict is not None]
        if checked:
            return min(checked, key=lambda a: (a.verdict.get("status") != "rejected", len(a.verdict.get("errors") or [])))
        return self.attempts[0]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(n=self.n, c=self.c, solved=self.solved, first_success_index=self.first_success_index)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ProblemRecord":
        d = {k: v for k, v in d.items() if k not in ("n", "c", "solved", "first_success_index")}
        d["attempts"] = [Attempt(**a) for a in d.get("attempts", [])]
        return cls(**d)
