"""`prover check`: verify tasks from a jsonl file or one .lean file.

stdout carries one JSON Verdict per line and nothing else, whatever stdout is (terminal, file,
pipe): each verdict is written as soon as its check finishes, with `line`, its row's line
number in the input, so a slow row does not hold back the others (sort by `line` for input
order). Progress and the closing summary go to stderr; the live bar only when stderr is a
terminal and stdout is not (on a terminal the verdict lines are the progress)."""
from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Optional

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lean_env.checker import default_backend, refuse
from lean_env.factory import make_checker
from lean_env.soundness.allowlist import preamble_violations
from lean_env.running.settings import Settings
from lean_env.tasks_io import TasksFileError, read_tasks
from lean_env.running.toolchain import ToolchainError
from lean_env.soundness.verdict import STATUSES
from prover.console import err, error, info, is_quiet
from prover.lean_file import file_task, to_file_positions


def _write_verdict(out, v, line: Optional[int] = None) -> None:
    d = v.to_dict()
    if line is not None:
        d["line"] = line
    out.write(json.dumps(d, ensure_ascii=False) + "\n")
    out.flush()


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not complain either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def summary_line(counts: Counter, seconds: float, unreadable: int = 0) -> str:
    """`3 checked in 1.2s: 2 proved, 1 rejected` (+ unreadable rows), for stderr."""
    total = sum(counts.values())
    parts = [f"{counts[s]} {s}" for s in STATUSES if counts[s]]
    text = f"{total} checked in {seconds:.1f}s" + (": " + ", ".join(parts) if parts else "")
    if unreadable:
        text += f"; {unreadable} row(s) could not be read"
    return text


def run_check(path: Path, *, theorem: Optional[str], env: Optional[str], backend: Optional[str], workers: Optional[int],
              timeout: Optional[float], lean: Optional[str], ray: Optional[str] = None, trust: Optional[str] = None) -> int:
    if not path.exists():
        error(f"{path} does not exist")
        return 2
    if path.suffix == ".lean" and not theorem:
        error("checking a .lean file needs --theorem NAME")
        return 2
    try:
        settings = Settings.from_env(lean=lean, timeout=timeout, workers=workers, trust=trust)
    except ValueError as exc:  # e.g. --timeout nan (lean_env.soundness.limits says the fix)
        error(exc)
        return 2
    backend = backend or default_backend(settings)
    out = sys.stdout  # taken now: nothing below may redirect it
    started = time.monotonic()
    if path.suffix == ".lean":
        try:
            ft = file_task(path, theorem, env)
        except (ValueError, KeyError, OSError) as exc:
            error(exc)
            return 2
    try:
        checker = make_checker(backend, settings, ray=ray, workers=workers if ray else None)
    except (ToolchainError, ValueError, ImportError, RuntimeError) as exc:
        error(exc)
        return 2

    with checker:
        if path.suffix == ".lean":
            task = ft.task
            bad = [] if env or task.header.lstrip().startswith("prelude") else preamble_violations(task.header)
            bad = [b for b in bad if not (settings.trusts("native_decide") and b.rule == "native_decide")]
            verdict = refuse(task, [b.reason() for b in bad], backend) if bad else checker.check(task)
            _write_verdict(out, to_file_positions(verdict, ft))
            info(summary_line(Counter([verdict.status]), time.monotonic() - started))
            return 0 if verdict.ok else 1

        try:
            rows = list(read_tasks(path))
        except TasksFileError as exc:  # empty or unreadable: say so, exit 2
            error(exc)
            return 2
        bad_rows = [e for _, _, e in rows if e is not None]
        for e in bad_rows:
            error(f"{path}:{e}")
        tasks = [(line, t) for line, t, _ in rows if t is not None]
        counts: Counter = Counter()
        not_ok = 0
        live = err.is_terminal and not _isatty(out) and not is_quiet()
        with Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.fields[info]}"), console=err, transient=True, disable=not live,
                      redirect_stdout=False, redirect_stderr=False) as bar:
            job = bar.add_task("check", total=len(tasks), info="")

            def done(i: int, v) -> None:
                nonlocal not_ok
                counts[v.status] += 1
                not_ok += not v.ok
                _write_verdict(out, v, tasks[i][0])
                bar.update(job, advance=1, info=", ".join(f"{n} {s}" for s, n in counts.items()))

            try:
                checker.check_many([t for _, t in tasks], on_verdict=done)
            except BrokenPipeError:  # `prover check ... | head -1`: the reader has what it wanted
                _silence_stdout()
                return 1
        info(summary_line(counts, time.monotonic() - started, len(bad_rows)))
        if bad_rows:
            return 2
        return 1 if not_ok else 0
