"""Every named choice on the command line, checked before anything slow happens.

Why: a typo (`eval logc`, `--checker clii`, `--search mctss`) must cost a second and one line
naming the valid values, not a model load, hub retries or a traceback. Each check reads the
same tables the code that uses the choice reads, so the lists cannot drift apart. Cheap
imports only: no torch, transformers or datasets here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional


class UsageError(ValueError):
    """A bad choice on the command line; the message names the valid values (exit 2)."""


def _one_of(what: str, value: str, valid) -> None:
    if value not in valid:
        raise UsageError(f"unknown {what} {value!r}; choose one of {', '.join(valid)}")


def checker_backend(name: Optional[str], option: str = "--checker") -> None:
    from lean_env.checker import BACKENDS

    if name is not None:
        _one_of(f"{option} (checker backend)", name, BACKENDS)


def engine(name: Optional[str]) -> None:
    from prover.policies import ENGINES

    if name is not None:
        _one_of("--engine (model engine)", name, ENGINES)


def prompt_format(name: Optional[str]) -> None:
    from protocol.prompts import FORMATS

    if name is not None:
        _one_of("--format (prompt format)", name, list(FORMATS))


def trust(values: Optional[list[str]]) -> str:
    """`--trust` (repeatable or comma-separated) as the canonical string Settings.trust holds."""
    from lean_env.running.settings import normalize_trust

    try:
        return normalize_trust(",".join(values or []))
    except ValueError as exc:
        raise UsageError(f"--trust: {exc}") from None


def search_method(name: str) -> None:
    from search.registry import names

    _one_of("--search", name, names())


def search_choice(method: str, pairs: Optional[list[str]], config: Optional[Path]) -> tuple[str, dict]:
    """(method, its knobs typed) from --search, --search-config FILE.yaml and -O KEY=VALUE (which
    win over the file). The file may name the method; --search, when given other than the
    default, must agree with it."""
    from search import registry

    raw: dict = {}
    if config is not None:
        try:
            named, raw = registry.load_options_file(config)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if named is not None:
            if method not in ("best-of-n", named):
                raise UsageError(f"--search {method} but {config} says method: {named}; pass one of them")
            method = named
    search_method(method)
    for pair in pairs or []:
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"--search-option {pair!r}: write KEY=VALUE, e.g. -O max_checks=64; "
                             f"{method}'s options: {registry.options_help(method)}")
        raw[key.strip()] = value
    try:
        return method, registry.parse_options(method, raw)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def environment(name: Optional[str]) -> None:
    from lean_env.running.environments import header_for

    if name is None:
        return
    try:
        header_for(name)
    except KeyError:
        raise UsageError(f"unknown --env {name!r}; choose one of logic (the bundled Lean's prelude)") from None


def dataset(spec: str) -> None:
    """A shipped name, an existing .jsonl/.json file, or a hub id `owner/name`."""
    from data.loaders import ALIASES, VARIANTS

    if spec in VARIANTS or spec in ALIASES:
        return
    path = Path(spec)
    if path.exists():
        if path.is_file():
            return
        raise UsageError(f"{spec} is a directory; pass a .jsonl file, or one of {', '.join(_shipped())}")
    if spec.endswith((".jsonl", ".json")):
        raise UsageError(f"{spec} does not exist")
    owner, _, name = spec.partition("/")
    if owner and name and "/" not in name and " " not in spec:
        return  # a hub id: data.load asks the hub
    raise UsageError(f"unknown dataset {spec!r}; choose one of {', '.join(_shipped())}, "
                     "a .jsonl file, or a hub id owner/name")


def _shipped() -> list[str]:
    from data.loaders import ALIASES, VARIANTS

    return list(ALIASES) + list(VARIANTS)


def positive(option: str, value: Optional[float]) -> None:
    """A numeric option, by the one rule table every row, config and request uses
    (lean_env.soundness.limits): `--max-tokens` is checked as `max_tokens`."""
    from lean_env.soundness.limits import RULES, LimitError, check

    field = option.lstrip("-").replace("-", "_")
    try:
        if field in RULES:
            check(field, value, where=f"{option}: ")
        elif value is not None and not value > 0:
            raise LimitError(f"{option} must be a positive number, got {value!r}")
    except LimitError as exc:
        raise UsageError(str(exc)) from None
