"""`prover eval DATASET`: pass@k with best-of-n, resumable, with a report (prover.evaluation)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from prover.evaluation import CURVE, RESULTS, RUN_CARD, SUMMARY, EvalError, EvalSpec, run_eval

err = Console(stderr=True)


def default_out_dir(spec: EvalSpec) -> Path:
    model = Path(spec.model).name if spec.model else "default"
    split = spec.split or "all"
    method = "" if spec.search == "best-of-n" else f"-{spec.search}"
    return Path("runs") / f"eval-{Path(spec.dataset).stem}-{split}-{model}-k{spec.k}{method}"


def run_eval_command(spec: EvalSpec, out: Optional[Path]) -> int:
    from lean_env.toolchain import ToolchainError
    from prover.models import ModelLoadError

    out_dir = out or default_out_dir(spec)
    live = err.is_terminal
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("{task.fields[info]}"), console=err, transient=False, disable=not live)
    state = {"job": None, "solved": 0, "done": 0, "total": 0, "attempts": 0}

    def on_start(total: int, already: int) -> None:
        state.update(total=total, done=already)
        if already:
            err.print(f"resuming {out_dir}: {already} of {total} problems already done")
        state["job"] = progress.add_task("problems", total=total, completed=already, info="")

    def on_attempt(row, attempt) -> None:
        state["attempts"] += 1
        progress.update(state["job"], info=f"{state['attempts']} attempts, {state['solved']} solved")

    def on_record(record) -> None:
        state["done"] += 1
        state["solved"] += record.solved
        progress.update(state["job"], advance=1, info=f"{state['attempts']} attempts, {state['solved']} solved")
        if not live:
            what = f"proved by attempt {record.first_success_index + 1}" if record.solved else "not proved"
            err.print(f"[{state['done']}/{state['total']}] {record.name}: {what} ({record.n} attempts, {record.seconds:.1f}s)")

    try:
        with progress:
            result = run_eval(spec, out_dir, on_start=on_start, on_record=on_record, on_attempt=on_attempt)
    except (EvalError, ModelLoadError, ToolchainError) as exc:
        err.print(f"[red]error:[/] {exc}")
        return 2
    print(result.summary)
    err.print(f"results: {out_dir / RESULTS}\nsummary: {out_dir / SUMMARY}\ncurve:   {out_dir / CURVE}\n"
              f"run card: {out_dir / RUN_CARD}")
    return 0
