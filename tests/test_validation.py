"""lean_env.soundness.limits: every field a row, a task, settings or a config can carry is checked for
type, range and size up front, and the error names the field and the fix (issue 16 item 2)."""
import json
import math

import pytest

from lean_env.soundness.limits import MAX_TEXT_CHARS, MAX_TIMEOUT_S, LimitError, check
from lean_env.running.settings import Settings
from lean_env.tasks_io import read_tasks, task_from_row
from lean_env.soundness.verdict import ProofTask

ROW = {"formal_statement": "theorem t (p : Prop) (hp : p) : p :=", "proof": " hp", "env": "logic"}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 1e12, MAX_TIMEOUT_S + 1, 0, -5, True, "30", [1]])
def test_nonsense_timeouts_are_refused_with_the_field_and_the_fix(bad):
    with pytest.raises(LimitError, match=r"`timeout` must be a finite number in \(0, 3600\].*give seconds"):
        task_from_row({**ROW, "timeout": bad})
    with pytest.raises(LimitError, match="`timeout`"):
        ProofTask(ROW["formal_statement"], proof=" hp", timeout=bad)


def test_good_timeouts_pass_and_ints_become_seconds():
    assert task_from_row({**ROW, "timeout": 2}).timeout == 2.0
    assert task_from_row({**ROW, "timeout": 0.5}).timeout == 0.5
    assert task_from_row(ROW).timeout is None


def test_a_huge_proof_is_refused_before_anything_reads_it():
    with pytest.raises(LimitError, match=r"`proof` is 1,000,001 characters, over the limit of 1,000,000"):
        ProofTask(ROW["formal_statement"], proof="x" * (MAX_TEXT_CHARS + 1))
    with pytest.raises(LimitError, match="`header` is"):
        ProofTask(ROW["formal_statement"], header="x" * (MAX_TEXT_CHARS + 1), proof=" hp")


def test_a_huge_jsonl_line_is_a_named_bad_row_and_not_parsed(tmp_path):
    path = tmp_path / "t.jsonl"
    big = json.dumps({**ROW, "proof": " hp" + " " * (5 * MAX_TEXT_CHARS)})
    path.write_text(json.dumps(ROW) + "\n" + big + "\n")
    rows = list(read_tasks(path))
    assert rows[0][1] is not None
    assert rows[1][0] == 2 and rows[1][1] is None and "over the limit of 4,000,000" in str(rows[1][2])


@pytest.mark.parametrize("field,bad,pattern", [
    ("allow_native_decide", "yes", "true or false"),
    ("name", 7, "`name` must be a string"),
    ("env", ["logic"], "`env` must be a string"),
    ("header", 3, "`header` must be a string"),
])
def test_row_fields_of_the_wrong_type(field, bad, pattern):
    with pytest.raises(ValueError, match=pattern):
        task_from_row({**ROW, field: bad})


def test_an_unknown_env_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown environment 'mathlib'"):
        task_from_row({**ROW, "env": "mathlib"})


@pytest.mark.parametrize("field,value", [("k", 0), ("top_p", 0), ("top_p", 1.5), ("temperature", math.nan),
                                         ("max_tokens", 1e12), ("seed", -1), ("workers", 2.5), ("limit", -1)])
def test_sampling_and_search_fields(field, value):
    with pytest.raises(LimitError, match=f"`{field}` must be"):
        check(field, value)


def test_long_values_are_not_echoed_whole():
    with pytest.raises(LimitError) as info:
        check("k", "9" * 10_000)
    assert len(str(info.value)) < 200


@pytest.mark.parametrize("value", ["nan", "inf", "1e12", "-1"])
def test_settings_refuse_nonsense_from_the_environment(monkeypatch, value):
    monkeypatch.setenv("PROVER_TIMEOUT", value)
    with pytest.raises(LimitError, match="--timeout / PROVER_TIMEOUT: `timeout` must be"):
        Settings.from_env()


def test_settings_refuse_nonsense_from_the_cli():
    with pytest.raises(LimitError, match="--timeout"):
        Settings.from_env(timeout=math.nan)
    assert Settings.from_env(timeout=2).timeout == 2


def test_a_huge_lean_file_is_refused_before_it_is_scanned(tmp_path):
    from lean_env.tasks_io import task_from_file

    path = tmp_path / "big.lean"
    path.write_text("prelude\ntheorem t (p : Prop) (hp : p) : p := hp\n" + "-- x\n" * 300_000)
    with pytest.raises(LimitError, match=r"big.lean: `code` is 1,500,0\d\d characters, over the limit"):
        task_from_file(path, "t")
