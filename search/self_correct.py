"""Self-correction: Goedel-Prover-V2's multi-turn protocol as a search method (`--search self-correct`).

Round 0 draws `initial` answers to the ordinary chat prompt. Each answer Lean rejects gets
`per_failure` corrections in the next round, asked in the same conversation: the chat replays
the failed answer as the assistant's turn, then a user turn shows the failing code with each
error's span between `<error>` and `</error>`, Lean's message for it, and asks for an analysis
of the errors before a corrected proof. A correction that fails is corrected again in the next
round, with the whole conversation so far, up to `rounds` correction rounds. Goedel-Prover-V2
runs 8 initial samples, 2 corrections per failed sample and 2 rounds (scripts/pipeline.sh), so
the full protocol may draw 8 + 16 + 32 samples for a problem no sample solves.

Budget: every sample, initial or correction, is one Attempt and counts against the budget (-k),
so pass@k compares with best-of-n at equal samples; a round that would pass the budget takes the
failures in the order they were drawn and stops there. The record says which round each attempt
belongs to and in which round the problem was solved; SearchStats counts correction samples.

Only answers that Lean judged (rejected, or refused by the policy with a reason) are corrected;
an answer with no code to check (cut off, no block) or a check that timed out gives the model
nothing to correct. Chat formats only: a continuation model has no conversation to continue
(`--search repair` is the single-turn alternative).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Optional

from lean_env.soundness.verdict import Message, Verdict
from protocol.extract import extract
from protocol.prompts import build_prompt, get_format, render_chat
from search.base import Search, task_dict
from search.records import Attempt, ProblemRecord, Row
from search.registry import register

CONTEXT_BEFORE = 4  # code lines shown above an error's first line (Goedel-Prover-V2 shows 4, and 1 after)
CONTEXT_AFTER = 1


def mark_error(code: str, m: Message) -> str:
    """The lines around message `m` in `code`, its span wrapped in <error></error> (to the end of
    its line when Lean gave no end)."""
    lines = code.split("\n")
    if m.line is None or not 1 <= m.line <= len(lines):
        return ""
    first = m.line - 1
    last = first if m.end_line is None else min(max(m.end_line - 1, first), len(lines) - 1)
    start = min(m.column or 0, len(lines[first]))
    end = len(lines[last]) if m.end_line is None or m.end_column is None else min(m.end_column, len(lines[last]))
    if last == first:
        end = max(end, start)
        marked = [lines[first][:start] + "<error>" + lines[first][start:end] + "</error>" + lines[first][end:]]
    else:
        marked = ([lines[first][:start] + "<error>" + lines[first][start:]] + lines[first + 1:last]
                  + [lines[last][:end] + "</error>" + lines[last][end:]])
    shown = lines[max(0, first - CONTEXT_BEFORE):first] + marked + lines[last + 1:last + 1 + CONTEXT_AFTER]
    return "\n".join(shown)


def error_report(code: str, verdict: Verdict, max_errors: int = 8) -> str:
    """Every error of the verdict (at most `max_errors`), each as the marked code and Lean's
    message; a verdict without positioned errors (a sorry, a refusal) gives its reasons."""
    parts = []
    errors = [m for m in verdict.errors if m.line is not None]
    for i, m in enumerate(errors[:max_errors], 1):
        where = f"line {m.line}, column {m.column}" if m.column is not None else f"line {m.line}"
        parts.append(f"Error {i} ({where}):\n```lean4\n{mark_error(code, m)}\n```\nLean's message: {m.text.strip()}")
    if len(errors) > max_errors:
        parts.append(f"({len(errors) - max_errors} more errors not shown)")
    if not parts:
        parts.append("```lean4\n" + code.rstrip("\n") + "\n```\n" + "\n".join(f"- {r}" for r in verdict.reasons))
    return "\n\n".join(parts)


def feedback_message(round_no: int, report: str) -> str:
    """The user turn that asks for a correction (this project's wording of Goedel-V2's request)."""
    return (f"The proof you gave in round {round_no} does not compile. Here is every error Lean reported: "
            f"the code around it, with the erroneous text between <error> and </error>, and Lean's message.\n\n"
            f"{report}\n\nFirst analyse the error messages and why the proof fails. Then write a corrected, "
            "complete proof of the theorem in a ```lean4 block.")


@dataclass
class SelfCorrectConfig:
    initial: int = 8  # answers drawn in round 0 (the budget caps it)
    per_failure: int = 2  # corrections drawn for each failed answer of the previous round
    rounds: int = 2  # correction rounds after round 0
    max_errors: int = 8  # errors shown per feedback turn


@dataclass
class _Turn:
    """One answer and the conversation that asked for it."""

    messages: list[dict[str, str]]
    round: int
    attempt: Attempt = field(default_factory=lambda: Attempt(completion=""))
    code: Optional[str] = None
    verdict: Optional[Verdict] = None


@register
class SelfCorrect(Search):
    """A ProblemRecord per problem (`method` "self_correct"); `extra` holds each attempt's round,
    the samples drawn per round and the round that solved the problem."""

    name = "self-correct"
    method = "self_correct"
    Config = SelfCorrectConfig

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if get_format(self.fmt).kind != "chat":
            raise ValueError(f"self-correct continues a conversation, which needs a chat prompt format "
                             f"(deepseek-v2, goedel-v2 or kimina), not {self.fmt!r}; --search repair works with any")
        c = self.config
        if c.initial < 1 or c.per_failure < 1 or c.rounds < 0 or c.max_errors < 1:
            raise ValueError("self-correct needs initial >= 1, per_failure >= 1, rounds >= 0 and max_errors >= 1")

    def _solve(self, row: Row) -> ProblemRecord:
        started = time.monotonic()
        tokenizer = getattr(self.policy, "tokenizer", None)
        base = build_prompt(row, self.fmt, tokenizer).messages or []
        turns: list[_Turn] = []
        gen_seconds = 0.0
        wanted = [_Turn(list(base), 0) for _ in range(min(self.config.initial, self.budget))]
        for round_no in range(self.config.rounds + 1):
            if not wanted:
                break
            gen_seconds += self._draw(row, wanted, len(turns), tokenizer)
            self._check(row, wanted)
            turns += wanted
            if round_no:
                self.stats.corrections += len(wanted)
            if any(t.attempt.ok for t in wanted):
                break
            wanted = self._corrections(wanted, round_no + 1, self.budget - len(turns))
        record = ProblemRecord.for_row(row, self.method, self.budget)
        record.close([t.attempt for t in turns], gen_seconds, started)
        drawn = [t.round for t in turns]
        rounds = drawn[: record.n]  # the record keeps attempts up to the first proof
        solved = record.first_success_index
        record.extra = {"rounds": rounds, "drawn_per_round": [drawn.count(r) for r in range(max(drawn, default=-1) + 1)],
                        "solved_in_round": None if solved is None else rounds[solved],
                        "initial": self.config.initial, "per_failure": self.config.per_failure,
                        "correction_rounds": self.config.rounds}
        return record

    def _draw(self, row: Row, turns: list[_Turn], drawn: int, tokenizer: Any) -> float:
        by_prompt: dict[str, list[_Turn]] = {}
        for t in turns:
            by_prompt.setdefault(render_chat(t.messages, tokenizer), []).append(t)
        pairs, seconds = self._generate_grouped(row, by_prompt, drawn)
        for t, c in pairs:
            self.stats.completions += 1
            self.stats.tokens += c.num_tokens
            t.attempt = Attempt(completion=c.text, finish_reason=c.finish_reason, num_tokens=c.num_tokens,
                                logprob=c.logprob)
        return seconds

    def _check(self, row: Row, turns: list[_Turn]) -> None:
        futures = []
        for t in turns:
            ex = extract(row, t.attempt.completion, self.fmt, truncated=t.attempt.finish_reason == "length")
            if ex.task is None:
                t.attempt.why_not = ex.reason
                futures.append(None)
                continue
            t.attempt.task = task_dict(ex.task)
            t.code = ex.task.code
            futures.append(self.checker.submit(ex.task))
        for t, fut in zip(turns, futures):  # the round's checks run in parallel on the Checker's threads
            if fut is not None:
                t.verdict = fut.result()
                t.attempt.verdict = t.verdict.to_dict()
                self.stats.checks += 1
                self.stats.verification_seconds += t.verdict.seconds
            if self.on_attempt:
                self.on_attempt(row, t.attempt)

    def _corrections(self, failed: list[_Turn], round_no: int, room: int) -> list[_Turn]:
        """`per_failure` follow-ups of each correctable answer, in order, while the budget lasts."""
        out: list[_Turn] = []
        for t in failed:
            v = t.verdict
            if v is None or v.ok or v.status not in ("rejected", "refused") or t.code is None:
                continue
            turn = {"role": "user", "content": feedback_message(round_no - 1, error_report(t.code, v, self.config.max_errors))}
            history = t.messages + [{"role": "assistant", "content": t.attempt.completion}, turn]
            for _ in range(self.config.per_failure):
                if len(out) >= room:
                    return out
                out.append(_Turn(history, round_no))
        return out
