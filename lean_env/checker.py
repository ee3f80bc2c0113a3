"""The Checker: ProofTask -> Verdict. The allowlist first (no Lean for refused text), then the
shared check file, a backend run, and the shared judge. Never raises for a task: anything that
goes wrong becomes a Verdict, so no task is lost."""
from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, Callable, Iterable, Optional

from lean_env.interface import PooledChecks
from lean_env.running.backends import Backend
from lean_env.soundness.checkfile import CheckFile, TaskError, compose
from lean_env.soundness.header import HeaderError, blank, read_header, select
from lean_env.soundness.messages import environment_error
from lean_env.soundness.judge import is_resource_error, judge
from lean_env.soundness.allowlist import check_file_violations
from lean_env.running.settings import Settings
from lean_env.soundness.statement import StatementError
from lean_env.soundness.verdict import ProofTask, Verdict

if TYPE_CHECKING:
    from lean_env.cache import VerdictCache

BACKENDS = ("cli", "server", "repl")


def default_backend(settings: Settings) -> str:
    """The fastest backend installed: the configured one; else the REPL where one is set up (a
    Mathlib profile); else the LSP server pool when a Lean exists; else one process per check."""
    if settings.backend:
        return settings.backend
    from lean_env.running.backends.repl import repl_available
    from lean_env.running.backends.server import server_available

    if repl_available(settings):
        return "repl"
    return "server" if server_available(settings) else "cli"


def make_backend(name: str, settings: Settings) -> Backend:
    if name == "cli":
        from lean_env.running.backends.cli import CliBackend

        return CliBackend(settings)
    if name == "server":
        from lean_env.running.backends.server import ServerBackend

        return ServerBackend(settings)
    if name == "repl":
        from lean_env.running.backends.repl import ReplBackend

        return ReplBackend(settings)
    raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")


def refuse(task: ProofTask, reasons: list[str], backend: str = "") -> Verdict:
    return Verdict(name=task.name, ok=False, status="refused", reasons=reasons, backend=backend)


def precheck(task: ProofTask, cf: Optional[CheckFile] = None) -> Optional[Verdict]:
    """The verdict for a task that must not reach Lean, or None. The allowlist reads the check
    file Lean will run (`cf`, composed here when not given): the candidate in its real left
    context, any token across a seam refused. A code block's own `import` lines are judged against
    the header first (the header governs the environment)."""
    if cf is None:
        try:
            cf = compose(task)
        except (TaskError, StatementError) as exc:
            return refuse(task, [f"the task cannot be checked: {exc}"])
    found = [v for v in check_file_violations(cf) if not (task.allow_native_decide and v.rule == "native_decide")]
    if found:
        return refuse(task, [v.reason() for v in found])
    return None


def select_header(task: ProofTask, known: list[str]) -> tuple[ProofTask, Optional[Verdict]]:
    """(the task as it will be checked, or the refusal). A header equal to a known one is that
    environment, trusted. Any other untrusted header must select a known environment with its
    `prelude`/`import` part (lean_env.soundness.header.select): the task then carries that environment's
    imports followed by the untrusted rest (blanked where the imports were), which compose keeps
    apart as text the allowlist reads. That rest stays before the target (a row's statement may
    need its `open`s and helper definitions), so it has the power of the statement's own text:
    a client must not put model output there (a Kimina snippet's rest goes to its body instead)."""
    if task.header_trusted:
        return task, None
    if task.header in known:
        return dataclasses.replace(task, header_trusted=True), None
    split = read_header(task.header)
    try:
        env = select(split, known)
    except HeaderError as exc:
        return task, refuse(task, [f"the task cannot be checked: {exc}"])
    return dataclasses.replace(task, header=env.text() + blank(task.header, split.end)), None


