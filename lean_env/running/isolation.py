"""Which isolation method this machine supports (probed once; PROVER_SANDBOX=METHOD asks for one)
and what each method gives, in words (`describe_isolation`, shown by `prover doctor`)."""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from lean_env.running.sandbox_limits import NOBODY, Limits, SandboxError
from lean_env.running.scratch import scratch_root, start_time
from lean_env.running.sealing import ADMIN_PATH, bwrap_argv, mountns_argv, unshare_argv

# Methods in the order they are tried; `describe_isolation` says what each one gives.
_DESCRIPTIONS = {
    "bwrap+nobody": "bubblewrap: read-only view of only the toolchain, the environment's files and system "
                    "libraries; writable scratch dir only; private /tmp and /dev/shm; no network; PID namespace; "
                    "runs as user nobody without capabilities; rlimits; output capped",
    "bwrap": "bubblewrap: read-only view of only the toolchain, the environment's files and system libraries; "
             "writable scratch dir only; private /tmp and /dev/shm; no network; PID namespace; runs as root "
             "without capabilities (the toolchain is not readable by nobody); rlimits; output capped",
    "bwrap-user": "bubblewrap in a user namespace: read-only view of only the toolchain, the environment's files "
                  "and system libraries; writable scratch dir only; private /tmp and /dev/shm; no network; "
                  "PID namespace; rlimits; output capped",
    "mountns+nobody": "mount namespace built with unshare (no bubblewrap): read-only view of only the toolchain, "
                      "the environment's files and system libraries; writable scratch dir only; private /tmp and "
                      "/dev/shm; no network; PID namespace; runs as user nobody without capabilities; rlimits; "
                      "output capped; outlives a SIGKILLed prover until it exits",
    "mountns": "mount namespace built with unshare (no bubblewrap): read-only view of only the toolchain, the "
               "environment's files and system libraries; writable scratch dir only; private /tmp and /dev/shm; no "
               "network; PID namespace; runs as root without capabilities (the toolchain is not readable by "
               "nobody); rlimits; output capped; outlives a SIGKILLed prover until it exits",
    "unshare+nobody": "network and PID namespaces, runs as user nobody, rlimits, output capped; NO filesystem "
                      "isolation (the whole filesystem is readable, /tmp and /dev/shm writable)",
    "unshare": "network and PID namespaces as root, rlimits, output capped; NO filesystem isolation",
    "unshare-user": "user+network+PID namespaces, rlimits, output capped; NO filesystem isolation",
    "none": "rlimits, timeout, output cap and scratch directory only (no namespaces available)",
}
BWRAP_METHODS = ("bwrap+nobody", "bwrap", "bwrap-user")
MOUNTNS_METHODS = ("mountns+nobody", "mountns")
SEALED_METHODS = BWRAP_METHODS + MOUNTNS_METHODS
NOBODY_METHODS = ("bwrap+nobody", "mountns+nobody", "unshare+nobody")
ROOT_FALLBACK = {"bwrap+nobody": "bwrap", "mountns+nobody": "mountns", "unshare+nobody": "unshare"}
INSTALL_HINT = "install bubblewrap (`apt-get install bubblewrap`) for a sealed filesystem"


def _probe(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=10, stdin=subprocess.DEVNULL).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _probe_method(method: str) -> bool:
    """Does `method` run `true` on this machine, with every option the real command uses?"""
    if method == "none":
        return True
    if method in SEALED_METHODS:
        if (method != "bwrap-user") != (os.geteuid() == 0):
            return False
        if method in BWRAP_METHODS and not shutil.which("bwrap"):
            return False
        if method in MOUNTNS_METHODS and not all(shutil.which(t, path=ADMIN_PATH) for t in
                                                  ("unshare", "setpriv", "pivot_root", "mount", "umount")):
            return False
        build = bwrap_argv if method in BWRAP_METHODS else mountns_argv
        scratch = scratch_root() / f"{os.getpid()}-{start_time(os.getpid()) or 0}-probe"
        scratch.mkdir(exist_ok=True)
        try:
            if method in NOBODY_METHODS:
                os.chown(scratch, NOBODY, NOBODY)
            true = shutil.which("true", path="/usr/bin:/bin") or "/bin/true"
            return _probe(build(method, [true], scratch, [], Limits()))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    unshare = shutil.which("unshare")
    if not unshare or (method == "unshare-user") == (os.geteuid() == 0):
        return False
    return _probe(unshare_argv(method, ["true"]))


@functools.lru_cache(maxsize=None)
def isolation_method() -> str:
    """The strongest isolation this machine supports, probed once (see _DESCRIPTIONS).
    PROVER_SANDBOX=METHOD asks for a given one (e.g. `none`, or `unshare+nobody` to measure the
    cost of the sealed filesystem); a method that does not work here falls back in order."""
    wanted = os.environ.get("PROVER_SANDBOX", "")
    if wanted and wanted not in _DESCRIPTIONS:
        raise SandboxError(f"PROVER_SANDBOX={wanted!r} is not a sandbox method; use one of {', '.join(_DESCRIPTIONS)}")
    if wanted and _probe_method(wanted):
        return wanted
    for method in ("bwrap+nobody", "mountns+nobody", "bwrap-user", "unshare+nobody", "unshare-user"):
        if _probe_method(method):
            return method
    return "none"


def describe_isolation(method: str | None = None) -> str:
    return _DESCRIPTIONS[method or isolation_method()]


def seals_filesystem(method: str | None = None) -> bool:
    return (method or isolation_method()) in SEALED_METHODS


def world_readable(path: Path) -> bool:
    """Can user nobody execute/read `path` (every parent traversable by others)?"""
    path = path.resolve()
    try:
        if not os.stat(path).st_mode & 0o004:
            return False
        return all(os.stat(p).st_mode & 0o001 for p in path.parents)
    except OSError:
        return False
