"""Run untrusted programs (Lean on model output) with limits that hold even if the program
turns hostile: wall-clock timeout with process-group kill, rlimits, capped output, a scrubbed
environment, a scratch directory, and - where the OS allows - a sealed filesystem view.

The strongest method (`bwrap+nobody`, as root with bubblewrap installed) gives the program a
mount namespace in which everything is read-only and only the toolchain, the paths its backend
names and the system libraries exist; its own scratch directory is the one writable place, and
/tmp and /dev/shm are private, empty tmpfs mounts that vanish with it. It has no network, its
own PID namespace (every descendant dies with it) and runs as user nobody without capabilities.
Weaker methods are fallbacks, each described honestly by `describe_isolation`.

This module is the Sandbox itself (environment, rlimits, run / popen / kill); its parts live
beside it: isolation (which method, probed once), sealing (the bubblewrap / mount-namespace
command lines), scratch (the scratch directories and their cleanup), capped_output (reading
output under caps) and sandbox_limits (Limits, RunResult, SandboxError).
"""
from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Sequence

from lean_env.running.capped_output import collect, feed
from lean_env.running.isolation import (BWRAP_METHODS, MOUNTNS_METHODS, NOBODY_METHODS, ROOT_FALLBACK, describe_isolation,
                                        isolation_method, world_readable)
from lean_env.running.sandbox_limits import NOBODY, Limits, RunResult
from lean_env.running.scratch import clean_once, scratch_root, start_time
from lean_env.running.sealing import bwrap_argv, mountns_argv, unshare_argv


