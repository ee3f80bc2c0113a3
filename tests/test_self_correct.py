"""Self-correction (Goedel-Prover-V2's multi-turn protocol) with a scripted policy on the real
bundled Lean and the logic prelude: a wrong first answer, Lean's error marked in the next user
turn of the same conversation, a corrected second answer; the budget and the rounds counted."""

import pytest

import data
from lean_env.soundness.verdict import Message, Verdict
from prover.policies.scripted import ScriptedPolicy
from protocol.policy import SamplingParams
from search import registry
from search.self_correct import SelfCorrect, error_report, feedback_message, mark_error

ROW = data.load("logic", split="test")[2]  # Or p q → Or q p
STATEMENT = ROW["formal_statement"]
WRONG = "```lean4\n" + STATEMENT + "\n  fun h => Or.elim h (fun ha => Or.inl ha) (fun hb => Or.inr hb)\n```"
RIGHT = "```lean4\n" + STATEMENT + "\n  fun h => Or.elim h (fun ha => Or.inr ha) (fun hb => Or.inl hb)\n```"
PARAMS = SamplingParams(max_tokens=64, seed=0)


class Recording(ScriptedPolicy):
    """Answers wrong until the conversation holds `corrections_needed` feedback turns."""

    def __init__(self, corrections_needed=1):
        self.prompts = []

        def answer(prompt, i):
            self.prompts.append(prompt)
            return RIGHT if prompt.count("does not compile") >= corrections_needed else WRONG

        super().__init__(answer)


def search(policy, checker, budget=56, fmt="goedel-v2", **options):
    return SelfCorrect(policy, checker, PARAMS, budget, fmt, **options)


def test_registered_for_every_chat_format_and_refused_for_continuation(cli_checker):
    assert registry.get("self-correct") is SelfCorrect
    for fmt in ("deepseek-v2", "goedel-v2", "kimina"):
        search(Recording(), cli_checker, fmt=fmt)
    with pytest.raises(ValueError, match="chat prompt format"):
        search(Recording(), cli_checker, fmt="deepseek-v1.5")


@pytest.mark.lean
def test_a_failed_answer_is_corrected_in_the_same_conversation(cli_checker):
    policy = Recording()
    s = search(policy, cli_checker, initial=2)
    record = s.search(ROW)
    assert record.solved and record.extra["solved_in_round"] == 1
    assert record.extra["rounds"][:2] == [0, 0] and record.attempts[0].verdict["status"] == "rejected"
    assert record.first_success_index == 2  # 2 wrong initial answers, then the first correction
    # the correction prompt: the original request, the failed answer as the assistant's turn, Lean's
    # error marked in the code, and the request for an analysis before the corrected proof
    prompt = next(p for p in policy.prompts if "<error>" in p)
    first_user = policy.prompts[0]
    assert prompt.startswith(first_user.rsplit("Assistant: ", 1)[0].rstrip())
    assert "Assistant: " + WRONG.strip() in prompt
    assert "<error>" in prompt and "</error>" in prompt and "Lean's message:" in prompt
    assert "analyse the error messages" in prompt and prompt.rstrip().endswith("Assistant:")
    # round 1 drew 2 corrections for each of the 2 failures; the record ends at the first proof
    assert s.stats.corrections == 4 and s.stats.completions == 6 and s.stats.checks == 6
    assert record.extra["drawn_per_round"] == [2, 4] and record.n == 3


@pytest.mark.lean
def test_a_second_round_continues_the_whole_conversation_and_the_budget_caps_it(cli_checker):
    policy = Recording(corrections_needed=2)
    s = search(policy, cli_checker, budget=5, initial=1, per_failure=2)
    record = s.search(ROW)
    # round 0: 1 answer; round 1: 2 corrections of it (both wrong); round 2: budget 5 leaves 2 of 4
    assert record.extra["drawn_per_round"] == [1, 2, 2] and record.n == 4  # the first correction in round 2 proves it
    assert record.solved and record.extra["solved_in_round"] == 2
    deepest = max(policy.prompts, key=lambda p: p.count("does not compile"))
    assert deepest.count("Assistant: " + WRONG.strip()) == 2 and "in round 1 does not compile" in deepest
    assert s.stats.corrections == 4


@pytest.mark.lean
def test_no_correction_when_round_zero_solves_it_or_rounds_is_zero(cli_checker):
    solved = search(ScriptedPolicy(lambda p, i: RIGHT if i == 1 else WRONG), cli_checker, initial=3).search(ROW)
    assert solved.extra["rounds"] == [0, 0] and solved.extra["solved_in_round"] == 0
    plain = search(Recording(), cli_checker, initial=3, rounds=0)
    record = plain.search(ROW)
    assert not record.solved and record.n == 3 and plain.stats.corrections == 0


def test_the_error_span_is_marked_where_lean_put_it():
    code = "theorem t : A :=\n  foo bar\n  baz"
    assert mark_error(code, Message("error", "x", 2, 6, 2, 9)).endswith("  foo <error>bar</error>\n  baz")
    multi = mark_error(code, Message("error", "x", 2, 2, 3, 5))
    assert multi == "theorem t : A :=\n  <error>foo bar\n  baz</error>"
    v = Verdict(name="t", ok=False, status="rejected", reasons=["the proof uses sorry (or admit)"])
    assert "the proof uses sorry" in error_report(code, v) and "<error>" not in error_report(code, v)
    assert "round 3" in feedback_message(3, "R")
