"""Reading check tasks from jsonl rows and .lean files, with errors a user can act on."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from lean_env.running.environments import header_for
from lean_env.soundness.limits import MAX_TEXT_CHARS, LimitError, check, check_fields, check_row_size
from lean_env.soundness.statement import StatementError, find_declaration, strip_comments
from lean_env.soundness.verdict import ProofTask

ROW_FIELDS = ("name", "header", "env", "formal_statement", "proof", "code", "timeout", "allow_native_decide")


class TasksFileError(ValueError):
    """The whole file is unusable (missing, empty, not text); the message says what to do."""


@dataclass
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def resolve_header(row: dict) -> Optional[str]:
    """The Lean header a row is checked under: its own `header`, else its `env`'s header, else
    None (the caller's default). The one rule check, eval and training share."""
    header = row.get("header")
    if header is not None:
        check("header", header)
        return header
    env = row.get("env")
    if env in (None, ""):
        return None
    check("env", env)
    try:
        return header_for(env)
    except KeyError as exc:
        raise LimitError(str(exc).strip('"')) from None


def task_from_row(row: dict) -> ProofTask:
    """A ProofTask from one jsonl row; ValueError with a clear message if the row is unusable."""
    if not isinstance(row, dict):
        raise ValueError("each line must be a JSON object")
    # other fields (split, source, level, prompt_header ...) are dataset metadata: ignored, so rows
    # from `data.load` can be checked as they are; a misspelt proof/code field still fails below
    check_fields({k: row[k] for k in ROW_FIELDS if k in row})
    fs = row.get("formal_statement")
    if not isinstance(fs, str) or not fs.strip():
        raise ValueError("missing `formal_statement` (the target `theorem NAME ... :=`)")
    has_proof, has_code = isinstance(row.get("proof"), str), isinstance(row.get("code"), str)
    if has_proof == has_code:
        raise ValueError("give exactly one of `proof` (continues the statement) or `code` (a whole Lean block)")
    header = resolve_header(row)
    try:
        task = ProofTask(formal_statement=fs, header=header or "", proof=row.get("proof"), code=row.get("code"),
                         name="", timeout=row.get("timeout"),
                         allow_native_decide=row.get("allow_native_decide", False))
    except StatementError as exc:
        raise ValueError(str(exc)) from None
    if row.get("name") and row["name"] != task.name:
        raise ValueError(f"`name` is {row['name']!r} but the formal statement declares {task.name!r}")
    return task


def _json_error(exc: json.JSONDecodeError) -> str:
    # json's messages for some errors end in "at" ("Invalid control character at"): say it once
    msg = exc.msg[:-3] if exc.msg.endswith(" at") else exc.msg
    return f"not valid JSON ({msg} at column {exc.colno})"


def read_rows(path: Path) -> Iterator[tuple[int, Optional[dict], Optional[RowError]]]:
    """(line number, JSON value or None, error or None) for each non-blank line of a jsonl file.
    The file is read as bytes, so a line that is not UTF-8 (or a binary file) is a named bad
    row and the other lines are still read. TasksFileError if nothing in it is a row."""
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise TasksFileError(f"{path}: cannot be read ({exc.strerror}); give an existing jsonl file") from None
    seen = False
    with fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            seen = True
            try:
                check_row_size(raw)
                text = raw.decode("utf-8")
            except LimitError as exc:
                yield lineno, None, RowError(lineno, str(exc))
                continue
            except UnicodeDecodeError as exc:
                yield lineno, None, RowError(lineno, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column "
                                                     f"{exc.start + 1}): a jsonl file is UTF-8 text, one JSON "
                                                     f"object per line; re-save it as UTF-8")
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield lineno, None, RowError(lineno, _json_error(exc))
                continue
            yield lineno, value, None
    if not seen:
        raise TasksFileError(f"{path} is empty: nothing to check; give one JSON task per line "
                             f'(e.g. {{"formal_statement": "theorem t (p : Prop) (hp : p) : p :=", '
                             f'"proof": " hp", "env": "logic"}})')


def read_tasks(path: Path) -> Iterator[tuple[int, Optional[ProofTask], Optional[RowError]]]:
    """(line number, task or None, error or None) for each non-blank line."""
    for lineno, row, error in read_rows(path):
        if error is not None:
            yield lineno, None, error
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
    if path.stat().st_size > MAX_TEXT_CHARS * 4:  # refuse before reading a huge file (UTF-8: <= 4 bytes a character)
        raise LimitError(f"{path} is {path.stat().st_size:,} bytes: over the limit of {MAX_TEXT_CHARS:,} characters "
                         f"for a Lean text; check a smaller file")
    text = path.read_text(encoding="utf-8")
    check("code", text, where=f"{path}: ")
    span = find_declaration(text, theorem)
    if span is None:
        raise ValueError(f"{path} does not declare `theorem {theorem}`")
    statement = strip_comments(text)[span[0] : span[1]].rstrip() + " :="
    if env:
        return ProofTask(formal_statement=statement, header=header_for(env), code=text, name=theorem)
    return ProofTask(formal_statement=statement, header=text[: span[0]], code=text[span[0] :], name=theorem)
