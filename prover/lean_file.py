"""One theorem of a .lean file as a check task: the file up to the end of that declaration,
with Lean's positions mapped back to the file (line 1 = the file's first line).

Why: `prover check FILE.lean --theorem NAME` must judge NAME alone. Text after its declaration
(a later, wrong theorem) is not part of NAME's proof, and a user reads positions in the file
they wrote, not in the candidate text the checker composed."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Optional

from lean_env.running.environments import header_for
from lean_env.soundness.statement import find_declaration, strip_comments
from lean_env.soundness.verdict import Message, ProofTask, Verdict

# Words that begin a new top-level command (Lean 4 core and Mathlib's common ones). A term or
# tactic block cannot contain them as keywords, so the first line that starts with one, at
# column 0, ends the declaration before it.
_COMMANDS = ("theorem", "lemma", "def", "example", "instance", "axiom", "axioms", "abbrev", "structure",
             "inductive", "class", "opaque", "namespace", "section", "end", "open", "export", "variable",
             "universe", "set_option", "attribute", "macro", "macro_rules", "syntax", "notation", "infix",
             "infixl", "infixr", "prefix", "postfix", "elab", "elab_rules", "declare_syntax_cat", "mutual",
             "noncomputable", "private", "protected", "partial", "unsafe", "nonrec", "local", "scoped",
             "deriving", "initialize", "builtin_initialize", "omit", "include", "import", "prelude")
_COMMAND_LINE = re.compile(r"^(?:(?:" + "|".join(_COMMANDS) + r")(?![\w.'!?])|@\[|#[a-zA-Z])", re.MULTILINE)


def declaration_end(text: str, assign: int) -> int:
    """Offset where the declaration whose `:=` is at `assign` ends: the start of the next
    top-level command line (comments ignored), or the end of the text."""
    stripped = strip_comments(text)
    m = _COMMAND_LINE.search(stripped, stripped.find("\n", assign) + 1 if "\n" in stripped[assign:] else len(stripped))
    return m.start() if m else len(text)


@dataclasses.dataclass
class FileTask:
    task: ProofTask
    line_offset: int  # lines of the file before the candidate's first line
    column_offset: int  # columns before the candidate on its first line


def file_task(path: Path, theorem: str, env: Optional[str] = None) -> FileTask:
    """The task for `theorem NAME` in a .lean file, cut after NAME's declaration. With `env`,
    the file (from its top) is a code block under that environment's header; without, the text
    before the theorem is the file's own environment (prelude/imports, helper lemmas)."""
    text = path.read_text(encoding="utf-8")
    span = find_declaration(text, theorem)
    if span is None:
        raise ValueError(f"{path} does not declare `theorem {theorem}`")
    end = declaration_end(text, span[1])
    statement = strip_comments(text)[span[0] : span[1]].rstrip() + " :="
    if env:
        code = text[:end]
        return FileTask(ProofTask(formal_statement=statement, header=header_for(env), code=code, name=theorem), 0, 0)
    before = text[: span[0]]
    line_start = before.rfind("\n") + 1
    return FileTask(ProofTask(formal_statement=statement, header=before, code=text[span[0] : end], name=theorem),
                    before.count("\n"), span[0] - line_start)


_POSITION = re.compile(r"\bline (\d+):(\d+):")


def to_file_positions(verdict: Verdict, ft: FileTask) -> Verdict:
    """The verdict with candidate-relative positions (messages, and `line L:C:` in the proof's
    reasons) moved to the file's; header messages are already in file lines."""
    if not ft.line_offset and not ft.column_offset:
        return verdict

    def shift(line: Optional[int], column: Optional[int]) -> tuple[Optional[int], Optional[int]]:
        if line is None:
            return line, column
        return line + ft.line_offset, (column + ft.column_offset if line == 1 and column is not None else column)

    def move(m: Message) -> Message:
        line, column = shift(m.line, m.column)
        end_line, end_column = shift(m.end_line, m.end_column)
        return dataclasses.replace(m, line=line, column=column, end_line=end_line, end_column=end_column)

    def move_reason(reason: str) -> str:
        if reason.startswith(("the environment header", "the target statement")):
            return reason
        return _POSITION.sub(lambda m: "line {}:{}:".format(*shift(int(m[1]), int(m[2]))), reason)

    return dataclasses.replace(verdict, errors=[move(m) for m in verdict.errors],
                               warnings=[move(m) for m in verdict.warnings], infos=[move(m) for m in verdict.infos],
                               reasons=[move_reason(r) for r in verdict.reasons])
