"""search.step_data: (goal state -> next tactic) rows read from the real Lean server along
logic-v2's reference tactic proofs. Each row's prompt is what BFS shows at that state (BFS,
driven by the rows themselves, asks exactly these prompts and finds the proof), its state is
the goal Lean reports there, and the completions concatenated are a proof Lean accepts."""
import json

import pytest

from protocol.policy import SamplingParams
from prover.policies.scripted import ScriptedPolicy
from search.bfs import BestFirst
from search.step_data import build, flat_tactics, proof_row, step_rows, walk
from search.tactic_env import ServerTacticEnv, state_comment, tactic_proof, unsolved_goals


def test_bullets_are_dropped_in_order():
    proof = " by\n  intro h1\n  constructor\n  · constructor\n    · intro h2\n      exact h1\n    · exact ha\n  · exact h1"
    assert flat_tactics(proof) == ["intro h1", "constructor", "constructor", "intro h2", "exact h1", "exact ha",
                                   "exact h1"]


def test_two_armed_cases_becomes_rcases_even_when_nested():
    proof = (" by\n  intro h3\n  cases h2 with\n  | inl h4 =>\n    cases h4 with\n    | inl a =>\n      exact a\n"
             "    | inr b =>\n      exact b.1\n  | inr h5 =>\n    apply h5")
    assert flat_tactics(proof) == ["intro h3", "rcases h2 with h4 | h5", "rcases h4 with a | b", "exact a",
                                   "exact b.1", "apply h5"]


@pytest.mark.parametrize("proof, why", [
    ("fun h => h", "not a tactic proof"),
    (" by\n  cases h with\n  | inl a =>\n    exact a", "two arms"),
    (" by\n  | inl a =>\n    exact a", "outside `cases"),
    (" by\n  cases h with\n  | inl a => exact a\n  | inr b => exact b", "same line"),
])
def test_what_cannot_be_flattened_is_a_clear_error(proof, why):
    with pytest.raises(ValueError, match=why):
        flat_tactics(proof)


# -- on the real Lean ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_rows():
    """A few train rows of logic-v2: one with focus bullets, one with `cases … with`, one
    first-order with `obtain`, one with equality (`rw`)."""
    import data

    rows = data.load("logic-v2", split="train")
    picks = []
    for needle in ("· constructor", "| inl", "obtain", "rw ["):
        picks.append(next(r for r in rows if needle in r["proof_tactic"] and r not in picks))
    return picks


@pytest.mark.lean
def test_rows_are_what_bfs_asks_and_the_states_are_lean_s(server_checker, sample_rows):
    from lean_env import ProofTask

    env = ServerTacticEnv(server_checker)
    for row in sample_rows:
        w = walk(server_checker, row)
        assert w.proved, (row["name"], w.error)
        rows = step_rows(w)
        assert [r["completion"] for r in rows] == [t + "\n" for t in w.tactics]
        assert all(r["name"] == row["name"] and r["split"] == "train" for r in rows)
        # the state in each prompt (after the first) is the goal Lean lists as unsolved after the
        # script so far, read from the Checker's own messages (not the server's goal query)
        for i, r in enumerate(rows[1:], 1):
            prefix = " by\n" + "".join("  " + x["completion"] for x in rows[:i])
            v = server_checker.check(ProofTask(formal_statement=row["formal_statement"], header=row["header"],
                                               proof=prefix.rstrip("\n")))
            assert not v.ok and unsolved_goals(v), (row["name"], i, v.summary())
            assert r["prompt"].endswith(state_comment(unsolved_goals(v))), (row["name"], i)
        # the completions concatenated are a proof Lean accepts
        proof = " by\n" + "".join("  " + r["completion"] for r in rows).rstrip("\n")
        v = server_checker.check(ProofTask(formal_statement=row["formal_statement"], header=row["header"],
                                           proof=proof))
        assert v.ok and v.axioms == [], (row["name"], v.summary())
        # BFS, answering each prompt with that row's completion, asks exactly these prompts in order
        answers = {r["prompt"]: r["completion"] for r in rows}
        policy = ScriptedPolicy(lambda prompt, i: answers.get(prompt, "skip\n"))
        record = BestFirst(policy, server_checker, SamplingParams(), budget=len(rows), env=env,
                           expand_k=1).search(row)
        asked = [p for prompts, _ in policy.calls for p in prompts]
        assert asked == [r["prompt"] for r in rows]
        assert record.solved and record.attempts[record.first_success_index].verdict["ok"]
        # a byte-level BPE tokenizes prompt + completion with the prompt's own tokens first, so
        # SFT trains on exactly the context BFS shows (an indented completion would not be)
        from prover.tiny_model import train_tokenizer

        tok = train_tokenizer()
        for r in rows:
            ids = tok(r["prompt"])["input_ids"]
            assert tok(r["prompt"] + r["completion"])["input_ids"][:len(ids)] == ids


