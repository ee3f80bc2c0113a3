"""Lean's messages in the three shapes backends receive them, turned into `Message`s.

- `lean --json`: one JSON object per line: severity, pos {line, column}, endPos, data.
- REPL: {"messages": [{severity, pos, endPos, data}], "sorries": [{pos, endPos, goal, proofState}]}
- LSP: textDocument/publishDiagnostics: range {start {line, character}} 0-based lines, severity 1..4.
Lean lines are 1-based, columns 0-based (codepoints); we keep that convention throughout.
"""
from __future__ import annotations

import json
import re
from typing import Iterable, Optional

from lean_env.soundness.verdict import Message

_LSP_SEVERITY = {1: "error", 2: "warning", 3: "information", 4: "information"}
# `lean --json` writes "information"; the REPL writes "info" (and "trace" for trace output)
_SEVERITY_NAMES = {"info": "information", "trace": "information"}
# Lean <= 4.2x writes 'sorry', Lean 4.35 writes `sorry`
SORRY_WARNING_RE = re.compile(r"declaration uses ['`]sorry['`]")
_AXIOMS_RE = re.compile(r"^'(?P<name>.+?)' depends on axioms: \[(?P<axioms>.*)\]\s*$", re.DOTALL)
_NO_AXIOMS_RE = re.compile(r"^'(?P<name>.+?)' does not depend on any axioms\s*$")


def _pos(d: Optional[dict]) -> tuple[Optional[int], Optional[int]]:
    if not d:
        return None, None
    return d.get("line"), d.get("column")


def from_lean_json(obj: dict) -> Message:
    """One message object from `lean --json` or the REPL's `messages` list."""
    line, col = _pos(obj.get("pos"))
    end_line, end_col = _pos(obj.get("endPos"))
    severity = str(obj.get("severity", "error"))
    return Message(severity=_SEVERITY_NAMES.get(severity, severity), text=str(obj.get("data", "")),
                   line=line, column=col, end_line=end_line, end_column=end_col)


MAX_MESSAGES = 10_000  # more than any real proof draws; past it the rest is not parsed


def parse_lean_json_output(stdout: str) -> tuple[list[Message], list[str]]:
    """All messages in `lean --json` stdout, plus any lines that were not JSON (Lean prints
    panics and uncaught exceptions as plain text). Lean ends each message with "\n" and escapes
    nothing else, so a U+2028 or a form feed inside a message must not split it: split on "\n"
    only. At most MAX_MESSAGES messages are read."""
    messages, other = [], []
    for raw in stdout.split("\n"):
        if len(messages) >= MAX_MESSAGES:
            other.append(f"(output cut after {MAX_MESSAGES} messages)")
            break
        raw = raw.strip()
        if not raw:
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError:
            other.append(raw)
            continue
        if isinstance(obj, dict) and "severity" in obj:
            messages.append(from_lean_json(obj))
        else:
            other.append(raw)
    return messages, other


def utf16_to_codepoints(line_text: str, character: int) -> int:
    """LSP counts columns in UTF-16 code units; Lean's other outputs count codepoints."""
    units = 0
    for i, ch in enumerate(line_text):
        if units >= character:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line_text) if units >= character else character


def from_lsp_diagnostic(diag: dict, lines: Optional[list[str]] = None) -> Message:
    """One LSP diagnostic. With the document's `lines`, columns become codepoints (as `lean --json`)."""
    rng = diag.get("fullRange") or diag.get("range") or {}
    start, end = rng.get("start", {}), rng.get("end", {})

    def col(p: dict) -> Optional[int]:
        c, ln = p.get("character"), p.get("line", 0)
        if c is None or lines is None or not 0 <= ln < len(lines):
            return c
        return utf16_to_codepoints(lines[ln], c)

    return Message(
        severity=_LSP_SEVERITY.get(int(diag.get("severity", 1)), "error"),
        text=str(diag.get("message", "")),
        line=start.get("line", 0) + 1 if start else None,
        column=col(start) if start else None,
        end_line=end.get("line", 0) + 1 if end else None,
        end_column=col(end) if end else None,
    )


def messages_from_repl(response: dict) -> list[Message]:
    """The `messages` of a REPL command or tactic response (omitted by the REPL when empty)."""
    return [from_lean_json(m) for m in response.get("messages", []) or [] if isinstance(m, dict)]


def sorries_from_repl(response: dict) -> list[Message]:
    """The REPL lists each `sorry` separately (with its goal); make them warnings we can count."""
    out = []
    for s in response.get("sorries", []) or []:
        line, col = _pos(s.get("pos"))
        end_line, end_col = _pos(s.get("endPos"))
        out.append(Message("warning", f"sorry (goal: {s.get('goal', '')})", line, col, end_line, end_col))
    return out


def is_sorry_warning(m: Message) -> bool:
    return m.severity == "warning" and bool(SORRY_WARNING_RE.search(m.text))


def parse_axioms(text: str) -> Optional[tuple[str, list[str]]]:
    """(name, axioms) from a `#print axioms NAME` message, or None if the text is not one."""
    text = text.strip()
    m = _NO_AXIOMS_RE.match(text)
    if m:
        return m.group("name"), []
    m = _AXIOMS_RE.match(text)
    if m:
        return m.group("name"), [a.strip() for a in m.group("axioms").replace("\n", " ").split(",") if a.strip()]
    return None


def shift(messages: Iterable[Message], lines: int) -> list[Message]:
    """Move messages up by `lines` (e.g. from file coordinates to body coordinates)."""
    out = []
    for m in messages:
        out.append(Message(m.severity, m.text,
                           None if m.line is None else m.line - lines, m.column,
                           None if m.end_line is None else m.end_line - lines, m.end_column))
    return out


def environment_error(error: str) -> str:
    """A header's first Lean error, in words that name the fix."""
    first = error.strip().split("\n")[0]
    m = re.match(r"unknown module prefix '([^']+)'", first)
    if m and m.group(1) == "Init":
        fix = ("this Lean has no Init library (the bundled Lean checks `prelude` files only): use "
               "`env: logic`, a header that starts with `prelude`, or a Mathlib profile (`prover setup`)")
    elif m:
        fix = (f"module `{m.group(1)}` is not installed for this Lean: install the environment that has it "
               "(`prover setup PROFILE`; `prover doctor` lists them) or fix the header's imports")
    else:
        fix = "fix the task's header (or its `env`)"
    return f"the environment header has errors: {first[:200]}; {fix}"
