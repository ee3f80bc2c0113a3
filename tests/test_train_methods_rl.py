"""Expert iteration and the GRPO family on a tiny model with the real bundled Lean.

A 2-layer model first memorises three one-rule logic proofs (SFT), so that sampling from it
gives some proofs and some failures. Then:
- GRPO family: GSPO's sequence-level ratios, Dr. GRPO's unscaled rewards, TRL's soft overlong
  punishment and half of the negative samples dropped - rewards are Lean's verdicts, the loss
  is finite, negatives are dropped;
- expert iteration: a round searches with the in-memory model through the eval machinery,
  keeps what Lean verified (re-checked here), fine-tunes; a second invocation continues with
  round 2 without redoing round 1; a search killed half-way resumes from its results.jsonl; an
  SFT killed after a checkpoint resumes from it."""
import json
import math
import os
import shutil

import pytest

from prover.rewards import ProofReward
from prover.train.config import from_dict
from prover.train.data import grpo_records
from prover.train.stages.expert_iteration import STATE, run_expert_iteration
from prover.train.stages.grpo import run_grpo
from prover.train.stages.sft import run_sft

pytestmark = [pytest.mark.lean, pytest.mark.slow]

COMMON = {"tiny": {"layers": 2, "hidden": 64, "seed": 0}, "torch_threads": 1,
          "logic": {"n": 40, "seed": 0, "levels": [1]}, "max_rows": 3, "seed": 0, "report_to": "none",
          "checker_backend": "cli", "checker_workers": 2, "checker_timeout": 60}


@pytest.fixture(scope="module")
def sft_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sft")
    cfg = from_dict({**COMMON, "model": "tiny", "output_dir": str(out), "max_steps": 60,
                     "per_device_train_batch_size": 3, "learning_rate": 0.03, "logging_steps": 10,
                     "save_steps": 1000}, "sft")
    run_sft(cfg, log=lambda _: None)
    return str(out)


def test_grpo_family_gspo_dr_grpo_overlong_and_dropped_negatives(sft_dir, tmp_path):
    batches = []
    cfg = from_dict({**COMMON, "model": sft_dir, "output_dir": str(tmp_path), "max_steps": 2, "num_generations": 4,
                     "per_device_train_batch_size": 8, "max_completion_length": 20, "learning_rate": 1e-3,
                     "temperature": 1.2, "logging_steps": 1, "save_steps": 1,
                     "loss_type": "grpo", "importance_sampling_level": "sequence", "scale_rewards": "none",
                     "dynamic_sampling": False, "drop_negatives": 0.5, "overlong_buffer": 5}, "grpo")
    result = run_grpo(cfg, log=lambda _: None, on_scored=lambda rows, texts, verdicts, rewards: batches.append(
        (verdicts, rewards)))
    trainer = result.trainer
    assert result.global_step == 2 and trainer.args.importance_sampling_level == "sequence"
    assert len(trainer.reward_funcs) == 2 and trainer.reward_weights.tolist() == [1.0, 1.0]
    for verdicts, rewards in batches:
        assert rewards == [1.0 if (v is not None and v.ok) else 0.0 for v in verdicts]
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses)
    assert trainer.negatives_seen > 0
    assert 0 < trainer.negatives_dropped <= trainer.negatives_seen
    assert result.lean_checks > 0


def test_rloo_trains_on_lean_verdicts_and_resumes(sft_dir, tmp_path):
    """RLOO (TRL's RLOOTrainer) through the same rollout/reward loop: rewards are Lean's
    verdicts, the loss is finite, and a second call continues from the saved checkpoint."""
    from prover.train.stages.rloo import run_rloo

    batches = []
    data = {**COMMON, "model": sft_dir, "output_dir": str(tmp_path), "max_steps": 2, "num_generations": 4,
            "per_device_train_batch_size": 8, "max_completion_length": 20, "learning_rate": 1e-3,
            "temperature": 1.2, "logging_steps": 1, "save_steps": 1}
    result = run_rloo(from_dict(data, "rloo"), log=lambda _: None,
                      on_scored=lambda rows, texts, verdicts, rewards: batches.append((verdicts, rewards)))
    assert type(result.trainer).__name__ == "ProverRLOOTrainer" and result.global_step == 2
    assert batches and all(rewards == [1.0 if (v is not None and v.ok) else 0.0 for v in verdicts]
                           for verdicts, rewards in batches)
    losses = [h["loss"] for h in result.trainer.state.log_history if "loss" in h]
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses) and result.lean_checks > 0
    more = run_rloo(from_dict({**data, "max_steps": 3}, "rloo"), resume=True, log=lambda _: None)
    assert more.global_step == 3
    with pytest.raises(ValueError, match="GRPO option"):
        run_rloo(from_dict({**data, "drop_negatives": 0.5}, "rloo"), log=lambda _: None)


