"""MCTS (search.mcts): tree bookkeeping (discounted UCB, virtual loss, checkpoints) without
Lean, and truncation / resume on the real bundled Lean with tactic proofs over the logic
prelude. Policies are scripted; every verdict comes from Lean."""
import json

import pytest

from lean_env.soundness.verdict import Message, ProofTask, Verdict
from protocol.policy import SamplingParams
from prover.policies.scripted import ScriptedPolicy
from search.mcts import MCTS, ROOT, Arm, Tree, checkpoint_dict, cut_points, first_error, load_checkpoint
from search.records import Attempt
from search.tactic_env import resume_prompt, state_comment

STATEMENT = "theorem t3 (p q r : Prop) (h : p ∧ q) (hr : r) : (q ∧ p) ∧ r := by\n"
# a wrong middle tactic: line 5 of the candidate (`exact hr` where `p` is wanted)
WRONG_MIDDLE = "  constructor\n  · constructor\n    · exact h.2\n    · exact hr\n  · exact hr\n"
GOOD_PREFIX = "  constructor\n  · constructor\n    · exact h.2\n"
CONTINUATION = "    · exact h.1\n  · exact hr\n```"


# -- bookkeeping (no Lean) ---------------------------------------------------------------------
def test_arm_discounts_old_rewards():
    a = Arm()
    a.update(1, 0.5, 1.0)
    a.update(2, 0.5, 0.0)
    n, w = a.at(2, 0.5)
    assert (n, w) == (1.5, 0.5)  # the first visit and its reward decayed by one step
    assert a.at(4, 0.5) == (1.5 * 0.25, 0.5 * 0.25)


def test_select_prefers_unvisited_and_virtual_loss_spreads_a_round():
    tree = Tree(c=1.0, gamma=1.0)
    assert tree.add(ROOT, "A", "  a\n", ["⊢ A"]) and tree.add(ROOT, "B", "  b\n", ["⊢ B"])
    assert not tree.add(ROOT, "A", "  other\n", ["⊢ A"])  # a known state keeps its first prefix
    paths = [tree.select() for _ in range(3)]
    # unvisited arms first; virtual loss makes the round take each arm once
    assert sorted(p[-1] for p in paths) == sorted([ROOT, "A", "B"])
    assert tree.root.here.virtual == 1 and tree.nodes["A"].edge.virtual == 1
    for p in paths:
        tree.backup(p, 1.0 if p[-1] == "B" else 0.0)
    assert all(a.virtual == 0 for n in tree.nodes.values() for a in (n.edge, n.here))
    assert tree.step == 3 and tree.nodes["B"].edge.n == 1 and tree.nodes["B"].edge.w == 1
    # B paid off, so UCB goes there next (and into B's own "expand here" arm)
    assert tree.select() == [ROOT, "B"]


def test_ucb_counts_virtual_loss_as_a_visit_with_no_reward():
    tree = Tree(c=0.0, gamma=1.0)
    arm = Arm(n=2, w=2)
    assert tree.ucb(arm, 2) == 1.0
    arm.virtual = 2
    assert tree.ucb(arm, 4) == 0.5


def test_tree_checkpoint_round_trips(tmp_path):
    tree = Tree(c=1.5, gamma=0.9)
    tree.add(ROOT, "k1", GOOD_PREFIX, ["case left.right\n⊢ p", "case right\n⊢ r"])
    tree.add("k1", "k2", GOOD_PREFIX + "    · exact h.1\n", ["case right\n⊢ r"])
    tree.backup(tree.select(), 1.0)
    row = {"name": "t3", "formal_statement": STATEMENT}
    attempts = [Attempt(completion="x", task={"proof": "y"}, verdict={"ok": False, "status": "rejected"})]
    path = tmp_path / "t3.mcts.json"
    path.write_text(json.dumps(checkpoint_dict(row, tree, attempts, checks=3, prefix_checks=1)))
    back, got_attempts, checks, prefix_checks = load_checkpoint(path, row)
    assert back.to_dict() == tree.to_dict()
    assert back.nodes["k2"].parent == "k1" and back.nodes["k1"].children == ["k2"]
    assert got_attempts == attempts and (checks, prefix_checks) == (3, 1)
    assert load_checkpoint(path, {"name": "t3", "formal_statement": "theorem other : True :="}) is None


def test_cut_points_are_line_prefixes_longest_first():
    assert cut_points(STATEMENT, WRONG_MIDDLE, 5) == [GOOD_PREFIX, "  constructor\n  · constructor\n", "  constructor\n"]
    assert cut_points(STATEMENT, WRONG_MIDDLE, 2) == []  # the first tactic is wrong: back to the root
    # a `:=` statement whose proof opens with ` by` on the statement's line
    st = "theorem t (p : Prop) (hp : p) : p :="
    assert cut_points(st, " by\n  skip\n  exact foo", 3) == [" by\n  skip\n"]


def test_resume_prompt_has_prefix_and_state_comment():
    row = {"name": "t3", "header": "", "formal_statement": STATEMENT}
    goals = ["case left.right\np q r : Prop\n⊢ p", "case right\np q r : Prop\n⊢ r"]
    prompt = resume_prompt(row, "deepseek-v1.5", GOOD_PREFIX, goals)
    assert prompt.endswith(STATEMENT + GOOD_PREFIX + state_comment(goals, "    "))
    assert "/- tactic state:" in prompt and "    case right" in prompt and prompt.endswith("-/\n")
    with pytest.raises(ValueError):
        resume_prompt(row, "kimina", GOOD_PREFIX, goals)


