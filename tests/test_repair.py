"""Repair search (search.repair) on the real bundled Lean: a wrong proof, Lean's first error
and the goal at it shown to the model, a corrected proof accepted; budget and check counts.
Policies are scripted; every verdict comes from Lean."""
import pytest

from prover.evaluation import make_search
from search.registry import names as search_names
from protocol.policy import SamplingParams
from prover.policies.scripted import ScriptedPolicy
from protocol.prompts import REPAIR_MARK, build_prompt, repair_prompt
from search.repair import Repair

TACTIC_ROW = {"name": "r1", "formal_statement": "theorem r1 (p q : Prop) (h : p ∧ q) : q ∧ p :=", "split": "test"}
TERM_ROW = {"name": "r2", "formal_statement": "theorem r2 (p q : Prop) (hp : p) (hq : q) : q ∧ p :=", "split": "test"}
WRONG_TACTIC = " by\n  constructor\n  · exact h.1\n  · exact h.1\n```"
RIGHT_TACTIC = " by\n  constructor\n  · exact h.2\n  · exact h.1\n```"


def _rows(header):
    return [dict(r, header=header, prompt_header="") for r in (TACTIC_ROW, TERM_ROW)]


def test_repair_prompt_carries_the_feedback_in_a_comment_before_the_statement():
    row = dict(TERM_ROW, header="", informal_prefix="")
    text = repair_prompt(row, "deepseek-v1.5", " ⟨hp, hq⟩ -/", "Type mismatch", 1, ["⊢ And q p"]).text
    assert text.endswith(TERM_ROW["formal_statement"]) and text.startswith(build_prompt(row).text[:20])
    note = text[text.index("/- "):text.index(TERM_ROW["formal_statement"])]
    assert REPAIR_MARK in note and "Type mismatch" in note and "⊢ And q p" in note
    assert note.count("-/") == 1  # the previous proof cannot close the comment early


def test_registered_as_a_search_method():
    assert "repair" in search_names()
    s = make_search("repair", ScriptedPolicy({}), None, SamplingParams(), 8, "deepseek-v1.5")
    assert isinstance(s, Repair) and s.revisions == 1


@pytest.mark.lean
def test_a_wrong_tactic_is_fixed_from_the_error_and_the_goal_at_it(cli_checker, header):
    def script(prompt, i):
        if "r1 " in prompt:
            return RIGHT_TACTIC if REPAIR_MARK in prompt and "⊢ q" in prompt else WRONG_TACTIC
        return " ⟨hq, hp⟩```" if REPAIR_MARK in prompt and "⊢ And q p" in prompt else " ⟨hp, hq⟩```"

    policy = ScriptedPolicy(script)
    search = Repair(policy, cli_checker, SamplingParams(), budget=4, fmt="deepseek-v1.5", round_size=1)
    tactic, term = list(search.run(_rows(header)))
    # tactic proof: the error is on line 3, so the prefix up to it is checked for the goal there
    assert tactic.solved and tactic.n == 2 and tactic.extra["depths"] == [0, 1]
    assert tactic.extra["solved_by_revision"] and tactic.extra["checks"] == 3 and tactic.extra["goal_checks"] == 1
    revision_prompt = policy.calls[1][0][0]
    assert "Lean's first error (line 3 of the theorem)" in revision_prompt and "case left" in revision_prompt
    assert "exact h.1" in revision_prompt
    # one-line term proof: no cut exists, the theorem's initial goal is shown
    assert term.solved and term.n == 2 and term.extra["goal_checks"] == 1
    assert "⊢ And q p" in policy.calls[-1][0][0]


@pytest.mark.lean
def test_budget_is_attempts_times_revisions_in_samples(cli_checker, header):
    policy = ScriptedPolicy(lambda prompt, i: " ⟨hp, hp⟩```")
    rec = Repair(policy, cli_checker, SamplingParams(), budget=6, fmt="deepseek-v1.5", revisions=2).search(
        _rows(header)[1])
    assert not rec.solved and rec.n == 6 and rec.method == "repair"
    assert rec.extra["depths"] == [0, 0, 1, 1, 2, 2]  # 2 fresh attempts, each fixed twice
    assert rec.extra["checks"] == 6 + 1  # every sample, plus the initial goal once
    fresh = Repair(policy, cli_checker, SamplingParams(), budget=3, fmt="deepseek-v1.5", revisions=0).search(
        _rows(header)[1])
    assert fresh.n == 3 and fresh.extra["depths"] == [0, 0, 0] and fresh.extra["goal_checks"] == 0


def test_perturbations_are_plausible_single_mistakes():
    from search.repair import perturbations

    assert perturbations(" ⟨h.2, h.1⟩", ["h"]) == [" ⟨h.2, h.2⟩", " ⟨h.1, h.1⟩"]
    assert " fun h => Or.inr h" in perturbations(" fun h => Or.inl h", [])
    assert perturbations(" by\n  constructor\n  · exact hq\n  · exact hp", ["hp", "hq"])[-1] == \
        " by\n  constructor\n  · exact hq"


@pytest.mark.lean
def test_repair_rows_pair_a_real_lean_error_with_the_fix(cli_checker, header):
    from prover.train.data import sft_records
    from prover.train.config import TrainConfig
    from search.repair import repair_rows

    rows = [dict(TERM_ROW, header=header, proof=" ⟨hq, hp⟩")]
    [row] = repair_rows(rows, cli_checker)
    assert row["proof"] == " ⟨hq, hp⟩" and row["repair_of"] != row["proof"]
    assert REPAIR_MARK in row["informal_prefix"] and "⊢ And q p" in row["informal_prefix"]
    [record] = sft_records([row], TrainConfig())
    assert REPAIR_MARK in record["prompt"] and record["prompt"].endswith(TERM_ROW["formal_statement"])


@pytest.mark.lean
def test_a_problems_seeds_do_not_depend_on_the_problems_before_it(cli_checker, header):
    """As for the other methods: a resumed eval reruns only the unfinished problems, so a
    problem's seeds are a function of (run seed, problem, sample index) only."""
    def seeds_for_r2(rows):
        policy = ScriptedPolicy(lambda prompt, i: " junk```")
        list(Repair(policy, cli_checker, SamplingParams(seed=5), budget=4, round_size=2).run(rows))
        return [params.seed for prompts, params in policy.calls if "r2 " in prompts[0]]

    tactic, term = _rows(header)
    alone, after_r1 = seeds_for_r2([term]), seeds_for_r2([tactic, term])
    assert alone and alone == after_r1
    assert len(set(alone)) == len(alone)
