"""An eval directory's files: results.jsonl (one search record per line, appended and flushed as
each problem finishes), run_card.json (what was run), written so that a kill at any moment
loses at most the problems in flight and never leaves a torn file."""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Optional

from prover.evaluation.errors import EvalError, UnreadableCard
from search.records import ProblemRecord

RESULTS = "results.jsonl"
RUN_CARD = "run_card.json"
SUMMARY = "summary.md"
CURVE = "passk.png"

# Fields of the run card that must match for a rerun to resume into the same directory.
IDENTITY = ("model", "dataset", "split", "limit", "k", "prompt_format", "sampling", "stop_at_first", "search_method",
            "search_options", "trust")

log = logging.getLogger("prover.eval")


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a whole file so that a kill at any moment leaves the old file or the new one, never
    a torn one: a temporary file in the same directory, fsynced, then renamed over the target."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def read_card(path: Path) -> Optional[dict]:
    """The run card, or None when there is none. A card that is not JSON (an empty file left by a
    kill during a write, before writes were atomic) raises EvalError with the fix."""
    if not path.exists():
        return None
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        card = exc
    if not isinstance(card, dict):
        raise UnreadableCard(f"{path} is unreadable ({'empty' if not path.stat().st_size else 'not a JSON object'}: "
                        f"an earlier run was killed while writing it), so this directory's results cannot be "
                        f"matched to a run; if they are from this same command, delete {path} and rerun to resume, "
                        f"else pass another --out")
    return card


def read_records(path: Path, bad: Optional[list[str]] = None) -> list[ProblemRecord]:
    """Every good record in the file. A torn last line (the run was killed mid-write) is cut off
    the file, so appending continues cleanly and that problem is simply run again. A bad line
    elsewhere is left in place, named (logged, and appended to `bad` when given) and skipped:
    the good records after it are kept and only its problem runs again."""
    if not path.exists():
        return []
    raw = path.read_bytes()
    records: list[ProblemRecord] = []
    complete = raw.rfind(b"\n") + 1  # bytes after the last newline were never finished
    for lineno, line in enumerate(raw[:complete].split(b"\n")[:-1], 1):
        if not line.strip():
            continue
        try:
            records.append(ProblemRecord.from_dict(json.loads(line)))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            why = f"{path} line {lineno} is not a record ({type(exc).__name__}: {str(exc)[:120]}); skipped: that problem runs again"
            log.warning(why)
            if bad is not None:
                bad.append(why)
    if complete < len(raw):
        with open(path, "r+b") as fh:
            fh.truncate(complete)
    return records


def record_key(split: str, name: str) -> tuple[str, str]:
    return (split, name)


class ResultsWriter:
    """Appends one record per line and flushes it to disk before returning."""

    def __init__(self, path: Path):
        self.fh = open(path, "a", encoding="utf-8")

    def write(self, record: ProblemRecord) -> None:
        self.fh.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def close(self) -> None:
        self.fh.close()


def check_identity(out_dir: Path, card: dict) -> None:
    old = read_card(out_dir / RUN_CARD)
    if old is None:
        return
    diffs = [f"{k}: {old.get(k)!r} there, {card.get(k)!r} now" for k in IDENTITY if old.get(k) != card.get(k)]
    if diffs:
        raise EvalError(f"{out_dir} holds results of a different run ({'; '.join(diffs)}); "
                        "pass another --out, or delete that directory to start over")
