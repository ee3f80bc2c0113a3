"""`repl` backend: a pool of sandboxed leanprover-community/repl processes.

Each worker sends a task's header once as `{"cmd": header}` and keeps the environment number
it gets back (a few headers per worker, least recently used dropped); each check is then
`{"cmd": body, "env": n}`, whose message positions are already relative to the body. The
REPL binary comes from Settings.repl (PROVER_REPL; a path or a command line) and its
LEAN_PATH from Settings.workspace (the lake project, e.g. one made by `prover setup`).

The REPL keeps every environment it ever made, so its memory grows with each check: the pool
recycles workers after `recycle_checks` checks or past `recycle_rss_mb`.

Old REPLs (before leanprover-community/repl#49, e.g. the deepseek-v1.5 profile's fork) never
flush stdout, and C stdio fully buffers a pipe: over a long-lived pipe no answer would arrive
before the timeout. `prover setup` applies upstream's flush commit to such a REPL; for one
that still lacks it, `repl_stdout = "pty"` (PROVER_REPL_STDOUT=pty) gives the REPL a terminal
as stdout, which C stdio line-buffers, so each answer arrives as it is written.
"""
from __future__ import annotations

import errno
import functools
import glob
import io
import os
import queue
import shlex
import shutil
import subprocess
import threading
import time
import tty
from collections import OrderedDict
from pathlib import Path
from typing import Optional

from lean_env.soundness.checkfile import CheckFile
from lean_env.soundness.judge import RunOutcome
from lean_env.soundness.messages import shift
from lean_env.running.pool import Pool, process_tree_pids, process_tree_rss_mb
from lean_env.running.repl_protocol import (CommandResponse, ErrorResponse, ProtocolError, Response, ResponseReader,
                                    TacticResponse, command, encode_request, tactic)
from lean_env.running.sandbox_limits import Limits
from lean_env.running.sandbox import Sandbox
from lean_env.running.capped_output import StderrTail
from lean_env.running.settings import Settings

_LONG_LIVED_CPU_S = 10**7
_HEADERS_PER_WORKER = 4


class ReplUnavailable(RuntimeError):
    """No REPL is configured or it cannot be found; the message says how to get one."""


class _Timeout(Exception):
    pass


def repl_argv(settings: Settings) -> list[str]:
    if not settings.repl:
        raise ReplUnavailable("the repl backend needs a leanprover-community/repl executable: run "
                              "`prover setup PROFILE` or set PROVER_REPL=/path/to/repl (and PROVER_WORKSPACE "
                              "to the lake project it should import from)")
    argv = shlex.split(settings.repl)
    exe = shutil.which(argv[0]) or argv[0]
    if not Path(exe).exists():
        raise ReplUnavailable(f"PROVER_REPL points to {argv[0]}, which does not exist")
    return [str(Path(exe).resolve())] + argv[1:]


