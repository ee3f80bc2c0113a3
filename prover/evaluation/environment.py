"""Which Lean an evaluation's rows need: the bundled logic environment, or an installed Mathlib
profile / the user's Lean, refused up front with the fix when there is none."""
from __future__ import annotations

from typing import Any, Sequence

from lean_env.running.settings import Settings, profile_dir
from prover.evaluation.errors import EvalError


def _needs_outside_lean(row: dict) -> bool:
    """Whether the row imports something the bundled environment lacks (Mathlib)."""
    from lean_env.soundness.checkfile import header_imports
    from lean_env.running.environments import LOGIC_MODULE

    if row.get("profile") not in (None, "", "bundled"):
        return True
    return bool(header_imports(row.get("header") or "") - {LOGIC_MODULE})


def profile_installed(name: str, settings: Settings) -> bool:
    """Whether `prover setup NAME` finished (it writes settings.json last)."""
    return (profile_dir(settings.cache, name) / "settings.json").exists()


def lean_settings_for(rows: Sequence[dict], settings: Settings, dataset: str = "") -> Settings:
    """Settings whose Lean can check these rows. Rows with `import`s (MiniF2F: Mathlib) need a
    Lean other than the bundled one: the user's (--lean / PROVER_LEAN / PROVER_PROFILE) or an
    installed profile for the rows' variant. Otherwise refuse now, with the fix, rather than
    fail every check with "unknown package Mathlib"."""
    needs_mathlib = any(_needs_outside_lean(r) for r in rows)
    if not needs_mathlib or settings.lean or settings.profile:
        return settings
    profiles = sorted({r.get("profile") for r in rows if r.get("profile") not in (None, "", "bundled")})
    for p in profiles:
        if profile_installed(p, settings):
            return Settings.from_env(profile=p, timeout=settings.timeout, workers=settings.explicit_workers())
    want = profiles[0] if profiles else "minif2f-v4.24"
    raise EvalError(
        f"{dataset or 'this dataset'} imports Mathlib, which the bundled Lean (logic prelude only) does not have, "
        f"and no Mathlib environment is installed. Fix: on a machine with internet run `prover setup {want}` "
        f"(it installs Lean + Mathlib + the REPL for this dataset's statements), then rerun; the installed profile "
        f"is found by itself, or select it with PROVER_PROFILE={want}, or point --lean / PROVER_LEAN at a Lean "
        f"whose LEAN_PATH has Mathlib.")


def lean_description(settings: Settings) -> dict:
    """Lean and Mathlib versions for the run card."""
    out: dict[str, Any] = {"profile": settings.profile or None}
    try:
        from lean_env.running.toolchain import find_toolchain

        tc = find_toolchain(settings, build=False)
        out.update(lean=tc.version, lean_path=str(tc.lean), bundled=tc.bundled)
    except Exception as exc:  # the card still gets written; say why the version is missing
        out.update(lean=None, lean_error=str(exc))
    if settings.profile:
        try:
            from lean_env.install.profiles import get_profile

            p = get_profile(settings.profile)
            out.update(mathlib=p.mathlib_rev, toolchain=p.toolchain, repl=p.repl_rev)
        except Exception:
            pass
    else:
        out["mathlib"] = None
    return out
