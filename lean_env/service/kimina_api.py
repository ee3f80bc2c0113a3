"""Kimina Lean Server's `/api/check` shapes, mapped onto ProofTask and Verdict.

Kimina's request: {"snippets": [{"id", "code"}], "timeout", "debug", "reuse", "infotree"}; its
answer: {"results": [{"id", "time", "error", "response": {"messages", "sorries", ...}}]} with
REPL-style messages ({"severity", "pos": {"line", "column"}, "endPos", "data"}). Clients such as
PyPI `kimina-client` judge a snippet by "no error message and no sorry". Here a snippet is checked as a
proof: its leading `prelude`/`import` lines are the header (they select the environment), its
last `theorem`/`lemma` is the target, and the whole Checker (allowlist, sandbox, statement and axiom
checks) decides. A verdict that is not ok always carries at least one error message (the
Checker's reasons), so a client that only reads messages still gets the sound answer; the full
Verdict rides along as `response.verdict` (clients that validate the response drop the extra key).
"""
from __future__ import annotations

import re
from typing import Optional

from pydantic import BaseModel, Field

from lean_env.soundness.messages import SORRY_WARNING_RE
from lean_env.soundness.statement import _NAME_RE, StatementError, find_declaration, strip_comments
from lean_env.soundness.verdict import Message, ProofTask, Verdict

_HEADER_LINE = re.compile(r"^\s*(prelude|import\s+\S.*)?\s*$")


class Snippet(BaseModel):
    id: str = Field(..., description="identifier echoed in the result")
    code: str = Field(..., description="a Lean file: header (prelude/import lines), then the theorem and its proof")


class CheckRequest(BaseModel):
    snippets: list[Snippet] = Field(..., min_length=1, description="snippets to check (ids unique)")
    timeout: float = Field(30, ge=0, description="seconds per snippet (0: the server's default; capped by the server)")
    debug: bool = Field(False, description="accepted for compatibility; the verdict is always included")
    reuse: bool = Field(True, description="accepted for compatibility; workers always keep their header")
    infotree: Optional[str] = Field(None, description="accepted for compatibility; no info tree is produced")


def split_header(code: str) -> tuple[str, str]:
    """(header, body): the leading prelude/import lines (and blank or comment-only lines among
    them), and the rest with those lines blanked, so Lean's line numbers are the snippet's own."""
    lines = code.split("\n")
    bare = strip_comments(code).split("\n")
    n = 0
    while n < len(lines) and _HEADER_LINE.match(bare[n]):
        n += 1
    # trailing blank/comment lines belong to the body (a docstring may open just before the theorem)
    while n > 0 and not bare[n - 1].strip():
        n -= 1
    header = "\n".join(lines[:n]) + ("\n" if n else "")
    return header, "\n" * n + "\n".join(lines[n:])


def snippet_task(snippet: Snippet, timeout: Optional[float]) -> ProofTask:
    """The ProofTask for a snippet; ValueError (naming what to fix) when it has no theorem."""
    header, body = split_header(snippet.code)
    names = [m.group(2) for m in _NAME_RE.finditer(strip_comments(body))]
    if not names:
        raise ValueError("the snippet declares no `theorem` or `lemma`: this server checks proofs, "
                         "and the last theorem in the snippet is the one it checks")
    name = names[-1]
    span = find_declaration(body, name)
    if span is None or span[1] >= len(body):
        raise ValueError(f"`theorem {name}` has no `:=`")
    statement = strip_comments(body)[span[0]: span[1]].strip() + " :="
    try:
        return ProofTask(formal_statement=statement, header=header, code=body, name=name, timeout=timeout)
    except StatementError as exc:
        raise ValueError(str(exc)) from None


def _pos(line: Optional[int], column: Optional[int]) -> dict:
    return {"line": line or 0, "column": column or 0}


def _message(m: Message) -> dict:
    sev = {"information": "info"}.get(m.severity, m.severity)
    end = None if m.end_line is None else _pos(m.end_line, m.end_column)
    return {"severity": sev, "pos": _pos(m.line, m.column), "endPos": end, "data": m.text}


def result(snippet_id: str, verdict: Verdict, declared_line: int = 1) -> dict:
    """A Kimina result for one verdict. Kimina sets exactly one of `error` (the check did not
    finish: timeout, crash) and `response` (what Lean said). Lean's messages keep the snippet's
    line numbers; a verdict that is not ok and has no Lean error gets one error naming its reasons."""
    if verdict.status in ("timeout", "crashed"):
        why = "; ".join(verdict.reasons) or verdict.status
        # Kimina's clients read "timed out" in `error` as a timeout
        return {"id": snippet_id, "time": verdict.seconds, "error": ("Lean timed out: " + why)
                if verdict.status == "timeout" else "Lean crashed: " + why, "response": None}
    msgs = sorted(verdict.errors + verdict.warnings + verdict.infos, key=lambda m: (m.line or 0, m.column or 0))
    messages = [_message(m) for m in msgs]
    sorries = [{"pos": _pos(m.line, m.column), "endPos": _pos(m.end_line or m.line, m.end_column), "goal": ""}
               for m in verdict.warnings if SORRY_WARNING_RE.search(m.text)]
    if not verdict.ok and not verdict.errors:
        messages.append({"severity": "error", "pos": {"line": declared_line, "column": 0}, "endPos": None,
                         "data": f"not a proof of the target ({verdict.status}): " + "; ".join(verdict.reasons)})
    return {"id": snippet_id, "time": verdict.seconds, "error": None,
            "response": {"messages": messages, "sorries": sorries, "verdict": verdict.to_dict()}}


def error_result(snippet_id: str, why: str) -> dict:
    """A snippet that could not be turned into a check (Kimina puts such failures in `error`)."""
    return {"id": snippet_id, "time": 0.0, "error": why, "response": None}


def declared_line(task: ProofTask) -> int:
    span = find_declaration(task.code or "", task.name)
    return 1 if span is None else (task.code or "")[: span[0]].count("\n") + 1
