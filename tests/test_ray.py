"""The Checker over Ray actors on a small local Ray instance (2 CPUs), with the server backend on
the bundled Lean: same verdicts as locally, and an actor killed mid-batch loses no task."""
import threading
import time

import pytest

ray = pytest.importorskip("ray")

from lean_env.ray_checker import RayChecker  # noqa: E402
from lean_env.running.settings import Settings  # noqa: E402
from lean_env.soundness.verdict import ProofTask  # noqa: E402
from tests.procs import alive

pytestmark = pytest.mark.lean

AND_SWAP = "theorem and_swap (p q : Prop) (h : And p q) : And q p :="


@pytest.fixture(scope="module")
def ray_local():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def tasks(header, n):
    right, wrong = " And.intro h.2 h.1", " And.intro h.1 h.2"
    return [ProofTask(AND_SWAP, header=header, proof=right if i % 3 else wrong) for i in range(n)]




def test_actor_killed_mid_batch_loses_no_task(ray_local, header):
    batch = tasks(header, 24)
    with RayChecker("server", Settings.from_env(timeout=60), actors=2, workers_per_actor=1, chunk_size=2) as rc:
        # warm both actors so their Lean servers exist, then note actor 0's processes
        ray.get([a.check_batch.remote(batch[:1]) for a in rc.actors])
        victim = rc.actors[0]
        victim_pids = ray.get(victim.pids.remote())
        assert len(victim_pids) >= 3  # the actor, and unshare + lean --server (+ file worker)

        killed = threading.Event()

        def on_verdict(i, v):
            if not killed.is_set():
                killed.set()
                ray.kill(victim, no_restart=True)  # mid-batch: its queued chunks fail

        verdicts = rc.check_many(batch, on_verdict=on_verdict)
        assert killed.is_set() and rc.resubmitted >= 1
        assert [v.ok for v in verdicts] == [bool(i % 3) for i in range(24)]
        assert all(v.status in ("proved", "rejected") for v in verdicts)
        assert rc.check(batch[1]).ok  # the replacement actor serves new work

    # the killed actor's Lean processes do not outlive it
    deadline = time.monotonic() + 20
    while alive(victim_pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert alive(victim_pids) == []


def test_the_ray_checker_is_a_proof_checker_with_a_batching_submit(ray_local, header):
    """Parity with Checker (lean_env.interface): submit, backend, workers; submits close together
    share batches."""
    from lean_env.interface import ProofChecker

    batch = tasks(header, 6)
    with RayChecker("server", Settings.from_env(timeout=60), actors=1, workers_per_actor=2) as rc:
        assert isinstance(rc, ProofChecker)
        assert rc.backend.name == "ray:server" and rc.workers == 2 and rc.backend.isolation.startswith("ray actors")
        futures = [rc.submit(t) for t in batch]
        assert [f.result(timeout=120).ok for f in futures] == [bool(i % 3) for i in range(6)]
