"""A trained model records its prompt format and environment (prover.json), and the model
loaders read the format back, so `--format` is not needed for the project's own models."""
import json

import pytest

from prover.models import MODEL_CARD, ModelLoadError, default_prompt_format, model_card
from prover.train.card import write_card
from prover.train.config import TrainConfig, from_dict


def test_a_recorded_format_wins_over_the_name_guess(tmp_path):
    d = tmp_path / "Goedel-Prover-V2-8B-finetuned"  # the name alone would say goedel-v2
    write_card(str(d), TrainConfig(prompt_format="kimina", env="logic", dataset="data/logic/v2.jsonl"))
    assert default_prompt_format(str(d)) == "kimina"
    card = model_card(str(d))
    assert card["env"] == "logic" and card["dataset"] == "data/logic/v2.jsonl" and card["stage"] == "grpo"
    assert default_prompt_format(str(tmp_path / "Goedel-Prover-V2-8B")) == "goedel-v2"  # no card: as before


def test_a_broken_card_is_a_clear_error(tmp_path):
    (tmp_path / MODEL_CARD).write_text("{not json")
    with pytest.raises(ModelLoadError, match="prover.json is not valid JSON"):
        default_prompt_format(str(tmp_path))


def test_sft_writes_the_card(tmp_path):
    from prover.train.stages.sft import run_sft

    cfg = from_dict({"model": "tiny", "tiny": {"layers": 1, "hidden": 32}, "torch_threads": 1,
                     "logic": {"n": 30, "levels": [1]}, "max_rows": 4, "output_dir": str(tmp_path),
                     "max_steps": 1, "per_device_train_batch_size": 2, "report_to": "none",
                     "prompt_format": "deepseek-v1.5-cot"}, "sft")
    run_sft(cfg, log=lambda _: None)
    card = json.loads((tmp_path / MODEL_CARD).read_text())
    assert card["prompt_format"] == "deepseek-v1.5-cot" and card["stage"] == "sft" and card["env"] == "logic"
    assert default_prompt_format(str(tmp_path)) == "deepseek-v1.5-cot"
