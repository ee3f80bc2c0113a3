"""GRPO on proof states (a step policy): rollouts (search.rollout), the reward of a tactic
(prover.rewards.StepReward) and the GRPO prompts from walked proofs (state_records), on the
real bundled Lean. A scripted policy stands in for the model's continuation only; every reward
of 1 is the Checker's verdict on the whole proof text."""
import json

import pytest

from protocol.policy import SamplingParams
from prover.policies.scripted import ScriptedPolicy
from prover.rewards import StepReward
from prover.train.data import state_records
from search.rollout import Rollout, from_roots, run_rollouts, state_at
from search.step_data import walk

pytestmark = pytest.mark.lean

AND_SWAP = "theorem and_swap (p q : Prop) (h : p ∧ q) : q ∧ p :="


def row(header):
    return {"name": "and_swap", "header": header, "prompt_header": "", "formal_statement": AND_SWAP,
            "proof_tactic": " by\n  constructor\n  exact h.2\n  exact h.1"}


def by_goal(answers):
    """A state-format policy: the tactic for the first goal conclusion found in the prompt."""
    def script(prompt, i):
        for goal, tactic in answers.items():
            if f"⊢ {goal}\n>>>" in prompt:
                return tactic
        return "skip"
    return ScriptedPolicy(script)


RIGHT = {"And q p": "constructor", "q": "exact h.2", "p": "exact h.1"}


def test_state_records_keep_each_walked_state_for_the_reward(server_checker, header):
    w = walk(server_checker, row(header))
    records = state_records([w])
    assert [json.loads(r["tactics"]) for r in records] == [[], ["constructor"], ["constructor", "exact h.2"]]
    assert [r["remaining"] for r in records] == [3, 2, 1]
    assert records[0]["prompt"].endswith("⊢ And q p\n>>>\n") and records[0]["header"].startswith(header.rstrip("\n"))
    assert json.loads(records[1]["goals"])[0].endswith("⊢ q")


def test_a_tactic_is_worth_what_its_rollout_proves(server_checker, header):
    (root, second, last) = state_records([walk(server_checker, row(header))])
    texts_and_rewards = [
        (root, "constructor", 1.0),  # then exact h.2, exact h.1: the Checker accepts the whole proof
        (root, "exact h", 0.0),  # a type error ends the rollout
        (root, "sorry", 0.0),  # gives the goal up: never a proof
        (second, "exact h.2", 1.0),  # a state mid-proof, resumed without replaying its script
        (second, "exact h.1", 0.0),
        (last, "exact h.1", 1.0),
        (last, "  exact h.1\nexact h.2", 1.0),  # one tactic a line: the rest of the completion is not run
    ]
    reward = StepReward(server_checker, by_goal(RIGHT))
    rewards = reward.score([r for r, _, _ in texts_and_rewards], [t for _, t, _ in texts_and_rewards])
    assert rewards == [want for _, _, want in texts_and_rewards]
    # a policy that continues wrongly earns the right first tactic nothing
    wrong = StepReward(server_checker, by_goal({**RIGHT, "q": "exact h.1"}))
    assert wrong.score([root], ["constructor"]) == [0.0]


def test_rollouts_count_checks_and_stop_at_the_depth(server_checker, header):
    rs, probes = from_roots(server_checker, [row(header)], 2)
    assert probes == 1 and len(rs) == 2
    run_rollouts(by_goal(RIGHT), server_checker, "state", rs, SamplingParams(), max_depth=8)
    assert all(r.proved and r.checks == 3 and r.samples == 3 for r in rs)
    assert rs[0].state.verdict.ok and rs[0].state.tactics == ("constructor", "exact h.2", "exact h.1")
    # `skip` forever: stopped by the depth, not proved
    stuck = [Rollout(row(header), state_at(row(header), [], ["p q : Prop\nh : And p q\n⊢ And q p"]))]
    run_rollouts(ScriptedPolicy(lambda p, i: "skip"), server_checker, "state", stuck, SamplingParams(), max_depth=3)
    assert not stuck[0].proved and stuck[0].checks == 3 and len(stuck[0].state.tactics) == 3


