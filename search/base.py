"""The one interface every search method implements, and the code they share.

A search takes a policy (protocol.policy), a Checker, sampling parameters, a budget of
model samples per problem and a prompt format, plus its own knobs in a config dataclass; it
turns dataset rows into one ProblemRecord each (search.records), so evaluation, training and
the benchmarks can swap one method for another. A method is one module that subclasses
`Search` and registers itself with `@register` (search.registry); nothing else changes.
"""
from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Iterator, Optional

from protocol.policy import Policy, SamplingParams
from protocol.prompts import get_format
from lean_env.soundness.verdict import ProofTask
from search.records import Attempt, ProblemRecord, Row


@dataclass
class SearchStats:
    """Where the time went, for reports and benchmarks."""

    generation_seconds: float = 0.0
    verification_seconds: float = 0.0  # summed over checks (they overlap each other and generation)
    wall_seconds: float = 0.0
    completions: int = 0
    tokens: int = 0
    checks: int = 0
    corrections: int = 0  # samples drawn as corrections of failed ones (search.self_correct); part of completions


def sample_seed(seed: int, split: str, name: str, index: int) -> int:
    """The seed of sample `index` of problem (split, name) in a run seeded `seed`: a function of
    these alone, so a problem's samples do not depend on batching, round sizes or on when an
    earlier run was interrupted (a resumed eval draws exactly what an unbroken one would)."""
    key = f"{seed}\0{split}\0{name}\0{index}".encode("utf-8")
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") >> 33  # 31 bits: every backend takes it


def task_dict(task: ProofTask) -> dict:
    """What an attempt records of its task (the header is the dataset row's, not repeated)."""
    return {"proof": task.proof} if task.proof is not None else {"code": task.code}


@dataclass
class NoOptions:
    """A method without knobs."""


class Search:
    """Subclasses set `name` (as --search spells it), `method` (the records' tag), `Config` (a
    dataclass of the method's knobs, every field with a default), and implement `_solve(row)`
    (one problem at a time) or override `run` (many problems in flight)."""

    name: ClassVar[str] = ""
    method: ClassVar[str] = ""
    Config: ClassVar[type] = NoOptions
    needs_continuation: ClassVar[bool] = False  # resumes a proof prefix: continuation prompt formats only

    def __init__(self, policy: Policy, checker: Any, params: SamplingParams, budget: int,
                 fmt: str = "deepseek-v1.5", config: Any = None,
                 on_attempt: Optional[Callable[[Row, Attempt], None]] = None, **options: Any):
        if budget < 1:
            raise ValueError("budget must be >= 1")
        if get_format(fmt).kind != "continuation" and self.needs_continuation:
            raise ValueError(f"{self.name} resumes proofs from a prefix, which needs a continuation prompt format "
                             f"(deepseek-v1.5 or deepseek-v1.5-cot), not {fmt!r}")
        self.policy = policy
        self.checker = checker
        self.fmt = fmt
        self.budget = budget
        self.on_attempt = on_attempt
        self.config = make_config(type(self), config, options)
        self.stats = SearchStats()
        self.params = self._sampling(params)

    def _sampling(self, params: SamplingParams) -> SamplingParams:
        """The sampling parameters this method draws with (e.g. its stop strings)."""
        return params

    # -- the interface -------------------------------------------------------------------------
    def search(self, row: Row) -> ProblemRecord:
        return next(iter(self.run([row])))

    def run(self, rows: Iterable[Row]) -> Iterator[ProblemRecord]:
        """One record per row (the default solves them one at a time, in order)."""
        for row in rows:
            start = time.monotonic()
            try:
                yield self._solve(row)
            finally:
                self.stats.wall_seconds += time.monotonic() - start

    def _solve(self, row: Row) -> ProblemRecord:
        raise NotImplementedError

    def _generate_grouped(self, row: Row, by_prompt: dict[str, list[Any]], drawn: int) -> tuple[list, float]:
        """Draw one completion for each item of `by_prompt` (prompt -> the items wanting a sample
        of it): one generate call per distinct sample count, so a prompt's items share a call.
        Each call's seed comes from (run seed, problem, `drawn` = samples the problem had drawn
        before), so a problem's samples depend on nothing outside it and a resumed run draws what
        an unbroken one would. Returns the (item, completion) pairs and the seconds generating."""
        by_n: dict[int, list[str]] = {}
        for prompt, group in by_prompt.items():
            by_n.setdefault(len(group), []).append(prompt)
        pairs: list = []
        seconds = 0.0
        for n, prompts in by_n.items():
            seed = None if self.params.seed is None else sample_seed(
                self.params.seed, str(row.get("split", "")), str(row.get("name", "")), drawn)
            drawn += n * len(prompts)
            t0 = time.monotonic()
            outs = self.policy.generate(prompts, self.params.replace(n=n, seed=seed))
            seconds += time.monotonic() - t0
            for prompt, completions in zip(prompts, outs):
                pairs += list(zip(by_prompt[prompt], completions))
        self.stats.generation_seconds += seconds
        return pairs, seconds


def make_config(cls: type, config: Any, options: dict) -> Any:
    """`config` (or the defaults) with `options` applied; an unknown knob is an error naming the
    method's knobs, so a typo never silently runs with a default."""
    known = {f.name for f in dataclasses.fields(cls.Config)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"{cls.name or cls.__name__} has no option {', '.join(unknown)}; "
                         f"its options: {', '.join(sorted(known)) or 'none'}")
    base = config if config is not None else cls.Config()
    if not isinstance(base, cls.Config):
        raise TypeError(f"{cls.name} takes a {cls.Config.__name__}, not {type(base).__name__}")
    return dataclasses.replace(base, **options)
