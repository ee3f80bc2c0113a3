"""The search registry: one interface (search.base.Search), methods found by name, their knobs
typed from the CLI's strings or YAML, shared settings only where a method has them, and a new
method usable from evaluation by registering one class."""
from dataclasses import dataclass

import pytest

from lean_env.checker import Checker
from lean_env.factory import make_checker
from lean_env.interface import ProofChecker
from lean_env.running.settings import Settings
from prover.evaluation import EvalError, EvalSpec, run_eval
from prover.policies.scripted import ScriptedPolicy
from protocol.policy import SamplingParams
from search import registry
from search.base import Search
from search.records import Attempt

AND_SWAP = "theorem and_swap (p q : Prop) (h : p ∧ q) : q ∧ p :="


def test_every_builtin_method_is_registered_with_a_config():
    found = registry.methods()
    assert list(found)[:4] == ["best-of-n", "mcts", "bfs", "repair"]
    for name, cls in found.items():
        assert issubclass(cls, Search) and cls.name == name and cls.method
        cls.Config()  # every knob has a default


def test_options_are_typed_from_strings_and_yaml_values():
    assert registry.parse_options("mcts", {"c": "2.5", "max_checks": "none", "round_size": "4"}) == \
        {"c": 2.5, "max_checks": None, "round_size": 4}
    assert registry.parse_options("mcts", {"c": 2, "max-checks": 64}) == {"c": 2.0, "max_checks": 64}
    assert registry.parse_options("best-of-n", {"stop_at_first": "false"}) == {"stop_at_first": False}


@pytest.mark.parametrize("method, options, named", [
    ("mcts", {"cc": "1"}, "has no option 'cc'"),
    ("mcts", {"c": "abc"}, "expected float"),
    ("mcts", {"c": "nan"}, "must be"),
    ("bfs", {"expand_k": "1e12"}, "expected int"),
    ("bfs", {"expand_k": True}, "expected int"),
    ("best-of-n", {"stop_at_first": "maybe"}, "expected bool"),
    ("mctss", {}, "unknown search 'mctss'"),
])
def test_a_bad_option_is_an_error_naming_it(method, options, named):
    with pytest.raises(ValueError, match=named):
        registry.parse_options(method, options)


def test_shared_settings_reach_only_methods_that_have_them():
    policy = ScriptedPolicy({})
    mcts = registry.build("mcts", policy, None, SamplingParams(), 4, "deepseek-v1.5", round_size=2,
                          stop_at_first=True, batch_problems=8, options={"c": 3.0})
    assert mcts.config.round_size == 2 and mcts.c == 3.0 and not hasattr(mcts.config, "batch_problems")
    bon = registry.build("best-of-n", policy, None, SamplingParams(), 4, "deepseek-v1.5", batch_problems=3)
    assert bon.batch_problems == 3 and bon.stop_at_first
    with pytest.raises(ValueError, match="has no option"):
        registry.get("bfs")(policy, None, SamplingParams(), 4, round_size=2)


def test_all_samples_from_a_method_that_stops_at_the_first_proof_is_refused_before_loading(tmp_path):
    spec = EvalSpec(dataset="logic", k=2, limit=1, search="mcts", stop_at_first=False)
    with pytest.raises(EvalError, match="always stops at a problem's first proof"):
        run_eval(spec, tmp_path / "run", policy=ScriptedPolicy({}), checker=None)


@dataclass
class TwiceConfig:
    proof: str = " ⟨h.2, h.1⟩"


class Twice(Search):
    """A method written for this test: the configured proof, checked by the real Lean."""

    name = "test-fixed-proof"
    method = "test_fixed_proof"
    Config = TwiceConfig

    def _solve(self, row):
        import time

        from lean_env.soundness.verdict import ProofTask
        from search.records import ProblemRecord

        started = time.monotonic()
        record = ProblemRecord.for_row(row, self.method, self.budget)
        task = ProofTask(row["formal_statement"], header=row.get("header", ""), proof=self.config.proof,
                         name=row.get("name", ""))
        verdict = self.checker.check(task)
        self.stats.checks += 1
        attempt = Attempt(completion=self.config.proof, task={"proof": self.config.proof},
                          verdict=verdict.to_dict())
        record.close([attempt], 0.0, started)
        return record


def test_a_registered_method_runs_through_evaluation_with_its_options(tmp_path, header, cli_checker):
    registry.register(Twice)
    try:
        rows = tmp_path / "rows.jsonl"
        rows.write_text('{"name": "and_swap", "header": ' + __import__("json").dumps(header) +
                        ', "formal_statement": "' + AND_SWAP + '"}\n', encoding="utf-8")
        good = run_eval(EvalSpec(dataset=str(rows), k=1, search="test-fixed-proof"), tmp_path / "good",
                        policy=ScriptedPolicy({}), checker=cli_checker)
        bad = run_eval(EvalSpec(dataset=str(rows), k=1, search="test-fixed-proof",
                                search_options={"proof": " ⟨h.1, h.2⟩"}), tmp_path / "bad",
                       policy=ScriptedPolicy({}), checker=cli_checker)
        assert [r.solved for r in good.records] == [True] and [r.solved for r in bad.records] == [False]
        assert bad.card["search_options"] == {"proof": " ⟨h.1, h.2⟩"} and "search_options" not in good.card
    finally:
        registry._METHODS.pop("test-fixed-proof", None)


def test_one_factory_builds_every_checker_with_one_default():
    settings = Settings.from_env(timeout=30)
    with make_checker(None, settings) as default, make_checker("cli", settings, workers=1) as cli:
        assert isinstance(default, Checker) and isinstance(default, ProofChecker) and isinstance(cli, ProofChecker)
        from lean_env.checker import default_backend

        assert default.backend.name == default_backend(settings) and cli.backend.name == "cli" and cli.workers == 1


def test_a_yaml_file_names_the_method_and_its_knobs_and_minus_o_wins(tmp_path):
    from prover.choices import UsageError, search_choice

    cfg = tmp_path / "search.yaml"
    cfg.write_text("method: repair\nrevisions: 3\nround_size: 2\n", encoding="utf-8")
    assert search_choice("best-of-n", ["round_size=4"], cfg) == ("repair", {"revisions": 3, "round_size": 4})
    with pytest.raises(UsageError, match="says method: repair"):
        search_choice("mcts", None, cfg)
    cfg.write_text("revisions: [1, 2]\n", encoding="utf-8")
    with pytest.raises(UsageError, match="revisions"):
        search_choice("repair", None, cfg)
