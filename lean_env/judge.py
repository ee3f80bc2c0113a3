"""Turn what Lean said about a composed check file into a Verdict. Every backend ends here,
so the rules for `ok` live in exactly one place.

ok needs positive evidence, not just silence: Lean finished, reported no error anywhere, no
sorry; the kernel accepted `@NAME` at the target's type; `#print axioms NAME` ran (on our
line, not on a line the candidate wrote) and listed only standard axioms; and, for a code
block, the theorem is stated with exactly the target's text.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from lean_env.checkfile import CheckFile
from lean_env.messages import is_sorry_warning, parse_axioms
from lean_env.statement import find_declaration, normalize_ws, statement_signature, strip_comments
from lean_env.verdict import NATIVE_AXIOMS, STANDARD_AXIOMS, Message, ProofTask, Verdict

_HEARTBEAT_MARKERS = ("(deterministic) timeout", "maximum recursion depth has been reached")
_MEMORY_MARKERS = ("out of memory", "memory limit", "std::bad_alloc", "failed to create thread",
                   "excessive memory consumption")


@dataclass
class RunOutcome:
    """What a backend observed, in body coordinates (line 1 = the body's first line)."""

    messages: list[Message]
    seconds: float
    timed_out: bool = False
    crash: Optional[str] = None  # why the process died or misbehaved, in words
    extra_output: list[str] = field(default_factory=list)  # non-message output (panics)
    sorries: list[Message] = field(default_factory=list)  # REPL lists sorries separately


def _relocate(m: Message, cf: CheckFile) -> tuple[str, Message]:
    """(region, message with candidate-relative lines). Regions: header, target, candidate, checks."""
    if m.line is None:
        return "unknown", m
    if m.line <= 0:
        return "header", Message(m.severity, m.text, m.line + cf.header_lines, m.column,
                                 None if m.end_line is None else m.end_line + cf.header_lines, m.end_column)
    off = cf.candidate_start - 1
    rel = Message(m.severity, m.text, m.line - off, m.column,
                  None if m.end_line is None else m.end_line - off, m.end_column)
    if m.line < cf.candidate_start:
        return "target", m
    if m.line <= cf.candidate_end:
        return "candidate", rel
    if m.line in (cf.check_line, cf.check_line + 1):
        return "checks", m
    return "candidate", rel  # trailing lines Lean attributes past the candidate (e.g. parse errors at EOF)


def _first(msgs: list[Message]) -> str:
    m = msgs[0]
    text = m.text.strip().replace("\n", " ")
    if len(text) > 300:
        text = text[:300] + "…"
    return (f"line {m.line}:{m.column}: " if m.line is not None else "") + text


def judge(task: ProofTask, cf: CheckFile, run: RunOutcome, backend: str, isolation: str) -> Verdict:
    v = Verdict(name=task.name, ok=False, status="rejected", seconds=round(run.seconds, 4),
                backend=backend, isolation=isolation)
    regions: dict[str, list[Message]] = {}
    for m in run.messages:
        region, rel = _relocate(m, cf)
        regions.setdefault(region, []).append(rel)
    candidate = regions.get("candidate", []) + regions.get("unknown", [])
    v.errors = [m for m in candidate if m.severity == "error"]
    v.warnings = [m for m in candidate if m.severity == "warning"]
    v.infos = [m for m in candidate if m.severity == "information"]
    v.sorries = len(run.sorries) or sum(is_sorry_warning(m) for m in run.messages)
    all_errors = [m for m in run.messages if m.severity == "error"]
    header_errors = [m for m in regions.get("header", []) if m.severity == "error"]
    target_errors = [m for m in regions.get("target", []) if m.severity == "error"]
    reasons: list[str] = []

    if run.timed_out:
        v.status = "timeout"
        reasons.append(f"Lean did not finish within the {task.timeout or 'configured'} s time limit and was killed")
    elif run.crash:
        v.status = "crashed"
        reasons.append(run.crash)
    for line in run.extra_output:
        reasons.append(f"Lean printed unexpected output: {line[:200]}")
        if v.status == "rejected" and any(k in line.lower() for k in _MEMORY_MARKERS):
            v.status = "crashed"

    # resource exhaustion is not a wrong proof, wherever in the file Lean noticed it
    memory_errors = [m for m in all_errors if any(k in m.text.lower() for k in _MEMORY_MARKERS)]
    if memory_errors and v.status == "rejected":
        v.status = "crashed"
        reasons.append("Lean exceeded its memory limit: " + _first(memory_errors))
    heartbeat_errors = [m for m in all_errors if any(k in m.text for k in _HEARTBEAT_MARKERS)]
    if heartbeat_errors and v.status == "rejected":
        v.status = "timeout"

    if header_errors:
        reasons.append("the environment header has errors: " + _first(header_errors))
    if target_errors:
        reasons.append("the target statement does not elaborate in this environment: " + _first(target_errors))
    if v.errors:
        reasons.append(f"Lean reported {len(v.errors)} error(s) in the proof; first: {_first(v.errors)}")
    if v.sorries:
        reasons.append("the proof uses sorry (or admit)")

    checks = regions.get("checks", [])
    check_errors = [m for m in checks if m.severity == "error"]
    axioms_msgs = [m for m in checks if m.line == cf.check_line + 1 and m.severity == "information"]
    parsed = parse_axioms(axioms_msgs[0].text) if axioms_msgs else None
    defeq_errors = [m for m in check_errors if m.line == cf.check_line]
    if check_errors and not v.errors and not run.timed_out and not run.crash:
        if defeq_errors:
            reasons.append(f"no theorem `{task.name}` with exactly the target statement was proved: "
                           + _first(defeq_errors))
        else:
            reasons.append("the axiom check failed: " + _first(check_errors))
    if parsed is None:
        if not reasons:
            reasons.append("Lean finished without reporting the axioms of the theorem, so the proof cannot be confirmed")
    else:
        _, axioms = parsed
        v.axioms = axioms
        if "sorryAx" in axioms and not v.sorries and not all_errors:
            # (with errors, Lean's error recovery puts sorryAx in the term itself: not the author's sorry)
            v.sorries = 1
            reasons.append("the proof uses sorry (or admit)")
        native = [a for a in axioms if a in NATIVE_AXIOMS]
        if native and not task.allow_native_decide:
            reasons.append(f"the proof uses native_decide ({', '.join(native)}), which trusts the compiler; "
                           "not accepted unless native_decide is allowed")
        other = [a for a in axioms if a not in STANDARD_AXIOMS | NATIVE_AXIOMS | {"sorryAx"}]
        if other:
            reasons.append(f"the proof depends on non-standard axioms: {', '.join(other)}")

    if task.code is not None:
        reasons += _statement_reasons(task)
    if all_errors and not reasons:
        reasons.append("Lean reported an error: " + _first(all_errors))

    v.reasons = reasons
    if not reasons and v.status == "rejected":
        v.status, v.ok = "proved", True
    return v


def _statement_reasons(task: ProofTask) -> list[str]:
    """Text check for code blocks: the theorem must be stated exactly as the target."""
    span = find_declaration(task.code or "", task.name)
    if span is None:
        return [f"the code does not declare `theorem {task.name}`"]
    stated = strip_comments(task.code or "")[span[0] : span[1]]
    want = statement_signature(task.formal_statement)
    got = normalize_ws(stated.replace("lemma", "theorem", 1))
    if got != want:
        return [f"the code states `{task.name}` differently from the target: expected `{want}`, got `{got}`"]
    return []
