"""The `prover` command. Thin: each command's work lives in its own module."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Train and evaluate LLM theorem provers in Lean 4.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)


@app.command()
def check(
    path: Path = typer.Argument(..., help="TASKS.jsonl (rows: name, header|env, formal_statement, proof|code) or FILE.lean"),
    theorem: Optional[str] = typer.Option(None, "--theorem", "-t", help="with FILE.lean: the theorem to check"),
    env: Optional[str] = typer.Option(None, "--env", help="with FILE.lean: check it under this environment's header (e.g. logic)"),
    backend: Optional[str] = typer.Option(None, "--backend", "-b", help="cli | server | repl (default: the fastest installed)"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="concurrent checks (default: cores)"),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="seconds per check (rows may set their own)"),
    lean: Optional[str] = typer.Option(None, "--lean", help="a lean executable to use instead of the bundled one"),
    ray: Optional[str] = typer.Option(None, "--ray", help="check on Ray actors: auto (join or start a cluster) or a cluster ADDRESS"),
) -> None:
    """Check proofs; print one JSON Verdict per line. Exit 0 all ok, 1 any not ok, 2 unusable input."""
    from prover.commands.check import run_check

    raise typer.Exit(run_check(path, theorem=theorem, env=env, backend=backend, workers=workers,
                               timeout=timeout, lean=lean, ray=ray))


@app.command()
def doctor(lean: Optional[str] = typer.Option(None, "--lean", help="a lean executable to inspect")) -> None:
    """Show which Lean is used, the sandbox, and what the Mathlib path is missing (with the fix)."""
    from prover.commands.doctor import run_doctor

    raise typer.Exit(run_doctor(lean=lean))


@app.command()
def setup(
    name: Optional[str] = typer.Argument(None, help="bundled | minif2f-v4.24 | deepseek-v1.5 (see --list)"),
    list_profiles: bool = typer.Option(False, "--list", help="list the environments and what each pins"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print every step (command, directory, done or not); run nothing"),
    force: bool = typer.Option(False, "--force", help="bundled: rebuild even if cached"),
) -> None:
    """Install a Lean environment and self-test it: `bundled` (Lean 4.35, offline) or a pinned
    Lean+Mathlib+REPL profile (needs internet; resumable: re-run to continue)."""
    from prover.commands.setup import run_setup

    raise typer.Exit(run_setup(name, list_profiles=list_profiles, dry_run=dry_run, force=force))


train_app = typer.Typer(help="Train a prover: supervised fine-tuning, then GRPO with Lean's verdicts as rewards.",
                        no_args_is_help=True)
app.add_typer(train_app, name="train")


def _train(stage: str, config: Path, output_dir: Optional[str], resume: Optional[str], max_steps: Optional[int],
           ray: bool) -> None:
    from prover.commands.train import run_train

    raise typer.Exit(run_train(stage, config, output_dir=output_dir, resume=resume, max_steps=max_steps, ray=ray))


_CONFIG = typer.Option(..., "--config", "-c", help="YAML: prover options + trl config fields by TRL's names (see configs/)")
_OUT = typer.Option(None, "--output-dir", "-o", help="overrides the config's output_dir")
_RESUME = typer.Option(None, "--resume", help="`last` (latest checkpoint in output_dir) or a checkpoint directory")
_STEPS = typer.Option(None, "--max-steps", help="overrides the config's max_steps")


@train_app.command("sft")
def train_sft(config: Path = _CONFIG, output_dir: Optional[str] = _OUT, resume: Optional[str] = _RESUME,
              max_steps: Optional[int] = _STEPS) -> None:
    """Supervised fine-tuning on statement + reference-proof rows (TRL SFTTrainer)."""
    _train("sft", config, output_dir, resume, max_steps, False)


@train_app.command("grpo")
def train_grpo(config: Path = _CONFIG, output_dir: Optional[str] = _OUT, resume: Optional[str] = _RESUME,
               max_steps: Optional[int] = _STEPS,
               ray: bool = typer.Option(False, "--ray", help="verify rollouts on the Ray checker (lean_env.ray_checker)")) -> None:
    """GRPO with the Lean checker as reward (TRL GRPOTrainer + dynamic sampling + held-out pass@k)."""
    _train("grpo", config, output_dir, resume, max_steps, ray)


if __name__ == "__main__":
    app()
