"""A pool of warm Lean workers, shared by every pooled backend (LSP server, REPL).

Why a pool: starting Lean and elaborating a header costs far more than checking one proof,
so workers stay alive and keep their header. The pool decides which worker runs a check
(one that already has the header; else a new one while under `size`; else the least
recently used idle one, which switches header), retires workers that did `max_checks`
checks or whose process tree grew past `max_rss_mb` (Lean and the REPL keep memory between
checks; read at most once a second per worker), and replaces workers that crashed or timed out. A check never disappears: a crash
is re-run once on a fresh worker, then reported as a crash outcome.

Workers only report what Lean said (a RunOutcome); deciding `ok` stays in lean_env.soundness.judge.
"""
from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable, Protocol, TypeVar

from lean_env.soundness.checkfile import CheckFile
from lean_env.soundness.judge import RunOutcome

T = TypeVar("T")
PROBE_INTERVAL_S = 1.0  # how often a busy worker's RSS (recycling) and pids (leak checks) are read


class PoolClosed(RuntimeError):
    """The pool was closed; no more checks are accepted."""


class PoolBusy(RuntimeError):
    """The pool's queue is full (only raised to callers that asked not to wait)."""


class Worker(Protocol):
    """One warm Lean process (or process tree) that checks CheckFiles one at a time."""

    checks: int  # checks run so far

    def run(self, cf: CheckFile, timeout: float) -> RunOutcome:
        """Check one file. On timeout the worker kills itself and returns timed_out=True;
        when its process dies it returns an outcome with `crash` set and is no longer alive."""
        ...

    def alive(self) -> bool: ...

    def has_header(self, header: str) -> bool: ...

    def rss_mb(self) -> float: ...

    def pids(self) -> list[int]: ...

    def close(self) -> None: ...


@dataclass
class PoolStats:
    started: int = 0
    recycled: int = 0  # retired after max_checks or over the memory bound
    replaced: int = 0  # discarded after a crash or timeout
    retried: int = 0  # checks re-run after a crash
    checks: int = 0
    pids: set[int] = field(default_factory=set)  # every process a worker ever ran (for leak checks)


def process_tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants (a Lean server forks one worker per file)."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root] + root.children(recursive=True)
    except psutil.Error:
        return 0.0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / (1024 * 1024)


def process_tree_pids(pid: int) -> list[int]:
    import psutil

    try:
        root = psutil.Process(pid)
        return [pid] + [c.pid for c in root.children(recursive=True)]
    except psutil.Error:
        return []


