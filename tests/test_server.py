"""The `server` backend on the bundled Lean 4.35 with the logic prelude: verdicts, header reuse,
timeouts, crashes, goals, shutdown."""
import threading
import time

import pytest

from lean_env.running.backends.server import ServerBackend, ServerWorker
from lean_env.checker import Checker
from lean_env.soundness.checkfile import compose
from lean_env.running.settings import Settings
from lean_env.running.toolchain import find_toolchain
from lean_env.soundness.verdict import ProofTask
from tests.procs import alive, kill_busy_file_worker

pytestmark = pytest.mark.lean

AND_SWAP = "theorem and_swap (p q : Prop) (h : And p q) : And q p :="
MINI = ("prelude\nunsafe axiom lcErased : Type\nunsafe axiom lcProof {α : Prop} : α\n"
        "unsafe axiom lcUnreachable {α : Sort u} : α\nunsafe axiom lcAny : Type\n"
        "inductive True : Prop where | intro : True\n"
        "inductive And (a b : Prop) : Prop where | intro : a → b → And a b\n")


def cases(header):
    return [
        ProofTask(AND_SWAP, header=header, proof=" And.intro h.2 h.1"),
        ProofTask(AND_SWAP, header=header, proof=" And.intro h.1 h.2"),
        ProofTask(AND_SWAP, header=header, proof=" sorry"),
        ProofTask(AND_SWAP, header=header, proof=" And.intro h.2 ("),  # parse error
        ProofTask("theorem mp (p q : Prop) (hp : p) (hpq : p → q) : q :=", header=header, proof=" hpq hp"),
        ProofTask(AND_SWAP, header=header, code="theorem and_swap (p q : Prop) (h : And p q) : And p q := h"),
        ProofTask(AND_SWAP, header=header, code="theorem other (p q : Prop) (h : And p q) : And q p := ⟨h.2, h.1⟩"),
        ProofTask("theorem uni (s : String) : Eq s s :=", header=header, proof=" rfl -- ∀ 𝔸 wide chars"),
    ]


def test_server_verdicts_equal_cli(server_checker, cli_checker, header):
    tasks = cases(header)
    got = server_checker.check_many(tasks)
    want = cli_checker.check_many(tasks)
    for g, w in zip(got, want):
        assert (g.ok, g.status, g.sorries, g.axioms) == (w.ok, w.status, w.sorries, w.axioms), (g, w)
        assert [(m.line, m.column, m.text) for m in g.errors] == [(m.line, m.column, m.text) for m in w.errors]
        assert g.backend == "server"
    assert [v.ok for v in got] == [True, False, False, False, True, False, False, True]


def test_header_switch_on_one_worker(header):
    s = Settings.from_env(timeout=60)
    w = ServerWorker(find_toolchain(s), s)
    try:
        a = compose(ProofTask(AND_SWAP, header=header, proof=" And.intro h.2 h.1"))
        b = compose(ProofTask(AND_SWAP, header=MINI, proof=" And.intro h.2 h.1"))
        for cf in (a, b, a, a, b):
            out = w.run(cf, 60)
            assert not out.crash and not out.timed_out
            assert any("does not depend on any axioms" in m.text for m in out.messages)
            assert not [m for m in out.messages if m.severity == "error"]
        assert w.has_header(MINI) and not w.has_header(header)
        # no late diagnostics: what a check returned is all Lean had to say for that version
        with w.client.cond:
            before = list(w._diags.get(w.version, []))
        time.sleep(0.3)
        with w.client.cond:
            assert w._diags.get(w.version, []) == before
    finally:
        w.close()


def test_timeout_kills_the_worker_and_the_pool_recovers(header):
    slow = "".join(f"theorem a{i} (p : Prop) (h : p) : p := h\n" for i in range(3000))
    with Checker("server", Settings.from_env(timeout=60), workers=1) as c:
        v = c.check(ProofTask(AND_SWAP, header=header, code=slow + "theorem and_swap (p q : Prop) (h : And p q) : And q p := ⟨h.2, h.1⟩",
                              timeout=0.5))
        assert not v.ok and v.status == "timeout"
        assert c.backend.pool.stats.replaced == 1
        assert c.check(ProofTask(AND_SWAP, header=header, proof=" ⟨h.2, h.1⟩")).ok


def test_file_worker_crash_is_retried_on_a_fresh_server(header):
    slow = "".join(f"theorem a{i} (p : Prop) (h : p) : p := h\n" for i in range(1500))
    task = ProofTask(AND_SWAP, header=header, code=slow + "theorem and_swap (p q : Prop) (h : And p q) : And q p := ⟨h.2, h.1⟩")
    with Checker("server", Settings.from_env(timeout=60), workers=1) as c:
        killed = []

        def kill_file_worker():  # Lean's per-file worker process dies mid-check
            kill_busy_file_worker(c.backend.pool, killed)

        t = threading.Thread(target=kill_file_worker)
        t.start()
        v = c.check(task)
        t.join()
        assert killed
        assert v.ok, v.reasons  # re-run on a fresh worker: the task is not lost
        assert c.backend.pool.stats.retried == 1


def test_goals_at_a_position(header):
    b = ServerBackend(Settings.from_env(timeout=60, workers=1))
    try:
        cf = compose(ProofTask(AND_SWAP, header=header, proof=" And.intro h.2 _"))
        line = cf.candidate_start
        col = cf.body.split("\n")[line - 1].rindex("_")
        goals = b.goals(cf, line, col)
        assert goals and "⊢ p" in goals[0]
    finally:
        b.close()


def test_close_leaves_no_lean_processes(header):
    b = ServerBackend(Settings.from_env(timeout=60, workers=2))
    b.pool.run_many([compose(ProofTask(AND_SWAP, header=header, proof=" ⟨h.2, h.1⟩")) for _ in range(4)], 60)
    pids = set(b.pool.stats.pids)
    assert len(pids) >= 3  # unshare, lean --server, lean --worker
    b.close()
    deadline = time.monotonic() + 10

    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert alive(pids) == []


def test_an_lsp_message_over_the_cap_ends_the_stream_instead_of_filling_memory():
    import io

    from lean_env.running.lsp import MAX_MESSAGE_BYTES, read_message

    assert read_message(io.BytesIO(b'Content-Length: 2\r\n\r\n{}')) == {}
    flood = io.BytesIO(b"Content-Length: %d\r\n\r\n" % (MAX_MESSAGE_BYTES + 1) + b"x" * 16)
    assert read_message(flood) is None
