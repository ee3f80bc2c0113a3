"""The stage registry, the CLI built from it, the new stages' configs, the SFT row contract,
and the small GRPO pieces TRL lacks (no Lean needed)."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from prover.train.config import ConfigError, from_dict, load_config
from prover.train.negatives import negative_keep_mask
from prover.train.registry import get_stage, stages

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
METHODS = ("sft", "grpo", "expert-iteration", "dpo", "kto")


def test_every_method_is_registered_with_its_trl_config():
    found = stages()
    assert set(METHODS) <= set(found)
    assert {n: found[n].trl_config for n in METHODS} == {
        "sft": "SFTConfig", "grpo": "GRPOConfig", "expert-iteration": "SFTConfig", "dpo": "DPOConfig",
        "kto": "KTOConfig"}


def test_listing_stages_imports_no_trainer_library():
    code = ("import sys; from prover.train.registry import names; names(); "
            "print(sorted(m for m in ('trl', 'transformers', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""}, check=True)
    assert out.stdout.strip() == "[]"


def test_train_help_lists_every_stage():
    from typer.testing import CliRunner

    from prover.cli import app

    result = CliRunner().invoke(app, ["train", "--help"])
    assert result.exit_code == 0
    for name in METHODS:
        assert name in result.output
    ray_help = CliRunner().invoke(app, ["train", "grpo", "--help"]).output
    assert "--ray" in ray_help and "--ray" not in CliRunner().invoke(app, ["train", "dpo", "--help"]).output


def test_unknown_stage_and_keys_are_named():
    with pytest.raises(ConfigError, match="unknown stage 'ppo'.*expert-iteration"):
        from_dict({}, "ppo")
    with pytest.raises(ConfigError, match="'rounds'.*DPOConfig"):
        from_dict({"rounds": 2}, "dpo")  # an expert-iteration option is unknown to DPO
    with pytest.raises(ConfigError, match="'desirable_weight'.*DPOConfig"):
        from_dict({"desirable_weight": 2.0}, "dpo")  # a KTO knob is unknown to DPO
    with pytest.raises(ConfigError, match="rounds must be >= 1"):
        from_dict({"rounds": 0}, "expert-iteration")
    with pytest.raises(ConfigError, match="accumulate must be true or false"):
        from_dict({"accumulate": "yes"}, "expert-iteration")
    with pytest.raises(ConfigError, match="drop_negatives must be a fraction"):
        from_dict({"drop_negatives": 1.0}, "grpo")


def test_trl_knobs_keep_trl_names():
    dpo = from_dict({"beta": 0.3, "loss_type": ["ipo"], "label_smoothing": 0.1, "per_statement": 2}, "dpo")
    args = dpo.trl_args(output_dir="/tmp/unused-dpo", use_cpu=True)
    assert (args.beta, args.loss_type, args.label_smoothing, dpo.options.per_statement) == (0.3, ["ipo"], 0.1, 2)
    kto = from_dict({"beta": 0.2, "desirable_weight": 1.5, "undesirable_weight": 0.5}, "kto")
    args = kto.trl_args(output_dir="/tmp/unused-kto", use_cpu=True)
    assert (args.beta, args.desirable_weight, args.undesirable_weight, args.loss_type) == (0.2, 1.5, 0.5, "kto")


@pytest.mark.parametrize("loss_type", ["grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo", "luspo", "vespo"])
def test_the_grpo_family_is_config(loss_type):
    level = "sequence" if loss_type == "luspo" else "token"
    cfg = from_dict({"loss_type": loss_type, "importance_sampling_level": level, "scale_rewards": "batch"}, "grpo")
    args = cfg.trl_args(output_dir="/tmp/unused-grpo", use_cpu=True)
    assert (args.loss_type, args.importance_sampling_level, args.scale_rewards) == (loss_type, level, "batch")


@pytest.mark.parametrize("name,stage", [("sft_logic_v2.yaml", "sft"), ("grpo_logic_v2.yaml", "grpo"),
                                        ("gspo_logic_v2.yaml", "grpo"),
                                        ("expert_iteration_logic_v2.yaml", "expert-iteration"),
                                        ("dpo_logic_v2.yaml", "dpo"), ("kto_logic_v2.yaml", "kto"),
                                        ("rloo_logic_v2.yaml", "rloo")])
def test_method_configs_load_and_use_logic_v2(name, stage):
    cfg = load_config(CONFIGS / name, stage)
    assert cfg.dataset == "logic-v2" and cfg.eval_split == "test-iid"
    cfg.trl_args(use_cpu=True)


def test_logic_v2_is_selected_by_name():
    from prover.train.data import training_rows

    cfg = from_dict({"dataset": "logic-v2"}, "sft")
    rows = training_rows(cfg, "test-ood")
    assert len(rows) == 100 and all(r["split"] == "test-ood" and r["proof"] for r in rows)


def test_sft_rows_with_prompt_and_completion_are_used_as_they_are():
    from prover.train.data import sft_records

    cfg = from_dict({}, "sft")
    pair = {"name": "g1", "split": "train", "prompt": "GOAL p → p\nTACTIC", "completion": " intro h"}
    row = {"name": "t", "env": "logic", "formal_statement": "theorem t (p : Prop) : p → p :=", "proof": " fun h => h"}
    built = sft_records([pair, row], cfg)
    assert built[0] == {"prompt": pair["prompt"], "completion": pair["completion"]}
    assert built[1]["completion"] == " fun h => h\n```" and built[1]["prompt"].endswith(row["formal_statement"])


def test_negative_keep_mask_drops_that_fraction_of_negatives_only():
    adv = torch.tensor([1.0, -0.5, -0.5, 0.0, -1.0, -2.0, 0.5, -0.1])
    keep = negative_keep_mask(adv, 0.5, torch.Generator().manual_seed(0))
    assert keep[adv >= 0].all()
    assert int((~keep).sum()) == 2 and not keep[adv < 0].all()
    assert negative_keep_mask(adv, 0.0).all()
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        negative_keep_mask(adv, 1.0)


def test_overlong_punishment_is_trls_reward_added_with_its_weight():
    from prover.train.stages.grpo import reward_functions

    cfg = from_dict({"overlong_buffer": 4, "overlong_penalty": 0.5, "format_reward": 0.1}, "grpo")
    args = cfg.trl_args(output_dir="/tmp/unused-grpo", use_cpu=True, max_completion_length=10)
    lean = object()
    funcs = reward_functions(cfg, args, lean)
    assert funcs[0] is lean and len(funcs) == 3 and args.reward_weights == [1.0, 0.1, 0.5]
    assert funcs[2](completion_ids=[[0] * 6, [0] * 8, [0] * 11]) == [0.0, -0.5, -1.0]
    with pytest.raises(ValueError, match="overlong_buffer"):
        reward_functions(from_dict({"overlong_buffer": 10}, "grpo"), cfg.trl_args(output_dir="/tmp/u", use_cpu=True,
                                                                                max_completion_length=10), lean)


def test_stage_rejects_a_model_without_its_tokenizer():
    from prover.train.runner import starting_model

    with pytest.raises(ValueError, match="tokenizer"):
        starting_model(from_dict({}, "sft"), model=object())


def test_get_stage_runs_the_registered_function():
    from prover.train.stages.sft import run_sft

    assert get_stage("sft").run is run_sft


def test_unsolved_statements_carry_forward():
    from prover.train.proof_data import unsolved
    from search.records import Attempt, ProblemRecord

    rows = [{"name": n, "split": "train"} for n in ("a", "b", "c")]
    records = [ProblemRecord("a", "train", attempts=[Attempt("x", verdict={"ok": True})]),
               ProblemRecord("b", "train", attempts=[Attempt("y", verdict={"ok": False})])]
    assert [r["name"] for r in unsolved(rows, records)] == ["b", "c"]
