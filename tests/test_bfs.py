"""Best-first search (search.bfs): the search logic against a stand-in tactic environment,
one real proof on the Lean server TacticEnv, and REPL tactic mode parsed from the real
leanprover-community/repl transcripts. A proof counts only after the real Checker agrees."""
from tests.shared_data import TRANSCRIPTS as ALL_TRANSCRIPTS
import json
import shlex
import sys
from pathlib import Path

import pytest

from lean_env.running.repl_protocol import parse_response, split_requests, split_responses
from protocol.policy import Completion, SamplingParams
from prover.policies.scripted import ScriptedPolicy
from search.bfs import BestFirst
from search.tactic_env import (ReplTacticEnv, ServerTacticEnv, TacticResult, interpret_tactic_response,
                               state_key, tactic_proof)

TRANSCRIPTS = ALL_TRANSCRIPTS / "core"
FAKE = Path(__file__).parent / "fakes" / "fake_repl.py"
AND_SWAP = "theorem and_swap (p q : Prop) (h : p ∧ q) : q ∧ p :="


class StandInEnv:
    """A tactic environment from a table: state (tuple of tactics) -> {tactic: goals | "error"}.
    It never says "proved" (a finished proof needs real Lean), so it tests search order only."""

    name = "stand-in"

    def __init__(self, table):
        self.table = table
        self.applied = []

    def start(self, row):
        return TacticResult("open", ["⊢ goal"], (), ())

    def apply(self, state, tactic):
        self.applied.append((state, tactic))
        out = self.table.get(state, {}).get(tactic, "error")
        tactics = tuple(state) + (tactic,)
        if out == "error":
            return TacticResult("error", tactics=tactics, error="no")
        return TacticResult("open", out, tactics, tactics)

    def close(self):
        pass


class LogprobPolicy:
    """Answers each prompt with fixed (tactic, logprob) proposals, keyed by the last tactic line."""

    backend, name, tokenizer = "scripted", "logprob", None

    def __init__(self, proposals):
        self.proposals = proposals
        self.prompts = []

    def generate(self, prompts, params):
        out = []
        for p in prompts:
            self.prompts.append(p)
            body = p.split(":= by\n", 1)[1].split("/- tactic state")[0]
            key = tuple(t.strip() for t in body.split("\n") if t.strip())
            props = self.proposals.get(key, [("nope", -9.0)])
            out.append([Completion(t, "stop", 1, lp) for t, lp in (props * params.n)[: params.n]])
        return out

    def close(self):
        pass


def depth_of(prompt):
    """How many tactics the prompt's script already has."""
    body = prompt.split(":= by\n", 1)[1].split("/- tactic state")[0]
    return len([line for line in body.split("\n") if line.strip()])


ROW = {"name": "s", "header": "", "formal_statement": "theorem s (p : Prop) : p :="}


def test_expands_the_state_with_the_highest_cumulative_logprob_first():
    table = {(): {"a": ["⊢ A"], "b": ["⊢ B"]}, ("a",): {"a1": ["⊢ A1"]}, ("b",): {"b1": ["⊢ B1"]}}
    policy = LogprobPolicy({(): [("a", -2.0), ("b", -0.5)], ("a",): [("a1", -0.1)], ("b",): [("b1", -3.0)],
                            ("b", "b1"): [("x", -1.0)]})
    env = StandInEnv(table)
    record = BestFirst(policy, None, SamplingParams(), budget=9, env=env, expand_k=2).search(ROW)
    expanded = [s for s, _ in env.applied]
    # root, then b (-0.5), then a (-2.0 beats b,b1 at -3.5), then a,a1 (-2.1), then b,b1 (-3.5)
    order = list(dict.fromkeys(expanded))
    assert order == [(), ("b",), ("a",), ("a", "a1"), ("b", "b1")]
    assert record.n == 9 and not record.solved and record.method == "bfs"
    assert record.extra["states"] == 4 and record.extra["expansions"] == 5


def test_duplicates_repeated_states_and_budget():
    table = {(): {"a": ["⊢ G"], "b": ["⊢ G"]}}  # two tactics reaching the same goals
    policy = LogprobPolicy({(): [("a", -1.0), ("a", -1.0), ("b", -1.5)]})
    env = StandInEnv(table)
    record = BestFirst(policy, None, SamplingParams(), budget=3, env=env, expand_k=3).search(ROW)
    assert [a.why_not.split(":")[0] for a in record.attempts] == ["open", "duplicate tactic (already applied to this state)", "open"]
    assert len(env.applied) == 2  # the duplicate was not applied again
    assert record.extra["states"] == 1  # the second route to the same goals was not queued
    assert record.extra.get("stopped") in (None, "exhausted") and record.n == 3


