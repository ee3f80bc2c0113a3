"""A ProofChecker that sends its checks to a running `prover serve` (lean_env.service.app) over HTTP.

Why: in a multi-process training run every rank needs Lean's verdicts, but one pool of Lean
workers sized for the node must serve them all (a pool per rank multiplies the Mathlib imports
and the RAM by the number of ranks). The verdicts are the service's, which come from the same
Checker as locally (allowlist -> compose -> backend -> judge): this client only carries tasks
and verdicts, it decides nothing. When the service cannot answer, the client raises rather than
invent a verdict: a run must not go on training on rewards no Lean gave.

Stdlib HTTP only (urllib): the client must import wherever lean_env does.
"""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from lean_env.interface import PooledChecks
from lean_env.running.settings import Settings
from lean_env.soundness.verdict import ProofTask, Verdict


class ServiceError(RuntimeError):
    """The service cannot be reached or refused the request for good; the message says what to do."""


@dataclass(frozen=True)
class ServiceBackend:
    """What a ServiceChecker reports as its backend: `service:<the server's backend>`."""

    name: str
    isolation: str = "remote"


def task_row(task: ProofTask, trust_native_decide: bool = False) -> dict:
    """The /v1/verify row for a task (the service reads it back with lean_env.tasks_io.task_from_row).
    `trust_native_decide`: this client's settings trust it, so every row asks for it, as a local
    Checker with those settings would allow it (the service refuses such rows unless its operator
    trusts native_decide too)."""
    row = {"name": task.name, "header": task.header, "formal_statement": task.formal_statement,
           "allow_native_decide": task.allow_native_decide or trust_native_decide}
    row["proof" if task.proof is not None else "code"] = task.proof if task.proof is not None else task.code
    if task.timeout is not None:
        row["timeout"] = task.timeout
    return row


class ServiceChecker(PooledChecks):
    """lean_env.interface.ProofChecker over `prover serve` at `url`.

    `check_many` sends the tasks in requests of at most `max_batch` (the service's own limit);
    a 429 (queue full) is retried after the service's Retry-After, up to `patience` seconds.
    `workers` is how many requests this client keeps in flight for `submit`."""

    def __init__(self, url: str, *, api_key: str = "", settings: Optional[Settings] = None, workers: int = 4,
                 max_batch: int = 1024, request_timeout: float = 1000.0, patience: float = 600.0):
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.settings = settings or Settings.from_env()
        self.workers = workers
        self.max_batch = max_batch
        self.request_timeout = request_timeout
        self.patience = patience
        self.sent = 0  # tasks this client sent (its share of the service's counters)
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="service-checker")
        self.backend = ServiceBackend(f"service:{self.health().get('backend', '?')}")

    # -- HTTP ----------------------------------------------------------------------------------
    def _request(self, path: str, body: Optional[dict] = None, timeout: Optional[float] = None) -> bytes:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, headers=headers,
                                     method="GET" if body is None else "POST")
        with urllib.request.urlopen(req, timeout=timeout or self.request_timeout) as resp:
            return resp.read()

    def health(self) -> dict:
        """GET /health; ServiceError naming the URL when nothing answers there."""
        try:
            return json.loads(self._request("/health", timeout=10))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ServiceError(f"no checker service answers at {self.url} ({exc}); start one with "
                               f"`prover serve --port PORT` or fix checker_url") from None

    def metrics(self) -> str:
        """The service's Prometheus text (GET /metrics): its verdict counters by status."""
        return self._request("/metrics", timeout=10).decode("utf-8")

    def _verify(self, tasks: list[ProofTask]) -> list[Verdict]:
        """The service's verdicts for `tasks`, in order. A full queue (429) waits as the service
        asks; a service that does not answer is asked again with backoff. Past `patience` seconds,
        or on any other refusal, ServiceError: a reward must never be read off a missing verdict."""
        trusted = self.settings.trusts("native_decide")
        body = {"tasks": [task_row(t, trusted) for t in tasks]}
        give_up = time.monotonic() + self.patience
        tries = 0
        while True:
            tries += 1
            try:
                answer = json.loads(self._request("/v1/verify", body))
                break
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode("utf-8", "replace")[:500]
                if exc.code == 429 and time.monotonic() < give_up:
                    time.sleep(min(float(exc.headers.get("Retry-After") or 1), 30.0))
                    continue
                if exc.code == 401:
                    raise ServiceError(f"the checker service at {self.url} wants an API key: {detail}") from None
                raise ServiceError(f"the checker service at {self.url} refused {len(tasks)} checks: HTTP {exc.code}: "
                                   f"{detail}") from None
            except (urllib.error.URLError, OSError, ValueError) as exc:
                if time.monotonic() >= give_up:
                    raise ServiceError(f"the checker service at {self.url} stopped answering ({exc}) and did not "
                                       f"come back within {self.patience:.0f} s") from None
                time.sleep(min(2.0 ** tries, 30.0))
        verdicts = [Verdict.from_dict(d) for d in answer.get("verdicts", [])]
        if len(verdicts) != len(tasks):
            raise ServiceError(f"the checker service at {self.url} gave {len(verdicts)} verdicts for {len(tasks)} tasks")
        with self._lock:
            self.sent += len(tasks)
        return verdicts

    # -- ProofChecker --------------------------------------------------------------------------
    def check(self, task: ProofTask) -> Verdict:
        return self._verify([task])[0]

    def check_many(self, tasks: Iterable[ProofTask],
                   on_verdict: Optional[Callable[[int, Verdict], None]] = None) -> list[Verdict]:
        tasks = list(tasks)
        out: list[Verdict] = []
        for start in range(0, len(tasks), self.max_batch):
            for v in self._verify(tasks[start:start + self.max_batch]):
                if on_verdict is not None:
                    on_verdict(len(out), v)
                out.append(v)
        return out

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> "ServiceChecker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
