"""What every checker offers its callers (evaluation, search, rewards, the service), so a local
`Checker` and the Ray-backed `RayChecker` are interchangeable; build either with
`lean_env.factory.make_checker`."""
from __future__ import annotations

import asyncio
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Iterable, Optional, Protocol, runtime_checkable

from lean_env.running.settings import Settings
from lean_env.soundness.verdict import ProofTask, Verdict


class BackendInfo(Protocol):
    name: str  # "cli" | "server" | "repl" locally; "ray:<backend>" over Ray
    isolation: str  # how Lean processes are sealed (lean_env.running.sandbox)


@runtime_checkable
class ProofChecker(Protocol):
    settings: Settings
    backend: BackendInfo
    workers: int  # checks that can run at once

    def check(self, task: ProofTask) -> Verdict: ...

    def check_many(self, tasks: Iterable[ProofTask],
                   on_verdict: Optional[Callable[[int, Verdict], None]] = None) -> list[Verdict]: ...

    def submit(self, task: ProofTask) -> "Future[Verdict]": ...

    async def acheck(self, task: ProofTask) -> Verdict: ...

    def close(self) -> None: ...

    def __enter__(self) -> "ProofChecker": ...

    def __exit__(self, *exc) -> None: ...


class PooledChecks:
    """`submit` and `acheck` for a checker whose `check` blocks: both run it on the checker's own
    thread pool (`_executor`), so the Checker, the answer judge and the service client share them."""

    _executor: ThreadPoolExecutor

    def submit(self, task: ProofTask) -> "Future[Verdict]":
        """Check in the background (e.g. while a model generates the next round)."""
        return self._executor.submit(self.check, task)

    async def acheck(self, task: ProofTask) -> Verdict:
        return await asyncio.wrap_future(self.submit(task))
