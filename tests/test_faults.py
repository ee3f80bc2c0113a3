"""Faults and bad input (issue 16): bad files for `prover check`, torn run files, and an eval
that is killed and resumed scoring exactly what an unbroken run scores."""
import json
import subprocess
import sys

import pytest

from lean_env.tasks_io import TasksFileError, read_tasks

PROVER = [sys.executable, "-m", "prover.cli"]
GOOD = {"formal_statement": "theorem t (p : Prop) (hp : p) : p :=", "proof": " hp", "env": "logic"}


def check_cli(path):
    return subprocess.run(PROVER + ["check", str(path), "--checker", "cli"], capture_output=True, text=True, timeout=300)


# -- bad input to `prover check` (item 3) ------------------------------------------------------
def test_invalid_utf8_and_binary_lines_are_named_and_the_rest_still_read(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n\xff\xfe\x00\x01binary\n" + b'{"a": "\xc3"}\n'
                     + json.dumps(GOOD).encode() + b"\n")
    rows = list(read_tasks(path))
    assert [(line, t is not None) for line, t, _ in rows] == [(1, True), (2, False), (3, False), (4, True)]
    assert "line 2: not UTF-8 text (byte 0xff at column 1)" in str(rows[1][2])
    assert "line 3: not UTF-8 text (byte 0xc3 at column 8)" in str(rows[2][2])


@pytest.mark.parametrize("content", [b"", b"\n  \n\n"])
def test_an_empty_file_is_an_error_that_says_so(tmp_path, content):
    path = tmp_path / "t.jsonl"
    path.write_bytes(content)
    with pytest.raises(TasksFileError, match="is empty: nothing to check"):
        list(read_tasks(path))


