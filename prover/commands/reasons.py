"""One attempt's outcome in words a user can act on: the short reason shown beside every
attempt, and Lean's errors restated when they point at text the checker wrote, not the user.

Why: the checker appends its own commands after the candidate (`#print axioms ...`, see
lean_env.soundness.checkfile). A proof that stops mid-term (an unclosed bracket, a tactic without its
argument) makes Lean read on into those lines and report `unexpected token '#print'`, text the
user never wrote. Said plainly, it is "your proof ends too early", at a position in the user's text.
"""
from __future__ import annotations

import re
from typing import Optional

_CHECKER_TOKEN = re.compile(r"unexpected token '#print'")
_RESERVED_NAME = re.compile(r"_root_\.__prover_(target|check)_[0-9a-f]+|__prover_(target|check)_[0-9a-f]+")
_SHORT = 160


def _clip(text: str, limit: int = _SHORT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def reaches_checker_lines(message: dict, candidate_lines: Optional[int] = None) -> bool:
    """Whether Lean's message is about the checker's lines after the candidate: it names the
    checker's first token, or it ends (or starts) past the candidate's last line."""
    if _CHECKER_TOKEN.search(message.get("text", "")):
        return True
    line = message.get("line")
    return candidate_lines is not None and line is not None and line > candidate_lines


def explain(message: dict, candidate_lines: Optional[int] = None, short: bool = False) -> str:
    """Lean's message as `LINE:COL: text`, with positions in the user's text (line 1 is the
    statement's first line); a message about the checker's lines says what likely happened."""
    text = _RESERVED_NAME.sub("(the checker's copy of the statement)", message.get("text", ""))
    line, column = message.get("line"), message.get("column")
    if reaches_checker_lines(message, candidate_lines):
        wanted = re.search(r";\s*expected (.+)$", text.split("\n", 1)[0])
        where = ""
        if line is not None and (candidate_lines is None or line <= candidate_lines):
            where = f"line {line}:{column}: "
        head = f"{where}the proof ends too early" + (f" (Lean still wanted {wanted.group(1)})" if wanted else "")
        if short:
            return head + ": Lean read on into the checker's lines after it"
        return (head + ", so Lean read on into the checker's own lines after it (`#print axioms`, not your text); "
                "likely an unclosed bracket, an unfinished term or tactic, or a `by` with nothing after it")
    where = f"line {line}:{column}: " if line is not None else ""
    return where + text


def plain_reason(reason: str) -> str:
    """A verdict's reason with Lean's complaint about the checker's `#print` said plainly."""
    reason = _RESERVED_NAME.sub("(the checker's copy of the statement)", reason)
    return re.sub(r"unexpected token '#print'(?:; expected ([^;]+))?",
                  lambda m: "the proof ends too early" + (f" (Lean still wanted {m.group(1)})" if m.group(1) else "")
                  + ": Lean read on into the checker's lines after it", reason)


def short_reason(attempt) -> str:
    """`proved`, `rejected: LINE:COL: <Lean's first error>`, `refused: <why>`, `not checked: <why>`."""
    verdict = attempt.verdict
    if verdict is None:
        return "not checked: " + _clip(attempt.why_not or "no proof in the model's output")
    status = verdict.get("status", "?")
    if verdict.get("ok"):
        return status
    errors = verdict.get("errors") or []
    if status == "rejected" and errors:  # Lean's first error, its first line
        return f"{status}: " + _clip(explain(errors[0], short=True).split("\n", 1)[0])
    reasons = verdict.get("reasons") or []
    if reasons:
        return f"{status}: " + _clip(plain_reason(reasons[0]))
    return status
