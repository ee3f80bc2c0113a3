"""`prover prove`: the accepted proof on stdout (exit 0), or the best attempt and Lean's errors
(exit 1). A scripted policy stands in for the model; the bundled Lean decides."""
import pytest
from typer.testing import CliRunner

import prover.policies
from prover.cli import app
from prover.policies.scripted import ScriptedPolicy

STATEMENT = "theorem prove_me (p q : Prop) (hp : p) (hq : q) : And p q :="


@pytest.fixture
def script(monkeypatch):
    """Make `load_policy` return a scripted policy with the given completions."""
    def use(completions):
        policy = ScriptedPolicy({"prove_me": completions})
        monkeypatch.setattr(prover.policies, "load_policy", lambda *a, **k: policy)
        return policy
    return use


def run(*args):
    return CliRunner().invoke(app, ["prove", *args])


@pytest.mark.lean
def test_prints_the_accepted_proof(script):
    policy = script([" And.intro hq hp", " And.intro hp hq"])
    res = run(STATEMENT, "-n", "4")
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == STATEMENT + " And.intro hp hq"
    assert "proved by attempt 2" in res.stderr
    assert sum(params.n for _, params in policy.calls) <= 4


@pytest.mark.lean
def test_prints_the_best_attempt_and_leans_errors(script, tmp_path):
    script([" And.intro hq hp"])
    path = tmp_path / "t.lean"
    path.write_text(STATEMENT + "\n")
    res = run(str(path), "-n", "2")
    assert res.exit_code == 1
    assert res.stdout.strip() == STATEMENT + " And.intro hq hp"
    assert "not proved in 2 attempts" in res.stderr and "error" in res.stderr
    assert "mismatch" in res.stderr.lower() or "type" in res.stderr.lower()


def test_unusable_theorem_is_a_usage_error(script):
    script([" x"])
    res = run("theorem no_assign (p : Prop) : p", "-n", "1")
    assert res.exit_code == 2 and ":=" in res.stderr
    assert run(str("/nonexistent/x.lean")).exit_code == 2


@pytest.mark.lean
def test_show_attempts_prints_each_attempt_and_leans_errors_with_brackets_intact(script):
    """--show-attempts: every attempt's text and errors; Lean's own `[...]` is not eaten as markup."""
    script([" And.intro hq hp", " «[bold]x»"])
    res = run(STATEMENT, "-n", "2", "--show-attempts")
    assert res.exit_code == 1
    assert "| " + STATEMENT + " And.intro hq hp" in res.stderr
    assert "«[bold]x»" in res.stderr  # in the attempt's text and in Lean's "unknown identifier"
    assert res.stderr.count("error:") >= 2


def test_install_hint_keeps_its_brackets():
    """The vLLM hint `pip install -e ".[vllm]"` must print as written."""
    from prover.policies.vllm import vllm_available

    if vllm_available():
        pytest.skip("vLLM is installed here")
    res = run(STATEMENT, "--engine", "vllm")
    assert res.exit_code == 2
    assert 'pip install -e ".[vllm]"' in res.stderr


@pytest.mark.lean
def test_a_trained_model_directory_supplies_its_environment(script, tmp_path):
    """`prover prove --model DIR`: the environment recorded in DIR/prover.json is used unless
    --env says otherwise."""
    script([" And.intro hp hq"])
    model = tmp_path / "model"
    model.mkdir()
    (model / "prover.json").write_text('{"prompt_format": "deepseek-v1.5", "env": "nosuch-env"}', encoding="utf-8")
    res = run(STATEMENT, "--model", str(model))
    assert res.exit_code == 2 and "nosuch-env" in res.output
    res = run(STATEMENT, "--model", str(model), "--env", "logic")
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == STATEMENT + " And.intro hp hq"


@pytest.mark.lean
def test_every_attempt_says_why_and_an_unfinished_proof_is_explained(script):
    """Without --show-attempts each attempt line still names its reason; Lean's complaint about
    the checker's `#print` after an unfinished proof is explained, at a position in the user's text."""
    script(["", " (And.intro hp hq"])
    res = run(STATEMENT, "-n", "2")
    assert res.exit_code == 1
    lines = [x.strip() for x in res.stderr.splitlines() if x.strip().startswith("attempt ")]
    assert lines[0].startswith("attempt 1: not checked: empty proof"), lines
    assert lines[1].startswith("attempt 2: rejected: line 1:"), lines
    assert "the proof ends too early (Lean still wanted ')'" in lines[1] and "#print'" not in lines[1]
    assert "checker's own lines after it" in res.stderr and "unclosed bracket" in res.stderr
    assert "unexpected token '#print'" not in res.stderr


def test_explain_keeps_user_positions_and_hides_checker_names():
    from prover.commands.reasons import explain

    m = {"text": "unexpected token '#print'; expected ')'", "line": 2, "column": 11, "end_line": 4}
    assert explain(m, candidate_lines=2).startswith("line 2:11: the proof ends too early (Lean still wanted ')')")
    assert explain(dict(m, line=4), candidate_lines=2).startswith("the proof ends too early")  # no position past the text
    m = {"text": "type mismatch: __prover_target_0a1b has type p", "line": 1, "column": 3}
    assert explain(m) == "line 1:3: type mismatch: (the checker's copy of the statement) has type p"
