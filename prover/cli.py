"""The `prover` command. Thin: each command's work lives in its own module."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(help="Train and evaluate LLM theorem provers in Lean 4.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False, context_settings=HELP_OPTIONS)


def _usage(check) -> None:
    """Run the cheap validations of a command's choices; a bad one exits 2 with one line."""
    from prover.choices import UsageError
    from prover.console import error

    try:
        check()
    except UsageError as exc:
        error(exc)
        raise typer.Exit(2)


def _checked_search(checks, search: str, pairs, config) -> tuple[str, dict]:
    """The command's cheap checks, then its search method and knobs from --search, -O and
    --search-config (prover.choices.search_choice); a bad one exits 2 with one line."""
    from prover import choices

    found: list = []
    _usage(lambda: (checks(), found.append(choices.search_choice(search, pairs, config))))
    return found[0]


def _renamed(old: str, old_value, new: str, new_value):
    """A flag's old spelling still works for a while, with a note naming the new one."""
    if old_value is None:
        return new_value
    from prover.console import err

    err.print(f"[yellow]{old} is now {new} for this command (one name, one meaning); using {new} {old_value}[/yellow]")
    return new_value if new_value is not None else old_value


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"prover {version('lean-prover-rl')}")
        except PackageNotFoundError:
            print("prover (not installed as a package)")
        raise typer.Exit(0)


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="also show the libraries' own logs, bars and warnings"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="errors and results only (no progress, no summaries)"),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="print the version and exit"),
) -> None:
    """Train and evaluate LLM theorem provers in Lean 4. Results go to stdout, progress to stderr."""
    from prover.console import set_verbosity

    set_verbosity(verbose=verbose, quiet=quiet)


@app.command()
def check(
    path: Path = typer.Argument(..., help="TASKS.jsonl (rows: name, header|env, formal_statement, proof|code) or FILE.lean"),
    theorem: Optional[str] = typer.Option(None, "--theorem", "-t", help="with FILE.lean: the theorem to check (the file is read up to the end of its declaration)"),
    env: Optional[str] = typer.Option(None, "--env", help="with FILE.lean: check it under this environment's header (e.g. logic)"),
    checker: Optional[str] = typer.Option(None, "--checker", "-c", help="cli | server | repl (default: the fastest installed)"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="concurrent checks (default: cores)"),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="seconds per check (rows may set their own)"),
    lean: Optional[str] = typer.Option(None, "--lean", help="a lean executable to use instead of the bundled one"),
    ray: Optional[str] = typer.Option(None, "--ray", help="check on Ray actors: auto (join or start a cluster) or a cluster ADDRESS"),
    trust: Optional[list[str]] = typer.Option(None, "--trust", help="trust what the kernel cannot check: native_decide (Lean's compiler; Kimina's checker accepts it). Default: nothing"),
    old_backend: Optional[str] = typer.Option(None, "--backend", "-b", hidden=True),
) -> None:
    """Check proofs; print one JSON Verdict per line on stdout as each check finishes (`line`: its row's
    line number), a summary on stderr. Exit 0 all ok, 1 any not ok, 2 unusable input."""
    from prover import choices
    from prover.commands.check import run_check

    backend = _renamed("--backend", old_backend, "--checker", checker)
    _usage(lambda: (choices.checker_backend(backend), choices.environment(env), choices.trust(trust),
                    choices.positive("--timeout", timeout), choices.positive("--workers", workers)))
    raise typer.Exit(run_check(path, theorem=theorem, env=env, backend=backend, workers=workers,
                               timeout=timeout, lean=lean, ray=ray, trust=choices.trust(trust)))


@app.command()
def doctor(lean: Optional[str] = typer.Option(None, "--lean", help="a lean executable to inspect")) -> None:
    """Show which Lean is used, the sandbox, and what the Mathlib path is missing (with the fix)."""
    from prover.commands.doctor import run_doctor

    raise typer.Exit(run_doctor(lean=lean))


