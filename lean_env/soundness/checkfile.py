"""Compose the Lean text that checks one task: the header, the target restated as an axiom,
the candidate, then the checks. Shared by every backend, so all see the same file.

    <header>                                        environment (imports / prelude / opens)
    [<preamble>]                                    an untrusted header's text after its imports
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

import secrets
from dataclasses import dataclass

from lean_env.soundness.header import blank, in_closure, read_header
from lean_env.soundness.lexer import IDENT, code_tokens
from lean_env.soundness.statement import target_as_axiom
from lean_env.soundness.verdict import ProofTask

RESERVED_PREFIX = "__prover_"


class TaskError(ValueError):
    """The task cannot be checked as given (e.g. its code imports what the header lacks)."""


def header_imports(header: str) -> set[str]:
    """The modules a (trusted) header imports, read with the project's lexer."""
    return set(read_header(header).modules)


def split_code_preamble(code: str, header: str) -> str:
    """Blank the code block's own leading `prelude`/`import` part (imports must be at the file's
    top, where the header already is), read with the project's lexer. Positions stay, so Lean's
    still match the code. That part is untrusted: it may only name modules the header already
    brings in (its import closure) and `prelude` only under a prelude header; the header governs
    the environment. Whatever follows it is code the allowlist reads (a later `import` included)."""
    own = read_header(code)
    if not own.end:
        return code
    have = read_header(header)
    missing = [m for m in own.modules if not in_closure(m, have)]
    if missing:
        raise TaskError(
            f"the code imports {', '.join(sorted(set(missing)))}, which the task's header does not; "
            "the header governs the environment: add the import to the header"
        )
    if own.prelude and not have.prelude:
        raise TaskError("the code starts with `prelude` but the task's header does not: "
                        "the header governs the environment")
    return blank(code, own.end)


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
    # (name, start, end) offsets into `text`, in order: header, [preamble], target_name, target,
    # [statement], proof|code, checks. A token may not straddle two of them (the `seam` rule).
    regions: tuple[tuple[str, int, int], ...] = ()
    judged: tuple[str, ...] = ()  # the regions the allowlist reads (model or untrusted text)

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

    def region(self, name: str) -> tuple[int, int]:
        for n, a, b in self.regions:
            if n == name:
                return a, b
        raise KeyError(name)


def trusted_header(task: ProofTask) -> tuple[str, str]:
    """(header Lean runs, untrusted rest that belongs to the body). A trusted header runs as it is.
    An untrusted one runs as the header written from its `prelude`/`import` names alone; the text
    after them (options, `open`s, anything else) is returned with the import part blanked, so it
    keeps its lines and the allowlist reads it. Which environments it may select is the Checker's
    call (lean_env.soundness.header.select)."""
    header = task.header
    if task.header_trusted:
        return header, ""
    split = read_header(header)
    rest = blank(header, split.end)
    return split.text(), rest if rest.strip() else ""


def compose(task: ProofTask, nonce: str | None = None) -> CheckFile:
    """The one producer of the text Lean runs (every backend sends exactly `text`, or its parts
    split at the regions' line boundaries), with the regions the allowlist reads."""
    header, preamble = trusted_header(task)
    if header and not header.endswith("\n"):
        header += "\n"
    if preamble and not preamble.endswith("\n"):
        preamble += "\n"
    named = code_tokens(task.name)
    if len(named) != 1 or named[0].kind != IDENT or named[0].text != task.name or "\n" in task.name:
        # the name is written into the checker's own lines: one identifier on one line, nothing more
        raise TaskError(f"the theorem's name {task.name[:60]!r} is not one Lean identifier on one line")
    nonce = nonce or secrets.token_hex(8)
    target_name = f"{RESERVED_PREFIX}target_{nonce}"
    check_name = f"{RESERVED_PREFIX}check_{nonce}"
    target = target_as_axiom(task.formal_statement, target_name)
    if task.code is not None:
        candidate = split_code_preamble(task.code, header)
        parts = [("code", candidate)]
    else:
        candidate = task.formal_statement + task.proof
        parts = [("statement", task.formal_statement), ("proof", task.proof)]
    pre = target + "\n\n"
    candidate_start = pre.count("\n") + 1
    candidate_end = candidate_start + candidate.count("\n")
    checks = (
        f"\n\n#print axioms _root_.{target_name}\n"
        f"theorem {check_name} : type_of% @_root_.{target_name} := @_root_.{task.name}\n"
        f"#print axioms _root_.{check_name}\n"
    )
    closer = candidate_end + 2
    head = header + preamble
    regions = [("header", 0, len(header))]
    if preamble:
        regions.append(("preamble", len(header), len(head)))
    name_end = len(head) + len(f"axiom {target_name}")
    regions += [("target_name", len(head), name_end), ("target", name_end, len(head) + len(target))]
    at = len(head) + len(pre)
    for name, text in parts:
        regions.append((name, at, at + len(text)))
        at += len(text)
    regions.append(("checks", at, at + len(checks)))
    judged = ("preamble",) * bool(preamble) + ("target",) + tuple(name for name, _ in parts)
    # (the preamble is body text to Lean's positions: the judge reads its lines as the header's)
    return CheckFile(head, pre + candidate + checks, task.name, nonce, candidate_start, candidate_end,
                     closer, closer + 1, closer + 2, tuple(regions), judged)
