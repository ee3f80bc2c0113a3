"""The REPL of the deepseek-v1.5 profile (xinhjBrant/repl@3334a97b, Lean v4.9.0-rc1) as the
stand-in imitates it (tests/fakes/fake_repl.py --block-buffered / --no-proof-status / --ast):
answers that never reach a pipe, tactic responses without `proofStatus`, extra response fields,
and Lake v4.9's build layout. The stand-in never decides a proof: the one "proved" here comes
from real Lean on the logic prelude."""
from tests.shared_data import SHARED
import shlex
import sys
from pathlib import Path

import pytest

from lean_env.running.backends import repl as repl_backend
from lean_env.running.backends.repl import ReplWorker, olean_dir, workspace_env
from lean_env.checker import Checker
from lean_env.running.settings import Settings
from lean_env.soundness.verdict import ProofTask
from search.tactic_env import (ReplTacticEnv, interpret_tactic_response, needs_whole_file_check,
                               tactic_option_prefix, tactic_proof)

FAKE = Path(__file__).parent / "fakes" / "fake_repl.py"
TRANSCRIPTS = SHARED / "repl_transcripts"
TASK = ProofTask("theorem t (p : Prop) (h : p) : p :=", header="import Mathlib\n", proof=" h")


def fake(*flags: str) -> str:
    return " ".join(shlex.quote(a) for a in (sys.executable, str(FAKE), *flags))


def settings(*flags: str, **kw) -> Settings:
    return Settings.from_env(**{"repl": fake(*flags), "workers": 1, "timeout": 20.0, **kw})


# -- 1. replies that sit in a block buffer -------------------------------------------------
def test_a_block_buffered_repl_never_answers_over_a_pipe():
    """What the old REPL does on the pool's long-lived pipe: the answer stays in its stdout
    buffer, so the check can only time out (the stand-in, like C stdio, flushes at exit only)."""
    with Checker("repl", settings("--block-buffered", timeout=2.0, repl_stdout="pipe")) as c:
        v = c.check(TASK)
    assert v.status == "timeout"


@pytest.mark.parametrize("flags", [("--block-buffered",), ("--v4.9",)])
def test_a_pty_as_stdout_makes_a_block_buffered_repl_answer_each_request(flags):
    """On a terminal C stdio (and Python's stdout) is line-buffered: each answer arrives. The
    stand-in's answer is its usual refusal, so the verdict is rejected, never ok."""
    with Checker("repl", settings(*flags, repl_stdout="pty")) as c:
        verdicts = [c.check(TASK) for _ in range(3)]  # one worker, header once, three answers
    assert [v.status for v in verdicts] == ["rejected"] * 3
    assert all(any("does not check proofs" in r for r in v.reasons) and not v.ok for v in verdicts)


def test_repl_stdout_setting_is_checked():
    with pytest.raises(repl_backend.ReplUnavailable, match="pipe or pty"):
        ReplWorker([sys.executable, str(FAKE)], Settings.from_env(repl_stdout="tty"), [Path(sys.executable)], {})


def test_a_pty_worker_reports_the_repl_exit_as_end_of_stream():
    w = ReplWorker(shlex.split(fake()), Settings.from_env(repl_stdout="pty", timeout=20.0), [Path(sys.executable)], {})
    try:
        from lean_env.soundness.checkfile import compose

        out = w.run(compose(ProofTask(TASK.formal_statement, header="x", proof=" h -- FAKE_CRASH")), 20.0)
        assert out.crash and "exited" in out.crash  # EIO on the pty is the end, not an I/O error
    finally:
        w.close()


# -- 2. the fork's extra fields ------------------------------------------------------------
def test_command_responses_with_the_forks_ast_field_are_read():
    w = ReplWorker(shlex.split(fake("--ast")), settings(), [Path(sys.executable)], {})
    try:
        from lean_env.running.repl_protocol import CommandResponse, command
        import time

        resp = w.request(command("import Mathlib"), time.monotonic() + 20)
        assert isinstance(resp, CommandResponse) and "ast" in resp.raw
    finally:
        w.close()


# -- 3. no proofStatus: whole-file checking decides a finished-looking state ----------------
def _row(header: str = "import Mathlib\nset_option maxHeartbeats 400000\n") -> dict:
    return {"name": "t", "header": header, "formal_statement": "theorem t (p : Prop) (h : p) : p := by\n"}


