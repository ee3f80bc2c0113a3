"""`prover check`: one JSON Verdict per line on stdout, whatever stdout is (file, pipe,
terminal); progress and the summary on stderr; exit 0 all ok, 1 any not ok, 2 unusable input."""
import json
import os
import pty
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
    unnamed = {k: v for k, v in GOOD.items() if k != "name"}  # `name` is optional, as the README says
    res = run("check", write_jsonl(tmp_path / "t.jsonl", [GOOD, unnamed]))
    assert res.returncode == 0, res.stderr
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert len(lines) == 2
    for v in lines:
        assert {"name", "ok", "status", "reasons", "axioms", "seconds"} <= set(v)
        assert v["ok"] and v["status"] == "proved"


def test_any_not_ok_exits_1_and_each_verdict_names_its_row(tmp_path):
    res = run("check", write_jsonl(tmp_path / "t.jsonl", [GOOD, BAD, GOOD]))
    assert res.returncode == 1
    by_line = {v["line"]: v["ok"] for v in map(json.loads, res.stdout.splitlines())}
    assert by_line == {1: True, 2: False, 3: True}  # streamed as they finish: `line` gives the order
    assert "3 checked in" in res.stderr and "2 proved, 1 rejected" in res.stderr  # the summary, on stderr


def test_verdicts_stream_as_they_finish(tmp_path):
    """A slow row first must not hold back the fast ones (issue 16 item 5)."""
    slow = dict(GOOD, timeout=3, proof=" ⟨h.2, h.1⟩\n" + "example : True := True.intro\n" * 1500)
    res = run("check", write_jsonl(tmp_path / "t.jsonl", [slow, GOOD, GOOD]), "--workers", "2")
    lines = [json.loads(x)["line"] for x in res.stdout.splitlines()]
    assert sorted(lines) == [1, 2, 3] and lines[0] != 1, lines


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace")


def _run_with_terminal(args, stdout):
    """Run with stderr (and stdin) on a pseudo-terminal, as in an interactive shell; stdout as given
    (a file, a pipe, or the terminal itself). Returns (exit code, stdout text if piped, terminal text)."""
    master, slave = pty.openpty()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120")
    proc = subprocess.Popen(PROVER + [str(a) for a in args], stdin=slave, stderr=slave,
                            stdout=slave if stdout == "terminal" else stdout, env=env)
    os.close(slave)
    terminal = _read_all(master)
    os.close(master)
    piped = proc.stdout.read().decode() if stdout == subprocess.PIPE else ""
    return proc.wait(timeout=300), piped, terminal


def _verdict_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_redirected_to_a_file_from_a_terminal(tmp_path):
    """`prover check t.jsonl > out.jsonl` in a terminal: the file gets every verdict, the terminal none."""
    rows = write_jsonl(tmp_path / "t.jsonl", [GOOD, BAD, GOOD])
    out = tmp_path / "out.jsonl"
    with open(out, "w") as fh:
        code, _, terminal = _run_with_terminal(["check", rows], fh)
    assert code == 1
    assert sorted(v["line"] for v in _verdict_lines(out.read_text())) == [1, 2, 3]
    assert '"status"' not in terminal and "3 checked in" in terminal


def test_through_a_pipe_from_a_terminal(tmp_path):
    rows = write_jsonl(tmp_path / "t.jsonl", [GOOD, GOOD])
    code, piped, terminal = _run_with_terminal(["check", rows], subprocess.PIPE)
    assert code == 0
    assert [v["ok"] for v in _verdict_lines(piped)] == [True, True] and len(piped.splitlines()) == 2
    assert '"status"' not in terminal


def test_in_a_terminal(tmp_path):
    """stdout on the terminal too: every verdict is one intact JSON line there."""
    rows = write_jsonl(tmp_path / "t.jsonl", [GOOD, BAD])
    code, _, terminal = _run_with_terminal(["check", rows], "terminal")
    assert code == 1
    assert sorted(v["line"] for v in _verdict_lines(terminal.replace("\r\n", "\n"))) == [1, 2]


def test_quiet_prints_no_summary(tmp_path):
    res = run("--quiet", "check", write_jsonl(tmp_path / "t.jsonl", [GOOD]))
    assert res.returncode == 0 and res.stderr == "" and len(res.stdout.splitlines()) == 1


def test_malformed_rows_get_line_numbers_and_the_rest_still_checked(tmp_path):
    rows = [GOOD, "{not json", {"formal_statement": "theorem x : True :="}, {"proof": " h"},
            dict(GOOD, name="wrong_name"), dict(GOOD, env="nosuchenv"), GOOD]
    res = run("check", write_jsonl(tmp_path / "t.jsonl", rows))
    assert res.returncode == 2
    out = [json.loads(x) for x in res.stdout.splitlines()]
    assert sorted(v["line"] for v in out) == [1, 7] and all(v["ok"] for v in out)
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


def test_lean_file_checks_only_up_to_the_theorem(tmp_path, header):
    """A wrong later theorem must not reject a correct earlier one; positions count from the file's top."""
    f = tmp_path / "two.lean"
    f.write_text(header + "\n-- the good one\ntheorem good (p q : Prop) (h : And p q) : And q p := ⟨h.2, h.1⟩\n\n"
                 "theorem bad (p q : Prop) (h : And p q) : And q p := h\n")
    res = run("check", f, "--theorem", "good")
    assert res.returncode == 0, res.stdout + res.stderr
    assert json.loads(res.stdout)["ok"]
    res = run("check", f, "--theorem", "bad")
    assert res.returncode == 1
    v = json.loads(res.stdout)
    line_of_bad = f.read_text().splitlines().index("theorem bad (p q : Prop) (h : And p q) : And q p := h") + 1
    assert [(m["line"], m["column"]) for m in v["errors"]] == [(line_of_bad, 52)]
    assert f"line {line_of_bad}:52:" in v["reasons"][0]
    f.write_text("theorem good (p q : Prop) (h : And p q) : And q p := ⟨h.2, h.1⟩\n"
                 "theorem bad (p q : Prop) (h : And p q) : And q p := h\n")
    assert run("check", f, "--theorem", "good", "--env", "logic").returncode == 0
    res = run("check", f, "--theorem", "bad", "--env", "logic")
    assert res.returncode == 1 and json.loads(res.stdout)["errors"][0]["line"] == 2


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


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    """`prover check t.jsonl | head -1`"""
    rows = write_jsonl(tmp_path / "t.jsonl", [GOOD] * 6)
    proc = subprocess.Popen(PROVER + ["check", str(rows), "--workers", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=300)
    assert json.loads(first)["ok"]
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
