"""Run untrusted programs (Lean on model output) with limits that hold even if the program
turns hostile: wall-clock timeout with process-group kill, rlimits, capped output, a scrubbed
environment, a scratch directory, and - where the OS allows - a sealed filesystem view.

The strongest method (`bwrap+nobody`, as root with bubblewrap installed) gives the program a
mount namespace in which everything is read-only and only the toolchain, the paths its backend
names and the system libraries exist; its own scratch directory is the one writable place, and
/tmp and /dev/shm are private, empty tmpfs mounts that vanish with it. It has no network, its
own PID namespace (every descendant dies with it) and runs as user nobody without capabilities.
Weaker methods are fallbacks, each described honestly by `describe_isolation`.

Scratch directories live under one prover-owned root (`<tmp>/prover-sandbox`, mode 0711), each
named after the creating process (pid and start time), so the ones of a killed run are found
and removed at the next start (`clean_stale_scratch`).
"""
from __future__ import annotations

import functools
import os
import resource
import selectors
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

NOBODY = 65534
STDOUT_CAP = 4 * 1024 * 1024  # bytes of stdout `Sandbox.run` keeps; beyond, the program is killed
STDERR_CAP = 64 * 1024
TMPFS_MB = 64  # size of the private /tmp and /dev/shm

# What every program may read besides its own files: the dynamic loader's cache and the system
# binaries and libraries (a Lean driver links libc; test programs are /usr/bin/python3).
_SYSTEM_PATHS = ("/usr/bin", "/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/libx32",
                 "/bin", "/lib", "/lib64", "/lib32", "/libx32",
                 "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
                 "/etc/localtime")  # `lean --server`'s watchdog refuses to start without it
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
_BWRAP_METHODS = ("bwrap+nobody", "bwrap", "bwrap-user")
_MOUNTNS_METHODS = ("mountns+nobody", "mountns")
_SEALED_METHODS = _BWRAP_METHODS + _MOUNTNS_METHODS
_NOBODY_METHODS = ("bwrap+nobody", "mountns+nobody", "unshare+nobody")
_ROOT_FALLBACK = {"bwrap+nobody": "bwrap", "mountns+nobody": "mountns", "unshare+nobody": "unshare"}
_ADMIN_PATH = "/usr/bin:/bin:/usr/sbin:/sbin"
INSTALL_HINT = "install bubblewrap (`apt-get install bubblewrap`) for a sealed filesystem"


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


# -- probing ---------------------------------------------------------------------------------
def _probe(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=10, stdin=subprocess.DEVNULL).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _probe_method(method: str) -> bool:
    """Does `method` run `true` on this machine, with every option the real command uses?"""
    if method == "none":
        return True
    if method in _SEALED_METHODS:
        if (method != "bwrap-user") != (os.geteuid() == 0):
            return False
        if method in _BWRAP_METHODS and not shutil.which("bwrap"):
            return False
        if method in _MOUNTNS_METHODS and not all(shutil.which(t, path=_ADMIN_PATH) for t in
                                                  ("unshare", "setpriv", "pivot_root", "mount", "umount")):
            return False
        build = _bwrap_argv if method in _BWRAP_METHODS else _mountns_argv
        scratch = scratch_root() / f"{os.getpid()}-{_start_time(os.getpid()) or 0}-probe"
        scratch.mkdir(exist_ok=True)
        try:
            if method in _NOBODY_METHODS:
                os.chown(scratch, NOBODY, NOBODY)
            true = shutil.which("true", path="/usr/bin:/bin") or "/bin/true"
            return _probe(build(method, [true], scratch, [], Limits()))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    unshare = shutil.which("unshare")
    if not unshare or (method == "unshare-user") == (os.geteuid() == 0):
        return False
    return _probe(_unshare_argv(method, ["true"]))


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
    return (method or isolation_method()) in _SEALED_METHODS


def _world_readable(path: Path) -> bool:
    """Can user nobody execute/read `path` (every parent traversable by others)?"""
    path = path.resolve()
    try:
        if not os.stat(path).st_mode & 0o004:
            return False
        return all(os.stat(p).st_mode & 0o001 for p in path.parents)
    except OSError:
        return False


# -- the wrapped command ---------------------------------------------------------------------
def _unshare_argv(method: str, argv: list[str]) -> list[str]:
    unshare = shutil.which("unshare") or "unshare"
    base = [unshare, "-n", "-p", "-f", "--mount-proc", "--kill-child"]
    if method == "unshare+nobody":
        base += ["-S", str(NOBODY), "-G", str(NOBODY)]
    elif method == "unshare-user":
        base.insert(1, "-r")
    return base + ["--"] + argv


