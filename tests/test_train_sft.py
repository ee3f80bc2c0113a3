"""SFT data shaping and a LoRA smoke run (no Lean needed)."""
import math

from protocol.extract import extract
from prover.train.config import TrainConfig, from_dict
from prover.train.data import grpo_records, reference_completion, sft_records, with_header
from prover.train.stages.sft import run_sft

ROW = {"name": "t", "env": "logic", "formal_statement": "theorem t (p : Prop) : p → p :=", "proof": " fun h => h"}


def test_reference_completions_extract_back_to_the_reference_proof():
    cont = reference_completion(ROW, "deepseek-v1.5")
    assert cont == " fun h => h\n```"
    checked, _ = with_header(ROW, "logic")
    assert extract(checked, cont, "deepseek-v1.5").task.proof.strip() == "fun h => h"
    chat = reference_completion(ROW, "deepseek-v2")
    task = extract(checked, chat, "deepseek-v2").task
    assert task is not None and "fun h => h" in task.code


def test_env_header_is_checked_but_not_shown():
    cfg = TrainConfig()
    [sft] = sft_records([ROW], cfg)
    [grpo] = grpo_records([ROW], cfg)
    assert "prelude" not in sft["prompt"] and sft["prompt"].endswith(ROW["formal_statement"])
    assert grpo["header"].startswith("prelude") and grpo["prompt"] == sft["prompt"]


def test_lora_sft_smoke(tmp_path):
    from transformers import AutoModelForCausalLM

    cfg = from_dict({"model": "tiny", "tiny": {"layers": 1, "hidden": 32}, "torch_threads": 1,
                     "logic": {"n": 30, "levels": [1]}, "max_rows": 4, "lora": True, "lora_r": 4,
                     "output_dir": str(tmp_path), "max_steps": 3, "per_device_train_batch_size": 2,
                     "logging_steps": 1, "save_steps": 2, "report_to": "none"}, "sft")
    result = run_sft(cfg, log=lambda _: None)
    assert result.global_step == 3
    assert all(math.isfinite(h["loss"]) for h in result.trainer.state.log_history if "loss" in h)
    assert (tmp_path / "checkpoint-2" / "adapter_config.json").exists()  # checkpoints keep the adapter
    assert not (tmp_path / "adapter_config.json").exists()  # the final model is merged
    AutoModelForCausalLM.from_pretrained(tmp_path)