def test_first_error_ignores_unsolved_goals():
    v = Verdict(name="t", ok=False, status="rejected", errors=[
        Message("error", "unsolved goals\n⊢ r", 1, 60), Message("error", "Type mismatch", 5, 6),
        Message("error", "unknown identifier 'x'", 7, 2)])
    assert first_error(v).line == 5


def test_mcts_refuses_chat_formats():
    with pytest.raises(ValueError, match="continuation"):
        MCTS(ScriptedPolicy({}), None, SamplingParams(), budget=2, fmt="deepseek-v2")


# -- real Lean -----------------------------------------------------------------------------------
def row_for(header):
    return {"name": "t3", "split": "test", "header": header, "prompt_header": "", "formal_statement": STATEMENT}


@pytest.mark.lean
def test_truncation_finds_the_verified_prefix_from_real_errors(server_checker, header):
    v = server_checker.check(ProofTask(STATEMENT, header=header, proof=WRONG_MIDDLE))
    err = first_error(v)
    assert (err.line, err.column) == (5, 6) and "Type mismatch" in err.text
    prefix = cut_points(STATEMENT, WRONG_MIDDLE, err.line)[0]
    assert prefix == GOOD_PREFIX
    from search.mcts import valid_prefix_state

    pv = server_checker.check(ProofTask(STATEMENT, header=header, proof=prefix.rstrip()))
    goals = valid_prefix_state(pv, prefix)
    assert goals is not None and len(goals) == 2
    assert goals[0].startswith("case left.right") and goals[0].endswith("⊢ p")
    assert goals[1].startswith("case right") and goals[1].endswith("⊢ r")


def two_step_policy():
    def script(prompt, i):
        return CONTINUATION if "tactic state" in prompt else WRONG_MIDDLE + "```"
    return ScriptedPolicy(script)


@pytest.mark.lean
def test_mcts_resumes_from_the_prefix_and_proves(server_checker, header, tmp_path):
    policy = two_step_policy()
    search = MCTS(policy, server_checker, SamplingParams(max_tokens=64), budget=6, round_size=1,
                  checkpoint_dir=tmp_path)
    record = search.search(row_for(header))
    assert record.solved and record.method == "mcts" and record.n == 2 and record.first_success_index == 1
    assert record.attempts[1].task == {"proof": GOOD_PREFIX + CONTINUATION[:-3]}
    assert record.attempts[1].verdict["ok"] and record.attempts[1].verdict["status"] == "proved"
    assert record.extra["nodes"] == 2 and record.extra["prefix_checks"] == 1
    resumed_prompt = policy.calls[1][0][0]
    assert resumed_prompt.startswith(policy.calls[0][0][0] + GOOD_PREFIX)  # root prompt + verified prefix
    assert GOOD_PREFIX + "    /- tactic state:\n    case left.right" in resumed_prompt
    assert "⊢ r\n    -/\n" in resumed_prompt
    # the checkpoint holds the tree: a rerun resumes solved, without new samples
    again = ScriptedPolicy(lambda prompt, i: "  exact hr\n```")
    rerun = MCTS(again, server_checker, SamplingParams(max_tokens=64), budget=6, round_size=1, checkpoint_dir=tmp_path)
    record2 = rerun.search(row_for(header))
    assert record2.solved and record2.n == 2 and again.calls == []


@pytest.mark.lean
def test_a_proof_hidden_before_junk_is_found_by_truncation(server_checker, header):
    junk = "  constructor\n  · constructor\n    · exact h.2\n    · exact h.1\n  · exact hr\n  exact hr\n```"
    record = MCTS(ScriptedPolicy({"t3": [junk]}), server_checker, SamplingParams(max_tokens=64), budget=2,
                  round_size=1).search(row_for(header))
    assert record.solved and record.n == 1 and record.extra["proved_by_prefix"]
    assert record.attempts[0].task["proof"] == junk[: junk.index("  exact hr\n```")].rstrip()


@pytest.mark.lean
def test_a_problems_seeds_do_not_depend_on_the_problems_before_it(server_checker, header):
    """A resumed eval reruns only the unfinished problems: each one's samples must be those of
    an unbroken run, so its seeds are a function of (run seed, problem, sample index) only."""
    a = dict(row_for(header), name="a3", formal_statement=STATEMENT.replace("t3", "a3"))
    b = dict(row_for(header), name="b3", formal_statement=STATEMENT.replace("t3", "b3"))

    def seeds_for_b(rows):
        policy = ScriptedPolicy(lambda prompt, i: "  exact junk\n```")
        search = MCTS(policy, server_checker, SamplingParams(max_tokens=64, seed=5), budget=2, round_size=1)
        list(search.run(rows))
        return [params.seed for prompts, params in policy.calls if "b3" in prompts[0]]

    alone, after_a = seeds_for_b([b]), seeds_for_b([a, b])
    assert alone and alone == after_a
    assert len(set(alone)) == len(alone)
