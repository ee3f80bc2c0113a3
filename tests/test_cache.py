"""The verdict cache: what its key covers, what it stores, and a real Checker serving hits."""
import sqlite3
from pathlib import Path

import pytest

from lean_env.cache import VerdictCache, environment_id, task_key
from lean_env.checker import Checker
from lean_env.running.settings import Settings
from lean_env.soundness.verdict import ProofTask, Verdict

ROOT = Path(__file__).resolve().parent.parent
AND_SWAP = "theorem and_swap (p q : Prop) (h : And p q) : And q p :="


def task(**kw):
    kw.setdefault("header", "prelude\nimport ProverLogic\n")
    kw.setdefault("proof", " ⟨h.2, h.1⟩")
    return ProofTask(AND_SWAP, **kw)


def test_the_key_covers_environment_text_and_limits():
    env = environment_id(Settings())
    base = task_key(env, task(), 60)
    assert task_key(env, task(), 60) == base
    assert task_key(env, task(), 60.0) == base
    changed = [
        task_key(env, task(header="prelude\n"), 60),
        task_key(env, task(proof=" ⟨h.1, h.2⟩"), 60),
        task_key(env, task(proof=None, code=AND_SWAP + " ⟨h.2, h.1⟩"), 60),
        task_key(env, task(timeout=5), 60),
        task_key(env, task(), 30),  # the default timeout is the limit of a task without its own
        task_key(env, task(allow_native_decide=True), 60),
        task_key(environment_id(Settings(memory_mb=1024)), task(), 60),
        task_key(environment_id(Settings(lean="/other/lean")), task(), 60),
        task_key(environment_id(Settings(profile="minif2f-v4.24")), task(), 60),
    ]
    assert base not in changed and len(set(changed)) == len(changed)


def test_rule_changes_change_the_key(monkeypatch):
    import lean_env.cache as cache_mod

    env = environment_id(Settings())
    before = task_key(env, task(), 60)
    monkeypatch.setattr(cache_mod, "rules_hash", lambda: "edited judge")
    assert task_key(env, task(), 60) != before


def test_the_rules_hash_reads_every_module_that_can_decide_a_verdict():
    from lean_env.cache import rule_files

    names = {str(p.relative_to(ROOT / "lean_env")) for p in rule_files()}
    for needed in ("soundness/allowlist.py", "soundness/lexer.py", "soundness/limits.py", "soundness/checkfile.py",
                   "soundness/judge.py", "soundness/messages.py", "soundness/statement.py", "checker.py",
                   "running/sandbox.py", "running/backends/server.py", "running/backends/cli.py"):
        assert needed in names, needed


def test_final_verdicts_are_stored_and_come_back_marked_cached(tmp_path):
    c = VerdictCache(tmp_path / "v.sqlite")
    for status in ("proved", "rejected", "refused"):
        v = Verdict(name="t", ok=status == "proved", status=status,
                    reasons=[] if status == "proved" else ["why"], evidence={"nonce": "n"} if status == "proved" else {})
        assert c.put(status, v)
        hit = c.get(status)
        assert hit.cached and not v.cached
        assert hit.to_dict() | {"cached": False} == v.to_dict()
    assert c.get("missing") is None
    assert (c.hits, c.misses, len(c)) == (3, 1, 3)


def test_timeouts_and_crashes_are_not_final(tmp_path):
    c = VerdictCache(tmp_path / "v.sqlite")
    for status in ("timeout", "crashed"):
        assert not c.put(status, Verdict(name="t", ok=False, status=status, reasons=["machine"]))
        assert c.get(status) is None
    assert len(c) == 0


def test_a_corrupt_row_is_a_miss(tmp_path):
    path = tmp_path / "v.sqlite"
    c = VerdictCache(path)
    c.put("k", Verdict(name="t", ok=False, status="rejected", reasons=["why"]))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE verdicts SET verdict = '{not json'")
    assert c.get("k") is None


@pytest.mark.lean
def test_a_real_checker_serves_the_second_check_from_the_cache(tmp_path, header):
    path = tmp_path / "verdicts.sqlite"
    tasks = [task(header=header), task(header=header, proof=" ⟨h.1, h.2⟩")]
    with Checker("cli", Settings.from_env(timeout=60), workers=2, cache=str(path)) as c:
        first = c.check_many(tasks)
    assert [v.ok for v in first] == [True, False] and not any(v.cached for v in first)
    with Checker("cli", Settings.from_env(timeout=60), workers=2, cache=str(path)) as c:  # a later process
        again = c.check_many(tasks)
        assert c.cache.hits == 2 and c.cache.misses == 0
    assert all(v.cached for v in again)
    same = lambda v: v.to_dict() | {"cached": False, "seconds": 0}  # noqa: E731
    assert [same(v) for v in again] == [same(v) for v in first]
    assert all(v.seconds < 1 for v in again)  # a hit reports what it cost, not the first check


@pytest.mark.lean
def test_identical_tasks_in_one_batch_are_checked_once(tmp_path, header):
    group = [task(header=header)] * 3 + [task(header=header, proof=" ⟨h.1, h.2⟩")] * 2
    with Checker("cli", Settings.from_env(timeout=60), workers=2, cache=str(tmp_path / "v.sqlite")) as c:
        seen = []
        vs = c.check_many(group, on_verdict=lambda i, v: seen.append(i))
        assert sorted(seen) == list(range(5))
        assert [v.ok for v in vs] == [True, True, True, False, False]
        assert sum(v.cached for v in vs) == 3 and c.cache.hits == 3 and len(c.cache) == 2


@pytest.mark.lean
def test_the_environment_variable_turns_the_cache_on_and_a_timeout_is_checked_again(tmp_path, header, monkeypatch):
    path = tmp_path / "verdicts.sqlite"
    monkeypatch.setenv("PROVER_VERDICT_CACHE", str(path))
    slow = "".join(f"theorem a{i} (p : Prop) (h : p) : p := h\n" for i in range(400))
    t = task(header=header, proof=None, code=slow + AND_SWAP + " ⟨h.2, h.1⟩", timeout=0.05)
    with Checker("cli", Settings.from_env(timeout=60), workers=1) as c:
        assert c.cache is not None and c.cache.path == path
        assert c.check(t).status == "timeout"
        assert c.check(t).status == "timeout" and c.cache.hits == 0  # not served: checked again
        assert len(c.cache) == 0
