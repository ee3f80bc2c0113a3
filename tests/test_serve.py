"""`prover serve` over real HTTP on loopback (uvicorn on 127.0.0.1), real Lean verdicts from the
bundled Lean 4.35 with the logic prelude: the Kimina client, /v1/verify, auth, limits, queue,
concurrency, a Lean worker killed mid-request, deadlines and disconnects."""
import contextlib
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from lean_env.batching import Batcher
from lean_env.checker import Checker
from lean_env.service.kimina_api import Snippet, snippet_task, split_header
from lean_env.service.app import ServiceConfig, create_app
from lean_env.running.settings import Settings
from tests.procs import kill_busy_file_worker

pytestmark = pytest.mark.lean

KEY = "test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
AND_SWAP = "theorem and_swap (p q : Prop) (h : And p q) : And q p :="


def slow_code(n):
    """A code block Lean needs a while for (n helper theorems, ~8 ms each here), then the proof."""
    return ("".join(f"theorem a{i} (p : Prop) (h : p) : p := h\n" for i in range(n))
            + "theorem and_swap (p q : Prop) (h : And p q) : And q p := ⟨h.2, h.1⟩")


@contextlib.contextmanager
def serving(app):
    """uvicorn in a thread on a loopback port chosen by the OS; yields the base URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def checker():
    with Checker("server", Settings.from_env(timeout=60), workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def url(checker):
    with serving(create_app(checker, ServiceConfig(api_key=KEY, max_queue=64, max_batch=32,
                                                   max_body_bytes=200_000, max_snippet_chars=50_000),
                            workers=2)) as base:
        yield base


def post(url, path, body, headers=AUTH, timeout=120):
    return httpx.post(url + path, json=body, headers=headers, timeout=timeout)


def kimina_client():
    """PyPI `kimina-client`, unchanged. On Python < 3.12 its `from typing import NotRequired,
    TypedDict` succeeds (3.11 has both) but pydantic refuses typing.TypedDict there, so the package
    cannot validate any server's answer; it is imported with typing_extensions' TypedDict, which
    is what its own ImportError fallback means to use."""
    import importlib
    import sys
    import typing
    from unittest import mock

    if sys.version_info >= (3, 12) or "kimina_client" in sys.modules:
        return importlib.import_module("kimina_client")
    import typing_extensions

    with mock.patch.object(typing, "TypedDict", typing_extensions.TypedDict):
        return importlib.import_module("kimina_client")


# -- the Kimina shapes, without HTTP ------------------------------------------------------------

def test_split_header_keeps_line_numbers(header):
    code = header + "-- a comment\ntheorem t (p : Prop) (hp : p) : p := hp\n"
    head, body = split_header(code)
    assert head == header
    assert body.split("\n")[header.count("\n") + 1] == "theorem t (p : Prop) (hp : p) : p := hp"
    task = snippet_task(Snippet(id="a", code=code), 10)
    assert task.name == "t" and task.formal_statement == "theorem t (p : Prop) (hp : p) : p :=" and task.timeout == 10


def test_a_snippet_without_a_theorem_is_refused_by_name():
    with pytest.raises(ValueError, match="no `theorem`"):
        snippet_task(Snippet(id="a", code="prelude\ndef f := 1"), None)


# -- over HTTP ----------------------------------------------------------------------------------

def test_the_kimina_client_works_unchanged(url, header):
    kimina = kimina_client()
    client = kimina.KiminaClient(api_url=url, api_key=KEY, n_retries=1)
    ok = kimina.Snippet(id="ok", code=header + AND_SWAP + " ⟨h.2, h.1⟩")
    wrong = kimina.Snippet(id="wrong", code=header + AND_SWAP + " ⟨h.1, h.2⟩")
    res = client.check([ok, wrong], timeout=60, show_progress=False)
    by_id = {r.id: r for r in res.results}
    assert set(by_id) == {"ok", "wrong"}
    assert by_id["ok"].error is None
    assert not [m for m in by_id["ok"].response["messages"] if m["severity"] == "error"]
    errors = [m for m in by_id["wrong"].response["messages"] if m["severity"] == "error"]
    assert errors and "mismatch" in errors[0]["data"].lower()
    assert errors[0]["pos"]["line"] == header.count("\n") + 1  # the snippet's own line numbers
    assert by_id["ok"].analyze().status.value == "valid" and by_id["wrong"].analyze().status.value == "lean_error"


def test_api_check_gives_the_sound_answer_where_compiling_is_not_enough(url, header):
    # an injected axiom compiles without errors (Kimina's is_valid would pass it); the policy refuses it
    cheat = header + "axiom cheat (p q : Prop) : And q p\n" + AND_SWAP + " cheat p q\n"
    r = post(url, "/api/check", {"snippets": [{"id": "c", "code": cheat}], "timeout": 60})
    assert r.status_code == 200
    res = r.json()["results"][0]
    assert res["response"]["verdict"]["status"] == "refused"
    assert any(m["severity"] == "error" and "not a proof" in m["data"] for m in res["response"]["messages"])


def test_verify_returns_verdicts_in_order_and_a_bad_row_gets_its_own(url, header):
    rows = [
        {"env": "logic", "formal_statement": AND_SWAP, "proof": " ⟨h.2, h.1⟩"},
        {"env": "logic", "formal_statement": AND_SWAP},  # neither proof nor code
        {"header": header, "formal_statement": AND_SWAP, "proof": " ⟨h.1, h.2⟩"},
        {"env": "logic", "formal_statement": "theorem mp (p q : Prop) (hp : p) (hpq : p → q) : q :=", "proof": " hpq hp"},
    ]
    r = post(url, "/v1/verify", {"tasks": rows})
    assert r.status_code == 200, r.text
    vs = r.json()["verdicts"]
    assert [v["status"] for v in vs] == ["proved", "refused", "rejected", "proved"]
    assert "tasks.1" in vs[1]["reasons"][0] and "exactly one of `proof`" in vs[1]["reasons"][0]
    assert vs[0]["evidence"]["statement"].startswith("kernel accepted")
    assert vs[3]["name"] == "mp"


def test_auth(url):
    body = {"tasks": []}
    assert post(url, "/v1/verify", body, headers={}).status_code == 401
    assert post(url, "/v1/verify", body, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert post(url, "/api/check", {"snippets": [{"id": "a", "code": "x"}]}, headers={}).status_code == 401
    assert httpx.get(url + "/metrics").status_code == 401
    assert post(url, "/v1/verify", body).status_code == 200
    assert httpx.get(url + "/health").json()["status"] == "ok"  # probes need no key


def test_malformed_requests_name_the_field(url):
    r = post(url, "/api/check", {"snippets": [{"id": "a"}]})
    assert r.status_code == 422 and "snippets.0.code" in r.json()["detail"]
    r = post(url, "/v1/verify", {"tasks": "not a list"})
    assert r.status_code == 422 and "tasks" in r.json()["detail"]
    r = post(url, "/api/check", {"snippets": [{"id": "a", "code": "x"}, {"id": "a", "code": "y"}]})
    assert r.status_code == 422 and "unique" in r.json()["detail"]


def test_size_limits_are_413_naming_the_field(url, header):
    r = post(url, "/api/check", {"snippets": [{"id": "big", "code": header + "-- " + "x" * 60_000}]})
    assert r.status_code == 413 and "snippets.0.code" in r.json()["detail"]
    r = post(url, "/v1/verify", {"tasks": [{"env": "logic", "formal_statement": AND_SWAP, "proof": " h"}] * 33})
    assert r.status_code == 413 and "tasks" in r.json()["detail"]
    r = post(url, "/v1/verify", {"tasks": [], "pad": "x" * 300_000})
    assert r.status_code == 413 and "body" in r.json()["detail"]
    chunks = (b'{"tasks": [], "pad": "' + b"x" * 250_000 + b'"}',)  # chunked: no Content-Length
    r = httpx.post(url + "/v1/verify", content=iter(chunks), headers=AUTH, timeout=60)
    assert r.status_code == 413


def test_concurrent_clients_each_get_their_own_verdicts_in_order(url, header):
    def one(i):
        proofs = [" ⟨h.2, h.1⟩", " ⟨h.1, h.2⟩"] if i % 2 else [" ⟨h.1, h.2⟩", " ⟨h.2, h.1⟩"]
        rows = [{"header": header, "formal_statement": AND_SWAP, "proof": p} for p in proofs]
        return i, post(url, "/v1/verify", {"tasks": rows}).json()["verdicts"]

    with ThreadPoolExecutor(8) as ex:
        results = list(ex.map(one, range(8)))
    for i, vs in results:
        assert [v["ok"] for v in vs] == ([True, False] if i % 2 else [False, True])
    m = httpx.get(url + "/metrics", headers=AUTH).text
    assert 'prover_checks_total{status="proved"}' in m and "prover_queue_depth 0.0" in m


def test_a_lean_worker_killed_mid_request_still_yields_a_verdict(url, checker, header):
    killed = []

    def kill_file_worker():  # Lean's per-file worker process dies mid-check
        kill_busy_file_worker(checker.backend.pool, killed)

    rows = [{"header": header, "formal_statement": AND_SWAP, "code": slow_code(400)},
            {"header": header, "formal_statement": AND_SWAP, "proof": " ⟨h.2, h.1⟩"}]
    t = threading.Thread(target=kill_file_worker)
    t.start()
    r = post(url, "/v1/verify", {"tasks": rows})
    t.join()
    assert killed
    vs = r.json()["verdicts"]
    assert len(vs) == 2 and vs[0]["ok"] and vs[1]["ok"], vs  # retried on a fresh worker: nothing lost


def test_openapi_schema_lists_the_endpoints(url):
    paths = httpx.get(url + "/openapi.json").json()["paths"]
    assert {"/api/check", "/v1/verify", "/health", "/metrics"} <= set(paths)


# -- queue, deadline, disconnect: one worker, small bounds -------------------------------------

@pytest.fixture(scope="module")
def one_worker():
    with Checker("server", Settings.from_env(timeout=60), workers=1) as c:
        app = create_app(c, ServiceConfig(max_queue=4, request_deadline=1.0, disconnect_poll=0.05), workers=1)
        with serving(app) as base:
            yield c, app, base


def slow_rows(header, n):
    slow = {"header": header, "formal_statement": AND_SWAP, "code": slow_code(600)}
    return [slow] + [{"header": header, "formal_statement": AND_SWAP, "proof": f" ⟨h.2, h.1⟩ -- {i}"}
                     for i in range(n - 1)]


def wait_idle(app, seconds=60):
    deadline = time.monotonic() + seconds
    while app.state.admission.depth and time.monotonic() < deadline:
        time.sleep(0.05)
    return app.state.admission.depth


def test_a_full_queue_is_429_with_retry_after(one_worker, header):
    _, app, base = one_worker
    r = post(base, "/v1/verify", {"tasks": slow_rows(header, 5)}, headers={})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert wait_idle(app) == 0


def test_checks_past_the_deadline_get_timeout_verdicts_and_none_is_lost(one_worker, header):
    _, app, base = one_worker
    r = post(base, "/v1/verify", {"tasks": slow_rows(header, 4)}, headers={})
    vs = r.json()["verdicts"]
    assert len(vs) == 4
    late = [v for v in vs if v["status"] == "timeout"]
    assert late and all("deadline" in v["reasons"][0] for v in late)
    assert all(v["ok"] or v["status"] == "timeout" for v in vs)
    assert wait_idle(app) == 0  # every admitted slot came back


def test_a_client_that_disconnects_cancels_its_pending_checks(one_worker, header):
    c, app, base = one_worker
    before = c.backend.pool.stats.checks
    with pytest.raises(httpx.ReadTimeout):
        post(base, "/v1/verify", {"tasks": slow_rows(header, 4)}, headers={}, timeout=0.5)
    assert wait_idle(app) == 0
    assert c.backend.pool.stats.checks - before < 4  # the queued ones never ran


def test_a_task_field_over_the_limit_is_413_naming_it(url):
    rows = [{"env": "logic", "formal_statement": AND_SWAP, "proof": " h"},
            {"env": "logic", "formal_statement": AND_SWAP, "proof": " " + "x" * 60_000}]
    r = post(url, "/v1/verify", {"tasks": rows})
    assert r.status_code == 413 and "tasks.1.proof" in r.json()["detail"]


def test_a_checker_with_only_check_many_gets_batches_across_requests(checker, header):
    """What the service gets from a RayChecker (a batching submit over check_many): concurrent
    requests' tasks are gathered into shared batches. Here check_many is a real Checker's."""
    batches = []

    class ManyOnly:  # the RayChecker's shape
        backend = checker.backend

        def __init__(self):
            self.submit = Batcher(self.check_many).submit

        def check_many(self, tasks):
            batches.append(len(tasks))
            return checker.check_many(tasks)

    with serving(create_app(ManyOnly(), ServiceConfig(), workers=2)) as base:
        def one(i):
            proof = " ⟨h.2, h.1⟩" if i % 2 else " ⟨h.1, h.2⟩"
            return post(base, "/v1/verify", {"tasks": [{"header": header, "formal_statement": AND_SWAP,
                                                        "proof": proof}]}, headers={}).json()["verdicts"][0]

        with ThreadPoolExecutor(8) as ex:
            vs = list(ex.map(one, range(8)))
    assert [v["ok"] for v in vs] == [bool(i % 2) for i in range(8)]
    assert sum(batches) == 8


def test_a_timeout_reaches_kimina_clients_as_their_timeout_error(url, header):
    code = header + slow_code(600)
    r = post(url, "/api/check", {"snippets": [{"id": "slow", "code": code}], "timeout": 0.3})
    res = r.json()["results"][0]
    assert res["response"] is None and "timed out" in res["error"]  # Kimina's clients look for this
    assert kimina_client().ReplResponse(**res).analyze().status.value == "timeout_error"
