"""The shared verifier of a multi-process run: ranks send their checks to one `prover serve`
through lean_env.service.client.ServiceChecker. Its verdicts must be the local Checker's (the
reward is the same function in one process and in many), a service that is not there must be a
clear error, and the service's counters must be readable for the run's log. Real bundled Lean,
real HTTP on loopback."""
import pytest

from lean_env.checker import Checker
from lean_env.service.app import ServiceConfig, create_app
from lean_env.service.client import ServiceChecker, ServiceError, task_row
from lean_env.running.settings import Settings
from lean_env.tasks_io import task_from_row
from lean_env.soundness.verdict import ProofTask
from prover.train.verifier import counters_line
from tests.test_serve import serving

pytestmark = pytest.mark.lean

AND_SWAP = "theorem and_swap (p q : Prop) (h : And p q) : And q p :="
PROOFS = {"proved": " ⟨h.2, h.1⟩", "rejected": " ⟨h.1, h.2⟩", "refused": " by\n  #eval 1\n  exact ⟨h.2, h.1⟩"}


@pytest.fixture(scope="module")
def local():
    with Checker("cli", Settings.from_env(timeout=60), workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def url(local):
    with serving(create_app(local, ServiceConfig(api_key="k"), workers=2)) as base:
        yield base


def tasks(header):
    return [ProofTask(formal_statement=AND_SWAP, header=header, proof=p) for p in PROOFS.values()]


def test_the_service_gives_the_local_checkers_verdicts(url, local, header):
    remote = ServiceChecker(url, api_key="k")
    try:
        got = remote.check_many(tasks(header))
        want = local.check_many(tasks(header))
        assert [v.status for v in got] == list(PROOFS) == [v.status for v in want]
        assert [(v.ok, v.reasons, v.name) for v in got] == [(v.ok, v.reasons, v.name) for v in want]
        assert remote.sent == 3 and remote.backend.name == "service:cli"
        assert "verdicts 3 (proved 1, refused 1, rejected 1), requests refused 0" == counters_line(remote.metrics())
    finally:
        remote.close()


def test_a_task_survives_the_trip_unchanged(header):
    task = ProofTask(formal_statement=AND_SWAP, header=header, code=AND_SWAP + " ⟨h.2, h.1⟩", timeout=7.0)
    back = task_from_row(task_row(task))
    assert (back.formal_statement, back.header, back.proof, back.code, back.name, back.timeout) == \
        (task.formal_statement, task.header, task.proof, task.code, task.name, task.timeout)
    assert not back.allow_native_decide
    assert task_from_row(task_row(task, trust_native_decide=True)).allow_native_decide  # `trust: native_decide` runs


def test_no_service_there_is_a_clear_error():
    with pytest.raises(ServiceError, match=r"no checker service answers at http://127\.0\.0\.1:9 .*prover serve"):
        ServiceChecker("http://127.0.0.1:9/")


def test_a_wrong_key_is_a_clear_error_not_a_zero_reward(url, header):
    remote = ServiceChecker(url, api_key="wrong")
    try:
        with pytest.raises(ServiceError, match="wants an API key"):
            remote.check_many(tasks(header)[:1])
    finally:
        remote.close()


def test_a_node_service_that_cannot_start_says_so(tmp_path):
    """The node's service exits at start (here: an unknown backend): a clear error naming the
    exit, not ranks waiting for a URL that never comes."""
    from prover.train.config import from_dict
    from prover.train.verifier import NodeService

    cfg = from_dict({"checker_backend": "no-such-backend", "checker_workers": 1, "output_dir": str(tmp_path)}, "grpo")
    with pytest.raises(RuntimeError, match=r"`prover serve` exited with code 2 at start"):
        NodeService.start(cfg, timeout=120)


def test_a_node_service_answers_and_stops(tmp_path, header):
    from prover.train.config import from_dict
    from prover.train.verifier import NodeService, SharedChecker

    cfg = from_dict({"checker_backend": "cli", "checker_workers": 1, "output_dir": str(tmp_path)}, "grpo")
    service = NodeService.start(cfg, timeout=120)
    lines = []
    checker = SharedChecker(service.url, api_key=service.api_key, service=service, log=lines.append)
    assert checker.check_many(tasks(header)[:1])[0].ok
    checker.close()
    assert service.process.poll() is not None  # stopped with the checker
    assert lines[-1].endswith("verdicts 1 (proved 1), requests refused 0")


def test_a_service_that_goes_away_stops_the_run_instead_of_giving_zero_rewards(local, header):
    with serving(create_app(local, ServiceConfig(), workers=2)) as base:
        remote = ServiceChecker(base, patience=1.0)
    try:
        with pytest.raises(ServiceError, match="stopped answering .* did not come back within 1 s"):
            remote.check_many(tasks(header)[:1])
        assert remote.sent == 0
    finally:
        remote.close()
