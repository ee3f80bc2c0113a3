"""`prover show RUN_DIR`: the summary of an eval run, finished or still running.

Reads only: results.jsonl may be growing while another process writes it, so a torn last line
is skipped here, never cut off (that is the resuming eval's job)."""
from __future__ import annotations

import json
import time
from pathlib import Path

from prover.console import error, esc, info
from prover.evaluation import RESULTS, RUN_CARD, SUMMARY, summary_markdown
from search.records import ProblemRecord


def read_records_readonly(path: Path) -> tuple[list[ProblemRecord], int]:
    """(complete records, lines that are not records yet: a write in progress or a torn line)."""
    records, unreadable = [], 0
    if not path.exists():
        return records, 0
    for line in path.read_bytes().split(b"\n"):
        if not line.strip():
            continue
        try:
            records.append(ProblemRecord.from_dict(json.loads(line)))
        except (ValueError, TypeError, KeyError):
            unreadable += 1
    return records, unreadable


def run_show(run_dir: Path) -> int:
    card_path, results = run_dir / RUN_CARD, run_dir / RESULTS
    if not card_path.exists():
        error(f"{run_dir} is not an eval run directory (no {RUN_CARD}); pass the --out of a `prover eval`")
        return 2
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except ValueError:
        error(f"{card_path} is not valid JSON (a run killed while writing it?); rerun the eval to rewrite it")
        return 2
    records, unreadable = read_records_readonly(results)
    total = (card.get("dataset_variant") or {}).get("problems")
    print(summary_markdown(records, card))
    done = f"{len(records)} of {total}" if total else f"{len(records)}"
    age = time.time() - results.stat().st_mtime if results.exists() else None
    finished = total is not None and len(records) >= total
    last = f"last result {age:.0f}s ago" if records and age is not None else "no problem finished yet"
    state = "finished" if finished else (
        f"not finished: {last} (running, or interrupted: rerun the same `prover eval` to continue)")
    info(f"{done} problems done; {state}" + (f"; {unreadable} line(s) still being written" if unreadable else ""))
    if finished and (run_dir / SUMMARY).exists():
        info(f"report: {esc(run_dir / SUMMARY)}")
    return 0
