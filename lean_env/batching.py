"""`submit(task) -> Future` over a `check_many`: tasks that arrive close together, from any
caller, go out as one batch. The RayChecker's submit is this, so concurrent requests of the
service or a search's rounds spread over the cluster instead of one remote call per task."""
from __future__ import annotations

import concurrent.futures
import queue
import threading
import time
from typing import Callable

from lean_env.soundness.verdict import ProofTask


class Batcher:
    """Tasks that arrive within `window` seconds go out as one `check_many` batch (at most
    `max_batch`); up to `parallel` batches are in flight; a cancelled task is left out."""

    def __init__(self, check_many: Callable, window: float = 0.01, max_batch: int = 512, parallel: int = 8):
        self.check_many, self.window, self.max_batch = check_many, window, max_batch
        self._queue: "queue.Queue[tuple[ProofTask, concurrent.futures.Future]]" = queue.Queue()
        self._runs = concurrent.futures.ThreadPoolExecutor(parallel, thread_name_prefix="serve-batch")
        threading.Thread(target=self._gather, name="serve-batcher", daemon=True).start()

    def submit(self, task: ProofTask) -> concurrent.futures.Future:
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put((task, fut))
        return fut

    def _gather(self) -> None:
        while True:
            batch = [self._queue.get()]
            end = time.monotonic() + self.window
            while len(batch) < self.max_batch and (left := end - time.monotonic()) > 0:
                try:
                    batch.append(self._queue.get(timeout=left))
                except queue.Empty:
                    break
            self._runs.submit(self._run, batch)

    def _run(self, batch: list) -> None:
        batch = [(t, f) for t, f in batch if f.set_running_or_notify_cancel()]
        if not batch:
            return
        try:
            verdicts = self.check_many([t for t, _ in batch])
        except Exception as exc:  # the futures carry it; run_all turns it into crashed verdicts
            for _, f in batch:
                f.set_exception(exc)
            return
        for (_, f), v in zip(batch, verdicts):
            f.set_result(v)
