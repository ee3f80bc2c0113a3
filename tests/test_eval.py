"""`prover eval`: records flushed as problems finish, resume after a crash without duplicates
or losses, the report (summary, curve, run card), and MiniF2F's refusal without Mathlib.
A scripted policy writes the text; the real Checker on the logic prelude gives the verdicts."""
import json

import pytest

import data
from lean_env.running.settings import Settings
from prover.evaluation import CURVE, RESULTS, RUN_CARD, SUMMARY, EvalError, EvalSpec, read_records, run_eval
from prover.evaluation.report import source_category
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


# -- one row format (issue 17 item 1): an own jsonl with `env` rows is evaluated as `eval logic` --
def _own_copy(tmp_path, n=5):
    """Rows copied verbatim from the shipped file, in the form `prover check` documents."""
    raw = [json.loads(x) for x in (data.loaders.DATA_DIR / "logic" / "v1.jsonl").read_text().splitlines()]
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in [r for r in raw if r["split"] == "test"][:n]))
    return path


def test_own_jsonl_rows_get_their_env_header_and_profile(tmp_path):
    own = data.load(str(_own_copy(tmp_path)))
    shipped = data.load("logic", split="test", limit=5)
    keys = ("name", "split", "header", "prompt_header", "informal_prefix", "formal_statement", "profile")
    assert [{k: r.get(k) for k in keys} for r in own] == [{k: r.get(k) for k in keys} for r in shipped]
    from prover.evaluation import default_max_tokens

    assert default_max_tokens(own, "deepseek-v1.5") == 128  # the logic budget, not 2048


def test_own_jsonl_bad_lines_are_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"formal_statement": "theorem t (p : Prop) (hp : p) : p :=", "env": "logic"}\n\xff\n[1]\n')
    with pytest.raises(EvalError, match=r"2 unusable line\(s\): line 2: not UTF-8 text.*line 3: each line must be a JSON object"):
        run_eval(EvalSpec(dataset=str(path), k=1, model="scripted"), tmp_path / "out", policy=object(), checker=object())
    path.write_text('{"formal_statement": "theorem t (p : Prop) (hp : p) : p :=", "env": "mathlib"}\n')
    with pytest.raises(EvalError, match="row 1: unknown environment 'mathlib'"):
        run_eval(EvalSpec(dataset=str(path), k=1, model="scripted"), tmp_path / "out", policy=object(), checker=object())


@pytest.mark.parametrize("field,value", [("k", 0), ("temperature", float("nan")), ("top_p", 2.0), ("max_tokens", 10**12),
                                         ("seed", True), ("batch_problems", 0)])
def test_eval_refuses_nonsense_settings_before_loading_anything(tmp_path, field, value):
    with pytest.raises(EvalError, match=f"`{field}` must be"):
        run_eval(spec(**{field: value}) if field != "k" else EvalSpec(dataset="logic", k=value), tmp_path / "out",
                 policy=object(), checker=object())


@pytest.mark.lean
def test_cli_eval_of_an_own_jsonl_scores_what_eval_logic_scores(tmp_path):
    from typer.testing import CliRunner

    from prover.cli import app
    from prover.tiny_model import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny")
    common = ["-k", "2", "--max-tokens", "24", "--model", str(model), "--checker", "cli", "--workers", "2"]

    def cli_eval(dataset, out, *extra):  # the CLI in-process (the same command path, without a second torch import)
        res = CliRunner().invoke(app, ["eval", dataset, *extra, *common, "--out", str(out)])
        assert res.exit_code == 0, (res.output[-2000:], res.exception)
        recs = [json.loads(x) for x in (out / RESULTS).read_text().splitlines()]
        card = json.loads((out / RUN_CARD).read_text())
        return ({r["name"]: [(a["completion"], (a["verdict"] or {}).get("status"), a["why_not"]) for a in r["attempts"]]
                 for r in recs}, card["sampling"]["max_tokens"],
                [x for x in (out / SUMMARY).read_text().splitlines() if x.startswith("| all |")])

    mine = cli_eval(str(_own_copy(tmp_path, 3)), tmp_path / "mine")
    theirs = cli_eval("logic", tmp_path / "logic", "--split", "test", "--limit", "3")
    assert mine == theirs and len(mine[0]) == 3
    statuses = {s for atts in mine[0].values() for _, s, _ in atts}
    assert "crashed" not in statuses