def test_without_proof_status_a_no_goals_state_is_checked_as_a_whole_file():
    env = ReplTacticEnv.from_settings(settings("--no-proof-status"), timeout=20.0)
    try:
        start = env.start(_row())
        assert start.status == "open", start.error
        step = env.apply(start.state, "FAKE_NO_GOALS")
        # the response alone cannot say (no goals, no error, no status) ...
        assert env.whole_file_checks == 1
        # ... so the stand-in's own command mode was asked about the whole file, and refused it
        assert step.status == "error" and "whole proof did not check" in step.error
        assert "stand-in REPL" in step.error
    finally:
        env.close()


def test_with_proof_status_no_goals_is_decided_by_the_status():
    env = ReplTacticEnv.from_settings(settings(), timeout=20.0)
    try:
        step = env.apply(env.start(_row()).state, "FAKE_NO_GOALS")
        assert env.whole_file_checks == 0
        assert step.status == "error" and "Goal not assigned" in step.error
    finally:
        env.close()


def test_header_heartbeats_reach_tactic_mode():
    assert tactic_option_prefix(_row()["header"]) == "set_option maxHeartbeats 400000 in "
    assert tactic_option_prefix("import Mathlib\n") == ""
    assert tactic_option_prefix("import Mathlib\n\nset_option maxHeartbeats 0\n\nopen Real\n") == \
        "set_option maxHeartbeats 0 in "


@pytest.mark.skipif(not TRANSCRIPTS.exists(), reason="REPL transcripts not present")
@pytest.mark.lean
def test_old_repl_tactic_proof_is_proved_by_the_whole_file_check_with_real_lean(cli_checker, header):
    """A real v4.24 transcript replayed with `proofStatus` removed (what the v4.9 REPL sends):
    the last tactic leaves no goals, the env cannot trust that, and the Checker's real Lean
    verdict on statement + script is what makes it proved."""
    from lean_env.running.repl_protocol import TacticResponse, parse_response, split_responses
    import json

    out = TRANSCRIPTS / "core" / "proof_branching.expected.out"
    last = parse_response(json.loads(split_responses(out.read_text(encoding="utf-8"))[-1]))
    assert isinstance(last, TacticResponse) and last.completed  # with the status: finished
    stripped = parse_response({k: v for k, v in last.raw.items() if k != "proofStatus"})
    assert needs_whole_file_check(stripped)
    assert interpret_tactic_response(stripped, ("t",)).status == "error"  # no status: never proved alone

    argv = shlex.split(fake("--replay", str(out), "--no-proof-status"))
    worker = ReplWorker(argv, Settings.from_env(timeout=30), [Path(sys.executable)], {})
    env = ReplTacticEnv(worker, timeout=30, send_header=False, checker=cli_checker)
    statement = "theorem complex_and (p q r : Prop) (h1 : p ∧ q) (h2 : q → r) : p ∧ r :="
    script = ["apply And.intro", "exact h1.left", "apply h2", "exact h1.right"]
    try:
        state = env.start({"name": "complex_and", "header": header, "formal_statement": statement})
        assert state.status == "open"
        results = []
        for i, t in enumerate(script):
            res = env.apply(state.state if i == 0 else results[-1].state, t)
            results.append(res)
        assert [r.status for r in results] == ["open", "open", "open", "proved"]
        assert env.whole_file_checks == 1
        done = results[-1]
        assert done.verdict is not None and done.verdict.ok and done.verdict.backend == "cli"
        assert done.tactics == tuple(script)
        # and a wrong script ending in no goals is not proved by the same route
        bad = env._whole_file(0, ("exact h1.left",), 0.0)
        assert bad.status == "error" and bad.verdict is not None and not bad.verdict.ok
    finally:
        env.close()
    assert tactic_proof(statement, script).startswith(" by\n")


# -- 4. Lake v4.9's build layout -------------------------------------------------------------
def test_fallback_search_path_finds_lake_v4_9_and_current_layouts(tmp_path, monkeypatch):
    ws = tmp_path / "project"
    old = ws / ".lake" / "packages" / "mathlib" / ".lake" / "build" / "lib"  # Lake v4.9: oleans here
    (old / "Mathlib").mkdir(parents=True)
    new = ws / ".lake" / "packages" / "batteries" / ".lake" / "build" / "lib" / "lean"  # recent Lake
    new.mkdir(parents=True)
    (ws / ".lake" / "packages" / "unbuilt").mkdir(parents=True)
    assert olean_dir(old.parent) == old and olean_dir(new.parent.parent) == new
    assert olean_dir(ws / ".lake" / "packages" / "unbuilt" / ".lake" / "build") is None
    monkeypatch.setattr(repl_backend.shutil, "which", lambda name: None)  # no lake, no lean on PATH
    workspace_env.cache_clear()
    env = dict(workspace_env(str(ws), str(tmp_path / "no-lean")))
    workspace_env.cache_clear()
    assert env["LEAN_PATH"].split(":") == [str(new), str(old)]
