"""The Lean reward in TRL's calling convention: whole batches through check_many, 1.0 exactly
when the Checker says ok, verdict statistics logged."""
import pytest

from data.logic import generate
from prover.rewards import FormatReward, ProofReward, completion_text
from prover.train.config import TrainConfig
from prover.train.data import grpo_records


class CountingChecker:
    """The real checker, counting how it is called (a spy: every verdict is Lean's)."""

    def __init__(self, checker):
        self.checker = checker
        self.batches: list[int] = []

    def check_many(self, tasks):
        self.batches.append(len(tasks))
        return self.checker.check_many(tasks)


def _columns(records):
    return {key: [r[key] for r in records] for key in ("formal_statement", "header", "informal_prefix", "name")}


@pytest.fixture(scope="module")
def rows():
    return [r for r in generate(60, seed=3, levels=(2,))][:2]


@pytest.mark.lean
def test_rewards_are_the_checkers_verdicts_for_a_whole_group(cli_checker, rows):
    records = grpo_records(rows, TrainConfig())
    a, b = records
    batch = [a, a, a, b, b, b]
    completions = [
        rows[0]["proof"] + "\n```",           # the reference proof: proved
        " fun h => h.2.2.2\n```",             # wrong: rejected by Lean
        " by\n  #eval 1\n```",                # refused by the policy before Lean
        rows[1]["proof"] + "\n```",
        " trivial\n```",
        " fun h =>",                          # cut off at the token limit: nothing to check
    ]
    completion_ids = [[1, 2]] * 5 + [[7] * 16]  # the last one hit max_completion_length without EOS
    spy = CountingChecker(cli_checker)
    logged: dict[str, float] = {}
    reward = ProofReward(spy, "deepseek-v1.5", eos_token_ids=[0], max_completion_length=16)
    out = reward(prompts=[r["prompt"] for r in batch], completions=completions, completion_ids=completion_ids,
                 log_metric=lambda k, v: logged.__setitem__(k, v), **_columns(batch))

    assert spy.batches == [5]  # one concurrent batch for the group, the unextractable one never reaches Lean
    # the same completions through the Checker directly
    _, verdicts, _ = ProofReward(cli_checker).score(batch[:5], completions[:5])
    assert out[:5] == [1.0 if v.ok else 0.0 for v in verdicts]
    assert out == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    assert [v.status for v in verdicts] == ["proved", "rejected", "refused", "proved", "rejected"]
    assert logged["verifier/proved"] == pytest.approx(2 / 6)
    assert logged["verifier/refused"] == pytest.approx(1 / 6)
    assert logged["verifier/unextracted"] == pytest.approx(1 / 6)
    assert logged["verifier/mean_check_seconds"] > 0
    assert reward.calls == 1 and reward.batch_sizes == [6]
    assert reward.total.statuses["proved"] == 2


def test_completion_text_reads_plain_and_conversational():
    assert completion_text(" fun h => h") == " fun h => h"
    assert completion_text([{"role": "assistant", "content": "```lean4\nx\n```"}]) == "```lean4\nx\n```"
    assert completion_text([{"role": "assistant", "content": [{"type": "text", "text": "a"}]}]) == "a"


def test_format_reward_is_separate_and_needs_no_lean(rows):
    records = grpo_records(rows, TrainConfig())
    fmt = FormatReward()
    out = fmt(prompts=["", ""], completions=[" x\n```", ""], **_columns(records))
    assert out == [1.0, 0.0]


def test_missing_statement_column_is_an_error():
    with pytest.raises(ValueError, match="formal_statement"):
        ProofReward(checker=None)(prompts=["p"], completions=["c"])