@app.command()
def prove(
    theorem: str = typer.Argument(..., help='the theorem, ending in ":=" or ":= by" (e.g. "theorem t (p : Prop) (hp : p) : p :="), or FILE.lean'),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="hub id, local directory or .gguf (default: SmolLM2-135M-Instruct, offline)"),
    n: int = typer.Option(8, "-n", help="attempts at most (stops at the first proof)"),
    env: Optional[str] = typer.Option(None, "--env", help="environment for a theorem without its own header (default: the one a trained --model DIR records, else logic: bundled Lean + prelude)"),
    prompt_format: Optional[str] = typer.Option(None, "--format", help="deepseek-v1.5 | deepseek-v1.5-cot | deepseek-v2 | goedel-v2 | kimina (default: from the model)"),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="per attempt (default: 128 for logic, the prover's budget otherwise)"),
    temperature: float = typer.Option(1.0, "--temperature"),
    seed: Optional[int] = typer.Option(0, "--seed"),
    lean: Optional[str] = typer.Option(None, "--lean", help="a lean executable to use instead of the bundled one"),
    engine: Optional[str] = typer.Option(None, "--engine", "-e", help="what runs the model: hf | vllm (default: hf)"),
    checker: Optional[str] = typer.Option(None, "--checker", "-c", help="cli | server | repl (default: the fastest installed)"),
    search: str = typer.Option("best-of-n", "--search", help="search: best-of-n (independent samples) | mcts (RMaxTS: resume from verified prefixes) | bfs (tactic-level best-first; server/repl checker) | repair (sample, show Lean's first error and goal, revise); the budget counts model samples"),
    search_option: Optional[list[str]] = typer.Option(None, "--search-option", "-O", help="a knob of the search method, KEY=VALUE (repeatable), e.g. -O c=2.0 -O max_checks=64 (an unknown KEY lists the method's options)"),
    search_config: Optional[Path] = typer.Option(None, "--search-config", help="YAML file of the method's knobs (and optionally `method:`); -O wins over it"),
    show_attempts: bool = typer.Option(False, "--show-attempts", help="print every attempt's proof and Lean's errors (stderr)"),
    trust: Optional[list[str]] = typer.Option(None, "--trust", help="trust what the kernel cannot check: native_decide (Lean's compiler; Kimina's checker accepts it). Default: nothing"),
    old_backend: Optional[str] = typer.Option(None, "--backend", hidden=True),
) -> None:
    """Try to prove one theorem; print the proof Lean accepted (exit 0), or the best attempt and Lean's errors (exit 1)."""
    from prover import choices
    from prover.commands.prove import run_prove

    engine = _renamed("--backend", old_backend, "--engine", engine) or "hf"
    search, options = _checked_search(lambda: (
        choices.environment(env), choices.prompt_format(prompt_format), choices.engine(engine),
        choices.checker_backend(checker), choices.positive("-n", n), choices.positive("--max-tokens", max_tokens),
        choices.trust(trust)), search, search_option, search_config)
    raise typer.Exit(run_prove(theorem, model=model, n=n, env=env, prompt_format=prompt_format, max_tokens=max_tokens,
                               temperature=temperature, seed=seed, lean=lean, engine=engine, checker=checker,
                               search=search, search_options=options, show_attempts=show_attempts,
                               trust=choices.trust(trust)))


@app.command("eval")
def eval_(
    dataset: str = typer.Argument(..., help="minif2f | minif2f-v4.24 | logic | a .jsonl file"),
    split: Optional[str] = typer.Option(None, "--split", help="valid | test (logic: train | valid | test); default: all"),
    k: int = typer.Option(8, "-k", help="samples per problem at most; pass@1..k are reported"),
    limit: Optional[int] = typer.Option(None, "--limit", help="first N problems only"),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="hub id, local directory or .gguf (default: SmolLM2-135M-Instruct, offline)"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="output directory (rerun with the same one to resume)"),
    prompt_format: Optional[str] = typer.Option(None, "--format", help="prompt format (default: from the model)"),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="per attempt (default: 128 for logic, the prover's budget otherwise)"),
    temperature: float = typer.Option(1.0, "--temperature"),
    top_p: float = typer.Option(0.95, "--top-p"),
    seed: Optional[int] = typer.Option(0, "--seed"),
    all_samples: bool = typer.Option(False, "--all-samples", help="draw all k samples even after a proof (lower-variance pass@k)"),
    engine: Optional[str] = typer.Option(None, "--engine", "-e", help="what runs the model: hf | vllm (default: hf)"),
    checker: Optional[str] = typer.Option(None, "--checker", "-c", help="cli | server | repl (default: the fastest installed)"),
    lean: Optional[str] = typer.Option(None, "--lean", help="a lean executable (with Mathlib for MiniF2F)"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="concurrent checks (default: cores)"),
    search: str = typer.Option("best-of-n", "--search", help="search: best-of-n (independent samples) | mcts (RMaxTS: resume from verified prefixes) | bfs (tactic-level best-first; server/repl checker) | repair (sample, show Lean's first error and goal, revise); the budget counts model samples"),
    search_option: Optional[list[str]] = typer.Option(None, "--search-option", "-O", help="a knob of the search method, KEY=VALUE (repeatable), e.g. -O c=2.0 -O max_checks=64 (an unknown KEY lists the method's options)"),
    search_config: Optional[Path] = typer.Option(None, "--search-config", help="YAML file of the method's knobs (and optionally `method:`); -O wins over it"),
    trust: Optional[list[str]] = typer.Option(None, "--trust", help="trust what the kernel cannot check: native_decide (Lean's compiler; Kimina's checker accepts it). Recorded in the run card; a resumed run must say the same"),
    old_backend: Optional[str] = typer.Option(None, "--backend", hidden=True),
) -> None:
    """pass@k of a model on a dataset: results jsonl (resumable), summary.md, pass@k curve, run card."""
    from prover import choices
    from prover.commands.eval import run_eval_command
    from prover.evaluation import EvalSpec

    engine = _renamed("--backend", old_backend, "--engine", engine) or "hf"
    search, options = _checked_search(lambda: (
        choices.dataset(dataset), choices.prompt_format(prompt_format), choices.engine(engine),
        choices.checker_backend(checker), choices.positive("-k", k), choices.positive("--limit", limit),
        choices.positive("--max-tokens", max_tokens), choices.positive("--workers", workers), choices.trust(trust)),
        search, search_option, search_config)
    spec = EvalSpec(trust=choices.trust(trust), dataset=dataset, k=k, split=split, limit=limit, model=model, prompt_format=prompt_format,
                    temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed,
                    stop_at_first=not all_samples, engine=engine, checker_backend=checker, lean=lean,
                    workers=workers, search=search, search_options=options)
    raise typer.Exit(run_eval_command(spec, out))


