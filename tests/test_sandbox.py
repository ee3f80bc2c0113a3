"""The sandbox contains hostile programs: real processes, real limits."""
import os
import sys
import textwrap
from pathlib import Path

import pytest

from lean_env.sandbox import Limits, Sandbox, isolation_method

PY = sys.executable if os.access(sys.executable, os.X_OK) else "/usr/bin/python3"
# the sandboxed user (nobody) may not be able to read a venv under /root: use the system python
SYS_PY = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else PY
namespaces = pytest.mark.skipif(isolation_method() == "none", reason="no namespaces on this machine")


def run_py(code: str, **limits) -> "object":
    return Sandbox(Limits(**limits)).run([SYS_PY, "-c", textwrap.dedent(code)])


def test_runs_in_scratch_dir_with_scrubbed_env(monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    res = run_py("import os, json; print(json.dumps({'cwd': os.getcwd(), 'env': dict(os.environ)}))", timeout_s=20)
    import json

    out = json.loads(res.stdout)
    assert "prover-sandbox-" in out["cwd"]
    assert "SECRET_TOKEN" not in out["env"]
    assert set(out["env"]) <= {"PATH", "HOME", "TMPDIR", "LANG"}
    assert not Path(out["cwd"]).exists(), "scratch dir is removed after the run"


def test_wall_clock_timeout_kills_process_group():
    res = run_py("""
        import os, time
        if os.fork() == 0:
            time.sleep(1000)
        time.sleep(1000)
    """, timeout_s=1.5)
    assert res.timed_out
    assert res.seconds < 15


@namespaces
def test_no_network():
    res = run_py("""
        import socket
        s = socket.socket()
        s.settimeout(3)
        try:
            s.connect(("1.1.1.1", 80)); print("CONNECTED")
        except OSError as e:
            print("BLOCKED", e)
        print(sorted(n for _, n in socket.if_nameindex()))
    """, timeout_s=20)
    assert "BLOCKED" in res.stdout, res.stdout + res.stderr
    assert "CONNECTED" not in res.stdout
    assert "['lo']" in res.stdout  # only loopback exists inside


@pytest.mark.skipif(isolation_method() not in ("unshare+nobody", "bwrap"), reason="needs an unprivileged or read-only sandbox")
def test_no_writes_outside_scratch(tmp_path):
    os.chmod(tmp_path, 0o755)  # readable by all, writable only by us
    victim = tmp_path / "victim.txt"
    res = run_py(f"""
        import os
        for p in [{str(victim)!r}, "/etc/prover-test", "/usr/prover-test"]:
            try:
                open(p, "w").write("x"); print("WROTE", p)
            except OSError as e:
                print("DENIED", p)
        open("inside.txt", "w").write("fine"); print("INSIDE-OK")
    """, timeout_s=20)
    assert "WROTE" not in res.stdout, res.stdout
    assert res.stdout.count("DENIED") == 3
    assert "INSIDE-OK" in res.stdout
    assert not victim.exists() and not Path("/etc/prover-test").exists()


@namespaces
def test_fork_bomb_is_contained():
    res = run_py("""
        import os, time
        n = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(30); os._exit(0)
                n += 1
        except OSError:
            print("FORK-LIMIT", n, flush=True)
        time.sleep(30)
    """, timeout_s=4, max_procs=64)
    assert res.timed_out
    assert "FORK-LIMIT" in res.stdout, res.stdout + res.stderr
    n = int(res.stdout.split("FORK-LIMIT")[1].split()[0])
    assert n < 64
    # every descendant died with the PID namespace
    leftovers = os.popen("ps -eo user,args | grep '^nobody.*os.fork' | grep -v grep").read()
    assert leftovers == ""


def test_memory_bomb_is_contained():
    res = run_py("""
        chunks = []
        try:
            while True:
                chunks.append(bytearray(64 * 1024 * 1024))
        except MemoryError:
            print("MEMORY-LIMIT", len(chunks) * 64, "MB", flush=True)
    """, timeout_s=30, address_space_mb=512)
    assert "MEMORY-LIMIT" in res.stdout, res.stdout + res.stderr
    assert int(res.stdout.split()[1]) <= 512


def test_file_size_limit():
    res = run_py("""
        try:
            with open("big", "wb") as f:
                f.write(b"x" * (3 * 1024 * 1024))
            print("WROTE-ALL")
        except OSError as e:
            print("FSIZE", e)
    """, timeout_s=20, file_size_mb=1)
    assert "WROTE-ALL" not in res.stdout
    assert res.signal is not None or "FSIZE" in res.stdout


@namespaces
def test_concurrent_sandboxes_do_not_share_one_process_budget():
    # a sandbox that already runs many threads must not stop the next one from starting
    import subprocess

    sb = Sandbox(Limits(timeout_s=30, max_procs=64))
    scratch = sb.scratch_dir()
    hog = sb.popen([SYS_PY, "-c", "import threading, time\n"
                    "[threading.Thread(target=time.sleep, args=(30,), daemon=True).start() for _ in range(50)]\n"
                    "print('UP', flush=True); time.sleep(30)"], scratch, stdout=subprocess.PIPE)
    try:
        assert hog.stdout.readline().strip() == b"UP"
        res = run_py("import threading; t = [threading.Thread(target=lambda: None) for _ in range(40)]; "
                     "[x.start() for x in t]; print('OK')", timeout_s=20, max_procs=64)
        assert res.stdout.strip() == "OK", res.stderr
    finally:
        Sandbox.kill(hog)
