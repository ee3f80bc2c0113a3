"""LeanDojo, optional: drive best-first search through lean-dojo's `Dojo` tactic environment,
and read LeanDojo Benchmark 4 as supervised (tactic state -> tactic) training data.

Needs the `leandojo` extra (`pip install 'lean-prover-rl[leandojo]'`) and what lean-dojo
itself needs: elan and git on PATH, GitHub access (it clones and traces the repository the
theorem lives in; set GITHUB_ACCESS_TOKEN to avoid rate limits), and time and disk for the
first trace of a repository (Mathlib: hours, tens of GB). Nothing here imports lean_dojo
until a Dojo is actually opened, so the rest of the project works without it.

What lean-dojo 4.20's real classes require (tests/test_leandojo.py runs against them):
building `LeanGitRepo(url, commit)` already goes to the network (GitHub's API for a GitHub url;
LeanDojo's remote cache for any repo not in its local cache unless DISABLE_REMOTE_CACHE is set),
so theorems are built inside `start`, where a failure is an "error" step, not a crash;
`Theorem` asserts that file_path ends in `.lean` (checked here first, with a message); `Dojo`
waits up to 600 s per tactic by default, too long for search, so `timeout` is passed.
Results are told apart by class name (TacticState / ProofFinished / LeanError / ProofGivenUp),
which matches the real classes and still works where lean_dojo is not importable.
As with every TacticEnv, a proof that the Dojo reports finished counts only after search.bfs
re-checks the whole proof with the Checker, so rows need `formal_statement` and `header` that
the Checker's Lean can check.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

from search.tactic_env import INDENT, TacticResult, clean_tactic, goals_in_message, state_comment

INSTALL_HINT = ("lean-dojo is not installed: `pip install 'lean-prover-rl[leandojo]'` (it also needs elan, git and "
                "GitHub access to trace the theorem's repository)")


def dojo_theorem(row: Mapping[str, Any]):
    """lean_dojo.Theorem for a LeanDojo-style row (url, commit, file_path, full_name)."""
    try:
        from lean_dojo import LeanGitRepo, Theorem
    except ImportError as exc:
        raise RuntimeError(INSTALL_HINT) from exc
    missing = [k for k in ("url", "commit", "file_path", "full_name") if not row.get(k)]
    if missing:
        raise ValueError(f"a LeanDojo theorem needs {', '.join(missing)} in the row")
    if not str(row["file_path"]).endswith(".lean"):
        raise ValueError(f"file_path must be the theorem's .lean file in its repository, got {row['file_path']!r}")
    return Theorem(LeanGitRepo(row["url"], row["commit"]), row["file_path"], row["full_name"])


def default_dojo(theorem, timeout: int = 60):
    """lean_dojo.Dojo(theorem) with a per-tactic timeout in seconds."""
    try:
        from lean_dojo import Dojo
    except ImportError as exc:
        raise RuntimeError(INSTALL_HINT) from exc
    return Dojo(theorem, timeout=timeout)


class DojoTacticEnv:
    """A TacticEnv over lean-dojo. `dojo_factory(theorem)` returns a context manager that
    enters as (dojo, initial TacticState) — lean_dojo.Dojo by default; `theorem_for(row)`
    builds the theorem (dojo_theorem by default). One Dojo is open at a time: `start` closes
    the previous problem's. `timeout`: seconds per tactic for the default Dojo."""

    name = "leandojo"

    def __init__(self, dojo_factory: Optional[Callable[[Any], Any]] = None,
                 theorem_for: Optional[Callable[[Mapping[str, Any]], Any]] = None, timeout: int = 60):
        self.dojo_factory = dojo_factory or (lambda theorem: default_dojo(theorem, timeout=timeout))
        self.theorem_for = theorem_for or dojo_theorem
        self._ctx = None
        self._dojo = None
        self.checks = 0

    def start(self, row: Mapping[str, Any]) -> TacticResult:
        self.close()
        try:
            self._ctx = self.dojo_factory(self.theorem_for(row))
            self._dojo, init = self._ctx.__enter__()
        except Exception as exc:  # DojoInitError, a missing extra, a failed trace...
            self._ctx = self._dojo = None
            return TacticResult("error", error=f"LeanDojo could not open the theorem: {type(exc).__name__}: {exc}")
        return TacticResult("open", goals_in_message(init.pp), (init, ()), ())

    def apply(self, state: Any, tactic: str) -> TacticResult:
        ts, tactics = state
        tactic = clean_tactic(tactic)
        tactics = tuple(tactics) + (tactic,)
        if self._dojo is None:
            return TacticResult("error", tactics=tactics, error="no Dojo is open (call start first)")
        try:
            res = self._dojo.run_tac(ts, tactic)
        except Exception as exc:  # DojoCrashError, DojoTacticTimeoutError
            return TacticResult("error", tactics=tactics, error=f"LeanDojo failed: {type(exc).__name__}: {exc}")
        self.checks += 1
        kind = type(res).__name__
        if kind == "TacticState":
            return TacticResult("open", goals_in_message(res.pp), (res, tactics), tactics)
        if kind == "ProofFinished":
            return TacticResult("proved", [], (res, tactics), tactics)
        if kind == "ProofGivenUp":
            return TacticResult("error", tactics=tactics, error="the proof gave up (sorry)")
        return TacticResult("error", tactics=tactics, error=str(getattr(res, "error", kind)))

    def close(self) -> None:
        if self._ctx is not None:
            ctx, self._ctx, self._dojo = self._ctx, None, None
            try:
                ctx.__exit__(None, None, None)
            except Exception:
                pass


# -- LeanDojo Benchmark 4 as SFT data ----------------------------------------------------------
def load_benchmark(path: str | Path, split: Optional[str] = None) -> list[dict]:
    """Theorems of LeanDojo Benchmark 4: a split file (`train.json`, a JSON list, or a .jsonl
    with one theorem a line) or the benchmark directory with `split` (e.g. `random`/`train`
    or `novel_premises`/`val`)."""
    p = Path(path)
    if p.is_dir():
        if not split:
            raise ValueError("give split= (e.g. 'random/train') when path is the benchmark directory")
        candidates = [p / f"{split}.json", p / f"{split}.jsonl", p / split / "train.json"]
        found = next((c for c in candidates if c.exists()), None)
        if found is None:
            raise FileNotFoundError(f"no {split}.json or {split}.jsonl under {p}")
        p = found
    text = p.read_text(encoding="utf-8")
    if p.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError(f"{p}: expected a JSON list of theorems")
    return data


def tactic_step_records(theorems: Iterable[Mapping[str, Any]], fmt: str = "deepseek-v1.5") -> list[dict]:
    """prompt/completion pairs, one per traced tactic: the prompt shows the tactic state as the
    `/- tactic state -/` comment search.bfs shows the model, the completion is the tactic on
    its own line. Tactics that leave no state before them (empty) are skipped."""
    from protocol.prompts import get_format

    lead = "Complete the following Lean 4 code:\n\n```lean4\n"
    if get_format(fmt).kind != "continuation":
        raise ValueError("LeanDojo tactic data is for continuation formats (tactic-level search)")
    out = []
    for thm in theorems:
        for step in thm.get("traced_tactics") or []:
            tactic = (step.get("tactic") or "").strip()
            before = step.get("state_before") or ""
            if not tactic or not before.strip() or before.strip() == "no goals":
                continue
            goals = goals_in_message(before)
            out.append({"prompt": lead + state_comment(goals), "completion": INDENT + tactic + "\n",
                        "full_name": thm.get("full_name", ""), "file_path": thm.get("file_path", "")})
    return out
