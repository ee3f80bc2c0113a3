"""Pool mechanics (reuse, recycling, crash, hang, garbage, memory growth, backpressure,
shutdown) through the repl backend driving the stand-in REPL in tests/fakes. The stand-in
never checks proofs: every verdict here must be not-ok, and correctness of verdicts is
tested only with real Lean (test_server*.py, test_differential.py)."""
from tests.shared_data import SHARED
import asyncio
import json
import shlex
import sys
import time
from pathlib import Path

import pytest

from lean_env.running.backends.repl import ReplBackend, ReplWorker, repl_argv
from lean_env.checker import Checker
from lean_env.soundness.checkfile import compose
from lean_env.running.pool import Pool, PoolBusy, PoolClosed
from lean_env.running.repl_protocol import CommandResponse, TacticResponse, command, tactic
from lean_env.running.settings import Settings
from lean_env.soundness.verdict import ProofTask
from tests.procs import alive

FAKE = Path(__file__).parent / "fakes" / "fake_repl.py"
TRANSCRIPTS = SHARED / "repl_transcripts"
HEADER_A = "import Mathlib\n"
HEADER_B = "import Mathlib\nopen Nat\n"


def settings(**kw) -> Settings:
    base = dict(repl=f"{shlex.quote(sys.executable)} {shlex.quote(str(FAKE))}", workers=1, timeout=20.0)
    base.update(kw)
    return Settings.from_env(**base)


def task(marker: str = "", header: str = HEADER_A, name: str = "t") -> ProofTask:
    return ProofTask(f"theorem {name} (p : Prop) (h : p) : p :=", header=header, proof=f" h -- {marker}")




@pytest.fixture
def backend_factory():
    made = []

    def make(**kw):
        b = ReplBackend(settings(**kw))
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


def run(b, marker="", header=HEADER_A, timeout=20.0):
    return b.run(compose(task(marker, header)), timeout)


def test_stand_in_never_yields_an_ok_verdict():
    with Checker("repl", settings()) as c:
        verdicts = c.check_many([task(), task("FAKE_SORRY"), task(header=HEADER_B)])
    assert [v.ok for v in verdicts] == [False] * 3
    assert all(v.status == "rejected" for v in verdicts)
    assert verdicts[1].sorries == 1
    assert any("does not check proofs" in r for r in verdicts[0].reasons)


def test_header_is_sent_once_per_worker_and_reused(backend_factory):
    b = backend_factory(workers=2)
    for _ in range(3):
        run(b)
    run(b, header=HEADER_B)
    run(b)
    # one worker kept HEADER_A warm; HEADER_B got the second worker instead of evicting it
    assert b.pool.stats.started == 2
    workers = list(b.pool._all.values())
    assert sorted(w.has_header(HEADER_A) for w in workers) == [False, True]
    assert sorted(w.has_header(HEADER_B) for w in workers) == [False, True]


def test_single_worker_switches_header_lru(backend_factory):
    b = backend_factory(workers=1)
    run(b)
    run(b, header=HEADER_B)
    run(b)
    (w,) = b.pool._all.values()
    assert w.has_header(HEADER_A) and w.has_header(HEADER_B)
    assert b.pool.stats.started == 1


def test_recycled_after_k_checks(backend_factory):
    b = backend_factory(recycle_checks=2)
    for _ in range(5):
        assert not run(b).crash
    assert b.pool.stats.recycled == 2 and b.pool.stats.started == 3


def test_recycled_when_memory_grows(backend_factory):
    b = backend_factory(recycle_rss_mb=40)
    first = run(b, "FAKE_GROW")  # the stand-in keeps 64 MB more
    assert not first.crash
    assert b.pool.stats.recycled == 1
    assert not run(b).crash and b.pool.stats.started == 2


def test_crash_is_retried_once_then_reported(backend_factory):
    b = backend_factory()
    out = run(b, "FAKE_CRASH")
    assert out.crash and "exited" in out.crash and not out.timed_out
    assert b.pool.stats.retried == 1 and b.pool.stats.replaced == 2
    assert not run(b).crash  # healthy again


def test_crash_verdict_through_the_checker():
    with Checker("repl", settings()) as c:
        v = c.check(task("FAKE_CRASH"))
        assert not v.ok and v.status == "crashed"
        assert c.check(task()).status == "rejected"


def test_hang_times_out_and_the_pool_recovers(backend_factory):
    b = backend_factory()
    out = run(b, "FAKE_HANG", timeout=1.0)
    assert out.timed_out and not out.crash
    assert b.pool.stats.replaced == 1 and b.pool.stats.retried == 0  # a timeout is reported, not re-run
    assert not run(b).timed_out


