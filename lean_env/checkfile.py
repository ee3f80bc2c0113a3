"""Compose the Lean text that checks one task: the header, the target restated as an axiom,
the candidate, then the checks. Shared by every backend, so all see the same file.

    <header>                                  environment (imports / prelude / opens)
    axiom __prover_target <binders> : <type>  the target, elaborated before any candidate text
    <candidate>                               statement+proof, or the model's code block
    example : type_of% @__prover_target := @_root_.NAME   kernel: NAME proves exactly the target
    #print axioms _root_.NAME                              what NAME rests on

Elaborating the target before the candidate means nothing the candidate declares (notation,
instances, `open`) can change what the target means; the defeq check then holds NAME to it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lean_env.statement import strip_comments, target_as_axiom
from lean_env.verdict import ProofTask

TARGET_AXIOM = "__prover_target"
_IMPORT_RE = re.compile(r"^[ \t]*import[ \t]+(.+?)[ \t]*$", re.MULTILINE)


class TaskError(ValueError):
    """The task cannot be checked as given (e.g. its code imports what the header lacks)."""


def header_imports(header: str) -> set[str]:
    mods: set[str] = set()
    for m in _IMPORT_RE.finditer(strip_comments(header)):
        mods.update(m.group(1).split())
    return mods


def split_code_preamble(code: str, header: str) -> str:
    """Blank the code block's own `import` lines (imports must be at the file's top, where the
    header already is). Lines stay in place so Lean's positions still match the code. Imports
    the header does not have are an error: the header governs the environment."""
    stripped = strip_comments(code)
    have = header_imports(header)
    missing = []
    lines = code.split("\n")
    stripped_lines = stripped.split("\n")
    for i, sline in enumerate(stripped_lines):
        m = re.match(r"^[ \t]*import[ \t]+(.+?)[ \t]*$", sline)
        if m:
            missing += [mod for mod in m.group(1).split() if mod not in have]
            lines[i] = ""
    if missing:
        raise TaskError(
            f"the code imports {', '.join(sorted(set(missing)))}, which the task's header does not; "
            "the header governs the environment: add the import to the header"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class CheckFile:
    header: str  # ends with a newline, or is empty
    body: str
    name: str
    candidate_start: int  # body line (1-based) of the candidate's first line
    candidate_end: int  # body line of the candidate's last line
    check_line: int  # body line of the `example` (defeq) check; `#print axioms` is the next line

    @property
    def text(self) -> str:
        return self.header + self.body

    @property
    def header_lines(self) -> int:
        return self.header.count("\n")

    def candidate_text(self) -> str:
        lines = self.body.split("\n")
        return "\n".join(lines[self.candidate_start - 1 : self.candidate_end])


def compose(task: ProofTask) -> CheckFile:
    header = task.header
    if header and not header.endswith("\n"):
        header += "\n"
    target = target_as_axiom(task.formal_statement, TARGET_AXIOM)
    if task.code is not None:
        candidate = split_code_preamble(task.code, header)
    else:
        candidate = task.formal_statement + task.proof
    pre = target + "\n\n"
    candidate_start = pre.count("\n") + 1
    candidate_end = candidate_start + candidate.count("\n")
    checks = (
        f"\n\nexample : type_of% @{TARGET_AXIOM} := @_root_.{task.name}\n"
        f"#print axioms _root_.{task.name}\n"
    )
    check_line = candidate_end + 2
    return CheckFile(header, pre + candidate + checks, task.name, candidate_start, candidate_end, check_line)
