"""`prover check`: one JSON Verdict per line; exit 0 all ok, 1 any not ok, 2 unusable input."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.lean

PROVER = [sys.executable, "-m", "prover.cli"]
GOOD = {"name": "and_swap", "env": "logic", "formal_statement": "theorem and_swap (p q : Prop) (h : And p q) : And q p :=",
        "proof": " ⟨h.2, h.1⟩"}
BAD = dict(GOOD, proof=" h")


def run(*args, cwd=None):
    return subprocess.run(PROVER + [str(a) for a in args], capture_output=True, text=True, timeout=300, cwd=cwd)


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_all_ok_exits_0(tmp_path):
    res = run("check", write_jsonl(tmp_path / "t.jsonl", [GOOD, GOOD]))
    assert res.returncode == 0, res.stderr
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert len(lines) == 2
    for v in lines:
        assert {"name", "ok", "status", "reasons", "axioms", "seconds"} <= set(v)
        assert v["ok"] and v["status"] == "proved"


def test_any_not_ok_exits_1_and_keeps_order(tmp_path):
    res = run("check", write_jsonl(tmp_path / "t.jsonl", [GOOD, BAD, GOOD]))
    assert res.returncode == 1
    assert [json.loads(x)["ok"] for x in res.stdout.splitlines()] == [True, False, True]
    assert [json.loads(x)["line"] for x in res.stdout.splitlines()] == [1, 2, 3]


def test_malformed_rows_get_line_numbers_and_the_rest_still_checked(tmp_path):
    rows = [GOOD, "{not json", {"formal_statement": "theorem x : True :="}, {"proof": " h"},
            dict(GOOD, name="wrong_name"), dict(GOOD, env="nosuchenv"), GOOD]
    res = run("check", write_jsonl(tmp_path / "t.jsonl", rows))
    assert res.returncode == 2
    out = [json.loads(x) for x in res.stdout.splitlines()]
    assert [v["line"] for v in out] == [1, 7] and all(v["ok"] for v in out)
    for lineno, words in [(2, "not valid JSON"), (3, "exactly one of `proof`"), (4, "formal_statement"),
                          (5, "wrong_name"), (6, "unknown environment")]:
        assert f"line {lineno}:" in res.stderr and words in res.stderr, (lineno, res.stderr)


def test_missing_file_exits_2(tmp_path):
    res = run("check", tmp_path / "nope.jsonl")
    assert res.returncode == 2 and "does not exist" in res.stderr


def test_single_lean_file(tmp_path, header):
    f = tmp_path / "swap.lean"
    f.write_text(header + "theorem and_swap (p q : Prop) (h : And p q) : And q p := ⟨h.2, h.1⟩\n")
    res = run("check", f, "--theorem", "and_swap")
    assert res.returncode == 0, res.stdout + res.stderr
    assert json.loads(res.stdout)["ok"]
    f.write_text(header + "theorem and_swap (p q : Prop) (h : And p q) : And q p := sorry\n")
    res = run("check", f, "--theorem", "and_swap")
    assert res.returncode == 1 and json.loads(res.stdout)["status"] == "rejected"


def test_lean_file_with_env(tmp_path):
    f = tmp_path / "swap.lean"
    f.write_text("theorem and_swap (p q : Prop) (h : And p q) : And q p := ⟨h.2, h.1⟩\n")
    res = run("check", f, "--theorem", "and_swap", "--env", "logic")
    assert res.returncode == 0, res.stdout + res.stderr


def test_lean_file_needs_theorem_name(tmp_path):
    f = tmp_path / "swap.lean"
    f.write_text("theorem a : True := trivial\n")
    res = run("check", f)
    assert res.returncode == 2 and "--theorem" in res.stderr
    res = run("check", f, "--theorem", "zzz", "--env", "logic")
    assert res.returncode == 2 and "does not declare" in res.stderr


def test_lean_file_preamble_policy(tmp_path):
    f = tmp_path / "evil.lean"
    f.write_text("prelude\n")  # prelude files may declare axioms; but a non-prelude file may not #eval
    f.write_text("import Foo\n#eval 1\ntheorem a : True := trivial\n")
    res = run("check", f, "--theorem", "a")
    assert res.returncode == 1 and json.loads(res.stdout)["status"] == "refused"
