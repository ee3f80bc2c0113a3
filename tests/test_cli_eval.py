"""`prover eval` / `prover show` as a newcomer meets them: progress while it runs, one line on
Ctrl-C saying what is saved and the command that resumes, the summary of a finished or
running run. A scripted policy writes the text; the real Checker gives the verdicts."""
import json

import pytest
from typer.testing import CliRunner

import data
import prover.policies
from prover.cli import app
from prover.evaluation import RESULTS, RUN_CARD
from prover.policies.scripted import ScriptedPolicy

ROWS = data.load("logic", split="test", limit=2)


@pytest.fixture
def policy(monkeypatch):
    """`load_policy` gives a scripted policy: the first problem proved on its 2nd attempt."""
    script = {ROWS[0]["name"]: [" fun h => h", ROWS[0]["proof"]], ROWS[1]["name"]: [" fun h => h"]}
    scripted = ScriptedPolicy(script)
    monkeypatch.setattr(prover.policies, "load_policy", lambda *a, **k: scripted)
    return scripted


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def eval_args(out):
    return ["eval", "logic", "--split", "test", "--limit", "2", "-k", "2", "--checker", "cli", "--out", out]


@pytest.mark.lean
def test_progress_says_what_happens_and_show_summarises(policy, tmp_path):
    out = tmp_path / "run"
    res = run(*eval_args(out))
    assert res.exit_code == 0, res.output
    err = res.stderr
    assert "2 problem(s) to do, up to 2 attempts each" in err
    assert "generating 4 samples for 2 problem(s)" in err and "generated 4 samples in" in err
    assert f"{ROWS[0]['name']}: proved by attempt 2 (2 attempts" in err
    assert "prover show" in err
    assert "# pass@k" in res.stdout

    res = run("show", out)
    assert res.exit_code == 0, res.output
    assert "# pass@k" in res.stdout and "| all | 2 | 1 |" in res.stdout
    assert "2 of 2 problems done; finished" in res.stderr

    # a run still going (or interrupted): one record, and half of the next being written
    results = out / RESULTS
    first = results.read_text().splitlines()[0]
    results.write_text(first + "\n" + first[: len(first) // 2])
    res = run("show", out)
    assert res.exit_code == 0 and "| all | 1 |" in res.stdout
    assert "1 of 2 problems done; not finished" in res.stderr and "1 line(s) still being written" in res.stderr
    assert results.read_text().endswith(first[: len(first) // 2])  # show never rewrites the file


def test_show_of_a_directory_that_is_no_run(tmp_path):
    res = run("show", tmp_path)
    assert res.exit_code == 2 and "not an eval run directory" in res.stderr


@pytest.mark.lean
def test_ctrl_c_says_what_is_saved_and_how_to_resume(monkeypatch, tmp_path):
    class Interrupted(ScriptedPolicy):
        def generate(self, prompts, params):
            raise KeyboardInterrupt

    monkeypatch.setattr(prover.policies, "load_policy", lambda *a, **k: Interrupted({}))
    out = tmp_path / "run"
    res = run(*eval_args(out))
    assert res.exit_code == 130
    line = [x for x in res.stderr.splitlines() if x.startswith("interrupted:")]
    assert line, res.stderr
    assert f"0 of 2 problems saved in {out / RESULTS}" in line[0]
    command = line[0].split("resume with: ", 1)[1]
    assert command == (f"prover eval logic --split test -k 2 --limit 2 --checker cli --out {out}")
    assert json.loads((out / RUN_CARD).read_text())["k"] == 2  # the card a resume is checked against


def test_plot_axis_is_readable_when_everything_is_zero(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from prover.evaluation import plot_curve
    from search.records import Attempt, ProblemRecord

    seen = {}
    real_close = plt.close
    monkeypatch.setattr(plt, "close", lambda fig: (seen.update(ylim=fig.axes[0].get_ylim()), real_close(fig)))
    records = [ProblemRecord(name=f"p{i}", split="test", attempts=[Attempt(completion="x")] * 4) for i in range(3)]
    plot_curve(records, 4, tmp_path / "c.png", "all zero")
    assert seen["ylim"] == (0.0, 100.0)


@pytest.mark.lean
def test_default_scores_held_out_splits_and_reports_each_check(policy, tmp_path):
    """No --split: train is left out, with a line saying so; each check's outcome is printed as
    it arrives (output not a terminal), with its reason."""
    first = next(r for r in data.load("logic") if r["split"] != "train")
    script = {first["name"]: [" fun h => h"]}
    policy.script.update(script)
    res = run("eval", "logic", "--limit", "1", "-k", "1", "--checker", "cli", "--out", tmp_path / "run")
    assert res.exit_code == 0, res.output
    assert "scoring the held-out split(s) test, valid; left out train: it is a training split" in res.stderr
    name = next(iter(script))
    assert f"  {name} attempt 1: rejected: line " in res.stderr
    card = json.loads((tmp_path / "run" / RUN_CARD).read_text())
    assert card["split"] is None and card["dataset_variant"]["splits"] == [first["split"]]
