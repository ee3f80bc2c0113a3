"""`prover serve`: the Checker as an HTTP service (lean_env.service.app) on uvicorn.

Registered in prover/cli.py by one line; this module imports only typer at CLI start-up, and
FastAPI/uvicorn when the command runs."""
from __future__ import annotations

from typing import Optional

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


def run_serve(*, host: str, port: int, **kw) -> int:
    from rich.console import Console

    err = Console(stderr=True, soft_wrap=True)
    try:
        import uvicorn
    except ImportError:
        err.print("[red]error:[/] prover serve needs fastapi and uvicorn: pip install -e .")
        return 2
    from lean_env.running.toolchain import ToolchainError

    try:
        app, chk = build(**kw)
    except (ToolchainError, ValueError, ImportError, RuntimeError) as exc:
        err.print(f"[red]error:[/] {exc}")
        return 2
    if host not in ("127.0.0.1", "localhost", "::1") and not kw.get("api_key"):
        err.print("[yellow]warning:[/] listening beyond loopback without --api-key: anyone who reaches "
                  f"{host}:{port} can use your Lean workers")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        chk.close()
    return 0