@pytest.mark.slow
def test_step_grpo_trains_on_states_and_says_when_no_group_had_a_signal(server_checker, header, tmp_path):
    """`prover train grpo` on a file of proof states (as train_logic.py writes them): a 1-step run
    of a from-scratch model on two states trains with the rollout reward; its rollouts prove
    nothing, so every group is uniform and the run says there was no learning signal; the
    rewards still came from Lean (checks were spent)."""
    from prover.tiny_model import build_tiny_model
    from prover.train.config import from_dict
    from prover.train.stages.grpo import run_grpo

    model_dir = build_tiny_model(tmp_path / "tiny")
    states = tmp_path / "states.jsonl"
    states.write_text("".join(json.dumps(r) + "\n" for r in state_records([walk(server_checker, row(header))])[1:]))
    cfg = from_dict({"model": str(model_dir), "dataset": str(states), "prompt_format": "state", "torch_threads": 1,
                     "output_dir": str(tmp_path / "g"),
                     "max_steps": 1, "num_generations": 2, "per_device_train_batch_size": 4, "max_completion_length": 8,
                     "learning_rate": 1e-3, "logging_steps": 1, "save_steps": 1000, "checker_backend": "server",
                     "checker_workers": 1, "checker_timeout": 60, "dynamic_sampling": False, "report_to": "none",
                     "eval_split": ""}, "grpo")
    result = run_grpo(cfg, log=lambda _: None)
    assert [f.__name__ for f in result.trainer.reward_funcs] == ["lean_step"]
    assert result.global_step == 1 and result.lean_checks >= 4  # 2 states x 2 tactics, each applied at least once
    assert "no_learning_signal" in result.extra


def test_retries_resample_a_failed_tactic_but_never_the_judged_one(server_checker, header):
    """With retries a failed sample is dropped and another drawn at the same state (each costs a
    check); the proof that counts has only the tactics that applied. The completion being judged
    (`first`) gets no second chance."""
    def wrong_then_right(prompt, i):
        answers = {"⊢ q\n>>>": ["exact h.1", "exact h.2"], "⊢ p\n>>>": ["exact h.2", "exact h.1"]}
        for goal, tries in answers.items():
            if goal in prompt:
                return tries[min(i, 1)]
        return "skip"

    (root, _, _) = state_records([walk(server_checker, row(header))])
    start = state_at(row(header), [], json.loads(root["goals"]))
    plain = run_rollouts(ScriptedPolicy(wrong_then_right), server_checker, "state",
                         [Rollout(row(header), start, first="constructor")], SamplingParams())[0]
    assert not plain.proved and plain.checks == 2
    again = run_rollouts(ScriptedPolicy(wrong_then_right), server_checker, "state",
                         [Rollout(row(header), start, first="constructor")], SamplingParams(), retries=1)[0]
    assert again.proved and again.checks == 5 and again.state.tactics == ("constructor", "exact h.2", "exact h.1")
    judged = run_rollouts(ScriptedPolicy(wrong_then_right), server_checker, "state",
                          [Rollout(row(header), start, first="exact h")], SamplingParams(), retries=3)[0]
    assert judged.state.status == "error" and judged.checks == 1
    assert StepReward(server_checker, ScriptedPolicy(wrong_then_right), retries=1).score([root], ["constructor"]) == [1.0]


def test_a_judged_tactic_cannot_reach_past_its_line(server_checker, header):
    """The seam StepReward adds: the sampled tactic is joined into the state's script and the
    policy's continuation after it. Text that opens a comment, gives a goal up inside a term, or
    starts a new command on the tactic's line earns nothing; the honest tactic beside them does."""
    (root, _, last) = state_records([walk(server_checker, row(header))])
    attacks = [
        (last, "exact h.1 /-"),  # an unclosed comment would swallow whatever the file adds after it
        (last, "exact (sorry : p)"),  # a goal given up inside a term
        (last, "exact h.1 theorem more : False := sorry"),  # a second declaration on the same line
        (last, "exact h.1 -/"),  # closing a comment nobody opened
        (root, "constructor <;> /-"),
        (last, "exact h.1 -- a comment is only text"),  # honest: Lean ignores it
    ]
    rewards = StepReward(server_checker, by_goal(RIGHT)).score([r for r, _ in attacks], [t for _, t in attacks])
    assert rewards == [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
