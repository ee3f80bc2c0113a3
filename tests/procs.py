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


def kill_busy_file_worker(pool, killed: list, seconds: float = 30.0) -> None:
    """SIGKILL the first of `pool`'s Lean file workers (`lean --worker`) that is busy elaborating,
    appending its pid to `killed`; gives up after `seconds`. Run it in a thread beside a check."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not killed:
        for pid in pool.worker_pids():
            try:
                p = psutil.Process(pid)
                if "--worker" in p.cmdline() and p.cpu_times().user > 0.2:
                    p.kill()
                    killed.append(pid)
                    return
            except psutil.Error:
                pass
        time.sleep(0.02)


def survivors(token: str, grace_s: float = 5.0) -> list[int]:
    """Pids carrying `token` still alive after `grace_s`: a killed PID namespace's members die
    asynchronously, so one may show for a moment after the sandbox returned; none may stay."""
    procs = []
    for pid in with_token(token):
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    _, alive_ = psutil.wait_procs(procs, timeout=grace_s)
    return [p.pid for p in alive_ if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
