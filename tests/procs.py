"""Process helpers for tests that assert no Lean process outlives its pool."""
import psutil


def alive(pids) -> list[int]:
    """The pids that still run (zombies count as gone)."""
    out = []
    for p in pids:
        try:
            if psutil.Process(p).status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def with_token(token: str) -> list[int]:
    """Live pids whose command line contains `token` (a marker a test put in a child's argv)."""
    out = []
    for p in psutil.process_iter(["cmdline", "status"]):
        try:
            if p.info["status"] != psutil.STATUS_ZOMBIE and any(token in a for a in p.info["cmdline"] or []):
                out.append(p.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return out