def _lean_prefix(lean: str) -> Optional[str]:
    try:
        out = subprocess.run([lean, "--print-prefix"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


@functools.lru_cache(maxsize=8)
def workspace_env(workspace: str, lean: str = "") -> tuple[tuple[str, str], ...]:
    """LEAN_PATH (and LEAN_SYSROOT) for a lake project, computed once outside the sandbox: what
    `lake env` sets, else the project's build dirs found on disk plus the toolchain's library.
    The REPL in the sandbox has no lake or elan on PATH to find them itself."""
    ws = Path(workspace)
    prefix = _lean_prefix(lean or shutil.which("lean") or "lean")
    env: dict[str, str] = {"LEAN_SYSROOT": prefix} if prefix else {}
    lake = str(Path(prefix) / "bin" / "lake") if prefix and (Path(prefix) / "bin" / "lake").exists() else shutil.which("lake")
    if lake:
        try:
            out = subprocess.run([lake, "env", "printenv", "LEAN_PATH"], cwd=ws, capture_output=True,
                                 text=True, timeout=120)
            if out.returncode == 0 and out.stdout.strip():
                env["LEAN_PATH"] = out.stdout.strip()
                return tuple(env.items())
        except (OSError, subprocess.SubprocessError):
            pass
    builds = [ws / ".lake" / "build"] + [Path(p) for p in sorted(glob.glob(str(ws / ".lake" / "packages" / "*" / ".lake" / "build")))]
    dirs = [d for d in map(olean_dir, builds) if d is not None]
    if prefix and (Path(prefix) / "lib" / "lean").is_dir():
        dirs.append(Path(prefix) / "lib" / "lean")
    env["LEAN_PATH"] = os.pathsep.join(map(str, dirs))
    return tuple(env.items())


def olean_dir(build: Path) -> Optional[Path]:
    """Where a package's .olean files are: `build/lib/lean` for recent Lake, `build/lib` for the
    Lake of Lean v4.9 (the deepseek-v1.5 profile), None when the package is not built."""
    for d in (build / "lib" / "lean", build / "lib"):
        if d.is_dir():
            return d
    return None


class _PtyOutput(io.RawIOBase):
    """The reading end of a pseudo-terminal as a byte stream: Linux reports the other end's
    close as EIO, which is end of stream here."""

    def __init__(self, fd: int):
        super().__init__()
        self.fd = fd

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        try:
            data = os.read(self.fd, len(buf))
        except OSError as exc:
            if exc.errno == errno.EIO:
                return 0
            raise
        buf[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                os.close(self.fd)
            except OSError:
                pass
        super().close()


def _stdout_for(mode: str) -> tuple[object, Optional[int], Optional[int]]:
    """(what the REPL gets as stdout, pty master, pty slave) for a `repl_stdout` setting."""
    if mode == "pipe":
        return subprocess.PIPE, None, None
    if mode != "pty":
        raise ReplUnavailable(f"repl_stdout must be pipe or pty, not {mode!r} (PROVER_REPL_STDOUT)")
    master, slave = os.openpty()
    tty.setraw(slave)  # no \n -> \r\n translation, no echo: bytes arrive as the REPL wrote them
    return slave, master, slave


class ReplWorker:
    """One REPL process. Not thread-safe: the pool lends it to one caller at a time."""

    def __init__(self, argv: list[str], settings: Settings, readable: list[Path], extra_env: dict[str, str]):
        stdout, master, slave = _stdout_for(settings.repl_stdout or "pipe")  # first: a bad setting leaves nothing behind
        limits = Limits(timeout_s=settings.timeout, address_space_mb=settings.address_space_mb,
                        memory_mb=settings.memory_mb, cpu_s=_LONG_LIVED_CPU_S)
        self.sandbox = Sandbox(limits, readable=readable)
        self.scratch = self.sandbox.scratch_dir()
        self.checks = 0
        self._envs: OrderedDict[str, tuple[int, list]] = OrderedDict()  # header -> (env, header messages)
        self._broken: Optional[str] = None
        try:
            self.proc = self.sandbox.popen(argv, self.scratch, extra_env, stdin=subprocess.PIPE,
                                           stdout=stdout, stderr=subprocess.PIPE)
        except BaseException:
            if master is not None:
                os.close(master)
            raise
        finally:
            if slave is not None:
                os.close(slave)  # the REPL holds it now; its exit then reads as end of stream
        self._output = io.BufferedReader(_PtyOutput(master)) if master is not None else self.proc.stdout
        self._responses: "queue.Queue[object]" = queue.Queue()
        threading.Thread(target=self._read_loop, daemon=True, name="repl-reader").start()
        self._stderr = StderrTail(self.proc.stderr, "repl-stderr")

    def _read_loop(self) -> None:
        reader = ResponseReader(self._output)
        while True:
            try:
                resp = reader.next()
            except (ProtocolError, OSError, ValueError) as exc:
                self._responses.put(exc)
                return
            self._responses.put(resp)  # None: end of stream
            if resp is None:
                return

    def request(self, req: dict, deadline: float) -> Response:
        """Send one request, wait for its response. Raises _Timeout, or ProtocolError when the
        REPL died or wrote garbage (the worker is then broken)."""
        try:
            self.proc.stdin.write(encode_request(req))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as exc:
            raise ProtocolError(f"the REPL is not reading its input ({exc})") from exc
        try:
            got = self._responses.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise _Timeout() from None
        if isinstance(got, Exception):
            raise ProtocolError(str(got))
        if got is None:
            self.proc.poll()
            rc = self.proc.returncode
            raise ProtocolError("the REPL exited" + (f" with status {rc}" if rc is not None else "")
                                + self._stderr.hint())
        return got  # type: ignore[return-value]

    def _header_env(self, header: str, deadline: float) -> tuple[int, list]:
        if header in self._envs:
            self._envs.move_to_end(header)
            return self._envs[header]
        resp = self.request(command(header), deadline)
        if not isinstance(resp, CommandResponse):
            raise ProtocolError(f"the REPL did not accept the header: {_describe(resp)}")
        self._envs[header] = (resp.env, resp.messages)
        while len(self._envs) > _HEADERS_PER_WORKER:
            self._envs.popitem(last=False)
        return self._envs[header]

    # -- the Worker protocol ------------------------------------------------------------------
    def alive(self) -> bool:
        return self._broken is None and self.proc.poll() is None

    def has_header(self, header: str) -> bool:
        return header in self._envs

    def rss_mb(self) -> float:
        return process_tree_rss_mb(self.proc.pid)

    def pids(self) -> list[int]:
        return process_tree_pids(self.proc.pid) if self.proc.poll() is None else []

    def run(self, cf: CheckFile, timeout: float) -> RunOutcome:
        start = time.monotonic()
        deadline = start + timeout
        self.checks += 1
        if not self.alive():
            return RunOutcome([], 0.0, crash=f"the REPL had stopped before the check{self._stderr.hint()}")
        try:
            env, header_msgs = self._header_env(cf.header, deadline)
            # the candidate and the checker's commands are separate REPL commands: nothing the
            # candidate leaves open (`... in`, an unclosed comment) can reach the checks
            resp = self.request(command(cf.candidate_body, env=env), deadline)
            checks = None
            if isinstance(resp, CommandResponse):
                checks = self.request(command(cf.checks_body, env=resp.env), deadline)
        except _Timeout:
            self._kill("timed out")
            return RunOutcome([], time.monotonic() - start, timed_out=True)
        except ProtocolError as exc:
            self._kill(str(exc))
            return RunOutcome([], time.monotonic() - start, crash=f"the REPL failed: {exc}")
        seconds = time.monotonic() - start
        for r in (resp, checks):
            if not isinstance(r, CommandResponse):
                # e.g. {"message": "Unknown environment."}: the REPL is confused; do not trust it further
                self._kill("unexpected response")
                return RunOutcome([], seconds, crash=f"the REPL did not check the proof: {_describe(r)}")
        # header messages are in header coordinates: move them above the body (line <= 0); the
        # checks' command starts on the body line after the candidate's last
        messages = (shift(header_msgs, cf.header_lines) + resp.messages
                    + shift(checks.messages, -cf.candidate_end))
        return RunOutcome(messages, seconds, sorries=resp.sorries + checks.sorries)

    def run_tactic(self, proof_state: int, text: str, timeout: float) -> Response:
        """Tactic mode for search: one tactic on a proof state. See TacticResponse.completed."""
        try:
            return self.request(tactic(text, proof_state), time.monotonic() + timeout)
        except _Timeout:
            self._kill("timed out")
            raise TimeoutError("the tactic did not finish in time; the REPL was restarted") from None
        except ProtocolError as exc:
            self._kill(str(exc))
            raise

    def _kill(self, why: str) -> None:
        self._broken = why
        Sandbox.kill(self.proc)

    def close(self) -> None:
        if self.proc.poll() is None and self._broken is None:
            try:  # end of input ends a REPL session
                self.proc.stdin.close()
                self.proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._broken = self._broken or "closed"
        Sandbox.dispose(self.proc, self.scratch)  # process group + PID namespace: no orphans either way
        if self._output is not self.proc.stdout:
            self._output.close()


def _describe(resp: Response) -> str:
    if isinstance(resp, ErrorResponse):
        return resp.message[:300]
    if isinstance(resp, TacticResponse):
        return "a tactic response"
    return "a command response"


class ReplBackend:
    name = "repl"

    def __init__(self, settings: Settings | None = None):
        self.settings = s = settings or Settings.from_env()
        self.argv = repl_argv(s)
        extra_env = {}
        readable = [Path(self.argv[0])]
        if s.workspace:
            extra_env.update(dict(workspace_env(s.workspace, s.lean)))
            readable.append(Path(s.workspace))
        self.isolation = Sandbox(readable=readable).method
        self.pool = Pool(lambda: ReplWorker(self.argv, s, readable, extra_env), size=max(1, s.workers),
                         max_checks=s.recycle_checks, max_rss_mb=s.recycle_rss_mb, max_pending=s.queue)

    def run(self, cf: CheckFile, timeout: float) -> RunOutcome:
        return self.pool.run(cf, timeout)

    def close(self) -> None:
        self.pool.close()


def repl_available(settings: Settings) -> bool:
    try:
        repl_argv(settings)
        return True
    except ReplUnavailable:
        return False
