"""A verdict cache on disk (sqlite), content-addressed, shared by every Checker that opens the
same file: `prover check`, `prover eval`, training rewards and `prover serve`.

Why: GRPO samples a group of completions per prompt and small models repeat themselves; an
eval rerun checks the same proofs again. A check costs a Lean run; a hit costs one indexed read.

The key is a hash of everything that decides a verdict and nothing else:
- the environment: Lean's version and executable, the .olean directories it imports from
  (the logic prelude's directory name carries the prelude's own hash), the REPL and Mathlib
  workspace where one is used, and the header text;
- the rules: the source of every module of lean_env (allowlist and its lexer, limits, check file,
  judge, backends, sandbox ...), so a rule change never serves a verdict the new rules would
  not give (a hand-kept list of "the modules that decide ok" had already missed the lexer);
- the task's text (statement, proof or code, name) and its limits (timeout, memory, native_decide).
The backend is not in the key: every backend gives the same verdict by design.

Only final verdicts are stored (proved, rejected, refused): a timeout or a crash says something
about the machine at that moment, not about the proof, so it is checked again next time.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Optional

from lean_env.running.settings import Settings
from lean_env.soundness.verdict import ProofTask, Verdict

FINAL_STATUSES = frozenset({"proved", "rejected", "refused"})
_SCHEMA = """CREATE TABLE IF NOT EXISTS verdicts (
    key TEXT PRIMARY KEY, verdict TEXT NOT NULL, created REAL NOT NULL, hits INTEGER NOT NULL DEFAULT 0)"""


def rule_files() -> list[Path]:
    """The code a verdict can depend on: every Python module of lean_env (a change anywhere in
    the Lean side costs a recheck, never a stale verdict)."""
    here = Path(__file__).parent
    return sorted(here.rglob("*.py"))


@functools.lru_cache(maxsize=1)
def rules_hash() -> str:
    here = Path(__file__).parent
    h = hashlib.sha256()
    for path in rule_files():
        h.update(str(path.relative_to(here)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def environment_id(settings: Settings, backend: object = None) -> str:
    """What the checking environment is, apart from the header: the Lean (version, path, the
    .olean directories), and the REPL/workspace where one is used."""
    parts: dict = {"backend_lean": settings.lean, "memory_mb": settings.memory_mb, "threads": settings.threads}
    tc = getattr(backend, "toolchain", None)
    if tc is not None:
        parts.update(version=tc.version, lean=str(tc.lean), lean_path=[str(p) for p in tc.lean_path])
    argv = getattr(backend, "argv", None)  # the REPL backend: its executable and workspace
    if argv:
        parts["repl"] = list(argv)
    if settings.workspace:
        manifest = Path(settings.workspace) / "lake-manifest.json"
        parts["workspace"] = settings.workspace
        parts["manifest"] = hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.exists() else ""
    if settings.profile:
        parts["profile"] = settings.profile
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def task_key(env_id: str, task: ProofTask, default_timeout: float) -> str:
    fields = {
        "env": env_id, "rules": rules_hash(), "header": task.header, "statement": task.formal_statement,
        "proof": task.proof, "code": task.code, "name": task.name,
        "timeout": float(task.timeout or default_timeout), "native_decide": task.allow_native_decide,
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class VerdictCache:
    """get/put Verdicts by key. Safe across threads and processes (sqlite WAL; one connection
    per thread). A corrupt or unreadable row is a miss, never an error."""

    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.hits = self.misses = self.stores = 0
        self._lock = threading.Lock()
        self._conn().execute(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def get(self, key: str) -> Optional[Verdict]:
        row = self._conn().execute("SELECT verdict FROM verdicts WHERE key = ?", (key,)).fetchone()
        verdict = None
        if row is not None:
            try:
                verdict = Verdict.from_dict(json.loads(row[0]))
            except (ValueError, TypeError, KeyError):
                verdict = None
        with self._lock:
            if verdict is None:
                self.misses += 1
            else:
                self.hits += 1
        if verdict is None:
            return None
        self._conn().execute("UPDATE verdicts SET hits = hits + 1 WHERE key = ?", (key,))
        return dataclasses.replace(verdict, cached=True)

    def put(self, key: str, verdict: Verdict) -> bool:
        """Store a final verdict; False (and nothing stored) for a timeout or a crash."""
        if verdict.status not in FINAL_STATUSES or verdict.cached:
            return False
        d = verdict.to_dict()
        d["cached"] = False
        self._conn().execute("INSERT OR REPLACE INTO verdicts (key, verdict, created) VALUES (?, ?, ?)",
                             (key, json.dumps(d, ensure_ascii=False), time.time()))
        with self._lock:
            self.stores += 1
        return True

    def copy_hit(self, key: str, verdict: Verdict) -> Verdict:
        """The verdict for an identical task in the same batch: a hit when final, else the same
        verdict (a timeout is not reused later, but this copy ran at the same moment)."""
        if verdict.status not in FINAL_STATUSES:
            return dataclasses.replace(verdict)
        with self._lock:
            self.hits += 1
        self._conn().execute("UPDATE verdicts SET hits = hits + 1 WHERE key = ?", (key,))
        return dataclasses.replace(verdict, cached=True, seconds=0.0)

    def __len__(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]

    def hit_rate(self) -> float:
        asked = self.hits + self.misses
        return self.hits / asked if asked else 0.0

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