def _program_paths(argv: Sequence[str], extra_env: dict[str, str]) -> list[Path]:
    """What a program needs besides what its backend names: its own executable's directory
    (and, for a `bin/` dir, the prefix above it: a toolchain's `lib/lean`, a venv's
    interpreter), as spelled and as resolved; the absolute file paths its arguments name (a
    script); and the directories its LEAN_PATH / LEAN_SYSROOT point to."""
    paths: list[Path] = []
    if argv and os.path.isabs(argv[0]):
        paths += _exe_dirs(argv[0]) + [Path(p) for p in _wrapper_paths(argv[0])]
    paths += [Path(a) for a in argv[1:] if os.path.isabs(a) and os.path.isfile(a)]
    for var in ("LEAN_PATH", "LEAN_SYSROOT"):
        paths += [Path(p) for p in extra_env.get(var, "").split(os.pathsep) if p]
    return paths


def _wrapper_paths(exe: str) -> tuple[str, ...]:
    """A profile's bin/lean and bin/repl are shell scripts (`prover setup` writes them) that
    set LEAN_PATH / LEAN_SYSROOT and exec the real program: what they name must exist too."""
    try:
        with open(exe, "rb") as f:
            head = f.read(16384)
    except OSError:
        return ()
    if not head.startswith(b"#!"):
        return ()
    out: list[str] = []
    for line in head.decode("utf-8", "replace").splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        if words and words[0].startswith(("LEAN_PATH=", "LEAN_SYSROOT=")):
            out += [p for p in words[0].split("=", 1)[1].split(os.pathsep) if os.path.isabs(p)]
        elif len(words) > 1 and words[0] == "exec" and os.path.isabs(words[1]):
            out += [str(p) for p in _exe_dirs(words[1])]
    return tuple(out)


def _exe_dirs(exe: str) -> list[Path]:
    """An executable's directory, or the prefix above a `bin/` dir, as spelled and resolved."""
    out = []
    for e in dict.fromkeys([exe, os.path.realpath(exe)]):
        if not _is_system(e):
            d = Path(e).parent
            out.append(d.parent if d.name == "bin" and len(d.parts) > 2 else d)
    return out


def _is_system(path: str) -> bool:
    return any(path == s or path.startswith(s + "/") for s in _SYSTEM_PATHS)


def _bind_plan(readable: Sequence[Path]) -> list[tuple[str, str]]:
    """(source, destination) pairs for the read-only binds: each path at its real location and,
    where it differs, at the spelling the program was given; nested paths bound once."""
    pairs: dict[str, str] = {}
    for p in readable:
        p = Path(os.path.abspath(p))
        if not p.exists():
            continue
        real = str(p.resolve())
        for dest in {real, str(p)}:
            if not _is_system(dest):
                pairs[dest] = real
    root = str(scratch_root())
    for dest in pairs:
        if dest in ("/", "/dev", "/proc") or root == dest or root.startswith(dest.rstrip("/") + "/"):
            raise SandboxError(f"the sandbox cannot make {dest} readable: it holds every sandbox's scratch dir "
                               "or the system's devices; name the files the program needs instead")
    dests = sorted(pairs)
    keep = [d for d in dests if not any(d != o and d.startswith(o.rstrip("/") + "/") for o in dests)]
    return [(pairs[d], d) for d in keep]


