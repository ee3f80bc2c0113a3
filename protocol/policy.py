"""The policy interface: prompts in, n completions per prompt out. Search, evaluation and
training talk to this, not to transformers or vLLM, so either backend (or a scripted stand-in
in tests) can sit behind them with the same sampling parameters."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal, Optional, Protocol, Sequence, runtime_checkable

FinishReason = Literal["stop", "length"]


@dataclass(frozen=True)
class SamplingParams:
    """vLLM's names and meanings, so a run card reads the same for both backends.
    `stop` strings end a completion and are not part of its text. `logprobs` asks for each
    completion's summed token log-probabilities under the model (temperature 1, no top-p).
    `seeds`, when given, holds n seeds for each prompt of the call: completion j of prompt i is
    drawn from its own random stream seeded seeds[i][j], so it is the same whatever else shares
    the call (other prompts, n, batching), which is what makes a resumed eval equal an unbroken
    one. Without it, `seed` seeds the call as a whole."""

    n: int = 1
    temperature: float = 1.0
    top_p: float = 0.95
    max_tokens: int = 256
    seed: Optional[int] = None
    stop: tuple[str, ...] = ()
    logprobs: bool = False
    seeds: Optional[tuple[tuple[int, ...], ...]] = None

    def __post_init__(self) -> None:
        from lean_env.soundness.limits import check

        for name in ("n", "max_tokens", "temperature", "top_p", "seed"):  # NaN, inf, bools, floats for ints
            check(name, getattr(self, name))
        if self.n < 1:
            raise ValueError("n must be >= 1")
        if self.max_tokens < 1:
            raise ValueError("max_tokens must be >= 1")
        if not 0 < self.top_p <= 1:
            raise ValueError("top_p must be in (0, 1]")
        if self.temperature < 0:
            raise ValueError("temperature must be >= 0 (0 = greedy)")
        object.__setattr__(self, "stop", tuple(self.stop))
        if self.seeds is not None:
            seeds = tuple(tuple(check("seed", x) for x in row) for row in self.seeds)
            if any(len(row) != self.n for row in seeds):
                raise ValueError(f"seeds must give n={self.n} seeds for each prompt")
            object.__setattr__(self, "seeds", seeds)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["stop"] = list(self.stop)
        if d["seeds"] is None:  # per-call detail; run cards describe the run's sampling
            del d["seeds"]
        return d

    def replace(self, **changes) -> "SamplingParams":
        d = asdict(self)
        d.update(changes)
        return SamplingParams(**d)


@dataclass
class Completion:
    """One sampled continuation. finish_reason "length" means it hit max_tokens (cut off)."""

    text: str
    finish_reason: FinishReason
    num_tokens: int
    logprob: Optional[float] = None

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


@runtime_checkable
class Policy(Protocol):
    name: str  # what produced the completions (model path / hub id), for run cards
    backend: str  # "hf" | "vllm" | "scripted"
    tokenizer: object  # for chat templates; None when there is none

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[list[Completion]]:
        """For each prompt, params.n completions (the same seed gives the same completions)."""
        ...

    def close(self) -> None: ...


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """(text before the earliest stop string, whether one occurred)."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


@dataclass
class GenerationStats:
    """Counters a policy keeps, for benchmarks and run cards."""

    calls: int = 0
    completions: int = 0
    tokens: int = 0
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0
