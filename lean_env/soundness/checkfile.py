"""Compose the Lean text that checks one task: the header, the target restated as an axiom,
the candidate, then the checks. Shared by every backend, so all see the same file.

    <header>                                        environment (imports / prelude / opens)
    axiom __prover_target_<n> <binders> : <type>    the target, elaborated before any candidate text
    <candidate>                                     statement+proof, or the model's code block
    #print axioms _root_.__prover_target_<n>        closes whatever the candidate left open
    theorem __prover_check_<n> : type_of% @_root_.__prover_target_<n> := @_root_.NAME
    #print axioms _root_.__prover_check_<n>         the evidence: what the check rests on

`<n>` is a fresh random nonce per check: the judge accepts only messages that name it, at the
lines where the checker wrote them, so nothing the candidate prints can stand in for them.

Why each line is there:
- The target is elaborated before the candidate, so nothing the candidate declares (notation,
  instances, `open`s) can change what the target means; `type_of%` then reads the type that was
  fixed there.
- The first `#print axioms` is a sacrificial command: a candidate that ends in `open X in`,
  `set_option ... in` or `#guard_msgs in` wraps it, not the checks. It must print its own line,
  so a wrapper that swallows messages is seen.
- The check is a named theorem, not an `example`: whatever the elaborator inserts to make
  `@NAME` fit the target's type (a coercion from a candidate instance, say) becomes part of its
  value, the kernel checks it at exactly the target's type, and `#print axioms` audits all of it.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from lean_env.soundness.statement import strip_comments, target_as_axiom
from lean_env.soundness.verdict import ProofTask

RESERVED_PREFIX = "__prover_"
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
    nonce: str
    candidate_start: int  # body line (1-based) of the candidate's first line
    candidate_end: int  # body line of the candidate's last line
    closer_line: int  # body line of the sacrificial `#print axioms` of the target axiom
    check_line: int  # body line of the check theorem
    axioms_line: int  # body line of `#print axioms` of the check theorem

    @property
    def text(self) -> str:
        return self.header + self.body

    @property
    def header_lines(self) -> int:
        return self.header.count("\n")

    @property
    def target_axiom(self) -> str:
        return f"{RESERVED_PREFIX}target_{self.nonce}"

    @property
    def check_theorem(self) -> str:
        return f"{RESERVED_PREFIX}check_{self.nonce}"

    @property
    def candidate_body(self) -> str:
        """Target axiom + candidate: what the REPL backend sends as one command."""
        return "\n".join(self.body.split("\n")[: self.candidate_end])

    @property
    def checks_body(self) -> str:
        """The checker's own commands (body lines after the candidate): the REPL's second command."""
        return "\n".join(self.body.split("\n")[self.candidate_end :])

    def candidate_text(self) -> str:
        lines = self.body.split("\n")
        return "\n".join(lines[self.candidate_start - 1 : self.candidate_end])


def compose(task: ProofTask, nonce: str | None = None) -> CheckFile:
    header = task.header
    if header and not header.endswith("\n"):
        header += "\n"
    nonce = nonce or secrets.token_hex(8)
    target_name = f"{RESERVED_PREFIX}target_{nonce}"
    check_name = f"{RESERVED_PREFIX}check_{nonce}"
    target = target_as_axiom(task.formal_statement, target_name)
    if task.code is not None:
        candidate = split_code_preamble(task.code, header)
    else:
        candidate = task.formal_statement + task.proof
    pre = target + "\n\n"
    candidate_start = pre.count("\n") + 1
    candidate_end = candidate_start + candidate.count("\n")
    checks = (
        f"\n\n#print axioms _root_.{target_name}\n"
        f"theorem {check_name} : type_of% @_root_.{target_name} := @_root_.{task.name}\n"
        f"#print axioms _root_.{check_name}\n"
    )
    closer = candidate_end + 2
    return CheckFile(header, pre + candidate + checks, task.name, nonce, candidate_start, candidate_end,
                     closer, closer + 1, closer + 2)