@functools.lru_cache(maxsize=None)
def _bwrap_options() -> str:
    """bwrap's --help text: `--size` (a bounded tmpfs) exists from bubblewrap 0.7 on only."""
    try:
        return subprocess.run([shutil.which("bwrap") or "bwrap", "--help"], capture_output=True, text=True,
                              timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _mount_plan(argv: Sequence[str], scratch: Path, readable: Sequence[Path],
                extra_env: dict[str, str] | None) -> list[tuple[str, str, str]]:
    """The filesystem a sealed program sees, as ("dir", mode, path), ("symlink", target, path),
    ("ro", source, path) and ("rw", source, path) steps on an empty root that also gets /dev,
    /proc and private tmpfs /tmp and /dev/shm. Missing parents are made 0711: traversable, not
    listable (a namespace tool would make them 0700 root, which nobody cannot cross)."""
    made: set[str] = {"/", "/tmp", "/dev", "/dev/shm", "/proc"}
    plan: list[tuple[str, str, str]] = []

    def add(kind: str, src: str, dest: str) -> None:
        for anc in reversed(Path(dest).parents):
            if str(anc) not in made:
                made.add(str(anc))
                plan.append(("dir", "0711", str(anc)))
        made.add(dest)
        plan.append((kind, src, dest))

    for p in _SYSTEM_PATHS:
        if os.path.islink(p) and _is_system(os.path.realpath(p)) and os.path.realpath(p) != p:
            add("symlink", os.readlink(p), p)  # merged /usr: /lib -> usr/lib
        elif os.path.exists(p):
            add("ro", p, p)
    for src, dest in _bind_plan([*readable, *_program_paths(argv, extra_env or {})]):
        add("ro", src, dest)
    add("rw", str(scratch), str(scratch))
    return plan


def _setpriv(method: str) -> list[str]:
    """As root: become nobody (or, for files only root can read, stay root) with no capabilities."""
    setpriv = shutil.which("setpriv", path="/usr/bin:/bin") or "/usr/bin/setpriv"
    drop = ["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    if method.endswith("+nobody"):
        return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *drop, "--"]
    return [setpriv, *drop, "--"]


def _bwrap_argv(method: str, argv: Sequence[str], scratch: Path, readable: Sequence[Path], limits: Limits,
                extra_env: dict[str, str] | None = None) -> list[str]:
    """The bubblewrap command line for the mount plan, root remounted read-only; as root, drop
    to nobody with setpriv (bwrap's own --uid needs a user namespace)."""
    cmd = [shutil.which("bwrap") or "bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
           "--die-with-parent"]
    if method == "bwrap-user":
        cmd.append("--unshare-user")
    size = ["--size", str(limits.tmpfs_mb * 1024 * 1024)] if "--size" in _bwrap_options() else []
    cmd += ["--dev", "/dev", "--proc", "/proc",
            "--perms", "1777", *size, "--tmpfs", "/tmp",
            "--perms", "1777", *size, "--tmpfs", "/dev/shm"]
    for kind, src, dest in _mount_plan(argv, scratch, readable, extra_env):
        if kind == "dir":
            cmd += ["--perms", src, "--dir", dest]
        else:
            cmd += [{"symlink": "--symlink", "ro": "--ro-bind", "rw": "--bind"}[kind], src, dest]
    cmd += ["--remount-ro", "/", "--chdir", str(scratch)]
    if method == "bwrap":
        cmd += ["--cap-drop", "ALL"]
    cmd.append("--")
    if method == "bwrap+nobody":
        cmd += _setpriv(method)
    return cmd + list(argv)


_DEVICES = ("null", "zero", "full", "random", "urandom", "tty")


def _mountns_argv(method: str, argv: Sequence[str], scratch: Path, readable: Sequence[Path], limits: Limits,
                  extra_env: dict[str, str] | None = None) -> list[str]:
    """Without bubblewrap, as root: `unshare` new mount, network, PID, IPC and UTS namespaces
    and run a shell script that builds the same mount plan on a tmpfs, pivots into it, drops
    the old root, remounts it read-only and execs the program through setpriv."""
    q = shlex.quote
    tool = {t: q(shutil.which(t, path=_ADMIN_PATH) or t) for t in ("mount", "umount", "pivot_root")}
    mount, umount = tool["mount"], tool["umount"]
    root = q(str(_mount_point()))
    size = f"size={limits.tmpfs_mb}m"
    lines = ["set -e", f"R={root}", f"{mount} -t tmpfs -o mode=0755,nosuid,nodev tmpfs {root}"]
    for d in ("/dev", "/dev/shm", "/proc", "/tmp"):
        lines.append(f"mkdir -p \"$R\"{d}")
    for dev in _DEVICES:
        if os.path.exists(f"/dev/{dev}"):
            lines.append(f": > \"$R\"/dev/{dev}; {mount} --bind /dev/{dev} \"$R\"/dev/{dev}")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        lines.append(f"ln -s {target} \"$R\"/dev/{name}")
    lines += [f"{mount} -t tmpfs -o mode=1777,{size},nosuid,nodev tmpfs \"$R\"/dev/shm",
              f"{mount} -t proc -o nosuid,nodev,noexec proc \"$R\"/proc",
              f"{mount} -t tmpfs -o mode=1777,{size},nosuid,nodev tmpfs \"$R\"/tmp"]
    for kind, src, dest in _mount_plan(argv, scratch, readable, extra_env):
        d = "\"$R\"" + q(dest)
        if kind == "dir":
            lines.append(f"mkdir -p -m {src} {d}")
        elif kind == "symlink":
            lines.append(f"ln -s {q(src)} {d}")
        else:
            make = f"mkdir -p {d}" if os.path.isdir(src) else f": > {d}"
            opts = "ro,nosuid,nodev" if kind == "ro" else "nosuid,nodev"
            lines.append(f"{make}; {mount} --bind -o {opts} {q(src)} {d}")
    lines += ["mkdir -m 0700 \"$R\"/.old", "cd \"$R\"", f"{tool['pivot_root']} . .old", f"{umount} -l /.old",
              "rmdir /.old", f"{mount} -o remount,ro,nosuid,nodev /",
              # the shell's `cd` above exported OLDPWD and a PWD of the old root: the program
              # gets only the scrubbed environment, with PWD its scratch dir (as bwrap --chdir sets it)
              "unset OLDPWD", f"PWD={q(str(scratch))}; export PWD",
              'exec ' + " ".join(q(a) for a in _setpriv(method)) + f" /usr/bin/env -C {q(str(scratch))} -- \"$@\""]
    unshare = shutil.which("unshare") or "unshare"
    return [unshare, "-m", "-n", "-p", "-i", "-u", "-f", "--kill-child", "--propagation", "private", "--",
            "/bin/sh", "-c", "\n".join(lines), "sandbox", *argv]


def _mount_point() -> Path:
    """One empty root-only directory each mountns sandbox mounts its own tmpfs root on (in its
    own mount namespace, so they never see each other's)."""
    d = scratch_root() / "mnt"
    d.mkdir(mode=0o700, exist_ok=True)
    return d


# -- scratch directories ---------------------------------------------------------------------
def scratch_root() -> Path:
    """The one directory all scratch dirs live in, created mode 0711 (others may enter a dir
    they know the name of, never list it). Refused if someone else owns it or it is a link."""
    name = "prover-sandbox" if os.geteuid() == 0 else f"prover-sandbox-{os.geteuid()}"
    root = Path(tempfile.gettempdir()) / name
    try:
        root.mkdir(mode=0o711)
        os.chmod(root, 0o711)
    except FileExistsError:
        pass
    st = os.lstat(root)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise SandboxError(f"{root} is not a directory owned by this user: remove it, it is the prover's scratch root")
    return root


def _start_time(pid: int) -> Optional[str]:
    """A process's start time (clock ticks since boot), which tells a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


def _owner_alive(name: str) -> bool:
    """Is the process that created scratch dir `name` (`PID-STARTTIME-...`) still running?
    Names of another form are not ours to judge: they count as alive."""
    pid, _, rest = name.partition("-")
    start = rest.partition("-")[0]
    if not pid.isdigit() or not start:
        return True
    now = _start_time(int(pid))
    if now is not None:
        return now == start
    if not os.path.exists("/proc/self/stat"):  # no procfs: fall back to "does the pid exist"
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True
    return False


def clean_stale_scratch() -> list[Path]:
    """Remove the scratch dirs whose creating process is dead (a SIGKILLed run leaves them
    behind); never one of a live process. Returns what was removed."""
    removed = []
    root = scratch_root()
    for entry in os.scandir(root):
        if entry.is_dir(follow_symlinks=False) and not _owner_alive(entry.name):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


LEGACY_AGE_S = 24 * 3600


def clean_legacy_scratch(min_age_s: float = LEGACY_AGE_S) -> list[Path]:
    """Remove scratch dirs of the earlier layout (`<tmp>/prover-sandbox-XXXXXXXX`, from
    tempfile.mkdtemp, which says nothing of its creator): only ours or nobody's, untouched for
    `min_age_s`, and not the working directory of any live process."""
    tmp = Path(tempfile.gettempdir())
    old = []
    for entry in os.scandir(tmp):
        suffix = entry.name[len("prover-sandbox-"):]
        if not entry.name.startswith("prover-sandbox-") or len(suffix) != 8 or suffix.isdigit():
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and st.st_uid in (os.geteuid(), NOBODY) and time.time() - st.st_mtime > min_age_s:
            old.append(Path(entry.path))
    if not old:
        return []
    in_use = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            in_use.add(os.readlink(f"/proc/{pid}/cwd"))
        except OSError:
            pass
    removed = [d for d in old if str(d) not in in_use]
    for d in removed:
        shutil.rmtree(d, ignore_errors=True)
    return removed


_cleaned = False
_clean_lock = threading.Lock()


def _clean_once() -> None:
    global _cleaned
    with _clean_lock:
        if not _cleaned:
            _cleaned = True
            try:
                clean_stale_scratch()
                clean_legacy_scratch()
            except OSError:
                pass


# -- reading output --------------------------------------------------------------------------
def _feed(stream, data: bytes) -> None:
    try:
        stream.write(data)
    except (BrokenPipeError, OSError, ValueError):
        pass
    finally:
        try:
            stream.close()
        except (OSError, ValueError):
            pass


def _collect(caps: dict[int, int], deadline: float) -> tuple[dict[int, bytearray], bool, set[int]]:
    """Read pipes (fd -> cap) until EOF, the deadline, or a cap: never more than the cap of
    each stream is held. Returns (bytes by fd, timed out, fds whose output was cut)."""
    bufs = {fd: bytearray() for fd in caps}
    sel = selectors.DefaultSelector()
    for fd in caps:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    timed_out, cut = False, set()
    try:
        while sel.get_map() and not cut:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            for key, _ in sel.select(left):
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    sel.unregister(key.fd)
                    continue
                buf = bufs[key.fd]
                room = caps[key.fd] - len(buf)
                buf += chunk[:room]
                if len(chunk) > room:
                    cut.add(key.fd)
    finally:
        sel.close()
    return bufs, timed_out, cut


def read_line_capped(stream, max_bytes: int) -> tuple[bytes, bool]:
    """One line (with its b"\\n") of a long-lived process's binary stream, keeping at most
    `max_bytes` of it: the rest of an overlong line is read and dropped, never buffered.
    Returns (line, cut); b"" at end of stream."""
    kept = bytearray()
    cut = False
    while True:
        part = stream.readline(65536)
        if not part:
            return bytes(kept), cut
        room = max_bytes - len(kept)
        if len(part) > room:
            cut = True
            kept += part[:max(room, 0)]
        else:
            kept += part
        if part.endswith(b"\n"):
            return bytes(kept), cut


class Sandbox:
    """Builds the wrapped command, environment and limits for one program. `run` waits for it;
    `popen` starts a long-lived one (a Lean server or REPL) that `kill` ends with all its
    descendants. `readable`: the files and directories the program must read (toolchain,
    compiled environments, a workspace); under a bubblewrap method nothing else exists for it."""

    def __init__(self, limits: Limits | None = None, readable: Sequence[Path] = ()):
        self.limits = limits or Limits()
        self.readable = [Path(p) for p in readable]
        method = isolation_method()
        if method in _NOBODY_METHODS and not all(_world_readable(p) for p in self.readable):
            method = _ROOT_FALLBACK[method]  # stay root (without capabilities): nobody cannot read them
        self.method = method
        _clean_once()

    def describe(self) -> str:
        return describe_isolation(self.method)

    # -- building blocks -------------------------------------------------------------------
    def wrap(self, argv: Sequence[str], scratch: Path, extra_env: dict[str, str] | None = None) -> list[str]:
        argv = list(argv)
        if self.method in _BWRAP_METHODS:
            return _bwrap_argv(self.method, argv, scratch, self.readable, self.limits, extra_env)
        if self.method in _MOUNTNS_METHODS:
            return _mountns_argv(self.method, argv, scratch, self.readable, self.limits, extra_env)
        if self.method.startswith("unshare"):
            return _unshare_argv(self.method, argv)
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
        uid = NOBODY if self.method in _NOBODY_METHODS else os.getuid()
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
        d = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-{_start_time(os.getpid()) or 0}-", dir=scratch_root()))
        if self.method in _NOBODY_METHODS:
            os.chown(d, NOBODY, NOBODY)
        return d

    # -- running ---------------------------------------------------------------------------
    def popen(self, argv: Sequence[str], scratch: Path, extra_env: dict[str, str] | None = None,
              **kwargs) -> subprocess.Popen:
        return subprocess.Popen(
            self.wrap(argv, scratch, extra_env), cwd=scratch, env=self.env(scratch, extra_env),
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
        """Run to completion (or to the wall-clock limit, or until its output passes a cap) in
        a fresh scratch dir holding `files`."""
        scratch = self.scratch_dir()
        try:
            for name, text in (files or {}).items():
                p = scratch / name
                p.write_text(text, encoding="utf-8")
                if self.method in _NOBODY_METHODS:
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
            threading.Thread(target=_feed, args=(proc.stdin, stdin.encode()), daemon=True).start()
        out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
        caps = {out_fd: lim.stdout_bytes, err_fd: lim.stderr_bytes}
        try:
            bufs, timed_out, cut = _collect(caps, start + lim.timeout_s)
            if timed_out or cut:
                self.kill(proc)
            if timed_out:  # what the killed program had written but we had not read yet
                more, _, cut = _collect({fd: caps[fd] - len(bufs[fd]) for fd in caps}, time.monotonic() + 5)
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
