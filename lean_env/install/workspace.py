"""Where a profile lives on disk and the files setup writes there (the Lake project, the wrappers,
settings.json, the record of a verified install).

Layout, for cache C (see lean_env.running.settings):
    C/elan/                     ELAN_HOME: elan and the toolchains (shared by every profile)
    C/profiles/NAME/project/    a Lake project that requires Mathlib at the profile's rev
    C/profiles/NAME/repl/       leanprover-community/repl (or a fork) at the profile's rev, built
    C/profiles/NAME/bin/lean    the profile's Lean with the project's LEAN_PATH baked in
    C/profiles/NAME/bin/repl    the built REPL, likewise (it also needs LEAN_SYSROOT: it finds
                                Init through it, else by running `lean` from PATH)
    C/profiles/NAME/settings.json   what PROVER_PROFILE=NAME loads (lean, repl, workspace)
    C/profiles/NAME/.prover/    markers of finished steps that leave no artifact of their own

Why wrappers with a fixed LEAN_PATH rather than `lake env lean`: the Checker runs Lean in a
sandbox with a scrubbed environment (PATH=/usr/bin:/bin, HOME=scratch dir, maybe user nobody).
Running lake there would need elan on PATH and a writable workspace; the path `lake env` would
compute is fixed once the packages are built, so it is computed once, at setup.
Why toolchains go to C/elan even when elan is on PATH: the sandbox may run Lean as user nobody,
who cannot read a root-owned ~/.elan; C is chosen to be readable by it."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Optional

from lean_env.install.profiles import Profile
from lean_env.running.settings import Settings, profile_dir

# Sizing written to a profile's settings.json. A REPL or `lean` holding Mathlib sits at 5-7 GB of
# RSS: recycle a worker past 10 GB (not the bundled 8 GB, which would restart it, and re-import
# Mathlib, every few checks), bound Lean itself at 12 GB, and count 12 GB per worker when sizing
# the default number of workers from the machine's memory (lean_env.running.settings.default_workers).
MATHLIB_RECYCLE_RSS_MB = 10240
MATHLIB_MEMORY_MB = 12288
MATHLIB_WORKER_MB = 12288


def toolchain_dirname(toolchain: str) -> str:
    """elan's directory for a toolchain: leanprover/lean4:v4.9.0 -> leanprover--lean4---v4.9.0."""
    return toolchain.replace("/", "--").replace(":", "---")


class Workspace:
    """Where one profile lives, and the paths every step and the doctor agree on."""

    def __init__(self, profile: Profile, settings: Settings, elan_on_path: Optional[str] = None):
        self.profile = profile
        self.cache = Path(settings.cache)
        self.root = profile_dir(settings.cache, profile.name)
        self.elan_home = self.cache / "elan"
        own_elan = self.elan_home / "bin" / "elan"
        # An elan already installed (ours, or one on PATH) is used as is, with ELAN_HOME pointed at the cache.
        self.elan = str(own_elan) if own_elan.exists() or not elan_on_path else elan_on_path
        self.installs_elan = not own_elan.exists() and not elan_on_path
        self.toolchain_bin = self.elan_home / "toolchains" / toolchain_dirname(profile.toolchain) / "bin"
        self.lake = str(self.toolchain_bin / "lake")
        self.project = self.root / "project"
        self.repl_dir = self.root / "repl"
        self.repl_exe = self.repl_dir / ".lake" / "build" / "bin" / "repl"
        self.lean_wrapper = self.root / "bin" / "lean"
        self.repl_wrapper = self.root / "bin" / "repl"
        self.settings_file = self.root / "settings.json"
        self.markers = self.root / ".prover"

    def env(self) -> dict[str, str]:
        path = os.pathsep.join([str(self.elan_home / "bin"), str(self.toolchain_bin), os.environ.get("PATH", "")])
        return {"ELAN_HOME": str(self.elan_home), "PATH": path}

    def marker(self, key: str) -> Path:
        return self.markers / f"{key}.done"

    def repl_stdout(self) -> str:
        """pipe where the REPL flushes each answer (its own rev, or upstream's commit applied), pty
        where the flush commit could not be applied (see the `flush` step)."""
        if not self.profile.repl_flush_commit:
            return "pipe"
        m = self.marker("repl-flush")
        return "pty" if m.exists() and m.read_text().startswith("pty") else "pipe"

    def settings_payload(self) -> dict:
        # Mathlib maps ~5 GB of .oleans at import and needs 9-12 GB of address space (Kimina Lean
        # Server #68): the bundled logic environment's 4 GB defaults would abort every check.
        return {"lean": str(self.lean_wrapper), "repl": str(self.repl_wrapper), "workspace": str(self.project),
                "memory_mb": MATHLIB_MEMORY_MB, "address_space_mb": 32768, "timeout": 300.0,
                "recycle_rss_mb": MATHLIB_RECYCLE_RSS_MB, "worker_mb": MATHLIB_WORKER_MB,
                "repl_stdout": self.repl_stdout(), "profile_pins": self.profile.fingerprint()}