def test_tactic_prompt_shows_the_script_and_the_goals():
    policy = LogprobPolicy({(): [("intro h", -0.1)], ("intro h",): [("x", -1.0)]})
    env = StandInEnv({(): {"intro h": ["h : p\n⊢ q"]}})
    BestFirst(policy, None, SamplingParams(), budget=2, env=env, expand_k=1).search(ROW)
    assert policy.prompts[1].endswith(":= by\n  intro h\n  /- tactic state:\n  h : p\n  ⊢ q\n  -/\n")


def test_tactic_proof_shapes():
    assert tactic_proof("theorem t : True :=", ["a", "b"]) == " by\n  a\n  b"
    assert tactic_proof("theorem t : True := by\n", ["a"]) == "  a"
    assert tactic_proof("theorem t : True := by", ["a"]) == "\n  a"
    assert state_key(["b", "a  c"]) == state_key(["a c", "b"])


# -- REPL tactic mode, parsed from the real transcripts ------------------------------------------
def transcript(name):
    reqs = [json.loads(r) for r in split_requests((TRANSCRIPTS / f"{name}.in").read_text(encoding="utf-8"))]
    resps = [parse_response(json.loads(r))
             for r in split_responses((TRANSCRIPTS / f"{name}.expected.out").read_text(encoding="utf-8"))]
    return list(zip(reqs, resps))


def test_repl_tactic_responses_become_search_steps():
    steps = [interpret_tactic_response(r, ("t",)) for q, r in transcript("proof_branching") if "tactic" in q]
    assert [s.status for s in steps] == ["open", "open", "open", "proved"]
    assert steps[0].goals[0].startswith("case left") and len(steps[0].goals) == 2
    assert steps[0].state == (1, ("t",))
    # the traps: no goals but an elaboration error / a kernel failure / a sorry are not proofs
    for name in ("invalid_tactic", "self_proof_apply_check", "tactic_mode_sorry"):
        last = [r for q, r in transcript(name) if "tactic" in q][-1]
        assert interpret_tactic_response(last, ("t",)).status == "error", name


@pytest.mark.lean
def test_bfs_on_replayed_repl_tactic_mode_rechecks_with_real_lean(server_checker, header):
    """The REPL answers are a real v4.24 transcript replayed by the stand-in; the theorem also
    holds over the logic prelude, so the final whole-proof check is real Lean's."""
    from lean_env.running.backends.repl import ReplWorker
    from lean_env.running.settings import Settings

    argv = shlex.split(f"{shlex.quote(sys.executable)} {shlex.quote(str(FAKE))}") + [
        "--replay", str(TRANSCRIPTS / "proof_branching.expected.out")]
    worker = ReplWorker(argv, Settings.from_env(timeout=30), [Path(sys.executable)], {})
    env = ReplTacticEnv(worker, timeout=10, send_header=False)
    statement = "theorem complex_and (p q r : Prop) (h1 : p ∧ q) (h2 : q → r) : p ∧ r :="
    row = {"name": "complex_and", "header": header, "prompt_header": "", "formal_statement": statement}
    script = ["apply And.intro", "exact h1.left", "apply h2", "exact h1.right"]
    policy = ScriptedPolicy(lambda prompt, i: script[depth_of(prompt)])
    try:
        record = BestFirst(policy, server_checker, SamplingParams(), budget=8, env=env, expand_k=1).search(row)
    finally:
        env.close()
    assert record.solved and record.n == 4 and record.extra["env"] == "repl"
    assert record.attempts[-1].verdict["ok"] and record.attempts[-1].verdict["backend"] == "server"
    assert record.attempts[-1].task["proof"] == tactic_proof(statement, script)


# -- the Lean server TacticEnv: one small real proof ----------------------------------------------
@pytest.mark.lean
def test_server_tactic_env_real_states_and_proof(server_checker, header):
    env = ServerTacticEnv(server_checker)
    row = {"name": "and_swap", "header": header, "prompt_header": "", "formal_statement": AND_SWAP}
    root = env.start(row)
    assert root.status == "open" and root.goals == ["p q : Prop\nh : And p q\n⊢ And q p"]
    bad = env.apply(root.state, "exact h")
    assert bad.status == "error" and "Type mismatch" in bad.error and bad.verdict is not None
    split = env.apply(root.state, "constructor")
    assert split.status == "open" and [g.split("\n")[0] for g in split.goals] == ["case left", "case right"]
    # BFS finds the proof; the finishing attempt carries the Checker's own verdict
    proposals = {0: ["exact h", "constructor"], 1: ["exact h.1", "exact h.2"], 2: ["exact h.1"]}

    def script(prompt, i):
        opts = proposals.get(depth_of(prompt), ["skip"])
        return opts[i % len(opts)]

    record = BestFirst(ScriptedPolicy(script), server_checker, SamplingParams(), budget=10, env=env,
                       expand_k=2).search(row)
    assert record.solved
    final = record.attempts[record.first_success_index]
    assert final.task["proof"] == " by\n  constructor\n  exact h.2\n  exact h.1"
    assert final.verdict["ok"] and final.verdict["status"] == "proved" and final.verdict["axioms"] == []


