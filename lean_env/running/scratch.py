"""Scratch directories: one prover-owned root (`<tmp>/prover-sandbox`, mode 0711), one directory per
run named after its creating process (pid and start time), so that the ones a killed run left
behind are found and removed at the next start."""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional

from lean_env.running.sandbox_limits import NOBODY, SandboxError


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


def start_time(pid: int) -> Optional[str]:
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
    now = start_time(int(pid))
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


def clean_once() -> None:
    global _cleaned
    with _clean_lock:
        if not _cleaned:
            _cleaned = True
            try:
                clean_stale_scratch()
                clean_legacy_scratch()
            except OSError:
                pass
