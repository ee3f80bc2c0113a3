"""The verifier a training run checks with: one per node, shared by every process.

One process (`prover train ...`): a local Checker (prover.train.models.config_checker).
Several (`accelerate launch --num_processes N ...`): a pool per rank would multiply the Lean
workers, the RAM and the Mathlib imports by N, so the first process of each node starts one
`prover serve` for the node, sized by `checker_workers` (0: by the node's cores and memory), and
every rank of the node sends its checks there through lean_env.service.client. With
`checker_url` set, every rank uses that running service instead (`prover serve` started by hand,
or one for a whole cluster); with `ray: true` the node's service sends its checks to Ray actors. The reward is the same function either way: ProofReward over a
ProofChecker; the service answers with the same Checker's verdicts.

The service is stopped when the run ends, and dies with the process that started it.
"""
from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from typing import Any, Callable, Optional

from lean_env.service.client import ServiceChecker
from prover.train.config import TrainConfig
from prover.train.models import checker_settings

STARTUP_SECONDS = 120.0  # `prover serve` imports FastAPI and builds its checker; Lean workers start lazily
# A rank's whole reward batch is one request; with Mathlib checks of up to checker_timeout each,
# queued behind other ranks' batches, it may take long. A check still unanswered then is a timeout.
REQUEST_DEADLINE = 3600.0


def world_size() -> int:
    """Processes in this run, as torchrun/accelerate launch export it (1 when not launched)."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1


def run_settings(cfg: TrainConfig) -> Any:
    from lean_env.running.settings import Settings

    return Settings.from_env(**checker_settings(cfg))


def training_checker(cfg: TrainConfig, log: Callable[[str], None] = print) -> Any:
    """The ProofChecker for this process: see the module docstring."""
    if cfg.checker_url:
        checker = SharedChecker(cfg.checker_url, api_key=os.environ.get("PROVER_API_KEY", ""),
                                settings=run_settings(cfg), log=log)
        log(f"checking with the service at {cfg.checker_url} ({checker.backend.name})")
        return checker
    if world_size() == 1:
        from prover.train.models import config_checker

        return config_checker(cfg)
    return node_checker(cfg, log)


def node_checker(cfg: TrainConfig, log: Callable[[str], None]) -> Any:
    """Every rank's client of its node's service; the node's first process starts it. All ranks
    take part in one exchange of (host, url, key), so a failed start stops every rank, not a hang."""
    from accelerate import PartialState
    from accelerate.utils import gather_object

    state = PartialState()
    host = socket.gethostname()
    service, problem = None, ""
    if state.is_local_main_process:
        try:
            service = NodeService.start(cfg)
        except (OSError, RuntimeError) as exc:
            problem = str(exc)
    mine = {"host": host, "rank": state.process_index, "url": service.url if service else "",
            "key": service.api_key if service else "", "problem": problem, "local_main": state.is_local_main_process}
    everyone = gather_object([mine])
    failed = [e for e in everyone if e["problem"]]
    if failed:
        if service is not None:
            service.stop()
        raise RuntimeError(f"the shared checker service did not start on {failed[0]['host']}: {failed[0]['problem']}")
    node = next(e for e in everyone if e["host"] == host and e["local_main"])
    checker = SharedChecker(node["url"], api_key=node["key"], settings=run_settings(cfg), service=service, log=log)
    if service is not None:
        log(f"shared verifier for this node: {node['url']} ({checker.backend.name}, {service.workers} Lean "
            f"workers for {state.num_processes} processes)")
    return checker


class SharedChecker(ServiceChecker):
    """A rank's client of the shared service. Closing it logs what this rank sent; on the rank
    that started its node's service it also logs the service's verdict counters (GET /metrics)
    and stops the service."""

    def __init__(self, url: str, *, api_key: str = "", settings: Any = None, service: Optional["NodeService"] = None,
                 log: Callable[[str], None] = print):
        super().__init__(url, api_key=api_key, settings=settings, request_timeout=REQUEST_DEADLINE + 120)
        self.service, self.log = service, log

    def close(self) -> None:
        self.log(f"rank {os.environ.get('RANK', '0')}: {self.sent} checks sent to the shared verifier {self.url}")
        if self.service is not None:
            try:
                self.log(f"shared verifier {self.url}: " + counters_line(self.metrics()))
            except OSError as exc:
                self.log(f"shared verifier {self.url}: counters not readable ({exc})")
        super().close()
        if self.service is not None:
            self.service.stop()


def counters_line(metrics_text: str) -> str:
    """`verdicts N (proved a, rejected b ...), refused requests ...` from the service's Prometheus text."""
    by_status = {m.group(1): int(float(m.group(2)))
                 for m in re.finditer(r'^prover_checks_total\{status="(\w+)"\} (\S+)$', metrics_text, re.M)}
    refused = sum(int(float(m.group(1))) for m in
                  re.finditer(r'^prover_requests_refused_total\{[^}]*\} (\S+)$', metrics_text, re.M))
    parts = ", ".join(f"{k} {v}" for k, v in sorted(by_status.items()))
    return f"verdicts {sum(by_status.values())} ({parts or 'none'}), requests refused {refused}"


class NodeService:
    """`prover serve` on loopback in a child process, with a random API key."""

    def __init__(self, process: subprocess.Popen, url: str, api_key: str, workers: int):
        self.process, self.url, self.api_key, self.workers = process, url, api_key, workers

    @classmethod
    def start(cls, cfg: TrainConfig, timeout: float = STARTUP_SECONDS) -> "NodeService":
        settings = run_settings(cfg)  # sized for the node (worker_mb of a Mathlib profile)
        port = free_port()
        key = secrets.token_hex(16)
        cmd = [sys.executable, "-m", "prover.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str((cfg.checker_workers or 1) if cfg.ray else settings.workers), "--timeout", str(cfg.checker_timeout),
               "--max-queue", "100000", "--max-batch", "4096", "--deadline", str(REQUEST_DEADLINE)]
        if cfg.checker_backend:
            cmd += ["--checker", cfg.checker_backend]
        if cfg.lean:
            cmd += ["--lean", cfg.lean]
        if settings.trusts("native_decide"):  # `trust: native_decide`: the service lets the ranks' rows ask for it
            cmd += ["--trust", "native_decide"]
        if cfg.ray:  # the node's service fans its checks out over the Ray cluster (checker_workers per actor)
            cmd += ["--ray", cfg.ray_address or "auto"]
        env = {**os.environ, "PROVER_API_KEY": key}
        if cfg.profile:
            env["PROVER_PROFILE"] = cfg.profile
        for var in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):  # not a training process
            env.pop(var, None)
        process = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
        service = cls(process, f"http://127.0.0.1:{port}", key, settings.workers)
        service.wait_ready(timeout)
        return service

    def wait_ready(self, timeout: float) -> None:
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"`prover serve` exited with code {self.process.returncode} at start "
                                   "(its error is printed above)")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"`prover serve` did not answer at {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # uvicorn shuts down and the checker closes its Lean workers
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the training process dies (Linux), so a killed
    run leaves no service and no Lean workers behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
