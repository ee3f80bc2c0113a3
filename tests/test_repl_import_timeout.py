"""A REPL worker's first check imports the header (Mathlib: minutes on a cold disk). That import
has its own deadline (Settings.header_timeout), so it never eats the check's timeout, and the
worker that replaces one killed by a timeout does not make the next check time out too. The
stand-in REPL carries only the protocol (with a slow first import); it decides no verdict."""
import shlex
import sys
from pathlib import Path

from lean_env.running.backends.repl import ReplBackend
from lean_env.soundness.checkfile import compose
from lean_env.running.settings import Settings
from lean_env.soundness.verdict import ProofTask

FAKE = Path(__file__).parent / "fakes" / "fake_repl.py"


def _backend(slow_import: float, timeout: float, header_timeout: float) -> ReplBackend:
    repl = f"{shlex.quote(sys.executable)} {shlex.quote(str(FAKE))} --slow-import {slow_import}"
    return ReplBackend(Settings.from_env(repl=repl, workers=1, timeout=timeout, header_timeout=header_timeout))


def _check(proof: str = " h"):
    return compose(ProofTask("theorem t (p : Prop) (h : p) : p :=", header="import Mathlib\n", proof=proof))


def test_a_slow_first_import_does_not_count_against_the_check():
    b = _backend(slow_import=2.5, timeout=1.5, header_timeout=30.0)
    try:
        first = b.run(_check(), 1.5)  # the import alone takes longer than the check may
    finally:
        b.close()
    assert not first.timed_out and first.crash is None
    assert any("stand-in REPL" in m.text for m in first.messages)  # the candidate command was answered
    assert first.seconds < 1.5


def test_an_import_past_its_own_deadline_is_a_crash_not_the_proofs_timeout():
    b = _backend(slow_import=3.0, timeout=20.0, header_timeout=0.5)
    try:
        out = b.run(_check(), 20.0)
    finally:
        b.close()
    assert not out.timed_out
    assert out.crash and "did not import the header within 0.5 s" in out.crash


def test_after_a_timeout_the_next_check_imports_outside_its_deadline():
    b = _backend(slow_import=2.0, timeout=1.5, header_timeout=30.0)
    try:
        hung = b.run(_check(" h\n-- FAKE_HANG"), 1.5)
        after = b.run(_check(), 1.5)  # a fresh worker: its 2 s import must not time this check out
    finally:
        b.close()
    assert hung.timed_out
    assert not after.timed_out and after.crash is None


def test_an_auto_found_profile_keeps_its_timeout_unless_one_was_given(tmp_path, monkeypatch):
    import json

    from lean_env.running.settings import profile_dir
    from prover.evaluation.environment import lean_settings_for

    for var in ("PROVER_TIMEOUT", "PROVER_PROFILE", "PROVER_LEAN"):
        monkeypatch.delenv(var, raising=False)
    d = profile_dir(tmp_path, "deepseek-v1.5")  # a stand-in for what `prover setup` writes last
    d.mkdir(parents=True)
    (d / "settings.json").write_text(json.dumps({"timeout": 300.0, "worker_mb": 12288}))
    rows = [{"name": "x", "header": "import Mathlib\n", "formal_statement": "theorem x : True := by\n",
             "profile": "deepseek-v1.5"}]
    found = lean_settings_for(rows, Settings.from_env(cache=str(tmp_path)), "minif2f")
    assert found.profile == "deepseek-v1.5" and found.timeout == 300.0
    given = lean_settings_for(rows, Settings.from_env(cache=str(tmp_path), timeout=45.0), "minif2f")
    assert given.timeout == 45.0
    monkeypatch.setenv("PROVER_TIMEOUT", "90")
    assert lean_settings_for(rows, Settings.from_env(cache=str(tmp_path)), "minif2f").timeout == 90.0
