"""Every tunable of the Lean side, in one place. Each field can be set by an environment
variable PROVER_<FIELD> (upper case), so the CLI, tests and Ray workers agree."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path


def _default_cache() -> Path:
    # The sandbox runs Lean as user nobody when we are root, so root's toolchain cache must
    # live somewhere nobody can read (root's home is usually 0700).
    if os.geteuid() == 0:
        return Path("/var/cache/prover")
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "prover"


@dataclass
class Settings:
    lean: str = ""  # path to a `lean` executable; empty: the bundled Lean 4.35 (built on first use)
    cache: str = ""  # where the bundled Lean and converted models are cached
    timeout: float = 60.0  # seconds of wall clock per check
    memory_mb: int = 4096  # Lean's own --memory bound per process
    address_space_mb: int = 16384  # RLIMIT_AS backstop (Lean aborts under ~2 GB; Mathlib needs 9-12 GB)
    threads: int = 1  # Lean's --threads per check process
    workers: int = 0  # pool size; 0 = number of cores
    backend: str = ""  # cli | server | repl; empty: the fastest installed

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        s = cls()
        for f in fields(cls):
            raw = os.environ.get(f"PROVER_{f.name.upper()}")
            if raw is not None and raw != "":
                setattr(s, f.name, type(getattr(s, f.name))(raw))
        for k, v in overrides.items():
            if v is not None:
                setattr(s, k, v)
        if not s.cache:
            s.cache = str(_default_cache())
        if s.workers <= 0:
            s.workers = os.cpu_count() or 1
        return s
