"""`prover prove "theorem ... :="` (or FILE.lean): best-of-n on one theorem with the default
model and environment; print the proof Lean accepted, or the best attempt and Lean's errors."""
from __future__ import annotations

import dataclasses

import sys
from pathlib import Path
from typing import Optional

from prover.console import err, error, esc, info, is_quiet


def theorem_row(target: str, env: str) -> dict:
    """A dataset row for the theorem given as text or as a .lean file (the file's text before
    the theorem is its header; a file without `prelude`/imports is read under `env`)."""
    from data.loaders import split_statement
    from lean_env.running.environments import header_for
    from lean_env.soundness.statement import theorem_name

    path = Path(target)
    text = path.read_text(encoding="utf-8") if target.endswith(".lean") and path.is_file() else target
    if target.endswith(".lean") and not path.is_file():
        raise ValueError(f"{target} does not exist")
    own_header, informal, statement = split_statement(text)
    statement = statement.rstrip()
    if not statement.endswith(":=") and not statement.endswith("by"):
        raise ValueError("the theorem must end with `:=` or `:= by` (the proof is what the model writes)")
    statement += "\n" if statement.endswith("by") else ""
    name = theorem_name(statement)
    if own_header.strip():
        return {"name": name, "split": "", "header": own_header, "informal_prefix": informal,
                "formal_statement": statement, "source": target if text is not target else "command line"}
    return {"name": name, "split": "", "header": header_for(env), "prompt_header": "", "informal_prefix": informal,
            "formal_statement": statement, "source": "command line", "profile": "bundled" if env == "logic" else ""}


def run_prove(target: str, *, model: Optional[str], n: int, env: Optional[str], prompt_format: Optional[str],
              max_tokens: Optional[int], temperature: float, seed: Optional[int], lean: Optional[str],
              engine: str = "hf", checker: Optional[str] = None, search: str = "best-of-n",
              search_options: Optional[dict] = None, show_attempts: bool = False, trust: str = "") -> int:
    from lean_env.factory import make_checker
    from lean_env.running.settings import Settings
    from lean_env.soundness.statement import StatementError
    from lean_env.running.toolchain import ToolchainError
    from prover.evaluation import EvalError, default_max_tokens, lean_settings_for, make_search
    from prover.models import DEFAULT_MODEL, ModelLoadError, default_prompt_format, model_card
    from prover.policies import SamplingParams
    from protocol.prompts import default_stop

    try:  # --env, else the environment the model was trained in (its prover.json), else logic
        env = env or (model_card(model).get("env") if model else None) or "logic"
        row = theorem_row(target, env)
    except (ValueError, KeyError, StatementError, OSError, ModelLoadError) as exc:
        error(exc)
        return 2
    fmt = prompt_format or default_prompt_format(model or DEFAULT_MODEL)
    params = SamplingParams(temperature=temperature, max_tokens=max_tokens or default_max_tokens([row], fmt),
                            seed=seed, stop=default_stop(fmt))
    lean_checker = None
    try:  # Lean first: a missing toolchain is known in a second, before a model load
        settings = lean_settings_for([row], Settings.from_env(lean=lean), "this theorem")
        settings = dataclasses.replace(settings, trust=trust)  # --trust, and only it (not PROVER_TRUST)
        lean_checker = make_checker(checker, settings)
        policy = load_with_status(model, engine)
    except (EvalError, ModelLoadError, ToolchainError, ValueError) as exc:
        if lean_checker is not None:
            lean_checker.close()
        error(exc)
        return 2
    seen = {"n": 0}

    def on_attempt(_row, attempt) -> None:
        if attempt.verdict is not None or attempt.why_not:
            seen["n"] += 1
            status = attempt.verdict["status"] if attempt.verdict else "not checked"
            info(f"  attempt {seen['n']}: {esc(status)}")
            if show_attempts:
                print_attempt(row, attempt)

    with lean_checker:
        info(f"proving {esc(row['name'])} with {esc(policy.name)} ({search}, up to {n} attempts, format {fmt}); "
             f"generating on {device_name()}")
        try:
            searcher = make_search(search, Announced(policy), lean_checker, params, n, fmt, round_size=min(n, 8),
                                   on_attempt=on_attempt, options=search_options)
        except EvalError as exc:
            error(exc)
            return 2
        record = searcher.search(row)
    best = record.best_attempt()
    if record.solved and best is not None:
        info(f"[green]proved[/] by attempt {record.first_success_index + 1} of {n}")
        body = best.task.get("proof") if best.task else None
        sys.stdout.write((row["formal_statement"] + body if body is not None else best.task["code"]).rstrip() + "\n")
        return 0
    err.print(f"[red]not proved[/] in {record.n} attempts; the best attempt:")
    if best is not None:
        sys.stdout.write(attempt_text(row, best) + "\n")
        print_lean_errors(best)
    return 1


def attempt_text(row: dict, attempt) -> str:
    """What the attempt asked Lean to check: statement + proof, or the whole code block."""
    if not attempt.task:
        return (attempt.completion or "").rstrip()
    if attempt.task.get("proof") is not None:
        return (row["formal_statement"] + attempt.task["proof"]).rstrip()
    return (attempt.task.get("code") or "").rstrip()


def print_lean_errors(attempt, indent: str = "  ") -> None:
    """Lean's errors and the verdict's reasons, escaped (Lean writes `[...]` that is not markup)."""
    if attempt.verdict:
        for m in attempt.verdict.get("errors") or []:
            where = f"{m['line']}:{m['column']}: " if m.get("line") is not None else ""
            err.print(f"{indent}{where}error: {esc(m['text'])}")
        for reason in attempt.verdict.get("reasons") or []:
            err.print(f"{indent}- {esc(reason)}")
    else:
        err.print(f"{indent}nothing to check: {esc(attempt.why_not)}")


def print_attempt(row: dict, attempt) -> None:
    """--show-attempts: the attempt's text, then Lean's errors."""
    for line in attempt_text(row, attempt).splitlines():
        err.print(f"    | {esc(line)}")
    print_lean_errors(attempt, indent="    ")


class Announced:
    """The policy, saying when each round of generation starts and how long it took (on a CPU
    it is most of the wait)."""

    def __init__(self, policy):
        self._policy = policy

    def generate(self, prompts, params):
        import time

        info(f"generating {len(prompts) * params.n} attempt(s), up to {params.max_tokens} tokens each ...")
        started = time.monotonic()
        out = self._policy.generate(prompts, params)
        info(f"generated in {time.monotonic() - started:.1f}s; checking with Lean")
        return out

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(self._policy, attr)


def device_name() -> str:
    try:
        import torch

        return "GPU" if torch.cuda.is_available() else f"CPU ({torch.get_num_threads()} threads)"
    except ImportError:
        return "CPU"


def load_with_status(model: Optional[str], backend: str):
    """Load the policy, saying so while it happens (a spinner on a terminal, a line otherwise)."""
    import time

    from prover.models import DEFAULT_MODEL
    from prover.policies import load_policy

    name = model or DEFAULT_MODEL
    started = time.monotonic()
    if err.is_terminal and not is_quiet():
        with err.status(f"loading {esc(name)} ({backend})"):
            policy = load_policy(model, backend=backend)
    else:
        info(f"loading {esc(name)} ({backend})")
        policy = load_policy(model, backend=backend)
    info(f"loaded {esc(name)} in {time.monotonic() - started:.1f}s")
    return policy
