"""`prover check`: verify tasks from a jsonl file or one .lean file."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lean_env.checker import Checker, default_backend, refuse
from lean_env.policy import preamble_violations
from lean_env.settings import Settings
from lean_env.tasks_io import TasksFileError, read_tasks, task_from_file
from lean_env.toolchain import ToolchainError

err = Console(stderr=True, soft_wrap=True)


def _print_verdict(v, index: Optional[int] = None) -> None:
    d = v.to_dict()
    if index is not None:
        d["line"] = index
    import json

    sys.stdout.write(json.dumps(d, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def run_check(path: Path, *, theorem: Optional[str], env: Optional[str], backend: Optional[str], workers: Optional[int],
              timeout: Optional[float], lean: Optional[str], ray: Optional[str] = None) -> int:
    if not path.exists():
        err.print(f"[red]error:[/] {path} does not exist")
        return 2
    try:
        settings = Settings.from_env(lean=lean, timeout=timeout, workers=workers)
    except ValueError as exc:  # e.g. --timeout nan (lean_env.limits says the fix)
        err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        return 2
    backend = backend or default_backend(settings)
    try:
        if ray:
            from lean_env.ray_checker import RayChecker

            checker = RayChecker(backend, settings, address=ray, workers_per_actor=workers or 1)
        else:
            checker = Checker(backend, settings)
    except (ToolchainError, ValueError, ImportError, RuntimeError) as exc:
        err.print(f"[red]error:[/] {exc}")
        return 2

    with checker:
        if path.suffix == ".lean":
            if not theorem:
                err.print("[red]error:[/] checking a .lean file needs --theorem NAME")
                return 2
            try:
                task = task_from_file(path, theorem, env)
            except (ValueError, KeyError) as exc:
                err.print(f"[red]error:[/] {exc}")
                return 2
            bad = [] if env or task.header.lstrip().startswith("prelude") else preamble_violations(task.header)
            verdict = refuse(task, [b.reason() for b in bad], backend) if bad else checker.check(task)
            _print_verdict(verdict)
            return 0 if verdict.ok else 1

        try:
            rows = list(read_tasks(path))
        except TasksFileError as exc:  # empty or unreadable: say so, exit 2
            err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
            return 2
        bad_rows = [e for _, _, e in rows if e is not None]
        for e in bad_rows:
            err.print(f"[red]{path}:{e}[/]")
        tasks = [(line, t) for line, t, _ in rows if t is not None]
        results: dict[int, object] = {}
        next_out = 0
        all_ok = True
        with Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=True, disable=not err.is_terminal) as bar:
            job = bar.add_task("check", total=len(tasks))

            def done(i: int, v) -> None:
                nonlocal next_out, all_ok
                results[i] = v
                all_ok &= v.ok
                bar.advance(job)
                while next_out in results:  # print in input order as soon as possible
                    _print_verdict(results.pop(next_out), tasks[next_out][0])
                    next_out += 1

            checker.check_many([t for _, t in tasks], on_verdict=done)
        if bad_rows:
            err.print(f"[red]{len(bad_rows)} row(s) could not be read[/]; the other {len(tasks)} were checked")
            return 2
        return 0 if all_ok else 1
