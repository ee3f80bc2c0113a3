"""SFT -> GRPO on a tiny model with the real bundled Lean: the rewards are Lean's verdicts, the
reward function sees whole groups, dynamic sampling drops uniform groups, the loss is finite,
and a killed run resumes from its checkpoint instead of step 0.

Kept short for 2 CI cores: a 2-layer model memorises a few one-rule proofs (so sampling gives
groups with both proved and failed completions), then 2 GRPO steps, then 1 resumed step."""
import math

import pytest

from prover.rewards import ProofReward
from prover.train.config import from_dict
from prover.train.stages.grpo import run_grpo
from prover.train.stages.sft import run_sft

pytestmark = [pytest.mark.lean, pytest.mark.slow]

NUM_GENERATIONS = 4
COMMON = {"model": "tiny", "tiny": {"layers": 2, "hidden": 64, "seed": 0}, "torch_threads": 1,
          "logic": {"n": 40, "seed": 0, "levels": [1]}, "max_rows": 3, "seed": 0, "report_to": "none"}


@pytest.fixture(scope="module")
def sft_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sft")
    cfg = from_dict({**COMMON, "output_dir": str(out), "max_steps": 60, "per_device_train_batch_size": 3,
                     "learning_rate": 0.03, "logging_steps": 10, "save_steps": 1000}, "sft")
    return run_sft(cfg, log=lambda _: None)


def grpo_cfg(model_dir, out, steps):
    return from_dict({**COMMON, "model": model_dir, "output_dir": str(out), "max_steps": steps,
                      "num_generations": NUM_GENERATIONS, "per_device_train_batch_size": 2 * NUM_GENERATIONS,
                      "max_completion_length": 20, "learning_rate": 1e-3, "temperature": 1.2,
                      "logging_steps": 1, "save_steps": 1, "checker_backend": "cli", "checker_workers": 2,
                      "checker_timeout": 60, "dynamic_sampling": True}, "grpo")


def test_sft_saves_a_model_in_hf_format(sft_run):
    from transformers import AutoModelForCausalLM

    assert sft_run.global_step == 60
    losses = [h["loss"] for h in sft_run.trainer.state.log_history if "loss" in h]
    assert losses and all(math.isfinite(x) for x in losses) and losses[-1] < losses[0]
    AutoModelForCausalLM.from_pretrained(sft_run.output_dir)  # loads as a plain HF model


@pytest.fixture(scope="module")
def grpo_run(sft_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("grpo")
    batches = []
    result = run_grpo(grpo_cfg(sft_run.output_dir, out, 2), log=lambda _: None,
                      on_scored=lambda rows, texts, verdicts, rewards: batches.append((rows, texts, verdicts, rewards)))
    return result, batches, out


def test_rewards_are_real_verdicts_of_whole_groups(grpo_run, cli_checker):
    result, batches, _ = grpo_run
    assert result.global_step == 2
    assert len(batches) == 2  # one reward call per generation batch
    for rows, texts, verdicts, rewards in batches:
        assert len(texts) == 2 * NUM_GENERATIONS
        names = [r["name"] for r in rows]
        groups = [names[i:i + NUM_GENERATIONS] for i in range(0, len(names), NUM_GENERATIONS)]
        assert all(len(set(g)) == 1 for g in groups), "each call holds whole groups of one prompt"
        assert rewards == [1.0 if (v is not None and v.ok) else 0.0 for v in verdicts]
    # Independently re-check every completion with the Checker: the reward is its verdict.
    rows = [r for b in batches for r in b[0]]
    texts = [t for b in batches for t in b[1]]
    rewards = [x for b in batches for x in b[3]]
    again, _, _ = ProofReward(cli_checker).score(rows, texts, truncated=[False] * len(texts))
    checked = [(a, b) for a, b, v in zip(again, rewards, [v for b in batches for v in b[2]]) if v is not None]
    assert checked and all(a == b for a, b in checked)
    assert 0.0 < sum(rewards) < len(rewards), "the memorised model proves some samples and fails others"


def test_loss_is_finite_and_dynamic_sampling_drops_uniform_groups(grpo_run):
    result, batches, _ = grpo_run
    trainer = result.trainer
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses)
    uniform = sum(len(set(b[3][i:i + NUM_GENERATIONS])) == 1
                  for b in batches for i in range(0, len(b[3]), NUM_GENERATIONS))
    assert trainer.groups_seen == 2 * len(batches)
    assert trainer.groups_dropped == uniform
    kept = [h["dynamic_sampling/kept_group_fraction"] for h in trainer.state.log_history
            if "dynamic_sampling/kept_group_fraction" in h]
    assert kept and sum(kept) * 2 == pytest.approx(2 * len(batches) - uniform)
    assert any(h.get("verifier/proved", 0) > 0 for h in trainer.state.log_history)


def test_resume_continues_from_the_saved_step(grpo_run, sft_run):
    _, _, out = grpo_run
    checkpoint = out / "checkpoint-2"
    assert checkpoint.is_dir()
    calls = []
    resumed = run_grpo(grpo_cfg(sft_run.output_dir, out, 3), resume=str(checkpoint), log=lambda _: None,
                       on_scored=lambda *a: calls.append(a))
    assert resumed.global_step == 3
    assert len(calls) == 1, "only the step after the checkpoint was trained"
    steps = [h["step"] for h in resumed.trainer.state.log_history if "loss" in h]
    assert steps == [1, 2, 3]  # the history before the kill came back from the checkpoint


def test_a_run_with_a_learning_signal_does_not_warn(grpo_run):
    result, _, _ = grpo_run
    assert "no_learning_signal" not in result.extra


def test_a_run_that_cannot_learn_says_so(tmp_path):
    """From an untrained model every sample fails, every group is uniform, no gradient: the
    run still saves its model, and says that it learned nothing and what to change."""
    from prover.train.signal import fingerprint
    from prover.train.models import load_model_and_tokenizer

    lines = []
    cfg = grpo_cfg("tiny", tmp_path / "grpo", 2)
    result = run_grpo(cfg, log=lines.append)
    start, _ = load_model_and_tokenizer(cfg)  # the same seeded init the run started from
    assert result.global_step == 2 and fingerprint(result.trainer.model) == fingerprint(start)
    reason = result.extra["no_learning_signal"]
    assert "weights are unchanged after 2 steps" in reason and "mean reward 0.000" in reason
    assert "stronger model" in reason and "frontier" in reason and "num_generations" in reason
    assert any(line.startswith("WARNING grpo: no step had a learning signal") for line in lines)
