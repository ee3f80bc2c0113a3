"""The LeanDojo adapter, and the LeanDojo Benchmark 4 loader. Two layers: a stand-in with
lean-dojo's API shape (runs everywhere), and, where the `leandojo` extra is installed, lean-dojo's
real classes: a real LeanGitRepo/Theorem over a local git repository (offline), a real Dojo
whose run_tac maps replies, with only the Lean process replaced by recorded REPL replies.
Neither decides whether a proof counts: the real Checker does."""
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Optional

import pytest

from protocol.policy import SamplingParams
from prover.policies.scripted import ScriptedPolicy
from search.bfs import BestFirst
from search.leandojo import DojoTacticEnv, load_benchmark, tactic_step_records


# -- a stand-in with lean-dojo's shapes ---------------------------------------------------------
@dataclass(frozen=True)
class TacticState:
    pp: str
    id: int
    message: Optional[str] = None


@dataclass(frozen=True)
class ProofFinished:
    tactic_state_id: int
    message: Optional[str] = None


@dataclass(frozen=True)
class LeanError:
    error: str


@dataclass(frozen=True)
class ProofGivenUp:
    pass


class StandInDojo:
    """`with StandInDojo(theorem) as (dojo, init)`, then dojo.run_tac(state, tactic), from a
    table {(state id, tactic): result}."""

    def __init__(self, theorem, table, init):
        self.theorem, self.table, self.init = theorem, table, init
        self.exited = False

    def __enter__(self):
        return self, self.init

    def __exit__(self, *exc):
        self.exited = True

    def run_tac(self, state, tactic):
        return self.table.get((state.id, tactic), LeanError(f"unknown tactic {tactic}"))


INIT = TacticState("p q : Prop\nh : And p q\n⊢ And q p", 0)
TABLE = {
    (0, "constructor"): TacticState("case left\np q : Prop\nh : And p q\n⊢ q\n\ncase right\np q : Prop\nh : And p q\n⊢ p", 1),
    (1, "exact h.2"): TacticState("case right\np q : Prop\nh : And p q\n⊢ p", 2),
    (2, "exact h.1"): ProofFinished(3),
    (2, "exact h.2"): ProofFinished(4),  # the stand-in lies here: the Checker must catch it
    (0, "sorry"): ProofGivenUp(),
}


def make_env(opened):
    def factory(theorem):
        d = StandInDojo(theorem, TABLE, INIT)
        opened.append(d)
        return d
    return DojoTacticEnv(dojo_factory=factory, theorem_for=lambda row: row["name"])


def test_results_map_to_search_steps():
    opened = []
    env = make_env(opened)
    root = env.start({"name": "and_swap"})
    assert root.status == "open" and root.goals == ["p q : Prop\nh : And p q\n⊢ And q p"]
    split = env.apply(root.state, "constructor")
    assert split.status == "open" and len(split.goals) == 2 and split.goals[1].startswith("case right")
    assert env.apply(root.state, "exact foo").status == "error"
    assert "gave up" in env.apply(root.state, "sorry").error
    step = env.apply(split.state, "exact h.2")
    done = env.apply(step.state, "exact h.1")
    assert done.status == "proved" and done.tactics == ("constructor", "exact h.2", "exact h.1")
    env.start({"name": "next"})
    assert opened[0].exited and not opened[1].exited  # one Dojo open at a time
    env.close()
    assert opened[1].exited


def test_a_dojo_that_cannot_open_is_an_error_not_a_crash():
    def broken(theorem):
        raise RuntimeError("trace failed")
    env = DojoTacticEnv(dojo_factory=broken, theorem_for=lambda row: row)
    res = env.start({"name": "x"})
    assert res.status == "error" and "trace failed" in res.error


@pytest.mark.lean
@pytest.mark.parametrize("last, ok", [("exact h.1", True), ("exact h.2", False)])
def test_bfs_over_the_dojo_counts_only_what_lean_accepts(server_checker, header, last, ok):
    row = {"name": "and_swap", "header": header, "prompt_header": "",
           "formal_statement": "theorem and_swap (p q : Prop) (h : p ∧ q) : q ∧ p :="}
    script = ["constructor", "exact h.2", last]

    def policy(prompt, i):
        body = prompt.split(":= by\n", 1)[1].split("/- tactic state")[0]
        return script[len([x for x in body.split("\n") if x.strip()])]

    record = BestFirst(ScriptedPolicy(policy), server_checker, SamplingParams(), budget=3, env=make_env([]),
                       expand_k=1).search(row)
    assert record.solved is ok and record.extra["env"] == "leandojo"
    assert record.attempts[-1].verdict["backend"] == "server"
    assert record.extra["env_proved_not_confirmed"] == (0 if ok else 1)


