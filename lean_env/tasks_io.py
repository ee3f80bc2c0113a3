"""Reading check tasks from jsonl rows and .lean files, with errors a user can act on."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from lean_env.environments import header_for
from lean_env.statement import StatementError, find_declaration, strip_comments
from lean_env.verdict import ProofTask

ROW_FIELDS = ("name", "header", "env", "formal_statement", "proof", "code", "timeout", "allow_native_decide")


@dataclass
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def task_from_row(row: dict) -> ProofTask:
    """A ProofTask from one jsonl row; ValueError with a clear message if the row is unusable."""
    if not isinstance(row, dict):
        raise ValueError("each line must be a JSON object")
    # other fields (split, source, level, prompt_header ...) are dataset metadata: ignored, so rows
    # from `data.load` can be checked as they are; a misspelt proof/code field still fails below
    fs = row.get("formal_statement")
    if not isinstance(fs, str) or not fs.strip():
        raise ValueError("missing `formal_statement` (the target `theorem NAME ... :=`)")
    has_proof, has_code = isinstance(row.get("proof"), str), isinstance(row.get("code"), str)
    if has_proof == has_code:
        raise ValueError("give exactly one of `proof` (continues the statement) or `code` (a whole Lean block)")
    header = row.get("header")
    if header is None and row.get("env"):
        try:
            header = header_for(str(row["env"]))
        except KeyError as exc:
            raise ValueError(str(exc)) from None
    if header is not None and not isinstance(header, str):
        raise ValueError("`header` must be a string")
    timeout = row.get("timeout")
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
        raise ValueError("`timeout` must be a positive number of seconds")
    try:
        task = ProofTask(formal_statement=fs, header=header or "", proof=row.get("proof"), code=row.get("code"),
                         name="", timeout=timeout, allow_native_decide=bool(row.get("allow_native_decide", False)))
    except StatementError as exc:
        raise ValueError(str(exc)) from None
    if row.get("name") and row["name"] != task.name:
        raise ValueError(f"`name` is {row['name']!r} but the formal statement declares {task.name!r}")
    return task


def read_tasks(path: Path) -> Iterator[tuple[int, Optional[ProofTask], Optional[RowError]]]:
    """(line number, task or None, error or None) for each non-blank line."""
    with open(path, encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as exc:
                yield lineno, None, RowError(lineno, f"not valid JSON ({exc.msg} at column {exc.colno})")
                continue
            try:
                yield lineno, task_from_row(row), None
            except ValueError as exc:
                yield lineno, None, RowError(lineno, str(exc))


def task_from_file(path: Path, theorem: str, env: Optional[str] = None) -> ProofTask:
    """A task for `theorem NAME` in a .lean file. With `env`, the file is a code block checked
    under that environment's header. Without it, the text before the theorem is the file's
    own environment (its prelude/imports and helper lemmas), and the theorem onwards is the
    candidate. Lean still checks both parts, and sorry/axioms anywhere still count."""
    text = path.read_text(encoding="utf-8")
    span = find_declaration(text, theorem)
    if span is None:
        raise ValueError(f"{path} does not declare `theorem {theorem}`")
    statement = strip_comments(text)[span[0] : span[1]].rstrip() + " :="
    if env:
        return ProofTask(formal_statement=statement, header=header_for(env), code=text, name=theorem)
    return ProofTask(formal_statement=statement, header=text[: span[0]], code=text[span[0] :], name=theorem)
