"""`prover eval`: records flushed as problems finish, resume after a crash without duplicates
or losses, the report (summary, curve, run card), and MiniF2F's refusal without Mathlib.
A scripted policy writes the text; the real Checker on the logic prelude gives the verdicts."""
import json

import pytest

import data
from lean_env.settings import Settings
from prover.evaluation import (CURVE, RESULTS, RUN_CARD, SUMMARY, EvalError, EvalSpec, read_records, run_eval,
                               source_category)
from prover.policies.scripted import ScriptedPolicy

ROWS = data.load("logic", split="test", limit=4)


def scripted():
    # the first two problems get their reference proof on the 2nd try; the others never
    script = {r["name"]: [" fun h => h", r["proof"]] for r in ROWS[:2]}
    script.update({r["name"]: [" fun h => h"] for r in ROWS[2:]})
    return ScriptedPolicy(script)


def spec(**kw):
    return EvalSpec(dataset="logic", split="test", limit=4, k=3, model="scripted", **kw)


def lines(out):
    return [json.loads(x) for x in (out / RESULTS).read_text().splitlines()]


@pytest.mark.lean
def test_eval_writes_records_report_and_card(tmp_path, cli_checker):
    out = tmp_path / "run"
    res = run_eval(spec(), out, policy=scripted(), checker=cli_checker)
    recs = {r["name"]: r for r in lines(out)}
    assert set(recs) == {r["name"] for r in ROWS}
    for r in ROWS[:2]:
        assert recs[r["name"]]["solved"] and recs[r["name"]]["first_success_index"] == 1
        assert recs[r["name"]]["attempts"][1]["verdict"]["status"] == "proved"
    for r in ROWS[2:]:
        rec = recs[r["name"]]
        assert not rec["solved"] and rec["n"] == 3
        assert all(a["verdict"]["status"] == "rejected" for a in rec["attempts"])

    summary = (out / SUMMARY).read_text()
    assert "| all | 4 | 2 | 0.0% | 50.0% | 50.0% |" in summary  # pass@1, pass@2, pass@3
    assert "| test | 4 | 2 |" in summary and "## By problem source" in summary
    assert (out / CURVE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    card = json.loads((out / RUN_CARD).read_text())
    assert card["model"] == "scripted" and card["k"] == 3 and card["prompt_format"] == "deepseek-v1.5"
    assert card["sampling"]["max_tokens"] == 128 and card["sampling"]["stop"] == ["```"]
    assert card["dataset_variant"]["file"] == "logic/v1.jsonl" and card["dataset_variant"]["version"] == ["logic-v1"]
    assert card["lean"]["lean"] == "4.35.0" and card["lean"]["mathlib"] is None
    assert card["checker"]["backend"] == "cli" and card["policy"]["backend"] == "scripted"
    # a sample drawn in the same round after a proof may or may not be checked before it is cancelled
    assert 2 * 2 + 2 * 3 <= card["timing"]["checks"] <= 4 * 3
    assert res.new == 4 and res.resumed == 0


class Crash(RuntimeError):
    pass


@pytest.mark.lean
def test_resume_after_a_crash_loses_and_repeats_nothing(tmp_path, cli_checker):
    out = tmp_path / "run"
    seen = []

    def crash_after_two(record):
        seen.append(record.name)
        if len(seen) == 2:
            raise Crash("killed")

    with pytest.raises(Crash):
        run_eval(spec(), out, policy=scripted(), checker=cli_checker, on_record=crash_after_two)
    first = [r["name"] for r in lines(out)]
    assert first == seen  # each finished problem was on disk before the crash

    # a kill in the middle of a write leaves a torn line: it is cut off and that problem re-run
    with open(out / RESULTS, "a") as fh:
        fh.write('{"name": "torn", "attem')
    policy = scripted()
    res = run_eval(spec(), out, policy=policy, checker=cli_checker)
    names = [r["name"] for r in lines(out)]
    assert sorted(names) == sorted(r["name"] for r in ROWS) and len(names) == len(set(names)) == 4
    assert res.resumed == 2 and res.new == 2
    asked = {p.split("theorem ")[1].split()[0] for prompts, _ in policy.calls for p in prompts}
    assert asked == set(names) - set(first)  # finished problems were not sampled again

    # a third run has nothing left to do and changes nothing
    again = run_eval(spec(), out, policy=scripted(), checker=cli_checker)
    assert again.new == 0 and [r["name"] for r in lines(out)] == names


def test_resume_refuses_a_different_run(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / RUN_CARD).write_text(json.dumps({"model": "other", "dataset": "logic", "k": 3}))
    with pytest.raises(EvalError, match="different run"):
        run_eval(spec(), out, policy=scripted(), checker=object())


def test_torn_results_file_is_repaired(tmp_path):
    path = tmp_path / RESULTS
    good = json.dumps({"name": "a", "split": "test", "budget": 1, "attempts": []})
    path.write_text(good + "\n" + '{"name": "b", "spl')
    assert [r.name for r in read_records(path)] == ["a"]
    assert path.read_text() == good + "\n"


@pytest.mark.parametrize("dataset,profile", [("minif2f-v4.24", "minif2f-v4.24"), ("minif2f", "deepseek-v1.5")])
def test_minif2f_refuses_without_mathlib_and_says_how_to_fix(tmp_path, monkeypatch, dataset, profile):
    for var in ("PROVER_LEAN", "PROVER_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    settings = Settings.from_env(cache=str(tmp_path))  # no profile installed in this cache
    with pytest.raises(EvalError) as e:
        run_eval(EvalSpec(dataset=dataset, split="test", limit=2), tmp_path / "out", settings=settings)
    msg = str(e.value)
    assert "Mathlib" in msg and f"prover setup {profile}" in msg and "--lean" in msg and "PROVER_PROFILE" in msg
    assert not (tmp_path / "out" / RESULTS).exists()


def test_source_categories():
    assert [source_category(n) for n in ("mathd_algebra_10", "mathd_numbertheory_3", "amc12a_2019_p21",
                                         "aime_1983_p1", "imo_1959_p1", "induction_12dvd4expnp1p20",
                                         "algebra_sqineq_at2malt1", "numbertheory_2dvd4expn",
                                         "logic_l2_absurd_926f794b0c")] == [
        "mathd", "mathd", "amc", "aime", "imo", "induction", "algebra", "numbertheory", "logic_l2"]