class Pool:
    """`run` blocks until a worker is free; `submit`/`arun`/`run_many` go through a bounded
    queue (`max_pending` checks waiting or running; `submit(block=False)` raises PoolBusy
    when it is full instead of waiting)."""

    def __init__(self, factory: Callable[[], Worker], size: int, max_checks: int = 2000,
                 max_rss_mb: float = 8192, max_pending: int = 0, retry_crashed: bool = True):
        if size < 1:
            raise ValueError("a pool needs at least one worker")
        self.factory, self.size = factory, size
        self.max_checks, self.max_rss_mb = max_checks, max_rss_mb
        self.retry_crashed = retry_crashed
        self.stats = PoolStats()
        self._cond = threading.Condition()
        self._idle: list[Worker] = []  # least recently used first
        self._busy: set[int] = set()  # ids of workers lent out
        self._all: dict[int, Worker] = {}
        self._probed: dict[int, float] = {}  # worker id -> when its process tree was last measured
        self._live = 0  # workers existing or being started
        self._closed = False
        self._slots = threading.BoundedSemaphore(max_pending or 4 * size)
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="pool")

    # -- lending workers ----------------------------------------------------------------------
    def _take(self, header: str) -> Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise PoolClosed("the pool is closed")
                for w in [w for w in self._idle if not w.alive()]:  # died while idle
                    self._idle.remove(w)
                    self._discard(w)
                for w in reversed(self._idle):
                    if w.has_header(header):
                        self._idle.remove(w)
                        return self._lend(w)
                if self._live < self.size:
                    self._live += 1
                    break
                if self._idle:
                    return self._lend(self._idle.pop(0))  # LRU: it will switch header
                self._cond.wait()
        try:
            w = self.factory()
        except BaseException:
            with self._cond:
                self._live -= 1
                self._cond.notify_all()
            raise
        with self._cond:
            self.stats.started += 1
            self._all[id(w)] = w
            self.stats.pids.update(w.pids())
            if self._closed:
                self._live -= 1
                self._all.pop(id(w), None)
                w.close()
                raise PoolClosed("the pool is closed")
            return self._lend(w)

    def _lend(self, w: Worker) -> Worker:
        self._busy.add(id(w))
        return w

    def _discard(self, w: Worker) -> None:
        """Close a worker for good (called with the lock held; close only kills processes)."""
        if self._all.pop(id(w), None) is not None:
            self._live -= 1
        self._probed.pop(id(w), None)
        w.close()
        self._cond.notify_all()

    def _probe_due(self, w: Worker) -> bool:
        """Whether to measure `w`'s process tree now: after its first check, then at most every
        PROBE_INTERVAL_S. A tree walk costs 5-15 ms on a busy machine (psutil scans /proc), which
        per check was a third of a warm check's time."""
        now = time.monotonic()
        last = self._probed.get(id(w))
        if last is not None and now - last < PROBE_INTERVAL_S:
            return False
        self._probed[id(w)] = now
        return True

    def _give_back(self, w: Worker) -> None:
        alive = w.alive()
        probe = alive and self._probe_due(w)
        retire = alive and (w.checks >= self.max_checks or
                            bool(probe and self.max_rss_mb and w.rss_mb() > self.max_rss_mb))
        pids = w.pids() if probe else []  # outside the lock: other workers go on meanwhile
        with self._cond:
            self._busy.discard(id(w))
            self.stats.pids.update(pids)
            if not alive or retire or self._closed:
                if retire:
                    self.stats.recycled += 1
                elif not alive:
                    self.stats.replaced += 1
                self._discard(w)
            else:
                self._idle.append(w)
                self._cond.notify_all()

    def use(self, header: str, fn: Callable[[Worker], T]) -> T:
        """Run `fn` on a worker that has (or will load) `header`; e.g. goal queries for search."""
        w = self._take(header)
        try:
            return fn(w)
        finally:
            self._give_back(w)

    # -- checking -----------------------------------------------------------------------------
    def run(self, cf: CheckFile, timeout: float) -> RunOutcome:
        """Check one file on a warm worker (blocks while all workers are busy)."""
        attempt = 0
        while True:
            outcome = self.use(cf.header, lambda w: w.run(cf, timeout))
            with self._cond:
                self.stats.checks += 1
            if outcome.crash and not outcome.timed_out and self.retry_crashed and attempt == 0:
                attempt += 1  # the worker may have died of an earlier check: once more, fresh
                with self._cond:
                    self.stats.retried += 1
                continue
            return outcome

    def submit(self, cf: CheckFile, timeout: float, block: bool = True) -> "Future[RunOutcome]":
        if self._closed:
            raise PoolClosed("the pool is closed")
        if not self._slots.acquire(blocking=block):
            raise PoolBusy(f"{self.size} workers busy and the queue is full")
        try:
            fut = self._executor.submit(self.run, cf, timeout)
        except RuntimeError as exc:  # executor shut down meanwhile
            self._slots.release()
            raise PoolClosed("the pool is closed") from exc
        fut.add_done_callback(lambda _: self._slots.release())
        return fut

    async def arun(self, cf: CheckFile, timeout: float) -> RunOutcome:
        """asyncio: waits for a queue slot without blocking the event loop."""
        loop = asyncio.get_running_loop()
        fut = await loop.run_in_executor(None, self.submit, cf, timeout)
        return await asyncio.wrap_future(fut)

    def run_many(self, cfs: Iterable[CheckFile], timeout: float) -> list[RunOutcome]:
        futures = [self.submit(cf, timeout) for cf in cfs]
        return [f.result() for f in futures]

    # -- shutting down ------------------------------------------------------------------------
    def worker_pids(self) -> list[int]:
        with self._cond:
            workers = list(self._all.values())
        return [p for w in workers for p in w.pids()]

    def close(self, wait_s: float = 30.0) -> None:
        """Stop accepting checks, let running ones finish (up to `wait_s`), then end every
        worker process. Idempotent."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._executor.shutdown(wait=False, cancel_futures=True)
        import time

        deadline = time.monotonic() + wait_s
        with self._cond:
            while self._busy and time.monotonic() < deadline:
                self._cond.wait(max(0.0, deadline - time.monotonic()))
            workers = list(self._all.values())
            self._all.clear()
            self._idle.clear()
            self._live = 0
        for w in workers:
            w.close()
        self._executor.shutdown(wait=True)

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