def ei_cfg(sft_dir, out, rounds, **extra):
    return from_dict({**COMMON, "model": sft_dir, "output_dir": str(out), "rounds": rounds, "k": 4,
                      "search_max_tokens": 20, "search_temperature": 1.2, "stop_at_first": False,
                      "proofs_per_statement": 2, "max_steps": 3, "per_device_train_batch_size": 2,
                      "learning_rate": 1e-3, "logging_steps": 1, "save_steps": 2, **extra}, "expert-iteration")


def test_expert_iteration_rounds_verified_data_and_resume(sft_dir, tmp_path, cli_checker):
    first = run_expert_iteration(ei_cfg(sft_dir, tmp_path, 1), log=lambda _: None)
    [round1] = first.extra["rounds"]
    assert json.loads((tmp_path / STATE).read_text())["rounds_done"] == 1
    records = [json.loads(x) for x in (tmp_path / "round-1" / "search" / "results.jsonl").read_text().splitlines()]
    assert len(records) == 3 and round1["searched"] == 3
    assert first.lean_checks == sum(a["verdict"] is not None for r in records for a in r["attempts"]) > 0
    assert round1["solved"] == sum(r["solved"] for r in records) > 0, "the memorised model proves something"

    # the SFT data is exactly the verified attempts, and Lean accepts every one of them again
    from prover.train.data import training_rows
    from prover.train.proof_data import rows_by_key, verified_rows
    from prover.train.search_round import read_results

    cfg = ei_cfg(sft_dir, tmp_path, 1)
    rows = training_rows(cfg, "train")[:3]
    data = verified_rows(read_results(tmp_path / "round-1" / "search"), rows_by_key(rows), cfg,
                         per_statement=2)
    assert len(data) == round1["proofs"] > 0
    assert all(len(x["completion"]) <= len(y["completion"]) for x, y in zip(data, data[1:]) if x["name"] == y["name"])
    by_name = {r["name"]: r for r in grpo_records(rows, cfg)}
    rewards, _, _ = ProofReward(cli_checker).score([by_name[d["name"]] for d in data], [d["completion"] for d in data])
    assert rewards == [1.0] * len(data)
    assert round1["sft_steps"] == 3 and (tmp_path / "round-1" / "model" / "checkpoint-2").is_dir()

    # a second invocation with more rounds continues at round 2: round 1 is not searched or trained again
    r1_results = (tmp_path / "round-1" / "search" / "results.jsonl").read_text()
    r1_ckpt = os.path.getmtime(tmp_path / "round-1" / "model" / "checkpoint-2" / "trainer_state.json")
    second = run_expert_iteration(ei_cfg(sft_dir, tmp_path, 2), log=lambda _: None)
    assert [r["round"] for r in second.extra["rounds"]] == [1, 2]
    assert (tmp_path / "round-1" / "search" / "results.jsonl").read_text() == r1_results
    assert os.path.getmtime(tmp_path / "round-1" / "model" / "checkpoint-2" / "trainer_state.json") == r1_ckpt
    solved1 = {r["name"] for r in records if r["solved"]}
    left = {r["name"] for r in records} - solved1
    pool2 = tmp_path / "round-2" / "search" / "pool.jsonl"
    if left:  # only unsolved statements carry forward
        assert {json.loads(x)["name"] for x in pool2.read_text().splitlines()} == left
    else:  # everything solved in round 1: nothing to search, round 2 trains on the proofs found so far
        assert not pool2.exists() and second.extra["rounds"][1]["proofs"] == round1["proofs"]


def test_expert_iteration_resumes_a_killed_search_and_a_killed_sft(sft_dir, tmp_path):
    run_expert_iteration(ei_cfg(sft_dir, tmp_path, 1), log=lambda _: None)
    search = tmp_path / "round-1" / "search"
    before = [json.loads(x) for x in (search / "results.jsonl").read_text().splitlines()]
    # killed during round 1's search, after its first statement: no state, one record, no model
    (tmp_path / STATE).unlink()
    (search / "results.jsonl").write_text(json.dumps(before[0]) + "\n")
    shutil.rmtree(tmp_path / "round-1" / "model")
    run_expert_iteration(ei_cfg(sft_dir, tmp_path, 1), log=lambda _: None)
    card = json.loads((search / "run_card.json").read_text())
    assert (card["problems_from_earlier_runs"], card["problems_this_run"]) == (1, 2)
    assert len((search / "results.jsonl").read_text().splitlines()) == 3

    # killed during round 1's SFT, after checkpoint-2 of 3: the SFT resumes from it
    ckpt2 = tmp_path / "round-1" / "model" / "checkpoint-2" / "trainer_state.json"
    stamp = os.path.getmtime(ckpt2)
    (tmp_path / STATE).unlink()
    shutil.rmtree(tmp_path / "round-1" / "model" / "checkpoint-3")
    again = run_expert_iteration(ei_cfg(sft_dir, tmp_path, 1), log=lambda _: None)
    assert os.path.getmtime(ckpt2) == stamp, "checkpoint-2 was resumed from, not retrained"
    assert again.extra["rounds"][0]["sft_steps"] == 3
    assert (tmp_path / "round-1" / "model" / "checkpoint-3").is_dir()
