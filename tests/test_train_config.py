"""TrainConfig: flat YAML split into our options and TRL's, unknown keys named in the error."""
from pathlib import Path

import pytest

from prover.train.config import ConfigError, TrainConfig, from_dict, load_config

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def test_trl_keys_pass_through_under_their_trl_names():
    cfg = from_dict({"model": "tiny", "num_generations": 4, "epsilon_high": 0.28, "loss_type": "dr_grpo",
                     "scale_rewards": "none", "beta": 0.01, "checker_backend": "server"}, "grpo")
    assert cfg.model == "tiny" and cfg.checker_backend == "server"
    assert cfg.trl == {"num_generations": 4, "epsilon_high": 0.28, "loss_type": "dr_grpo",
                       "scale_rewards": "none", "beta": 0.01}
    args = cfg.trl_args(output_dir="/tmp/unused-grpo", use_cpu=True, report_to="none")
    assert (args.num_generations, args.epsilon_high, args.loss_type, args.scale_rewards) == (4, 0.28, "dr_grpo", "none")


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match="'num_generation'"):
        from_dict({"num_generation": 4}, "grpo")
    # a GRPO-only knob is unknown to SFT
    with pytest.raises(ConfigError, match="'num_generations'.*SFTConfig"):
        from_dict({"num_generations": 4}, "sft")
    with pytest.raises(ConfigError, match="'nope' in `trl`"):
        from_dict({"trl": {"nope": 1}}, "grpo")


def test_types_and_stage_are_checked():
    with pytest.raises(ConfigError, match="dynamic_sampling must be true or false"):
        from_dict({"dynamic_sampling": "yes"}, "grpo")
    with pytest.raises(ConfigError, match="stage is 'sft'"):
        from_dict({"stage": "sft"}, "grpo")
    assert from_dict({"checker_timeout": 5}, "grpo").checker_timeout == 5.0


def test_overrides_win(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("model: tiny\nmax_steps: 10\n")
    cfg = load_config(path, "sft", {"max_steps": 3, "output_dir": str(tmp_path / "out")})
    assert cfg.trl["max_steps"] == 3 and cfg.output_dir == str(tmp_path / "out")


def test_bad_yaml_is_a_config_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path, "grpo")


@pytest.mark.parametrize("name,stage", [("sft_logic.yaml", "sft"), ("grpo_logic.yaml", "grpo"),
                                        ("grpo_minif2f_gpu.yaml", "grpo")])
def test_example_configs_load(name, stage):
    cfg = load_config(CONFIGS / name, stage)
    assert isinstance(cfg, TrainConfig) and cfg.stage == stage


def test_cli_reports_unknown_key(tmp_path):
    from typer.testing import CliRunner

    from prover.cli import app

    path = tmp_path / "typo.yaml"
    path.write_text("model: tiny\nlearning_rat: 0.1\n")
    result = CliRunner().invoke(app, ["train", "grpo", "--config", str(path)])
    assert result.exit_code == 2
    assert "learning_rat" in result.output


@pytest.mark.parametrize("key,value,pattern", [
    ("checker_timeout", float("nan"), r"run.yaml: `checker_timeout` must be a finite number in \(0, 3600\]"),
    ("checker_timeout", 1e12, "`checker_timeout` must be"),
    ("checker_workers", -1, "`checker_workers` must be a whole number in \\[0, 4096\\]"),
    ("heldout_k", 0, "`heldout_k` must be"),
    ("lora_dropout", 1.5, "`lora_dropout` must be"),
    ("learning_rate", float("inf"), "learning_rate must be a finite number"),
])
def test_ranges_are_checked_with_the_shared_rules(key, value, pattern):
    with pytest.raises(ConfigError, match=pattern):
        from_dict({key: value}, "grpo", "run.yaml")


def test_a_whole_number_of_seconds_is_fine():
    assert from_dict({"checker_timeout": 30}, "grpo").checker_timeout == 30.0
