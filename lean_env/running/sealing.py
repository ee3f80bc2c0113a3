"""The command lines that seal a program's view of the filesystem: bubblewrap, or where it is
missing a mount namespace built with unshare and a shell script (the same mount plan for both),
and plain unshare namespaces for the methods that do not seal the filesystem."""
from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Sequence

from lean_env.running.sandbox_limits import NOBODY, Limits, SandboxError
from lean_env.running.scratch import scratch_root

# What every program may read besides its own files: the dynamic loader's cache and the system
# binaries and libraries (a Lean driver links libc; test programs are /usr/bin/python3).
_SYSTEM_PATHS = ("/usr/bin", "/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/libx32",
                 "/bin", "/lib", "/lib64", "/lib32", "/libx32",
                 "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
                 "/etc/localtime")  # `lean --server`'s watchdog refuses to start without it
ADMIN_PATH = "/usr/bin:/bin:/usr/sbin:/sbin"


def unshare_argv(method: str, argv: list[str]) -> list[str]:
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


def bwrap_argv(method: str, argv: Sequence[str], scratch: Path, readable: Sequence[Path], limits: Limits,
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


def mountns_argv(method: str, argv: Sequence[str], scratch: Path, readable: Sequence[Path], limits: Limits,
                 extra_env: dict[str, str] | None = None) -> list[str]:
    """Without bubblewrap, as root: `unshare` new mount, network, PID, IPC and UTS namespaces
    and run a shell script that builds the same mount plan on a tmpfs, pivots into it, drops
    the old root, remounts it read-only and execs the program through setpriv."""
    q = shlex.quote
    # every tool by its absolute path: the script must not depend on the caller's PATH, which
    # after the pivot may name directories that no longer exist
    tool = {t: q(shutil.which(t, path=ADMIN_PATH) or t) for t in ("mount", "umount", "pivot_root", "mkdir", "ln", "rmdir")}
    mount, umount, mkdir, ln = tool["mount"], tool["umount"], tool["mkdir"], tool["ln"]
    root = q(str(_mount_point()))
    size = f"size={limits.tmpfs_mb}m"
    lines = ["set -e", f"R={root}", f"{mount} -t tmpfs -o mode=0755,nosuid,nodev tmpfs {root}"]
    for d in ("/dev", "/dev/shm", "/proc", "/tmp"):
        lines.append(f"{mkdir} -p \"$R\"{d}")
    for dev in _DEVICES:
        if os.path.exists(f"/dev/{dev}"):
            lines.append(f": > \"$R\"/dev/{dev}; {mount} --bind /dev/{dev} \"$R\"/dev/{dev}")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        lines.append(f"{ln} -s {target} \"$R\"/dev/{name}")
    lines += [f"{mount} -t tmpfs -o mode=1777,{size},nosuid,nodev tmpfs \"$R\"/dev/shm",
              f"{mount} -t proc -o nosuid,nodev,noexec proc \"$R\"/proc",
              f"{mount} -t tmpfs -o mode=1777,{size},nosuid,nodev tmpfs \"$R\"/tmp"]
    for kind, src, dest in _mount_plan(argv, scratch, readable, extra_env):
        d = "\"$R\"" + q(dest)
        if kind == "dir":
            lines.append(f"{mkdir} -p -m {src} {d}")
        elif kind == "symlink":
            lines.append(f"{ln} -s {q(src)} {d}")
        else:
            make = f"{mkdir} -p {d}" if os.path.isdir(src) else f": > {d}"
            opts = "ro,nosuid,nodev" if kind == "ro" else "nosuid,nodev"
            lines.append(f"{make}; {mount} --bind -o {opts} {q(src)} {d}")
    lines += [f"{mkdir} -m 0700 \"$R\"/.old", "cd \"$R\"", f"{tool['pivot_root']} . .old", f"{umount} -l /.old",
              f"{tool['rmdir']} /.old", f"{mount} -o remount,ro,nosuid,nodev /",
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
