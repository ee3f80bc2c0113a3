"""The Checker over Ray: actors each hold a Checker (and so a pool of warm Lean workers), for
clusters where verification needs hundreds of cores.

Tasks go out in chunks (one chunk = one actor call, so each call pays Ray's overhead once for
several checks and keeps an actor's pool busy). An actor that dies mid-batch loses nothing: its
chunks are sent again to a fresh actor that replaces it, so every task gets a verdict. Verdicts
come from the same Checker as locally: allowlist -> compose -> backend -> judge.
"""
from __future__ import annotations

import asyncio
import dataclasses
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from lean_env.batching import Batcher
from lean_env.running.settings import Settings
from lean_env.soundness.verdict import ProofTask, Verdict


class CheckerActorImpl:
    """The body of a Ray actor: one Checker with its pool, alive as long as the actor."""

    def __init__(self, backend: str, settings: dict, workers: int):
        from lean_env.checker import Checker

        self.checker = Checker(backend, Settings(**settings), workers=workers)

    def check_batch(self, tasks: list[ProofTask]) -> list[Verdict]:
        return self.checker.check_many(tasks)

    def isolation(self) -> str:
        return self.checker.backend.isolation

    def pids(self) -> list[int]:
        """This actor's process and its Lean workers' (for tests that check nothing leaks)."""
        pool = getattr(self.checker.backend, "pool", None)
        return [os.getpid()] + (pool.worker_pids() if pool else [])

    def close(self) -> None:
        self.checker.close()


@dataclass(frozen=True)
class RemoteBackend:
    """What a RayChecker reports as its backend: the actors' backend kind, prefixed with `ray:`
    (a tactic-level search cannot drive a remote server's processes, and says so by its name)."""

    name: str
    isolation: str


class RayChecker:
    """lean_env.interface.ProofChecker over Ray actors, like lean_env.checker.Checker.

    address: "auto" (join a running cluster, else start a local one), "local" (always start a
    local one), or a cluster address. actors: how many (default: the cluster's CPUs divided by
    `workers_per_actor`). Each actor reserves `workers_per_actor` CPUs for its Lean workers."""

    def __init__(self, backend: str = "server", settings: Settings | None = None, address: str = "auto",
                 actors: int | None = None, workers_per_actor: int = 1, chunk_size: int = 8,
                 max_resubmits: int = 5, ray_init: dict | None = None):
        import ray

        self.ray = ray
        self.settings = settings or Settings.from_env()
        if not ray.is_initialized():
            kw = dict(ray_init or {})
            kw.setdefault("include_dashboard", False)
            kw.setdefault("log_to_driver", False)
            if address == "local":
                ray.init(**kw)
            elif address == "auto":
                try:
                    ray.init(address="auto", **kw)
                except (ConnectionError, RuntimeError):
                    ray.init(**kw)
            else:
                ray.init(address=address, **kw)
        self.backend_name, self.workers_per_actor = backend, max(1, workers_per_actor)
        self.chunk_size, self.max_resubmits = max(1, chunk_size), max_resubmits
        cpus = int(ray.cluster_resources().get("CPU", 1))
        n = actors or max(1, cpus // self.workers_per_actor)
        self._actor_cls = ray.remote(CheckerActorImpl).options(num_cpus=self.workers_per_actor, max_restarts=0)
        self.actors = [self._new_actor() for _ in range(n)]
        self.resubmitted = 0  # chunks sent again after an actor died
        self.workers = n * self.workers_per_actor
        self.backend = RemoteBackend(name=f"ray:{backend}", isolation=self._isolation())
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="ray-checker")
        self._batcher = Batcher(self.check_many, parallel=max(1, len(self.actors)))

    def _isolation(self) -> str:
        try:
            return f"ray actors: {self.ray.get(self.actors[0].isolation.remote(), timeout=120)}"
        except Exception as exc:  # the checks themselves will report a broken actor
            return f"ray actors: unknown ({type(exc).__name__})"

    def _new_actor(self):
        return self._actor_cls.remote(self.backend_name, dataclasses.asdict(self.settings), self.workers_per_actor)

    def check_many(self, tasks: Iterable[ProofTask],
                   on_verdict: Callable[[int, Verdict], None] | None = None) -> list[Verdict]:
        from ray.exceptions import RayActorError

        ray = self.ray
        tasks = list(tasks)
        chunks = [list(range(i, min(i + self.chunk_size, len(tasks)))) for i in range(0, len(tasks), self.chunk_size)]
        results: list[Optional[Verdict]] = [None] * len(tasks)
        pending: dict = {}  # ObjectRef -> (chunk index, actor slot, tries)
        for c, idx in enumerate(chunks):
            slot = c % len(self.actors)
            pending[self.actors[slot].check_batch.remote([tasks[i] for i in idx])] = (c, slot, 0)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            ref = done[0]
            c, slot, tries = pending.pop(ref)
            try:
                verdicts = ray.get(ref)
            except RayActorError:
                if tries >= self.max_resubmits:
                    raise
                self._replace(slot)
                self.resubmitted += 1
                pending[self.actors[slot].check_batch.remote([tasks[i] for i in chunks[c]])] = (c, slot, tries + 1)
                continue
            for i, v in zip(chunks[c], verdicts):
                results[i] = v
                if on_verdict:
                    on_verdict(i, v)
        return results  # type: ignore[return-value]

    def _replace(self, slot: int) -> None:
        """A dead actor's slot gets a fresh actor (once, however many of its calls failed)."""
        old = self.actors[slot]
        try:
            self.ray.get(old.pids.remote(), timeout=5)
            return  # still alive: only the call failed; it can take the resubmission
        except Exception:
            pass
        try:
            self.ray.kill(old, no_restart=True)
        except Exception:
            pass
        self.actors[slot] = self._new_actor()

    def check(self, task: ProofTask) -> Verdict:
        return self.check_many([task])[0]

    def submit(self, task: ProofTask) -> "Future[Verdict]":
        """Check in the background; tasks submitted close together share one batch (lean_env.batching)."""
        return self._batcher.submit(task)

    async def acheck(self, task: ProofTask) -> Verdict:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self.check, task)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        for a in self.actors:
            try:
                self.ray.get(a.close.remote(), timeout=60)
            except Exception:
                pass
            try:
                self.ray.kill(a, no_restart=True)
            except Exception:
                pass
        self.actors = []

    def __enter__(self) -> "RayChecker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
