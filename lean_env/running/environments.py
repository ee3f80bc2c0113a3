"""Named Lean environments: a header plus the toolchain that can check it.

`logic` is the project's own prelude (lean_env/running/prelude/Logic.lean) on the bundled Lean 4.35:
it runs everywhere. It is compiled once to an .olean (module `ProverLogic`, cached per prelude
content and Lean version), so a task's header is two lines, `prelude` + `import ProverLogic`,
and no check re-elaborates the 500-line prelude (0.1 s per cli check instead of 0.5 s).
Mathlib environments need `prover setup PROFILE` (see lean_env.install)."""
from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

PRELUDE_DIR = Path(__file__).parent / "prelude"
LOGIC_MODULE = "ProverLogic"


class PreludeBuildError(RuntimeError):
    """Lean could not compile the logic prelude (lean_env.running.toolchain reports it as a ToolchainError)."""


def logic_source() -> str:
    """The logic prelude's Lean text (what `import ProverLogic` brings in)."""
    return (PRELUDE_DIR / "Logic.lean").read_text(encoding="utf-8")


def logic_header() -> str:
    """The header of every task in the `logic` environment."""
    return f"prelude\nimport {LOGIC_MODULE}\n"


def header_for(env: str) -> str:
    if env == "logic":
        return logic_header()
    raise KeyError(f"unknown environment {env!r}: use `logic`, or give the header text itself")


def build_logic_olean(lean: Path, version: str, cache: Path) -> Path:
    """Compile the prelude to <cache>/logic-<hash>/ProverLogic.olean once; return that directory.
    The hash covers the prelude text and the Lean version, so an edit or a new Lean rebuilds it.
    The directory is world-readable: sandboxed Lean runs as user nobody and must import it."""
    source = logic_source()
    key = hashlib.sha256((version + "\0" + source).encode()).hexdigest()[:16]
    target = cache / f"logic-{key}"
    if (target / f"{LOGIC_MODULE}.olean").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        src = Path(tmp) / f"{LOGIC_MODULE}.lean"
        src.write_text(source, encoding="utf-8")
        proc = subprocess.run([str(lean), "-o", f"{LOGIC_MODULE}.olean", src.name], cwd=tmp,
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not (Path(tmp) / f"{LOGIC_MODULE}.olean").exists():
            raise PreludeBuildError(f"compiling the logic prelude failed:\n{(proc.stdout + proc.stderr)[-2000:]}")
        os.chmod(tmp, 0o755)
        for f in Path(tmp).iterdir():
            os.chmod(f, 0o644)
        try:
            os.rename(tmp, target)  # atomic: a concurrent builder either wins or finds it done
        except OSError:
            if not (target / f"{LOGIC_MODULE}.olean").exists():
                raise
        else:
            os.mkdir(tmp)  # let TemporaryDirectory clean up the name it expects
    return target
