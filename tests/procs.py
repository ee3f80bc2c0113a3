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