@pytest.mark.lean
def test_the_walk_reads_the_states_search_reaches_tactic_by_tactic(server_checker, sample_rows):
    """The walk reads every state from one elaboration of the whole script; search applies one
    tactic at a time. Both must give the same goals at every state, or SFT trains on prompts BFS
    never shows (generated theorems of both size streams, the shipped samples' bullets, cases,
    obtain and rw)."""
    import data

    rows = sample_rows + data.load("logic-v2-train:12:seed=3") + data.load("logic-v2-train:6:seed=3:large")
    env = ServerTacticEnv(server_checker)
    for row in rows:
        w = walk(server_checker, row)
        assert w.proved, (row["name"], w.error)
        start = env.start(row)
        stepped, state = [start.goals], start.state
        for tactic in w.tactics[:-1]:
            res = env.apply(state, tactic)
            assert res.status == "open", (row["name"], tactic, res.error)
            stepped.append(res.goals)
            state = res.state
        assert env.apply(state, w.tactics[-1]).status == "proved", row["name"]
        assert w.goals == stepped, row["name"]


@pytest.mark.lean
def test_a_script_that_proves_early_or_not_at_all_gives_no_walk(server_checker, sample_rows):
    row = sample_rows[0]
    tactics = flat_tactics(row["proof_tactic"])
    early = dict(row, proof_tactic=" by\n" + "".join(f"  {t}\n" for t in tactics + ["exact trivial"]).rstrip("\n"))
    short = dict(row, proof_tactic=" by\n" + "".join(f"  {t}\n" for t in tactics[:-1]).rstrip("\n"))
    for bad in (early, short):
        w = walk(server_checker, bad)
        assert not w.proved and w.goals == [] and step_rows(w) == [], w.error


@pytest.mark.lean
def test_whole_proof_rows_and_a_wrong_reference_is_skipped(server_checker, sample_rows):
    from lean_env import ProofTask

    broken = dict(sample_rows[0], name="broken", proof_tactic=" by\n  intro h1\n  exact nonsense")
    records, walks = build([sample_rows[1], broken], server_checker, with_proofs=True)
    assert [w.proved for w in walks] == [True, False] and "nonsense" in walks[1].error
    assert {r["name"] for r in records} == {sample_rows[1]["name"]}
    whole = [r for r in records if r["kind"] == "proof"]
    assert len(whole) == 1 and whole[0]["completion"].endswith("\n```")
    assert whole[0] == proof_row(walks[0])
    v = server_checker.check(ProofTask(formal_statement=sample_rows[1]["formal_statement"],
                                       header=sample_rows[1]["header"],
                                       proof=whole[0]["completion"][:-len("\n```")]))
    assert v.ok, v.summary()
    json.dumps(records)  # plain jsonl rows


@pytest.mark.lean
def test_a_goal_query_leaves_no_state_that_a_later_verdict_reads(sample_rows):
    """The walk loads a text into a server worker outside Checker.check (its goal query). A
    policy's next check on that same worker, of a wrong proof of the same theorem, or of the
    walked script cut short, must still be judged on its own text: not ok."""
    from lean_env import ProofTask
    from lean_env.checker import Checker
    from lean_env.running.settings import Settings

    row = sample_rows[1]
    tactics = flat_tactics(row["proof_tactic"])
    with Checker("server", Settings.from_env(timeout=60), workers=1) as one:
        for proof in (" by\n  exact nonsense", " by\n" + "\n".join("  " + t for t in tactics[:-1]),
                      " by\n  sorry"):
            assert walk(one, row).proved
            v = one.check(ProofTask(formal_statement=row["formal_statement"], header=row["header"], proof=proof))
            assert not v.ok, (proof, v.summary())
        assert walk(one, row).proved
        v = one.check(ProofTask(formal_statement=row["formal_statement"], header=row["header"],
                                proof=tactic_proof(row["formal_statement"], tactics)))
        assert v.ok, v.summary()