@app.command()
def show(run_dir: Path = typer.Argument(..., help="an eval's --out directory (finished or still running)")) -> None:
    """Print the summary of an eval run: pass@k so far, problems done, what is still running."""
    from prover.commands.show import run_show

    raise typer.Exit(run_show(run_dir))


@app.command()
def setup(
    name: Optional[str] = typer.Argument(None, help="bundled | vllm | minif2f-v4.24 | deepseek-v1.5 (see --list)"),
    list_profiles: bool = typer.Option(False, "--list", help="list the environments and what each pins"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print every step (command, directory, done or not); run nothing"),
    force: bool = typer.Option(False, "--force", help="bundled: rebuild even if cached"),
) -> None:
    """Install a Lean environment and self-test it: `bundled` (Lean 4.35, offline) or a pinned
    Lean+Mathlib+REPL profile (needs internet; resumable: re-run to continue)."""
    from prover.commands.setup import run_setup

    raise typer.Exit(run_setup(name, list_profiles=list_profiles, dry_run=dry_run, force=force))


app.command("serve")(__import__("prover.commands.serve", fromlist=["serve"]).serve)

train_app = typer.Typer(help="Train a prover: SFT, GRPO and its family, expert iteration, DPO, KTO - with Lean's "
                             "verdicts as rewards and labels. Every stage: `prover train STAGE --config FILE.yaml`.",
                        no_args_is_help=True, context_settings=HELP_OPTIONS)
app.add_typer(train_app, name="train")

_CONFIG = typer.Option(..., "--config", "-c", help="YAML: prover options + trl config fields by TRL's names (see configs/)")
_OUT = typer.Option(None, "--output-dir", "-o", help="overrides the config's output_dir")
_RESUME = typer.Option(None, "--resume", help="`last` (latest checkpoint in output_dir) or a checkpoint directory")
_STEPS = typer.Option(None, "--max-steps", help="overrides the config's max_steps")
_RAY = typer.Option(False, "--ray", help="verify rollouts on the Ray checker (lean_env.ray_checker)")


def _train_command(name: str, with_ray: bool):
    """The typer command of one stage (with --ray only when the stage verifies while training)."""
    def run(config: Path, output_dir: Optional[str], resume: Optional[str], max_steps: Optional[int], ray: bool):
        from prover.commands.train import run_train

        raise typer.Exit(run_train(name, config, output_dir=output_dir, resume=resume, max_steps=max_steps, ray=ray))

    if with_ray:
        def command(config: Path = _CONFIG, output_dir: Optional[str] = _OUT, resume: Optional[str] = _RESUME,
                    max_steps: Optional[int] = _STEPS, ray: bool = _RAY) -> None:
            run(config, output_dir, resume, max_steps, ray)
    else:
        def command(config: Path = _CONFIG, output_dir: Optional[str] = _OUT,  # type: ignore[misc]
                    resume: Optional[str] = _RESUME, max_steps: Optional[int] = _STEPS) -> None:
            run(config, output_dir, resume, max_steps, False)
    return command


def _register_train_stages() -> None:
    """One `prover train NAME` per registered stage (prover.train.registry)."""
    from prover.train.registry import stages

    for stage in stages().values():
        train_app.command(stage.name, help=stage.summary)(_train_command(stage.name, stage.ray))


_register_train_stages()


if __name__ == "__main__":
    app()
