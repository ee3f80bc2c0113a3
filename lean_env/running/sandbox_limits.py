"""What one sandboxed run is given (Limits) and gives back (RunResult), and the sandbox's error:
their own module because the isolation probe, the sealing command lines, the scratch directories
and the Sandbox all use them."""
from __future__ import annotations

import signal
from dataclasses import dataclass
from typing import Optional

NOBODY = 65534  # the uid (and gid) of user nobody, whom the `+nobody` methods run the program as
STDOUT_CAP = 4 * 1024 * 1024  # bytes of stdout `Sandbox.run` keeps; beyond, the program is killed
STDERR_CAP = 64 * 1024
TMPFS_MB = 64  # size of the private /tmp and /dev/shm


class SandboxError(RuntimeError):
    """The sandbox cannot be set up safely: the message says what to fix."""


@dataclass
class Limits:
    """Resource limits for one sandboxed process. Memory: Lean reserves a lot of address space
    at start (it aborts under 1-2 GB of RLIMIT_AS), so the address-space limit is a generous
    backstop and the real bound is Lean's own `--memory` (see lean_env.running.toolchain)."""

    timeout_s: float = 60.0
    address_space_mb: Optional[int] = 16384
    memory_mb: Optional[int] = 4096  # handed to Lean as --memory; unused for other programs
    cpu_s: Optional[int] = None  # default: 4 x timeout (Lean is multi-threaded)
    file_size_mb: int = 64
    max_procs: int = 1024  # threads count too (RLIMIT_NPROC); applies to unprivileged users
    stdout_bytes: int = STDOUT_CAP  # `run` keeps this much stdout, then kills the program
    stderr_bytes: int = STDERR_CAP
    tmpfs_mb: int = TMPFS_MB  # private /tmp and /dev/shm (bubblewrap methods)

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
    truncated: bool = False  # output passed its cap: the program was killed, the text cut
    truncation: str = ""  # which cap, in words ("the program's stdout exceeded 4194304 bytes and was cut")

    @property
    def signal(self) -> Optional[int]:
        rc = self.returncode
        if rc is not None and rc < 0:
            return -rc
        # `unshare --kill-child` and bwrap report a killed child as 128 + signal
        if rc is not None and rc > 128 and rc - 128 in (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGXCPU, signal.SIGBUS, signal.SIGXFSZ):
            return rc - 128
        return None
