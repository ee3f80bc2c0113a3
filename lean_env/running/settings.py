"""Every tunable of the Lean side, in one place. Each field can be set by an environment
variable PROVER_<FIELD> (upper case), so the CLI, tests and Ray workers agree."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Optional


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
    workers: int = 0  # pool size; 0 = number of cores, or fewer where worker_mb says memory runs out first
    backend: str = ""  # cli | server | repl; empty: the fastest installed
    repl: str = ""  # path to a leanprover-community/repl executable (the repl backend)
    workspace: str = ""  # lake project whose `lake env` gives the REPL its LEAN_PATH (Mathlib)
    recycle_checks: int = 2000  # a pooled worker is replaced after this many checks
    recycle_rss_mb: int = 8192  # ... or when its process tree's RSS passes this (Lean keeps memory)
    worker_mb: int = 0  # memory one worker may reach (a Mathlib profile sets it); 0 = not counted in `workers`
    repl_stdout: str = "pipe"  # pipe | pty: pty for an old REPL that never flushes (see lean_env.running.backends.repl)
    queue: int = 0  # checks a pool accepts beyond running ones before callers wait; 0 = 4 x workers
    profile: str = ""  # a Mathlib profile installed by `prover setup NAME`: its settings fill the fields left unset
    trust: str = ""  # what the checker trusts beyond the kernel, comma-separated (TRUSTABLE); empty: nothing

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        s = cls()
        explicit: set[str] = set()
        for f in fields(cls):
            raw = os.environ.get(f"PROVER_{f.name.upper()}")
            if raw is not None and raw != "":
                setattr(s, f.name, type(getattr(s, f.name))(raw))
                explicit.add(f.name)
        for k, v in overrides.items():
            if v is not None:
                setattr(s, k, v)
                explicit.add(k)
        if not s.cache:
            s.cache = str(_default_cache())
        if s.profile:  # PROVER_X and overrides win over the profile's file
            for k, v in profile_settings(s.cache, s.profile).items():
                if k not in explicit and k in {f.name for f in fields(cls)}:
                    setattr(s, k, type(getattr(s, k))(v))
        from lean_env.soundness.limits import RULES, check

        for f in fields(cls):  # a NaN or absurd timeout must not switch a limit off (lean_env.soundness.limits)
            if f.name in RULES:
                check(f.name, getattr(s, f.name), where=f"--{f.name.replace('_', '-')} / PROVER_{f.name.upper()}: ")
        s.trust = normalize_trust(s.trust)
        s.workers_auto = s.workers <= 0
        if s.workers_auto:
            s.workers = default_workers(os.cpu_count() or 1, machine_memory_mb(), s.worker_mb)
        return s

    def trusts(self, what: str) -> bool:
        return what in self.trust.split(",")

    def explicit_workers(self) -> Optional[int]:
        """The worker count to pass on to another Settings: None where it was sized here, so a
        profile loaded there (with its own worker_mb) sizes it again."""
        return None if getattr(self, "workers_auto", False) else self.workers


# What a user may opt in to trusting (`--trust`, the `trust` config key, PROVER_TRUST). native_decide
# trusts Lean's compiler: Kimina's checker accepts it, the default here refuses it.
TRUSTABLE = ("native_decide",)


def normalize_trust(value) -> str:
    """`"native_decide"`, a list of names, or "" as one canonical comma-separated string
    (sorted, so a run card's identity does not depend on the order given)."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    names = sorted({str(i).strip() for i in items if str(i).strip()})
    bad = [n for n in names if n not in TRUSTABLE]
    if bad:
        raise ValueError(f"cannot trust {', '.join(bad)}: the checker can be told to trust only "
                         f"{', '.join(TRUSTABLE)} (--trust native_decide)")
    return ",".join(names)


# Memory kept out of the workers' share: the OS, the page cache Mathlib's .olean files are read
# through, and the calling process (a model's tokenizer, a trainer).
MEMORY_RESERVE = 0.2


def default_workers(cores: int, memory_mb: int, worker_mb: int) -> int:
    """One worker per core, but no more than fit in memory: a REPL or `lean` holding Mathlib sits
    at 5-7 GB, so 64 of them on a 64-core, 256 GB machine would exhaust it."""
    if worker_mb <= 0 or memory_mb <= 0:
        return max(1, cores)
    return max(1, min(cores, int(memory_mb * (1 - MEMORY_RESERVE)) // worker_mb))


def machine_memory_mb() -> int:
    """Physical memory, or the cgroup's limit where smaller (a container, a Slurm job); 0 if unknown."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):
        total = 0
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            raw = Path(path).read_text().strip()
        except OSError:
            continue
        if raw.isdigit() and int(raw) // 2**20 > 0:
            limit = int(raw) // 2**20
            total = min(total, limit) if total else limit
    return total


def profile_dir(cache: str | Path, name: str) -> Path:
    """The workspace `prover setup NAME` installs into (toolchains live in <cache>/elan)."""
    return Path(cache) / "profiles" / name


def profile_settings(cache: str | Path, name: str) -> dict:
    """The settings `prover setup NAME` wrote (lean wrapper, repl, workspace). Raises if it has
    not run: silently falling back to the bundled Lean would fail every Mathlib check obscurely."""
    import json

    path = profile_dir(cache, name) / "settings.json"
    if not path.exists():
        raise FileNotFoundError(f"profile {name!r} is not installed ({path} is missing): run `prover setup {name}`")
    return json.loads(path.read_text())
