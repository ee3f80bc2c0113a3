"""The step policy's prompt (`state`: the main goal alone) and the renaming that widens its
training names: a prompt that shows exactly the goal the next tactic acts on, and renamed rows
that stay correct steps."""
import random
import re

import pytest

from protocol.prompts import build_prompt, get_format, state_prompt
from search.step_data import rename_locals
from search.tactic_env import resume_prompt

GOALS = ["case mp\np q : Prop\nh_p : p\nh1 : Or p q\n⊢ p → Or p q",
         "case mpr\np q : Prop\nh_p : p\nh1 : Or p q\n⊢ Or p q → p"]
ROW = {"name": "t", "formal_statement": "theorem t (p q : Prop) (h_p : p) : p ∨ q → (p ↔ p ∨ q) := by",
       "header": "", "informal_prefix": ""}


def test_state_prompt_is_the_main_goal_without_its_case_tag():
    text = state_prompt(GOALS)
    assert text == "p q : Prop\nh_p : p\nh1 : Or p q\n⊢ p → Or p q\n>>>\n"
    assert "mpr" not in text and "theorem" not in text


def test_resuming_in_the_state_format_shows_only_the_goal():
    assert get_format("state").kind == "continuation"
    assert resume_prompt(ROW, "state", " by\n  intro h1\n  constructor\n", GOALS) == state_prompt(GOALS)
    # no goals known (a whole proof asked for): the statement, as in compact
    assert build_prompt(ROW, "state").text == build_prompt(ROW, "compact").text


def _idents(text):
    return re.findall(r"[^\W\d][\w'₀-₉!?✝]*", text)


@pytest.mark.parametrize("seed", range(20))
def test_renaming_is_a_consistent_bijection_on_the_locals(seed):
    prompt = "p q : Prop\nh_p : p\nh1 h✝ : Or p q\nhpq : p → q\n⊢ Or q p\n>>>\n"
    completion = "exact Or.inr (hpq h_p)\n"
    p2, c2 = rename_locals(prompt, completion, random.Random(seed))
    mapping = {}
    for a, b in zip(_idents(prompt + completion), _idents(p2 + c2)):
        assert mapping.setdefault(a, b) == b  # the same name always becomes the same name
    assert len(set(mapping.values())) == len(mapping)  # and two names never become one
    for kept in ("Or", "Prop", "inr", "h1", "h✝", "exact"):
        assert mapping[kept] == kept
    assert any(mapping[n] != n for n in ("p", "q", "h_p", "hpq"))
    assert p2.endswith("⊢ Or " + mapping["q"] + " " + mapping["p"] + "\n>>>\n")
    assert c2 == f"exact Or.inr ({mapping['hpq']} {mapping['h_p']})\n"


def test_renaming_leaves_a_row_without_locals_alone():
    assert rename_locals("⊢ True\n>>>\n", "trivial\n", random.Random(0)) == ("⊢ True\n>>>\n", "trivial\n")


def test_expert_iteration_steps_are_read_again_from_lean(server_checker):
    """A step policy's expert iteration trains on the states along its verified proofs: each
    proof is walked again on the real Lean, so an attempt recorded as ok whose text does not
    prove the theorem gives no rows."""
    import data
    from lean_env.soundness.verdict import ProofTask
    from prover.train.proof_data import rows_by_key, verified_step_rows
    from protocol.prompts import row_header
    from search.records import Attempt, ProblemRecord
    from search.step_data import flat_tactics
    from search.tactic_env import tactic_proof

    row = data.load("logic-v2", split="train", limit=1)[0]
    tactics = flat_tactics(row["proof_tactic"])
    proof = tactic_proof(row["formal_statement"], tactics)
    verdict = server_checker.check(ProofTask(formal_statement=row["formal_statement"], header=row_header(row),
                                             proof=proof))
    assert verdict.ok
    good = Attempt(completion=proof, task={"proof": proof}, verdict=verdict.to_dict())
    forged = Attempt(completion="x", task={"proof": tactic_proof(row["formal_statement"], ["exact ha"])},
                     verdict={"ok": True})  # claims ok; Lean disagrees on the walk
    failed = Attempt(completion="y", task={"proof": proof + "\n  rfl"}, verdict={"ok": False})
    record = ProblemRecord.for_row(row, "bfs", 8)
    record.attempts = [forged, failed, good]
    out = verified_step_rows([record], rows_by_key([row]), server_checker, "state")
    assert [r["completion"] for r in out] == [t + "\n" for t in tactics]
    assert all(r["prompt"].endswith("\n>>>\n") and "theorem" not in r["prompt"] for r in out)
    assert out[0]["prompt"].startswith(row["formal_statement"].split("(", 1)[1].split(")")[0].split(" :")[0])
    with pytest.raises(ValueError, match="checker_backend: server"):
        verified_step_rows([record], rows_by_key([row]), object(), "state")


def test_eval_refuses_a_whole_proof_search_with_a_step_policy():
    from prover.evaluation import EvalSpec
    from prover.evaluation.run import EvalError, plan_eval

    with pytest.raises(EvalError, match="step policy.*--search bfs"):
        plan_eval(EvalSpec(dataset="logic-v2", split="test-iid", k=2, prompt_format="state", search="best-of-n"),
                  need_lean=False)
    plan = plan_eval(EvalSpec(dataset="logic-v2", split="test-iid", k=2, prompt_format="state", search="bfs"),
                     need_lean=False)
    assert plan.fmt == "state" and plan.options == {"expand_k": 2, "revisit_penalty": 1.0}  # its measured knobs
    plan = plan_eval(EvalSpec(dataset="logic-v2", split="test-iid", k=2, prompt_format="state", search="bfs",
                              search_options={"expand_k": "3"}), need_lean=False)
    assert plan.options == {"expand_k": 3, "revisit_penalty": 1.0}  # what the user gave wins
    plan = plan_eval(EvalSpec(dataset="logic-v2", split="test-iid", k=2, prompt_format="compact", search="bfs"),
                     need_lean=False)
    assert plan.options == {}  # other formats keep the method's defaults


def test_expert_iteration_replay_draws_seeded_rows_from_its_file(tmp_path):
    import json

    from prover.train.stages.expert_iteration import ExpertIterationOptions, _replay_draw, _replay_source

    path = tmp_path / "sft_rows.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"⊢ p{i}\n>>>\n", "completion": "trivial\n"}) + "\n" for i in range(50)))
    source = _replay_source(ExpertIterationOptions(replay=str(path), replay_rows=10))
    assert len(source) == 50
    one, again, other = _replay_draw(source, 10, 1), _replay_draw(source, 10, 1), _replay_draw(source, 10, 2)
    assert one == again and one != other and len(one) == 10 and all(r in source for r in one)
    assert _replay_draw(source, 80, 1) and len(_replay_draw(source, 80, 1)) == 50
    assert _replay_source(ExpertIterationOptions(replay=str(path), replay_rows=0)) == []
    with pytest.raises(FileNotFoundError, match="replay"):
        _replay_source(ExpertIterationOptions(replay=str(tmp_path / "missing.jsonl"), replay_rows=5))
