"""The Checker over HTTP (FastAPI): Kimina Lean Server's `/api/check`, the sound `/v1/verify`,
`/health`, Prometheus `/metrics`, and the OpenAPI schema at `/openapi.json` (`/docs`).

The service knows no model; it admits work, hands it to a Checker (or a RayChecker) and waits:
- admission: at most `max_queue` checks waiting or running; beyond that 429 with Retry-After;
  bodies over `max_body_bytes`, batches over `max_batch`, snippets over `max_snippet_chars` get
  413 naming the field; a malformed body gets 422 naming the field.
- every admitted task gets exactly one verdict, in order: a row that cannot be read gets its own
  refused verdict; a check still running at the request's deadline gets a timeout verdict; a
  crashed or hung Lean worker is the Checker's business (it answers crashed/timeout verdicts).
- a client that disconnects cancels its checks that have not started.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import hmac
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pydantic import BaseModel, Field

from lean_env.service import kimina_api
from lean_env.tasks_io import task_from_row
from lean_env.soundness.verdict import ProofTask, Verdict


@dataclass
class ServiceConfig:
    api_key: str = ""  # empty: no auth
    max_queue: int = 256  # checks waiting or running, over all requests
    max_batch: int = 1024  # tasks / snippets per request
    max_body_bytes: int = 16 * 2**20
    max_snippet_chars: int = 256 * 1024  # one snippet's code, or one task's proof/code/statement
    max_timeout: float = 300.0  # cap on a task's own timeout (seconds)
    request_deadline: float = 900.0  # a request's checks not done by then get timeout verdicts
    disconnect_poll: float = 0.25
    trust_native_decide: bool = False  # rows may ask for allow_native_decide (`prover serve --trust native_decide`)


class VerifyRequest(BaseModel):
    tasks: list[Any] = Field(..., description="ProofTask rows as `prover check` reads them "
                                              "(name, header|env, formal_statement, proof|code, timeout)")
    timeout: Optional[float] = Field(None, gt=0, description="seconds per task for rows without their own")


TEXT_FIELDS = ("formal_statement", "proof", "code", "header")


def oversized(rows: list[Any], max_chars: int) -> Optional[str]:
    """The first row field over the size limit, as `tasks.I.FIELD: ...`, or None."""
    for i, row in enumerate(rows):
        if isinstance(row, dict):
            for key in TEXT_FIELDS:
                if isinstance(row.get(key), str) and len(row[key]) > max_chars:
                    return f"tasks.{i}.{key}: {len(row[key])} characters; the limit is {max_chars}"
    return None


def row_task(row: Any, default_timeout: Optional[float], max_timeout: float) -> ProofTask:
    """One /v1/verify row -> ProofTask (ValueError naming the field). The one place rows are read,
    so it can switch to the shared validator (lean_env.soundness.limits) when that lands."""
    task = task_from_row(row)
    task.timeout = min(task.timeout or default_timeout or max_timeout, max_timeout)
    return task


def unread_verdict(row: Any, why: str) -> Verdict:
    name = row.get("name") if isinstance(row, dict) and isinstance(row.get("name"), str) else ""
    return Verdict(name=name, ok=False, status="refused", reasons=[f"the task cannot be read: {why}"])


class ClientGone(Exception):
    """The client disconnected while its checks were pending."""


class BodyLimit:
    """ASGI middleware: 413 for a body over `limit` bytes, by Content-Length or as it streams in
    (a chunked body has no length), before any of it is parsed."""

    def __init__(self, app, limit: int, on_refuse: Callable[[], None] = lambda: None):
        self.app, self.limit, self.on_refuse = app, limit, on_refuse

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            self.on_refuse()
            return await JSONResponse({"detail": f"body: {int(length)} bytes; the limit is {self.limit}"},
                                      413)(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    self.on_refuse()
                    raise HTTPException(413, f"body: more than {self.limit} bytes; the limit is {self.limit}")
            return message

        return await self.app(scope, counted, send)


class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.queue = Gauge("prover_queue_depth", "checks admitted and not finished", registry=self.registry)
        self.checks = Counter("prover_checks", "verdicts given, by status", ["status"], registry=self.registry)
        self.seconds = Histogram("prover_check_seconds", "seconds from admission to verdict", registry=self.registry,
                                 buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
        self.cache_hits = Counter("prover_cache_hits", "verdicts served from the verdict cache", registry=self.registry)
        self.rejected = Counter("prover_requests_refused", "requests refused, by HTTP status", ["code"],
                                registry=self.registry)


class _Admission:
    """Counts checks admitted and not finished; refuses a request that would pass the bound."""

    def __init__(self, limit: int):
        self.limit, self.depth = limit, 0
        self._lock = threading.Lock()
        self.recent_seconds = 1.0  # a running mean of check time, for Retry-After

    def take(self, n: int) -> bool:
        with self._lock:
            if self.depth + n > self.limit:
                return False
            self.depth += n
            return True

    def release(self, n: int = 1) -> None:
        with self._lock:
            self.depth -= n

    def observe(self, seconds: float) -> None:
        self.recent_seconds = 0.9 * self.recent_seconds + 0.1 * seconds


def create_app(checker: Any, config: ServiceConfig | None = None, *, workers: int = 1) -> FastAPI:
    """The app around a lean_env.interface.ProofChecker (a Checker, or a RayChecker whose `submit`
    gathers tasks from concurrent requests into batches spread over its actors)."""
    config = config or ServiceConfig()
    metrics = _Metrics()
    admission = _Admission(config.max_queue)
    submit: Callable[[ProofTask], concurrent.futures.Future] = checker.submit
    backend = checker.backend.name

    app = FastAPI(title="lean-prover-rl verifier",
                  description="Sound Lean 4 proof checking: Kimina-compatible /api/check and /v1/verify.")
    app.state.metrics, app.state.admission, app.state.checker = metrics, admission, checker

    def auth(request: Request) -> None:
        if not config.api_key:
            return
        got = request.headers.get("authorization", "")
        if not hmac.compare_digest(got.encode(), f"Bearer {config.api_key}".encode()):
            raise HTTPException(401, "missing or wrong `Authorization: Bearer <key>` header",
                                headers={"WWW-Authenticate": "Bearer"})

    app.add_middleware(BodyLimit, limit=config.max_body_bytes, on_refuse=lambda: metrics.rejected.labels("413").inc())

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors()]
        metrics.rejected.labels("422").inc()
        return JSONResponse({"detail": "; ".join(problems), "errors": jsonable(exc.errors())}, 422)

    def refuse(code: int, detail: str, headers: dict | None = None) -> None:
        metrics.rejected.labels(str(code)).inc()
        raise HTTPException(code, detail, headers=headers)

    def admit(n: int, field: str) -> None:
        if n > config.max_batch:
            refuse(413, f"{field}: {n} items; the limit is {config.max_batch} per request")
        if not admission.take(n):
            wait = math.ceil(max(1.0, (admission.depth + n) * admission.recent_seconds / max(1, workers)))
            refuse(429, f"the queue is full ({admission.depth} checks pending, limit {config.max_queue}); retry later",
                   {"Retry-After": str(wait)})

    async def run_all(request: Request, tasks: list[Optional[ProofTask]], deadline: float) -> list[Optional[Verdict]]:
        """Verdicts for the tasks (None stays None). Each admitted slot is released when its check
        ends or is cancelled; a client that goes away cancels the checks not yet started."""
        started = time.monotonic()
        answered: set[int] = set()  # futures already given a deadline verdict (counted once)

        def done(fut: concurrent.futures.Future) -> None:
            admission.release()
            metrics.queue.dec()
            if not fut.cancelled() and fut.exception() is None and id(fut) not in answered:
                v = fut.result()
                metrics.checks.labels(v.status).inc()
                metrics.seconds.observe(time.monotonic() - started)
                admission.observe(v.seconds)
                if v.cached:
                    metrics.cache_hits.inc()

        futures: dict[int, concurrent.futures.Future] = {}
        for i, t in enumerate(tasks):
            if t is not None:
                metrics.queue.inc()
                futures[i] = submit(t)
                futures[i].add_done_callback(done)
        waiting = {asyncio.wrap_future(f) for f in futures.values()}
        end = started + deadline
        while waiting and time.monotonic() < end:
            _, waiting = await asyncio.wait(waiting, timeout=min(end - time.monotonic(), config.disconnect_poll))
            if waiting and await request.is_disconnected():
                for f in futures.values():
                    f.cancel()  # not started: never runs; running: its own timeout bounds it
                raise ClientGone()
        out: list[Optional[Verdict]] = []
        for i, t in enumerate(tasks):
            fut = futures.get(i)
            if fut is None:
                out.append(None)
            elif fut.done() and not fut.cancelled() and fut.exception() is None:
                out.append(fut.result())
            else:
                answered.add(id(fut))
                late = fut.cancel() or fut.cancelled() or not fut.done()
                why = (f"the check did not finish within the request's deadline ({deadline:g} s)" if late
                       else f"the checker failed: {type(fut.exception()).__name__}: {fut.exception()}")
                v = Verdict(name=t.name, ok=False, status="timeout" if late else "crashed", reasons=[why],
                            backend=backend)
                metrics.checks.labels(v.status).inc()
                out.append(v)
        return out

    @app.post("/api/check", dependencies=[Depends(auth)], summary="Kimina Lean Server compatible check")
    async def api_check(body: kimina_api.CheckRequest, request: Request):
        ids = [s.id for s in body.snippets]
        if len(set(ids)) != len(ids):
            refuse(422, "snippets: ids must be unique")
        for i, s in enumerate(body.snippets):
            if len(s.code) > config.max_snippet_chars:
                refuse(413, f"snippets.{i}.code: {len(s.code)} characters; the limit is {config.max_snippet_chars}")
        timeout = min(body.timeout or config.max_timeout, config.max_timeout)
        tasks: list[Optional[ProofTask]] = []
        errors: dict[int, str] = {}
        for i, s in enumerate(body.snippets):
            try:
                tasks.append(kimina_api.snippet_task(s, timeout))
            except ValueError as exc:
                tasks.append(None)
                errors[i] = str(exc)
        admit(sum(t is not None for t in tasks), "snippets")
        try:
            verdicts = await run_all(request, tasks, config.request_deadline)
        except ClientGone:
            return Response(status_code=499)
        results = []
        for i, (s, t, v) in enumerate(zip(body.snippets, tasks, verdicts)):
            if t is None or v is None:
                results.append(kimina_api.error_result(s.id, errors.get(i, "the check was cancelled")))
            else:
                results.append(kimina_api.result(s.id, v, kimina_api.declared_line(t)))
        return {"results": results}

    @app.post("/v1/verify", dependencies=[Depends(auth)], summary="Sound verdicts for ProofTask rows, in order")
    async def verify(body: VerifyRequest, request: Request):
        too_big = oversized(body.tasks, config.max_snippet_chars)
        if too_big:
            refuse(413, too_big)
        tasks: list[Optional[ProofTask]] = []
        unread: dict[int, Verdict] = {}
        for i, row in enumerate(body.tasks):
            try:
                tasks.append(row_task(row, body.timeout, config.max_timeout))
            except ValueError as exc:
                tasks.append(None)
                unread[i] = unread_verdict(row, f"tasks.{i}: {exc}")
            if tasks[-1] is not None and tasks[-1].allow_native_decide and not config.trust_native_decide:
                tasks[-1] = None
                unread[i] = unread_verdict(row, f"tasks.{i}: allow_native_decide: this service does not trust "
                                                "native_decide; its operator can enable it (prover serve --trust native_decide)")
        admit(sum(t is not None for t in tasks), "tasks")
        try:
            verdicts = await run_all(request, tasks, config.request_deadline)
        except ClientGone:
            return Response(status_code=499)
        for i, v in unread.items():
            metrics.checks.labels(v.status).inc()
        return {"verdicts": [(unread[i] if i in unread else v).to_dict() for i, v in enumerate(verdicts)]}

    @app.get("/health", summary="liveness and load")
    async def health() -> dict:
        cache = getattr(checker, "cache", None)
        return {"status": "ok", "backend": backend, "workers": workers, "queue_depth": admission.depth,
                "queue_limit": config.max_queue, "cache": None if cache is None else str(cache.path)}

    @app.get("/metrics", dependencies=[Depends(auth)], summary="Prometheus metrics")
    async def prom() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def jsonable(errors: list[dict]) -> list[dict]:
    """Pydantic's error dicts without the parts JSON cannot carry (ctx may hold exceptions)."""
    return [{k: (str(v) if k == "ctx" else v) for k, v in e.items() if k in ("loc", "msg", "type", "ctx")}
            for e in errors]