def test_json_messages_say_at_once(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"a": "\x01"}\n{"a": "open')
    msgs = [str(e) for _, _, e in read_tasks(path)]
    assert msgs == ["line 1: not valid JSON (Invalid control character at column 8)",
                    "line 2: not valid JSON (Unterminated string starting at column 7)"]


@pytest.mark.lean
def test_check_on_a_binary_file_names_every_bad_line_checks_the_good_ones_and_exits_2(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\x89PNG\x1a\x00\x00\xff" + b"\n" + json.dumps(GOOD).encode() + b"\n"
                     + json.dumps({**GOOD, "timeout": float("nan")}).encode() + b"\n")
    res = check_cli(path)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert "line 1: not UTF-8 text" in res.stderr and "line 3: `timeout` must be a finite number" in res.stderr
    verdicts = [json.loads(x) for x in res.stdout.splitlines()]
    assert [(v["line"], v["status"]) for v in verdicts] == [(2, "proved")]


@pytest.mark.lean
def test_check_on_an_empty_file_exits_2_and_says_so(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text("")
    res = check_cli(path)
    assert res.returncode == 2 and "is empty: nothing to check" in res.stderr and not res.stdout


def test_check_refuses_a_nan_timeout_option_before_starting(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(GOOD) + "\n")
    res = subprocess.run(PROVER + ["check", str(path), "--timeout", "nan"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "`timeout` must be a finite number" in res.stderr and "Traceback" not in res.stderr


# -- torn files (item 6) ---------------------------------------------------------------------
from prover.evaluation import CURVE, RESULTS, RUN_CARD, SUMMARY, EvalError, EvalSpec, read_records, run_eval  # noqa: E402
from prover.evaluation.store import write_atomic  # noqa: E402


def _record(name):
    return json.dumps({"name": name, "split": "test", "budget": 1, "attempts": []})


def test_a_corrupt_line_in_the_middle_keeps_every_good_record_and_is_named(tmp_path, caplog):
    path = tmp_path / RESULTS
    text = "\n".join([_record("a"), '{"name": "b", "attem', "garbage", _record("c"), _record("d")]) + "\n"
    path.write_text(text)
    bad = []
    assert [r.name for r in read_records(path, bad)] == ["a", "c", "d"]
    assert [b.split(" is not")[0].rsplit(" ", 2)[1:] for b in bad] == [["line", "2"], ["line", "3"]]
    assert "line 2 is not a record" in caplog.text
    assert path.read_text() == text  # nothing is thrown away


def test_a_torn_last_line_is_still_cut_off(tmp_path):
    path = tmp_path / RESULTS
    path.write_text(_record("a") + "\n" + _record("b") + "\n" + '{"name": "c", "spl')
    assert [r.name for r in read_records(path)] == ["a", "b"]
    assert path.read_text().endswith(_record("b") + "\n")


def test_write_atomic_leaves_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    path = tmp_path / RUN_CARD
    write_atomic(path, '{"old": 1}')

    def boom(*a):
        raise KeyboardInterrupt  # a kill between writing the temporary file and the rename

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, '{"new": 2}')
    assert json.loads(path.read_text()) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == [RUN_CARD]  # no temporary file left behind


def _spec(**kw):
    return EvalSpec(dataset="logic", split="test", limit=2, k=2, model="scripted", **kw)


def test_an_empty_run_card_is_a_one_line_error_with_the_fix_when_results_exist(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / RUN_CARD).write_text("")
    (out / RESULTS).write_text(_record("a") + "\n")
    with pytest.raises(EvalError, match=r"run_card.json is unreadable \(empty.*delete .*run_card.json and rerun"):
        run_eval(_spec(), out, policy=object(), checker=object())


@pytest.mark.lean
def test_an_empty_run_card_without_results_starts_over(tmp_path, cli_checker):
    from prover.policies.scripted import ScriptedPolicy

    out = tmp_path / "run"
    out.mkdir()
    (out / RUN_CARD).write_text("")
    res = run_eval(_spec(), out, policy=ScriptedPolicy({}, default=" fun h => h"), checker=cli_checker)
    assert res.new == 2 and json.loads((out / RUN_CARD).read_text())["k"] == 2
    assert (out / SUMMARY).exists() and (out / CURVE).exists()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


# -- a resumed eval is the run it replaces (item 1) ----------------------------------------

import data  # noqa: E402
from prover.policies.scripted import DicePolicy  # noqa: E402

EIGHT = data.load("logic", split="test", limit=8)


def Dice():
    """The stand-in model of these tests: EIGHT's reference proofs, drawn with probability 0.25."""
    return DicePolicy({r["name"]: r["proof"] for r in EIGHT})


class Killed(BaseException):
    pass


def _eval_spec(batch_problems, round_size):
    return EvalSpec(dataset="logic", split="test", limit=8, k=4, model="dice", seed=7,
                    batch_problems=batch_problems, round_size=round_size)


def _what_counts(out):
    """The records without their timings, by problem; and the pass@k table of the summary."""
    recs = {}
    for line in (out / RESULTS).read_text().splitlines():
        r = json.loads(line)
        recs[r["name"]] = (r["n"], r["c"], r["first_success_index"], r["stopped_early"],
                           [(a["completion"], (a["verdict"] or {}).get("status")) for a in r["attempts"]])
    table = [x for x in (out / SUMMARY).read_text().splitlines() if x.startswith("| all |")]
    return recs, table


def _run(out, checker, batch_problems, round_size, kill_after=None):
    done = []

    def on_record(record):
        done.append(record.name)
        if kill_after is not None and len(done) == kill_after:
            raise Killed()

    try:
        run_eval(_eval_spec(batch_problems, round_size), out, policy=Dice(), checker=checker, on_record=on_record)
    except Killed:
        return False
    return True


@pytest.fixture(scope="module")
def unbroken(tmp_path_factory, cli_checker):
    out = tmp_path_factory.mktemp("unbroken")
    assert _run(out, cli_checker, batch_problems=8, round_size=2)
    return _what_counts(out)


@pytest.mark.lean
@pytest.mark.parametrize("first,kill_after,second", [
    ((8, 2), 1, (1, 1)),   # killed after the first problem, resumed one problem and one sample at a time
    ((3, 4), 3, (8, 3)),   # killed mid-way with another batching, resumed with a third one
    ((2, 1), 6, (5, 4)),   # killed near the end
])
def test_a_killed_and_resumed_eval_equals_an_unbroken_one(tmp_path, cli_checker, unbroken, first, kill_after, second):
    recs, table = unbroken
    assert 0 < sum(c > 0 for _, c, *_ in recs.values()) < len(recs)  # some solved, some not: a real test
    out = tmp_path / "run"
    assert not _run(out, cli_checker, *first, kill_after=kill_after)
    assert len((out / RESULTS).read_text().splitlines()) == kill_after
    assert _run(out, cli_checker, *second)
    assert _what_counts(out) == (recs, table)


# -- messages (item 8) ---------------------------------------------------------------------
@pytest.mark.lean
def test_the_timeout_reason_names_the_configured_limit(header):
    from lean_env.checker import Checker
    from lean_env.running.settings import Settings
    from lean_env.soundness.verdict import ProofTask
    from tests.test_checker_real import SLOW_DEFS

    task = ProofTask("theorem slow : usub (umul 200 200) (umul 200 200) = 0 :=", header=header + SLOW_DEFS, proof=" rfl")
    with Checker("cli", Settings.from_env(timeout=2), workers=1) as c:
        v = c.check(task)
    assert v.status == "timeout"
    assert "within the 2.0 s time limit" in v.reasons[0] and "configured" not in v.reasons[0]


CHILD = """
import sys, time
from pathlib import Path
from lean_env.checker import Checker
from lean_env.running.settings import Settings
from prover.evaluation import run_eval
from tests.test_faults import Dice, _eval_spec

class Slow:  # slow enough that the parent's kill lands mid-run
    def __init__(self):
        self.dice = Dice()
        self.backend, self.name, self.tokenizer = "dice", "dice", None

    def generate(self, prompts, params):
        time.sleep(0.3)
        return self.dice.generate(prompts, params)

    def close(self):
        pass

with Checker("cli", Settings.from_env(timeout=60), workers=2) as checker:
    run_eval(_eval_spec(3, 2), Path(sys.argv[1]), policy=Slow(), checker=checker)
"""


@pytest.mark.lean
def test_an_eval_sigkilled_mid_run_resumes_to_the_unbroken_result(tmp_path, cli_checker, unbroken):
    import os
    import signal
    import time
    from pathlib import Path

    out = tmp_path / "run"
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(out)], cwd=root, env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and child.poll() is None:
            if (out / RESULTS).exists() and len((out / RESULTS).read_bytes().splitlines()) >= 3:
                break
            time.sleep(0.02)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, child.stderr.read().decode()[-2000:]
    assert 3 <= len((out / RESULTS).read_bytes().splitlines()) < 8
    assert _run(out, cli_checker, batch_problems=5, round_size=1)
    assert _what_counts(out) == unbroken