# -- LeanDojo Benchmark 4 ----------------------------------------------------------------------------
THEOREMS = [{
    "url": "https://github.com/leanprover-community/mathlib4", "commit": "abc", "file_path": "Mathlib/Logic/Basic.lean",
    "full_name": "and_swap'", "start": [1, 1], "end": [3, 1],
    "traced_tactics": [
        {"tactic": "constructor", "annotated_tactic": ["constructor", []],
         "state_before": "p q : Prop\nh : p ∧ q\n⊢ q ∧ p", "state_after": "case left\n..."},
        {"tactic": "", "state_before": "⊢ x", "state_after": ""},
        {"tactic": "exact h.2", "annotated_tactic": ["exact h.2", []],
         "state_before": "case left\np q : Prop\n⊢ q\n\ncase right\np q : Prop\n⊢ p", "state_after": "case right\n⊢ p"},
    ]}]


def test_benchmark_loader_reads_json_lists_jsonl_and_directories(tmp_path):
    (tmp_path / "random").mkdir()
    (tmp_path / "random" / "train.json").write_text(json.dumps(THEOREMS))
    (tmp_path / "val.jsonl").write_text("\n".join(json.dumps(t) for t in THEOREMS) + "\n")
    assert load_benchmark(tmp_path, "random/train") == THEOREMS
    assert load_benchmark(tmp_path / "random" / "train.json") == THEOREMS
    assert load_benchmark(tmp_path / "val.jsonl") == THEOREMS
    with pytest.raises(ValueError):
        load_benchmark(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_benchmark(tmp_path, "novel_premises/test")


def test_sft_records_pair_each_state_with_its_tactic():
    recs = tactic_step_records(THEOREMS)
    assert len(recs) == 2  # the empty tactic is skipped
    assert recs[0]["completion"] == "  constructor\n"
    assert recs[0]["prompt"].endswith("/- tactic state:\n  p q : Prop\n  h : p ∧ q\n  ⊢ q ∧ p\n  -/\n")
    assert "  case right" in recs[1]["prompt"] and recs[1]["full_name"] == "and_swap'"
    with pytest.raises(ValueError):
        tactic_step_records(THEOREMS, fmt="kimina")


# -- lean-dojo's real classes (the `leandojo` extra) --------------------------------------------
LEAN_FILE = "theorem and_swap (p q : Prop) (h : p ∧ q) : q ∧ p := by\n  constructor\n  exact h.2\n  exact h.1\n"


@pytest.fixture(scope="module")
def lean_dojo(tmp_path_factory):
    """lean_dojo imported with its cache in a temp dir and its remote cache off (read at import)."""
    if "lean_dojo" not in sys.modules:
        os.environ["CACHE_DIR"] = str(tmp_path_factory.mktemp("lean_dojo_cache"))
        os.environ["DISABLE_REMOTE_CACHE"] = "1"
    return pytest.importorskip("lean_dojo", reason="lean-dojo is not installed: pip install -e '.[leandojo]'")


@pytest.fixture(scope="module")
def local_repo(tmp_path_factory):
    """A Lean project as a local git repository: what LeanGitRepo accepts without GitHub."""
    repo = tmp_path_factory.mktemp("lean_repo")
    (repo / "lean-toolchain").write_text("leanprover/lean4:v4.20.0\n")
    (repo / "Logic").mkdir()
    (repo / "Logic" / "Basic.lean").write_text(LEAN_FILE)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-C", str(repo)]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        subprocess.run(git + args, check=True)
    commit = subprocess.run(git + ["rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    return {"url": str(repo), "commit": commit, "file_path": "Logic/Basic.lean", "full_name": "and_swap"}


def replay_dojo_class(lean_dojo):
    """lean_dojo.Dojo with only its Lean process replaced: __enter__ (trace + `lake env lean`)
    returns the initial state the REPL would send, _submit_request answers from recorded
    replies {(sid, tactic): reply}. run_tac, the part that maps replies to results, is real."""
    state = "p q : Prop\nh : p ∧ q\n⊢ q ∧ p"
    two = "case left\np q : Prop\nh : p ∧ q\n⊢ q\n\ncase right\np q : Prop\nh : p ∧ q\n⊢ p"
    replies = {
        (0, "constructor"): {"sid": 1, "tacticState": two, "error": None},
        (1, "exact h.2"): {"sid": 2, "tacticState": "case right\np q : Prop\nh : p ∧ q\n⊢ p", "error": None},
        (2, "exact h.1"): {"sid": 3, "tacticState": "no goals", "error": None},
        (2, "exact h.2"): {"sid": 4, "tacticState": "no goals", "error": None},  # a lie the Checker must catch
        (0, "sorry"): {"sid": None, "tacticState": None, "error": "proof contains `sorry`"},
        (0, "crash"): "crash",
    }

    class ReplayDojo(lean_dojo.Dojo):
        opened: list = []

        def __enter__(self):
            self.exited = False
            ReplayDojo.opened.append(self)
            return self, lean_dojo.TacticState(state, 0)

        def __exit__(self, *exc):
            self.exited = True

        def _submit_request(self, req):
            r = json.loads(req)
            reply = replies.get((r["sid"], r["cmd"]))
            if reply == "crash":
                raise lean_dojo.DojoCrashError("Unexpected EOF")
            if reply is None:
                reply = {"sid": None, "tacticState": None, "error": f"unknown tactic '{r['cmd']}'\n"}
            return {**reply, "message": ""}

    return ReplayDojo


def test_benchmark_rows_build_real_theorems(lean_dojo, local_repo):
    from search.leandojo import dojo_theorem

    thm = dojo_theorem(local_repo)
    assert isinstance(thm, lean_dojo.Theorem) and isinstance(thm.repo, lean_dojo.LeanGitRepo)
    assert str(thm.file_path) == "Logic/Basic.lean" and thm.repo.commit == local_repo["commit"]
    assert thm.repo.lean_version == "v4.20.0"  # read from the repository's lean-toolchain
    with pytest.raises(ValueError, match=r"\.lean file"):
        dojo_theorem({**local_repo, "file_path": "Logic/Basic"})
    with pytest.raises(ValueError, match="commit"):
        dojo_theorem({**local_repo, "commit": ""})


def test_real_dojo_results_map_to_search_steps(lean_dojo, local_repo):
    Replay = replay_dojo_class(lean_dojo)
    env = DojoTacticEnv(dojo_factory=lambda thm: Replay(thm, timeout=5))  # real dojo_theorem
    root = env.start(local_repo)
    assert root.status == "open" and root.goals == ["p q : Prop\nh : p ∧ q\n⊢ q ∧ p"]
    assert isinstance(root.state[0], lean_dojo.TacticState)
    split = env.apply(root.state, "constructor")
    assert split.status == "open" and split.state[0].num_goals == len(split.goals) == 2
    wrong = env.apply(root.state, "exact foo")
    assert wrong.status == "error" and wrong.error == "unknown tactic 'exact foo'"  # LeanError, stripped
    assert "gave up" in env.apply(root.state, "sorry").error  # ProofGivenUp
    crashed = env.apply(root.state, "crash")
    assert crashed.status == "error" and "DojoCrashError" in crashed.error
    done = env.apply(env.apply(split.state, "exact h.2").state, "exact h.1")
    assert done.status == "proved" and isinstance(done.state[0], lean_dojo.ProofFinished)
    assert Replay.opened[-1].is_successful  # the real Dojo's own bookkeeping ran
    env.close()
    assert Replay.opened[-1].exited


def test_a_theorem_that_cannot_be_built_is_an_error_step(lean_dojo, local_repo):
    env = DojoTacticEnv(dojo_factory=lambda thm: pytest.fail("no Dojo without a theorem"))
    res = env.start({**local_repo, "url": str(local_repo["url"]) + "-missing"})
    assert res.status == "error" and "could not open the theorem" in res.error


@pytest.mark.lean
@pytest.mark.parametrize("last, ok", [("exact h.1", True), ("exact h.2", False)])
def test_bfs_over_a_real_dojo_counts_only_what_lean_accepts(lean_dojo, local_repo, server_checker, header, last, ok):
    Replay = replay_dojo_class(lean_dojo)
    row = {**local_repo, "name": "and_swap", "header": header, "prompt_header": "",
           "formal_statement": "theorem and_swap (p q : Prop) (h : p ∧ q) : q ∧ p :="}
    script = ["constructor", "exact h.2", last]

    def policy(prompt, i):
        body = prompt.split(":= by\n", 1)[1].split("/- tactic state")[0]
        return script[len([x for x in body.split("\n") if x.strip()])]

    env = DojoTacticEnv(dojo_factory=lambda thm: Replay(thm, timeout=5))
    record = BestFirst(ScriptedPolicy(policy), server_checker, SamplingParams(), budget=3, env=env,
                       expand_k=1).search(row)
    assert record.solved is ok and record.extra["env_proved_not_confirmed"] == (0 if ok else 1)
