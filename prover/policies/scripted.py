"""A policy that answers from a script: for tests and demos of search and evaluation without a
model. It only stands in for generation; the completions it returns are still checked by the
real Checker, so verdicts stay real."""
from __future__ import annotations

from typing import Callable, Mapping, Sequence, Union

from protocol.policy import Completion, GenerationStats, SamplingParams, cut_at_stop

Script = Union[Mapping[str, Sequence[str]], Callable[[str, int], str]]


class ScriptedPolicy:
    """`script` maps a substring of the prompt (e.g. the theorem name) to the completions to
    give, in order (cycling when more are asked), or is a function (prompt, index) -> text.
    Index counts every completion given for that prompt so far, so rounds continue the list."""

    backend = "scripted"
    tokenizer = None

    def __init__(self, script: Script, name: str = "scripted", default: str = ""):
        self.script = script
        self.name = name
        self.default = default
        self.calls: list[tuple[list[str], SamplingParams]] = []
        self._given: dict[str, int] = {}
        self.stats = GenerationStats()

    def _next(self, prompt: str) -> str:
        i = self._given.get(prompt, 0)
        self._given[prompt] = i + 1
        if callable(self.script):
            return self.script(prompt, i)
        # the longest key wins, so "thm_1" does not also match "thm_10"
        for key in sorted(self.script, key=len, reverse=True):
            if key in prompt:
                texts = self.script[key]
                return texts[i % len(texts)]
        return self.default

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[list[Completion]]:
        self.calls.append((list(prompts), params))
        out = []
        for p in prompts:
            row = []
            for _ in range(params.n):
                text, _stopped = cut_at_stop(self._next(p), params.stop)
                row.append(Completion(text, "stop", len(text.split()), 0.0 if params.logprobs else None))
            out.append(row)
        self.stats.calls += 1
        self.stats.completions += sum(len(r) for r in out)
        return out

    def close(self) -> None:
        pass


class DicePolicy:
    """A stand-in model whose samples are random in their seeds: a problem's reference proof
    with probability `p`, else a wrong one. Like transformers, without per-sample `seeds` one
    generator draws the whole call, so a sample then depends on what shares its call: this is
    what the seeding of resumed runs is measured and tested with (benchmarks/faults.py)."""

    backend, name, tokenizer = "dice", "dice", None

    def __init__(self, proofs: Mapping[str, str], p: float = 0.25):
        self.proofs, self.p = dict(proofs), p
        self.calls = 0

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[list[Completion]]:
        import random
        import re

        self.calls += 1
        shared = random.Random(params.seed)
        out = []
        for i, prompt in enumerate(prompts):
            name = re.search(r"theorem (\S+)", prompt).group(1)
            row = []
            for j in range(params.n):
                rng = random.Random(params.seeds[i][j]) if params.seeds else shared
                text = self.proofs[name] if rng.random() < self.p else f" fun h => h -- {rng.randrange(1000)}"
                row.append(Completion(text, "stop", 3))
            out.append(row)
        return out

    def close(self) -> None:
        pass