def lakefile_text(profile: Profile) -> str:
    return (
        "-- Written by `prover setup " + profile.name + "`: Mathlib pinned to one commit; its own\n"
        "-- lake-manifest.json pins the transitive dependencies (batteries, aesop, ...).\n"
        "import Lake\nopen Lake DSL\n\n"
        "package prover_workspace\n\n"
        f'require mathlib from git\n  "{profile.mathlib_url}" @ "{profile.mathlib_rev}"\n\n'
        "-- `lake build` builds this one-line library, so every Mathlib module it needs is built\n"
        "-- (a no-op where `lake exe cache get` downloaded them).\n"
        "@[default_target]\nlean_lib ProverWorkspace\n"
    )


def project_files(profile: Profile) -> dict[str, str]:
    return {
        "lean-toolchain": profile.toolchain + "\n",
        "lakefile.lean": lakefile_text(profile),
        "ProverWorkspace.lean": "import Mathlib\n",
    }


def manifest_pins_mathlib(project: Path, rev: str) -> bool:
    """lake-manifest.json has mathlib at `rev` and the package is checked out."""
    manifest = project / "lake-manifest.json"
    if not manifest.exists() or not (project / ".lake" / "packages" / "mathlib").is_dir():
        return False
    try:
        packages = json.loads(manifest.read_text()).get("packages", [])
    except (ValueError, AttributeError):
        return False
    return any(p.get("name") == "mathlib" and p.get("rev") == rev for p in packages)


def git_head_is(repo: Path, rev: str) -> bool:
    if not (repo / ".git").exists() or not shutil.which("git"):
        return False
    proc = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True)
    return proc.returncode == 0 and proc.stdout.strip() == rev


def wrapper_text(profile: Profile, exe: str, lean_path: str, sysroot: str) -> str:
    return (
        "#!/bin/sh\n"
        f"# Written by `prover setup {profile.name}`: {Path(exe).name} for {profile.toolchain} with the workspace's\n"
        "# Mathlib, in the environment `lake env` would give it, fixed at setup so the sandboxed\n"
        "# Checker runs no lake or elan. Pins: " + profile.fingerprint() + "\n"
        f"LEAN_PATH={shlex.quote(lean_path)}\nLEAN_SYSROOT={shlex.quote(sysroot)}\nexport LEAN_PATH LEAN_SYSROOT\n"
        f"exec {shlex.quote(exe)} \"$@\"\n"
    )


def record_verified_here(ws: Workspace) -> None:
    """After a passing self-test: what ran, where and when (`prover doctor` shows it)."""
    import platform
    import time

    ws.markers.mkdir(parents=True, exist_ok=True)
    (ws.markers / "verified.json").write_text(json.dumps({
        "profile": ws.profile.name, "pins": ws.profile.fingerprint(), "host": platform.node(),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "repl_stdout": ws.repl_stdout(),
        "what": "real install: every setup step, then the self-test (a right proof proved, a wrong one rejected)",
    }, indent=2) + "\n")


def verified_here(ws: Workspace) -> str:
    try:
        rec = json.loads((ws.markers / "verified.json").read_text())
    except (OSError, ValueError):
        return ""
    if rec.get("pins") != ws.profile.fingerprint():
        return f"an install of other pins ({rec.get('pins')}) on {rec.get('when')}; run `prover setup {ws.profile.name}`"
    return f"{rec.get('what')} on {rec.get('host')} at {rec.get('when')} (REPL stdout: {rec.get('repl_stdout')})"
