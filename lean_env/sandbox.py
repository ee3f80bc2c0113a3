"""Run untrusted programs (Lean on model output) with limits that hold even if the program
turns hostile: wall-clock timeout with process-group kill, rlimits, a scratch directory, a
scrubbed environment, and - where the OS allows - no network, its own PID namespace (so every
descendant dies with it) and an unprivileged user (so it cannot write outside its scratch dir).
"""
from __future__ import annotations

import functools
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

NOBODY = 65534


@dataclass
class Limits:
    """Resource limits for one sandboxed process. Memory: Lean reserves a lot of address space
    at start (it aborts under 1-2 GB of RLIMIT_AS), so the address-space limit is a generous
    backstop and the real bound is Lean's own `--memory` (see lean_env.toolchain)."""

    timeout_s: float = 60.0
    address_space_mb: Optional[int] = 16384
    memory_mb: Optional[int] = 4096  # handed to Lean as --memory; unused for other programs
    cpu_s: Optional[int] = None  # default: 4 x timeout (Lean is multi-threaded)
    file_size_mb: int = 64
    max_procs: int = 1024  # threads count too (RLIMIT_NPROC); applies to unprivileged users

    def cpu_seconds(self) -> int:
        return self.cpu_s if self.cpu_s is not None else int(4 * self.timeout_s) + 5


@dataclass
class RunResult:
    returncode: Optional[int]
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    isolation: str = ""

    @property
    def signal(self) -> Optional[int]:
        rc = self.returncode
        if rc is not None and rc < 0:
            return -rc
        # `unshare --kill-child` reports a killed child as 128 + signal
        if rc is not None and rc > 128 and rc - 128 in (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGXCPU, signal.SIGBUS, signal.SIGXFSZ):
            return rc - 128
        return None


@functools.lru_cache(maxsize=None)
def isolation_method() -> str:
    """The strongest isolation this machine supports, probed once:
    'unshare+nobody' (root: net+pid namespaces, runs as nobody), 'unshare-user' (unprivileged
    user namespaces), 'bwrap', or 'none' (rlimits, timeout and scratch dir only)."""
    if os.environ.get("PROVER_SANDBOX") == "none":
        return "none"
    unshare = shutil.which("unshare")
    probe = lambda argv: subprocess.run(argv, capture_output=True, timeout=10).returncode == 0  # noqa: E731
    try:
        if unshare and os.geteuid() == 0 and probe(
            [unshare, "-n", "-p", "-f", "--mount-proc", "--kill-child", "-S", str(NOBODY), "-G", str(NOBODY), "true"]
        ):
            return "unshare+nobody"
        if unshare and probe([unshare, "-r", "-n", "-p", "-f", "--mount-proc", "--kill-child", "true"]):
            return "unshare-user"
        bwrap = shutil.which("bwrap")
        if bwrap and probe([bwrap, "--unshare-net", "--unshare-pid", "--die-with-parent", "--ro-bind", "/", "/", "true"]):
            return "bwrap"
    except (OSError, subprocess.SubprocessError):
        pass
    return "none"


def describe_isolation() -> str:
    return {
        "unshare+nobody": "network namespace, PID namespace, runs as user nobody, rlimits",
        "unshare-user": "user+network+PID namespaces, rlimits",
        "bwrap": "bubblewrap: read-only filesystem, no network, PID namespace, rlimits",
        "none": "rlimits, timeout and scratch directory only (no namespaces available)",
    }[isolation_method()]


def _world_readable(path: Path) -> bool:
    """Can user nobody execute/read `path` (every parent traversable by others)?"""
    path = path.resolve()
    try:
        if not os.stat(path).st_mode & 0o004:
            return False
        return all(os.stat(p).st_mode & 0o001 for p in path.parents)
    except OSError:
        return False


class Sandbox:
    """Builds the wrapped command, environment and limits for one program. `run` waits for it;
    `popen` starts a long-lived one (a Lean server or REPL) that `kill` ends with all its
    descendants."""

    def __init__(self, limits: Limits | None = None, readable: Sequence[Path] = ()):
        self.limits = limits or Limits()
        method = isolation_method()
        if method == "unshare+nobody" and not all(_world_readable(Path(p)) for p in readable):
            method = "unshare"  # the program's files are not readable by nobody: stay root
        self.method = method

    # -- building blocks -------------------------------------------------------------------
    def wrap(self, argv: Sequence[str], scratch: Path) -> list[str]:
        argv = list(argv)
        unshare = shutil.which("unshare") or "unshare"
        if self.method == "unshare+nobody":
            return [unshare, "-n", "-p", "-f", "--mount-proc", "--kill-child", "-S", str(NOBODY), "-G", str(NOBODY), "--"] + argv
        if self.method == "unshare":
            return [unshare, "-n", "-p", "-f", "--mount-proc", "--kill-child", "--"] + argv
        if self.method == "unshare-user":
            return [unshare, "-r", "-n", "-p", "-f", "--mount-proc", "--kill-child", "--"] + argv
        if self.method == "bwrap":
            return [shutil.which("bwrap") or "bwrap", "--unshare-net", "--unshare-pid", "--die-with-parent",
                    "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
                    "--bind", str(scratch), str(scratch), "--chdir", str(scratch), "--"] + argv
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
        uid = NOBODY if self.method == "unshare+nobody" else os.getuid()
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
        d = Path(tempfile.mkdtemp(prefix="prover-sandbox-"))
        if self.method == "unshare+nobody":
            os.chown(d, NOBODY, NOBODY)
        return d

    # -- running ---------------------------------------------------------------------------
    def popen(self, argv: Sequence[str], scratch: Path, extra_env: dict[str, str] | None = None,
              **kwargs) -> subprocess.Popen:
        return subprocess.Popen(
            self.wrap(argv, scratch), cwd=scratch, env=self.env(scratch, extra_env),
            preexec_fn=self._preexec_for(self._nproc_limit()), start_new_session=True, **kwargs,
        )

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
        """Run to completion (or to the wall-clock limit) in a fresh scratch dir holding `files`."""
        scratch = self.scratch_dir()
        try:
            for name, text in (files or {}).items():
                p = scratch / name
                p.write_text(text, encoding="utf-8")
                if self.method == "unshare+nobody":
                    os.chown(p, NOBODY, NOBODY)
            start = time.monotonic()
            proc = self.popen(argv, scratch, extra_env, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            timed_out = False
            try:
                out, err = proc.communicate(stdin.encode() if stdin is not None else None, timeout=self.limits.timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                self.kill(proc)
                out, err = proc.communicate()
            return RunResult(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                             time.monotonic() - start, timed_out, self.method)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


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


class StderrTail:
    """Drains a long-lived process's stderr in a thread (so the pipe never fills and blocks it)
    and keeps the last bytes, to say why the process died."""

    def __init__(self, stream, name: str = "stderr-drain", keep: int = 2000):
        self._tail, self._keep = b"", keep
        threading.Thread(target=self._drain, args=(stream,), daemon=True, name=name).start()

    def _drain(self, stream) -> None:
        try:
            for chunk in iter(lambda: stream.read1(4096), b""):
                self._tail = (self._tail + chunk)[-self._keep:]
        except (ValueError, OSError):
            pass

    def hint(self) -> str:
        """` (stderr: ...)` with the last lines, or "" when the process wrote nothing."""
        tail = self._tail.decode("utf-8", "replace").strip()
        return f" (stderr: {tail[-300:]})" if tail else ""