def test_garbage_output_is_a_crash_not_a_verdict(backend_factory):
    b = backend_factory()
    out = run(b, "FAKE_GARBAGE")
    assert out.crash and "not JSON" in out.crash
    assert not run(b).crash


def test_backpressure_bounded_queue(backend_factory):
    b = backend_factory(workers=1, queue=1)
    slow = b.pool.submit(compose(task("FAKE_HANG")), 1.5)
    with pytest.raises(PoolBusy):
        b.pool.submit(compose(task()), 10, block=False)
    assert slow.result().timed_out
    assert not b.pool.submit(compose(task()), 10, block=False).result().crash


def test_async_and_batch_apis(backend_factory):
    b = backend_factory(workers=2)

    async def many():
        return await asyncio.gather(*[b.pool.arun(compose(task(name=f"t{i}")), 10) for i in range(6)])

    outs = asyncio.run(many())
    assert len(outs) == 6 and not any(o.crash for o in outs)
    batch = b.pool.run_many([compose(task(name=f"u{i}")) for i in range(4)], 10)
    assert len(batch) == 4 and all(o.messages for o in batch)


def test_checker_acheck_with_pool():
    with Checker("repl", settings(workers=2)) as c:
        async def go():
            return await asyncio.gather(c.acheck(task()), c.acheck(task(header=HEADER_B)))

        assert [v.status for v in asyncio.run(go())] == ["rejected", "rejected"]


def test_shutdown_leaves_no_processes(backend_factory):
    b = ReplBackend(settings(workers=2))
    b.pool.run_many([compose(task(name=f"t{i}")) for i in range(4)], 10)
    pids = set(b.pool.stats.pids)
    assert alive(pids)
    b.close()
    deadline = time.monotonic() + 10
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert alive(pids) == []
    with pytest.raises(PoolClosed):
        b.pool.run(compose(task()), 10)


def test_shutdown_waits_for_running_checks():
    b = ReplBackend(settings(workers=1))
    fut = b.pool.submit(compose(task("FAKE_HANG")), 1.0)
    deadline = time.monotonic() + 30
    while not b.pool._busy and time.monotonic() < deadline:  # wait until the check is running
        time.sleep(0.02)
    assert b.pool._busy, "the check never reached a worker"
    b.close()
    assert fut.result().timed_out  # finished (as a timeout), not dropped


def test_worker_start_failure_is_a_crashed_verdict(tmp_path):
    missing = tmp_path / "no-repl"
    with pytest.raises(RuntimeError, match="does not exist"):
        repl_argv(Settings.from_env(repl=str(missing)))
    with pytest.raises(RuntimeError, match="prover setup"):
        repl_argv(Settings.from_env(repl=""))


def test_generic_pool_with_a_python_worker():
    """The pool is backend-agnostic: any object with the Worker methods."""
    from lean_env.soundness.judge import RunOutcome

    class Echo:
        def __init__(self):
            self.checks, self.header, self.closed = 0, None, False

        def run(self, cf, timeout):
            self.checks += 1
            self.header = cf.header
            return RunOutcome([], 0.0)

        def alive(self):
            return not self.closed

        def has_header(self, h):
            return self.header == h

        def rss_mb(self):
            return 1.0

        def pids(self):
            return []

        def close(self):
            self.closed = True

    made = []
    pool = Pool(lambda: made.append(Echo()) or made[-1], size=2, max_checks=3)
    outs = pool.run_many([compose(task(name=f"t{i}")) for i in range(7)], 5)
    assert len(outs) == 7 and sum(w.checks for w in made) == 7
    assert all(w.checks <= 3 for w in made)
    pool.close()
    assert all(w.closed for w in made)


@pytest.mark.skipif(not TRANSCRIPTS.exists(), reason="REPL transcripts not present")
def test_worker_reads_real_repl_output_through_a_pipe():
    """Replay a real transcript's bytes through a process pipe: multi-line responses, sorries,
    tactic mode, and the invalid_tactic trap."""
    out = TRANSCRIPTS / "core" / "invalid_tactic.expected.out"
    s = settings()
    argv = shlex.split(f"{shlex.quote(sys.executable)} {shlex.quote(str(FAKE))}") + ["--replay", str(out)]
    w = ReplWorker(argv, s, [Path(sys.executable)], {})
    try:
        first = w.request(command("theorem my_theorem (x : Nat) : x = x := by sorry"), time.monotonic() + 10)
        assert isinstance(first, CommandResponse) and len(first.sorries) == 1
        second = w.run_tactic(0, "exact my_fake_premise", 10)
        assert isinstance(second, TacticResponse) and second.goals == [] and not second.completed
        assert json.loads(json.dumps(tactic("x", 1)))["proofState"] == 1
    finally:
        w.close()