class Checker(PooledChecks):
    """Check proofs with one backend. `check` for one task, `check_many` for a batch (run
    concurrently on `workers` threads; each cli check is its own process), `acheck` for asyncio."""

    def __init__(self, backend: str | None = "cli", settings: Settings | None = None, workers: int | None = None,
                 cache: "VerdictCache | str | None" = None):
        self.settings = settings or Settings.from_env()
        if workers:  # pooled backends size their pool from the settings
            self.settings = dataclasses.replace(self.settings, workers=workers)
        self.backend = make_backend(backend or default_backend(self.settings), self.settings)
        self.workers = workers or self.settings.workers
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="checker")
        self._header_problems: dict[str, Optional[str]] = {}
        self._header_lock = threading.Lock()
        from lean_env.running.environments import known_headers

        self.known_headers = known_headers(self.settings)
        self._init_cache(cache)

    def _init_cache(self, cache) -> None:
        """The verdict cache (lean_env.cache): a VerdictCache, a path, or None for $PROVER_VERDICT_CACHE
        (unset: no cache), so `prover check`, eval and rewards share one file without new options."""
        import os

        from lean_env.cache import VerdictCache, environment_id

        cache = cache if cache is not None else os.environ.get("PROVER_VERDICT_CACHE") or None
        self._owns_cache = isinstance(cache, (str, os.PathLike))
        self.cache = VerdictCache(cache) if self._owns_cache else cache
        self._cache_env = environment_id(self.settings, self.backend) if self.cache is not None else ""

    def check(self, task: ProofTask) -> Verdict:
        if self.settings.trusts("native_decide") and not task.allow_native_decide:
            task = dataclasses.replace(task, allow_native_decide=True)  # before the cache key: it names the flag
        if self.cache is None:
            return self._check(task)
        from lean_env.cache import task_key

        start = time.monotonic()
        key = task_key(self._cache_env, task, self.settings.timeout)
        hit = self.cache.get(key)
        if hit is not None:
            hit.seconds = round(time.monotonic() - start, 4)  # what this answer cost, not the first check
            return hit
        v = self._check(task)
        self.cache.put(key, v)
        return v

    def _check(self, task: ProofTask) -> Verdict:
        start = time.monotonic()
        task, refused = select_header(task, self.known_headers)
        if refused is None:
            try:
                cf = compose(task)
            except (TaskError, StatementError) as exc:
                refused = refuse(task, [f"the task cannot be checked: {exc}"])
            else:
                refused = precheck(task, cf)
        if refused is not None:
            refused.backend = self.backend.name
            return refused
        timeout = task.timeout or self.settings.timeout
        try:
            outcome = self.backend.run(cf, timeout)
        except Exception as exc:  # a backend failure is a verdict, never a lost task
            return Verdict(name=task.name, ok=False, status="crashed",
                           reasons=[f"the {self.backend.name} backend failed: {type(exc).__name__}: {exc}"],
                           seconds=round(time.monotonic() - start, 4), backend=self.backend.name,
                           isolation=getattr(self.backend, "isolation", ""))
        judged = task if task.timeout == timeout else dataclasses.replace(task, timeout=timeout)  # its message names the limit
        v = judge(judged, cf, outcome, self.backend.name, getattr(self.backend, "isolation", ""))
        if not v.ok and v.status in ("rejected", "crashed") and self.backend.name in ("cli", "server"):
            # (the REPL answers the header as its own command: the judge already sees its errors)
            problem = self.header_problem(cf.header)  # the header Lean ran, never an untrusted text
            if problem:  # the environment, not the proof: one verdict whatever the backend said
                return Verdict(name=task.name, ok=False, status="rejected", reasons=[problem],
                               seconds=v.seconds, backend=self.backend.name, isolation=v.isolation)
        return v

    def header_problem(self, header: str) -> Optional[str]:
        """Why the header itself does not elaborate, naming the fix, or None. Asked only when a
        check failed (an ok verdict already shows a sound header), answered once per header by a
        plain `lean` run, so every backend reports a broken environment the same way."""
        with self._header_lock:
            if header not in self._header_problems:
                from lean_env.running.backends.cli import CliBackend

                try:
                    errors = CliBackend(self.settings).errors_in(header, max(self.settings.timeout, 60.0))
                except Exception:  # no Lean to ask: the check's own verdict stands
                    errors = []
                errors = [e for e in errors if not is_resource_error(e)]
                self._header_problems[header] = environment_error(errors[0]) if errors else None
            return self._header_problems[header]

    def check_many(self, tasks: Iterable[ProofTask],
                   on_verdict: Callable[[int, Verdict], None] | None = None) -> list[Verdict]:
        tasks = list(tasks)
        results: list[Optional[Verdict]] = [None] * len(tasks)
        copies, keys = self._batch_duplicates(tasks)  # with a cache: index of first occurrence -> its copies
        futures = {self._executor.submit(self.check, t): i for i, t in enumerate(tasks)
                   if copies is None or i in copies}

        for fut in as_completed(futures):
            i = futures[fut]
            results[i] = fut.result()
            if on_verdict:
                on_verdict(i, results[i])
            for j in (copies or {}).get(i, []):
                results[j] = self.cache.copy_hit(keys[i], results[i])
                if on_verdict:
                    on_verdict(j, results[j])
        return results  # type: ignore[return-value]

    def _batch_duplicates(self, tasks: list[ProofTask]) -> tuple[Optional[dict[int, list[int]]], list[str]]:
        """With a cache, identical tasks in one batch (a GRPO group's repeated completions) are
        checked once, the others answered from that check: (first index -> copies, keys);
        (None, []) without a cache."""
        if self.cache is None:
            return None, []
        from lean_env.cache import task_key

        keys = [task_key(self._cache_env, t, self.settings.timeout) for t in tasks]
        first: dict[str, int] = {}
        copies: dict[int, list[int]] = {}
        for i, k in enumerate(keys):
            j = first.setdefault(k, i)
            copies.setdefault(j, [])
            if j != i:
                copies[j].append(i)
        return copies, keys

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.backend.close()
        if self._owns_cache:
            self.cache.close()

    def __enter__(self) -> "Checker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
