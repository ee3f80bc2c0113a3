"""`prover serve`: the Checker as an HTTP service (lean_env.service.app) on uvicorn.

Registered in prover/cli.py by one line; this module imports only typer at CLI start-up, and
FastAPI/uvicorn when the command runs."""
from __future__ import annotations

import time
from typing import Callable, Optional

import typer


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (0.0.0.0: every interface; set --api-key then)"),
    port: int = typer.Option(8000, "--port"),
    api_key: Optional[str] = typer.Option(None, "--api-key", envvar="PROVER_API_KEY",
                                          help="require `Authorization: Bearer KEY` (env PROVER_API_KEY)"),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="Lean workers (default: cores)"),
    checker: Optional[str] = typer.Option(None, "--checker", help="cli | server | repl (default: the fastest installed)"),
    ray: Optional[str] = typer.Option(None, "--ray", help="check on Ray actors: auto or a cluster ADDRESS"),
    cache: Optional[str] = typer.Option(None, "--cache", envvar="PROVER_VERDICT_CACHE",
                                        help="sqlite verdict cache file shared with prover check/eval/train"),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="default seconds per check"),
    max_queue: int = typer.Option(256, "--max-queue", help="checks waiting or running before 429"),
    max_batch: int = typer.Option(1024, "--max-batch", help="tasks or snippets per request before 413"),
    deadline: float = typer.Option(900.0, "--deadline", help="seconds a request may take; later checks get timeout verdicts"),
    lean: Optional[str] = typer.Option(None, "--lean", help="a lean executable to use instead of the bundled one"),
    trust: Optional[list[str]] = typer.Option(None, "--trust", help="native_decide: let /v1/verify rows that ask for it (allow_native_decide) have it; without it such rows are refused"),
) -> None:
    """Serve the checker over HTTP: Kimina-compatible POST /api/check, POST /v1/verify (Verdicts),
    GET /health, GET /metrics, GET /docs."""
    raise typer.Exit(run_serve(host=host, port=port, api_key=api_key, workers=workers, checker=checker, ray=ray,
                               cache=cache, timeout=timeout, max_queue=max_queue, max_batch=max_batch,
                               deadline=deadline, lean=lean, trust=trust))


def build(*, api_key=None, workers=None, checker=None, ray=None, cache=None, timeout=None, max_queue=256,
          max_batch=1024, deadline=900.0, lean=None, trust=None):
    """(app, checker): the service around a fresh Checker or RayChecker."""
    from lean_env.factory import make_checker
    from lean_env.service.app import ServiceConfig, create_app
    from lean_env.running.settings import Settings

    from lean_env.running.settings import normalize_trust

    # the checker itself trusts nothing (PROVER_TRUST is ignored here): only a row that asks, on a
    # service whose operator said --trust native_decide, is checked with native_decide allowed
    trusted = normalize_trust(trust or [])
    settings = Settings.from_env(lean=lean, timeout=timeout, workers=workers, trust="")
    chk = make_checker(checker, settings, cache=cache or None, ray=ray, workers=workers if ray else None)
    config = ServiceConfig(api_key=api_key or "", max_queue=max_queue, max_batch=max_batch,
                           max_timeout=max(settings.timeout, 1.0), request_deadline=deadline,
                           trust_native_decide="native_decide" in trusted.split(","))
    return create_app(chk, config, workers=settings.workers), chk


def key_warning(host: str, api_key: Optional[str]) -> Optional[str]:
    """What running without --api-key exposes, or None with a key."""
    if api_key:
        return None
    if host not in ("127.0.0.1", "localhost", "::1"):
        return (f"listening beyond loopback without --api-key: anyone who reaches {host} can use your Lean "
                "workers; set --api-key or PROVER_API_KEY")
    return ("no --api-key: every local user and process can use this checker; set --api-key or PROVER_API_KEY "
            "to require `Authorization: Bearer KEY`")


def with_request_log(app, write: Callable[[str], None]):
    """The app, writing one line per HTTP request as it completes: method, path, status, seconds
    (an ASGI wrapper, so the service itself stays unaware of the console)."""
    async def logged(scope, receive, send):
        if scope.get("type") != "http":
            return await app(scope, receive, send)
        started, status = time.monotonic(), {}

        async def send_and_note(message):
            if message.get("type") == "http.response.start":
                status["code"] = message.get("status")
            await send(message)

        try:
            await app(scope, receive, send_and_note)
        finally:
            client = scope.get("client") or ("?", 0)
            write(f"{scope.get('method')} {scope.get('path')} -> {status.get('code', 'no response')} "
                  f"in {time.monotonic() - started:.2f}s ({client[0]})")
    return logged


def make_server(app, host: str, port: int, write: Callable[[str], None]):
    """A uvicorn server that says `listening on http://HOST:PORT` once its socket is bound (the
    port it really got, when asked for 0)."""
    import uvicorn

    class Announcing(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets=sockets)
            if self.started:
                bound = [s.getsockname() for srv in getattr(self, "servers", []) for s in srv.sockets]
                where = bound[0][1] if bound else port
                shown = f"[{host}]" if ":" in host else host
                write(f"listening on http://{shown}:{where} (POST /api/check, POST /v1/verify, GET /docs; "
                      "Ctrl-C stops)")

    return Announcing(uvicorn.Config(app, host=host, port=port, log_level="warning"))


def run_serve(*, host: str, port: int, **kw) -> int:
    from prover.console import err, esc, warn

    try:
        import uvicorn  # noqa: F401
    except ImportError:
        err.print("[red]error:[/] prover serve needs fastapi and uvicorn: pip install -e .")
        return 2
    from lean_env.running.toolchain import ToolchainError

    try:
        app, chk = build(**kw)
    except (ToolchainError, ValueError, ImportError, RuntimeError) as exc:
        err.print(f"[red]error:[/] {esc(exc)}")
        return 2
    warning = key_warning(host, kw.get("api_key"))
    if warning:
        warn(warning)
    write = lambda text: err.print(esc(text))  # noqa: E731
    try:
        make_server(with_request_log(app, write), host, port, write).run()
    finally:
        chk.close()
    return 0
