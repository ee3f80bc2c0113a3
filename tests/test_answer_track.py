"""PutnamBench's answer-to-find track: a found answer counts only when Lean proves the theorem
with it AND proves it equal to the published answer (lean_env.answer). On the real bundled Lean
with a toy problem whose theorem holds for every answer (as a careless formalization can), so
only the answer check stands between a wrong answer and a "solved"; plus the text rules on real
PutnamBench rows."""
import pytest

import data
from lean_env.answer import AnswerChecker, AnswerError, answer_header, judge_found_answer, match_task, split_answer
from lean_env.soundness.verdict import ProofTask

TWO = "Nat.succ (Nat.succ Nat.zero)"
STATEMENT = "theorem toy : Eq toy_solution toy_solution :="


@pytest.fixture(scope="module")
def row(header):
    stub = "abbrev toy_solution : Nat := sorry\n"
    return {"name": "toy", "split": "test", "header": header + stub, "formal_statement": STATEMENT,
            "informal_prefix": "", "answer_track": "find", "solution_name": "toy_solution",
            "solution_stub": stub, "solution_type": "Nat", "published_answer": TWO}


def answer(value, proof="rfl"):
    return ProofTask(STATEMENT, code=f"abbrev toy_solution : Nat :=\n  {value}\n{STATEMENT} {proof}\n")


@pytest.mark.lean
def test_the_published_answer_with_a_proof_is_solved_and_says_why(cli_checker, row):
    v = judge_found_answer(cli_checker.check, row, answer(TWO), match_proof="rfl")
    assert v.ok, v.reasons
    assert "published answer" in v.evidence["answer"]


@pytest.mark.lean
def test_a_wrong_answer_that_still_proves_the_theorem_is_not_counted(cli_checker, row):
    v = judge_found_answer(cli_checker.check, row, answer("Nat.zero"), match_proof="rfl")
    assert not v.ok and v.status == "rejected"
    assert "not counted" in v.reasons[0] and "Nat.zero" in v.reasons[0]


@pytest.mark.lean
def test_the_checker_wrapper_routes_find_rows_and_leaves_others(cli_checker, row, header):
    wrapped = AnswerChecker(cli_checker, [row], match_proof="rfl")
    assert wrapped.check(answer(TWO)).ok and not wrapped.check(answer("Nat.zero")).ok
    other = ProofTask("theorem u (p : Prop) (hp : p) : p :=", header=header, proof=" hp")
    assert wrapped.check_many([other])[0].ok
    wrapped._executor.shutdown()


@pytest.mark.parametrize("value,why", [
    ("sorry", "placeholder"),
    ("Nat.zero\n  theorem sneaky : True := True.intro", "single term"),
    ("Nat.zero\n  #eval 1", "refused"),
    ("Lean.ofReduceBool", "refused"),
])
def test_answers_that_are_not_one_vetted_term_are_refused_before_lean(row, value, why):
    v = judge_found_answer(lambda t: pytest.fail("Lean must not run"), row, answer(value))
    assert v.status == "refused" and why in v.reasons[0]


def test_no_answer_or_a_continuation_is_refused(row):
    none = ProofTask(STATEMENT, code=f"{STATEMENT} rfl\n")
    assert "does not define `toy_solution`" in judge_found_answer(None, row, none).reasons[0]
    cont = ProofTask(STATEMENT, header=row["header"], proof=" rfl")
    assert "code block" in judge_found_answer(None, row, cont).reasons[0]


def test_on_real_rows_the_answer_replaces_the_placeholder_and_the_match_names_both():
    rows = {r["name"]: r for r in data.load("putnambench-find")}
    r = rows["putnam_1962_a5"]
    code = ("import Mathlib\nabbrev putnam_1962_a5_solution : ℕ → ℕ := fun n => n * (n + 1) * 2 ^ (n - 2)\n"
            "-- my answer\n" + r["formal_statement"] + "\n  sorry\n")
    value, rest = split_answer(code, r["solution_name"])
    assert value == "fun n => n * (n + 1) * 2 ^ (n - 2)" and rest.count("\n") == code.count("\n")
    assert "abbrev" not in rest and r["formal_statement"] in rest
    head = answer_header(r, value)
    assert "sorry" not in head and "putnam_1962_a5_solution : ℕ → ℕ :=\n  (fun n =>" in head
    t = match_task(r, head)
    assert t.formal_statement == "theorem putnam_1962_a5_published_matches : Eq putnam_1962_a5_solution putnam_1962_a5_published :="
    assert "abbrev putnam_1962_a5_published : ℕ → ℕ :=\n  (fun n : ℕ => n * (n + 1) * 2^(n - 2)\n  )" in t.header
    assert "rfl" in t.proof and "norm_num" in t.proof
    with pytest.raises(AnswerError):
        split_answer("theorem x : True := trivial", r["solution_name"])
    noncomp = next(x for x in rows.values() if x["solution_stub"].startswith("noncomputable"))
    assert "noncomputable abbrev" in match_task(noncomp, answer_header(noncomp, "0")).header


@pytest.mark.lean
def test_eval_judges_find_rows_by_lean_and_counts_a_wrong_answer_as_unsolved(tmp_path, row, cli_checker):
    import json

    from prover.evaluation import EvalSpec, run_eval
    from prover.policies.scripted import ScriptedPolicy

    path = tmp_path / "find.jsonl"
    rows = [dict(row), dict(row, name="toy_wrong")]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    script = {"toy_solution": ["```lean4\n" + answer(TWO).code + "```"]}
    res = run_eval(EvalSpec(dataset=str(path), k=1, model="scripted", prompt_format="kimina"), tmp_path / "out",
                   policy=ScriptedPolicy(script), checker=cli_checker)
    verdict = res.records[0].attempts[0].verdict
    # the default match tactic (`first | rfl | norm_num ...`) needs Mathlib's tactics: on the logic
    # prelude it cannot run, so even the right answer is unconfirmed, never solved by default
    assert not verdict["ok"] and "not counted" in verdict["reasons"][0]