class LyingEnv(StandInEnv):
    """Says any tactic finishes the proof: the Checker must refuse to count it."""

    def apply(self, state, tactic):
        tactics = tuple(state) + (tactic,)
        return TacticResult("proved", [], tactics, tactics)


@pytest.mark.lean
def test_an_environment_claiming_a_proof_is_not_believed(server_checker, header):
    row = {"name": "and_swap", "header": header, "prompt_header": "", "formal_statement": AND_SWAP}
    record = BestFirst(ScriptedPolicy({"and_swap": ["exact h"]}), server_checker, SamplingParams(), budget=2,
                       env=LyingEnv({}), expand_k=1).search(row)
    assert not record.solved
    assert record.attempts[0].verdict["status"] == "rejected"
    assert record.extra["env_proved_not_confirmed"] >= 1


class CyclingPolicy:
    """Answers successive calls with successive proposals (a policy that samples something new)."""

    backend, name, tokenizer = "scripted", "cycling", None

    def __init__(self, proposals):
        self.proposals, self.calls = proposals, 0

    def generate(self, prompts, params):
        out = []
        for _ in prompts:
            t, lp = self.proposals[self.calls % len(self.proposals)]
            self.calls += 1
            out.append([Completion(t, "stop", 1, lp)] * params.n)
        return out

    def close(self):
        pass


def test_a_revisited_state_is_sampled_again_instead_of_lost():
    table = {(): {"good": ["⊢ G1"]}}
    proposals = [("bad", -0.1), ("good", -0.5), ("next", -0.1)]
    once = StandInEnv(table)
    record = BestFirst(CyclingPolicy(proposals), None, SamplingParams(), budget=4, env=once, expand_k=1).search(ROW)
    assert once.applied == [((), "bad")] and record.extra["stopped"] == "exhausted" and record.n == 1
    again = StandInEnv(table)
    record = BestFirst(CyclingPolicy(proposals), None, SamplingParams(), budget=4, env=again, expand_k=1,
                       revisit_penalty=1.0).search(ROW)
    # root: bad fails; root again (priority 1.0): good opens G1 (priority 0.5, ahead of root's 2.0)
    assert again.applied[:3] == [((), "bad"), ((), "good"), (("good",), "next")]
    assert record.n == 4 and "stopped" not in record.extra
    # a tactic already applied at a state is not applied there again on a later visit
    assert sum(1 for s, t in again.applied if s == () and t == "bad") == 1


def test_a_lean_check_budget_counts_checks_not_samples():
    # the root proposes one tactic per call: a, a (a sample, no check: already applied), b, c, ...
    proposals = [("a", -0.1), ("a", -0.1), ("b", -0.2), ("c", -0.3), ("d", -0.4), ("e", -0.5)]
    env = StandInEnv({})  # every tactic fails: only the budget ends the search
    record = BestFirst(CyclingPolicy(proposals), None, SamplingParams(), budget=100, env=env, expand_k=1,
                       revisit_penalty=1.0, max_checks=4).search(ROW)
    # 4 checks: the opening probe and 3 tactics applied (a, b, c); the repeated a cost a sample only
    assert [t for _, t in env.applied] == ["a", "b", "c"]
    assert record.extra["checks"] == 4 and record.extra["stopped"] == "checks"
    assert record.n == 4 and record.attempts[1].why_not.startswith("duplicate tactic")
    # without max_checks the same search spends its samples
    env = StandInEnv({})
    record = BestFirst(CyclingPolicy(proposals), None, SamplingParams(), budget=6, env=env, expand_k=1,
                       revisit_penalty=1.0).search(ROW)
    assert len(env.applied) == 5 and record.n == 6 and record.extra["checks"] == 6
    with pytest.raises(ValueError, match="max_checks"):
        BestFirst(CyclingPolicy(proposals), None, SamplingParams(), budget=6, env=env, max_checks=1)
    # a theorem whose opening probe fails spent that one check
    closed = StandInEnv({})
    closed.start = lambda row: TacticResult("error", error="bad statement")
    record = BestFirst(CyclingPolicy(proposals), None, SamplingParams(), budget=6, env=closed, max_checks=4).search(ROW)
    assert record.extra["start_error"] == "bad statement" and record.extra["checks"] == 1 and closed.applied == []
