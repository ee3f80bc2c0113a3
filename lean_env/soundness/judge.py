"""Turn what Lean said about a composed check file into a Verdict. Every backend ends here,
so the rules for `ok` live in exactly one place.

ok needs positive evidence, not silence. The judge requires, and records in `Verdict.evidence`:
- Lean finished within its limits and reported no error anywhere, and no sorry;
- the checker's own commands ran as written: the sacrificial `#print axioms` of the target
  axiom printed exactly its one line, the check theorem drew no message at all, and the
  `#print axioms` of the check theorem printed exactly one line naming this check's nonce;
- that line lists only standard axioms (the check theorem's value is `@NAME`, so this is what
  NAME rests on, plus anything the elaborator inserted to make it fit the target's type);
- for a code block, the theorem is stated with exactly the target's text.
A message in the checks' lines that is not one of the expected ones is itself a reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from lean_env.soundness.checkfile import CheckFile
from lean_env.soundness.messages import is_sorry_warning, parse_axioms
from lean_env.soundness.statement import find_declaration, normalize_ws, statement_signature, strip_comments
from lean_env.soundness.verdict import STANDARD_AXIOMS, Message, ProofTask, Verdict

_HEARTBEAT_MARKERS = ("(deterministic) timeout", "maximum recursion depth has been reached")
_MEMORY_MARKERS = ("out of memory", "memory limit", "std::bad_alloc", "failed to create thread",
                   "excessive memory consumption")
MAX_KEPT_MESSAGES = 50  # per severity in a Verdict; the rest are counted, not kept
MAX_REASON_CHARS = 300
MAX_EXTRA_LINES = 3  # non-message output lines quoted in reasons


def is_resource_error(text: str) -> bool:
    """Lean ran out of memory, heartbeats or recursion depth: says nothing about the text."""
    return any(k in text.lower() for k in _MEMORY_MARKERS) or any(k in text for k in _HEARTBEAT_MARKERS)


@dataclass
class RunOutcome:
    """What a backend observed, in body coordinates (line 1 = the body's first line)."""

    messages: list[Message]
    seconds: float
    timed_out: bool = False
    crash: Optional[str] = None  # why the process died or misbehaved, in words
    extra_output: list[str] = field(default_factory=list)  # non-message output (panics)
    sorries: list[Message] = field(default_factory=list)  # REPL lists sorries separately
    truncated: bool = False  # Lean's output exceeded the cap and was cut


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
    if cf.closer_line <= m.line <= cf.axioms_line:
        return "checks", m
    return "candidate", rel  # lines Lean attributes past the candidate (e.g. parse errors at EOF)


def _clip(text: str, limit: int = MAX_REASON_CHARS) -> str:
    text = text.strip().replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def _first(msgs: list[Message]) -> str:
    m = msgs[0]
    return (f"line {m.line}:{m.column}: " if m.line is not None else "") + _clip(m.text)


def _keep(msgs: list[Message]) -> list[Message]:
    return msgs[:MAX_KEPT_MESSAGES]


def _check_commands(cf: CheckFile, checks: list[Message]) -> tuple[list[str], Optional[list[str]]]:
    """Reasons the checker's own lines did not give exactly the expected evidence, and the
    axioms the check theorem rests on (None when its `#print axioms` line is missing)."""
    reasons: list[str] = []
    at = lambda line: [m for m in checks if m.line == line]  # noqa: E731
    closer = at(cf.closer_line)
    expected_closer = (cf.target_axiom, [cf.target_axiom])
    if len(closer) != 1 or closer[0].severity != "information" or parse_axioms(closer[0].text) != expected_closer:
        reasons.append("the checker's commands did not run as written after the candidate "
                       "(the candidate's last command captured or silenced them)")
    check = at(cf.check_line)
    if check:
        errors = [m for m in check if m.severity == "error"]
        reasons.append(f"no theorem `{cf.name}` with exactly the target statement was proved: "
                       + _first(errors or check))
    printed = at(cf.axioms_line)
    parsed = parse_axioms(printed[0].text) if len(printed) == 1 and printed[0].severity == "information" else None
    axioms = None
    if parsed is None or parsed[0] != cf.check_theorem:
        reasons.append("Lean did not report the axioms of the check theorem, so the proof cannot be confirmed")
    else:
        axioms = parsed[1]
    if len(checks) != len(closer) + len(check) + len(printed):
        reasons.append("Lean reported unexpected messages on the checker's lines")
    return reasons, axioms


# What native_decide rests on when trusted: core's reduction axioms, or (Lean 4.2x on) the
# auxiliary axiom each use adds, named under a `_native` component. Nothing else under `Lean.`.
NATIVE_AXIOMS = frozenset({"Lean.ofReduceBool", "Lean.ofReduceNat", "Lean.trustCompiler"})


def is_native_axiom(name: str) -> bool:
    return name in NATIVE_AXIOMS or "._native." in f".{name}"


def judge(task: ProofTask, cf: CheckFile, run: RunOutcome, backend: str, isolation: str) -> Verdict:
    v = Verdict(name=task.name, ok=False, status="rejected", seconds=round(run.seconds, 4),
                backend=backend, isolation=isolation)
    regions: dict[str, list[Message]] = {}
    for m in run.messages:
        region, rel = _relocate(m, cf)
        regions.setdefault(region, []).append(rel)
    candidate = regions.get("candidate", []) + regions.get("unknown", [])
    errors = [m for m in candidate if m.severity == "error"]
    warnings = [m for m in candidate if m.severity == "warning"]
    v.errors, v.warnings = _keep(errors), _keep(warnings)
    v.infos = _keep([m for m in candidate if m.severity == "information"])
    v.sorries = len(run.sorries) or sum(is_sorry_warning(m) for m in run.messages)
    all_errors = [m for m in run.messages if m.severity == "error"]
    header_errors = [m for m in regions.get("header", []) if m.severity == "error"]
    target_errors = [m for m in regions.get("target", []) if m.severity == "error"]
    reasons: list[str] = []
    evidence: dict = {"policy": "passed", "nonce": cf.nonce}

    if run.timed_out:
        v.status = "timeout"
        reasons.append(f"Lean did not finish within the {task.timeout or 'configured'} s time limit and was killed")
    elif run.crash:
        v.status = "crashed"
        reasons.append(_clip(run.crash))
    for line in run.extra_output[:MAX_EXTRA_LINES]:
        reasons.append(f"Lean printed unexpected output: {_clip(line, 200)}")
    if len(run.extra_output) > MAX_EXTRA_LINES:
        reasons.append(f"... and {len(run.extra_output) - MAX_EXTRA_LINES} more lines of unexpected output")
    if v.status == "rejected" and any(k in line.lower() for line in run.extra_output for k in _MEMORY_MARKERS):
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
    if errors:
        reasons.append(f"Lean reported {len(errors)} error(s) in the proof; first: {_first(errors)}")
    if v.sorries:
        reasons.append("the proof uses sorry (or admit)")

    failed_before = bool(reasons)
    check_reasons, axioms = _check_commands(cf, regions.get("checks", []))
    if not failed_before:  # when the proof already failed, the checks' complaints add nothing
        reasons += check_reasons
    elif axioms is None and not (run.timed_out or run.crash or all_errors or v.sorries):
        reasons += check_reasons
    if axioms is not None:
        v.axioms = axioms
        if "sorryAx" in axioms and not v.sorries and not all_errors:
            # (with errors, Lean's error recovery puts sorryAx in the term itself: not the author's sorry)
            v.sorries = 1
            reasons.append("the proof uses sorry (or admit)")
        other = [a for a in axioms if a not in STANDARD_AXIOMS | {"sorryAx"}]
        native = [a for a in other if "native_decide" in a or a.startswith("Lean.")]
        trusted = [a for a in native if task.allow_native_decide and is_native_axiom(a)]
        if trusted:
            evidence["native_decide_axioms"] = trusted
        native = [] if task.allow_native_decide else native  # trusting: what is left is not native_decide's
        if native:
            reasons.append(f"the proof rests on native_decide's axiom ({_clip(', '.join(native), 200)}), which "
                           "trusts compiled code; native_decide is not accepted (opt in with --trust native_decide)")
        rest = [a for a in other if a not in native and a not in trusted]
        if rest:
            reasons.append(f"the proof depends on non-standard axioms: {_clip(', '.join(rest), 200)}")

    if task.code is not None:
        text_reasons = _statement_reasons(task)
        reasons += text_reasons
        if not text_reasons:
            evidence["statement_text"] = "the code states the theorem exactly as the target (normalized text)"
    if all_errors and not reasons:
        reasons.append("Lean reported an error: " + _first(all_errors))

    v.reasons = reasons
    if not reasons and v.status == "rejected":
        evidence.update({
            "compiled": f"Lean finished in {v.seconds:.2f} s with no error in {len(run.messages)} message(s)",
            "sorry": "none (no sorry warning, no sorryAx)",
            "checks_ran": f"the checker's commands ran after the candidate (nonce {cf.nonce})",
            "statement": f"kernel accepted `theorem {cf.check_theorem} : <target> := @{task.name}`",
            "axioms": list(axioms or []),
            "isolation": isolation or "unknown",
        })
        if task.allow_native_decide:  # says so on every ok verdict of a trusting run, used or not
            evidence["trust"] = "native_decide (Lean's compiler is trusted: --trust native_decide)"
        v.status, v.ok = "proved", True
    v.evidence = evidence if v.ok else {}
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
        return [_clip(f"the code states `{task.name}` differently from the target: expected `{want}`, got `{got}`", 600)]
    return []