class Sandbox:
    """Builds the wrapped command, environment and limits for one program. `run` waits for it;
    `popen` starts a long-lived one (a Lean server or REPL) that `kill` ends with all its
    descendants. `readable`: the files and directories the program must read (toolchain,
    compiled environments, a workspace); under a bubblewrap method nothing else exists for it."""

    def __init__(self, limits: Limits | None = None, readable: Sequence[Path] = ()):
        self.limits = limits or Limits()
        self.readable = [Path(p) for p in readable]
        method = isolation_method()
        if method in NOBODY_METHODS and not all(world_readable(p) for p in self.readable):
            method = ROOT_FALLBACK[method]  # stay root (without capabilities): nobody cannot read them
        self.method = method
        clean_once()

    def describe(self) -> str:
        return describe_isolation(self.method)

    # -- building blocks -------------------------------------------------------------------
    def wrap(self, argv: Sequence[str], scratch: Path, extra_env: dict[str, str] | None = None) -> list[str]:
        argv = list(argv)
        if self.method in BWRAP_METHODS:
            return bwrap_argv(self.method, argv, scratch, self.readable, self.limits, extra_env)
        if self.method in MOUNTNS_METHODS:
            return mountns_argv(self.method, argv, scratch, self.readable, self.limits, extra_env)
        if self.method.startswith("unshare"):
            return unshare_argv(self.method, argv)
        return argv

    def env(self, scratch: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
        """A scrubbed environment: nothing inherited (no tokens, no keys) but what Lean needs."""
        env = {"PATH": "/usr/bin:/bin", "HOME": str(scratch), "TMPDIR": str(scratch), "LANG": "C.UTF-8"}
        env.update(extra or {})
        return env

    def _preexec_for(self, nproc: int):
        """The child-side setup, with the process limit computed in the parent (the child of a
        threaded parent should do as little as possible before exec)."""
        return lambda: self._preexec(nproc)

    def _nproc_limit(self) -> int:
        """RLIMIT_NPROC counts every thread of the (real) user, across all its sandboxes: give
        this sandbox `max_procs` on top of what that user already runs, so concurrent sandboxes
        (a pool of Lean servers) never starve each other while a fork bomb is still capped."""
        uid = NOBODY if self.method in NOBODY_METHODS else os.getuid()
        if uid == 0:
            return self.limits.max_procs  # root ignores RLIMIT_NPROC anyway
        return self.limits.max_procs + _user_threads(uid)

    def _preexec(self, nproc: int) -> None:
        lim = self.limits
        mb = 1024 * 1024
        if lim.address_space_mb:
            resource.setrlimit(resource.RLIMIT_AS, (lim.address_space_mb * mb,) * 2)
        cpu = lim.cpu_seconds()
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (lim.file_size_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))  # for root: applies once we are nobody

    def scratch_dir(self) -> Path:
        """A fresh scratch dir under the prover's root, named after this process so that a
        later run can tell when it is stale."""
        d = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-{start_time(os.getpid()) or 0}-", dir=scratch_root()))
        if self.method in NOBODY_METHODS:
            os.chown(d, NOBODY, NOBODY)
        return d

    # -- running ---------------------------------------------------------------------------
    def popen(self, argv: Sequence[str], scratch: Path, extra_env: dict[str, str] | None = None,
              **kwargs) -> subprocess.Popen:
        argv, env, preexec = self.wrap(argv, scratch, extra_env), self.env(scratch, extra_env), self._preexec_for(
            self._nproc_limit())
        return _from_a_lasting_thread(lambda: subprocess.Popen(argv, cwd=scratch, env=env, preexec_fn=preexec,
                                                               start_new_session=True, **kwargs))

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        """Kill the process group; the PID namespace (where used) takes every descendant."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    @classmethod
    def dispose(cls, proc: subprocess.Popen, scratch: Path) -> None:
        """End a long-lived sandboxed process for good: kill it with all its descendants, close
        its pipes, remove its scratch dir."""
        cls.kill(proc)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        shutil.rmtree(scratch, ignore_errors=True)

    def run(self, argv: Sequence[str], files: dict[str, str] | None = None, stdin: str | None = None,
            extra_env: dict[str, str] | None = None) -> RunResult:
        """Run to completion (or to the wall-clock limit, or until its output passes a cap) in
        a fresh scratch dir holding `files`."""
        scratch = self.scratch_dir()
        try:
            for name, text in (files or {}).items():
                p = scratch / name
                p.write_text(text, encoding="utf-8")
                if self.method in NOBODY_METHODS:
                    os.chown(p, NOBODY, NOBODY)
            start = time.monotonic()
            proc = self.popen(argv, scratch, extra_env, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            return self._wait(proc, stdin, start)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _wait(self, proc: subprocess.Popen, stdin: str | None, start: float) -> RunResult:
        lim = self.limits
        if stdin is not None:
            threading.Thread(target=feed, args=(proc.stdin, stdin.encode()), daemon=True).start()
        out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
        caps = {out_fd: lim.stdout_bytes, err_fd: lim.stderr_bytes}
        try:
            bufs, timed_out, cut = collect(caps, start + lim.timeout_s)
            if timed_out or cut:
                self.kill(proc)
            if timed_out:  # what the killed program had written but we had not read yet
                more, _, cut = collect({fd: caps[fd] - len(bufs[fd]) for fd in caps}, time.monotonic() + 5)
                for fd in caps:
                    bufs[fd] += more[fd]
            try:  # it may close its output and live on
                proc.wait(timeout=max(0.0, start + lim.timeout_s - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
                self.kill(proc)
        finally:
            proc.stdout.close()
            proc.stderr.close()
        note = "; ".join(f"the program's {name} exceeded {caps[fd]} bytes and was cut"
                         for name, fd in (("stdout", out_fd), ("stderr", err_fd)) if fd in cut)
        return RunResult(proc.returncode, bufs[out_fd].decode("utf-8", "replace"), bufs[err_fd].decode("utf-8", "replace"),
                         time.monotonic() - start, timed_out, self.method, bool(cut), note)


_spawner: "concurrent.futures.ThreadPoolExecutor | None" = None
_spawner_lock = threading.Lock()


def _from_a_lasting_thread(start):
    """Call `start` (which forks) on the main thread or on one thread that lives as long as the
    process. Linux sends a child's parent-death signal (bwrap's --die-with-parent) when the
    *thread* that forked it ends, not its process: a Lean server a pool started from a
    short-lived worker thread would be killed when that thread finished."""
    global _spawner
    import concurrent.futures

    if threading.current_thread() is threading.main_thread():
        return start()
    with _spawner_lock:
        if _spawner is None:
            _spawner = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sandbox-spawner")
    if threading.current_thread().name.startswith("sandbox-spawner"):
        return start()
    return _spawner.submit(start).result()


def _user_threads(uid: int) -> int:
    """How many threads user `uid` already runs (they count toward RLIMIT_NPROC)."""
    count = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.stat(f"/proc/{pid}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{pid}/task"))
            except OSError:
                pass
    return count
