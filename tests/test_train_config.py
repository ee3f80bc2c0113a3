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


def test_a_logger_that_is_not_installed_is_refused_at_load(monkeypatch):
    import transformers.integrations.integration_utils as integrations

    monkeypatch.setattr(integrations, "get_available_reporting_integrations", lambda: [])
    with pytest.raises(ConfigError, match=r"report_to 'tensorboard' is not installed: pip install -e \"\.\[gpu\]\""):
        from_dict({"report_to": "tensorboard"}, "grpo")
    with pytest.raises(ConfigError, match="'tensorbord' is not a logger transformers knows"):
        from_dict({"report_to": ["tensorbord"]}, "grpo")
    assert from_dict({"report_to": "none"}, "grpo").trl["report_to"] == "none"


@pytest.mark.parametrize("name,expected", [
    ("grpo_dsp_v15.yaml", {"num_generations": 32, "learning_rate": 5e-6, "beta": 0.02, "max_completion_length": 2048,
                           "loss_type": "grpo"}),
    ("grpo_dapo.yaml", {"epsilon": 0.2, "epsilon_high": 0.28, "beta": 0.0, "loss_type": "dapo", "num_generations": 16}),
    ("grpo_kimina.yaml", {"num_generations": 8}),
])
def test_print_config_shows_what_trl_receives(name, expected):
    import yaml
    from typer.testing import CliRunner

    from prover.cli import app

    result = CliRunner().invoke(app, ["train", "grpo", "--config", str(CONFIGS / name), "--print-config"])
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.stdout)
    given = shown["trl.GRPOConfig (as given)"]
    assert {k: given[k] for k in expected} == expected
    assert shown["prover"]["profile"]  # each paper recipe names its Mathlib profile
    derived = shown["trl.GRPOConfig (derived by TRL)"]
    assert derived["generation_batch_size"] == given["per_device_train_batch_size"] * given["gradient_accumulation_steps"]


def test_recipes_carry_their_paper_specific_prover_options():
    kimina = load_config(CONFIGS / "grpo_kimina.yaml", "grpo")
    dapo = load_config(CONFIGS / "grpo_dapo.yaml", "grpo")
    assert kimina.drop_negatives == 0.5 and kimina.prompt_format == "kimina"
    assert dapo.dynamic_sampling and dapo.dynamic_sampling_refills > 0
    assert dapo.overlong_buffer > 0 and dapo.overlong_penalty == 1.0


def test_a_profile_that_is_not_installed_is_refused_before_a_model_loads(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from prover.cli import app

    monkeypatch.setenv("PROVER_CACHE", str(tmp_path / "cache"))  # no profile installed there
    result = CliRunner().invoke(app, ["train", "grpo", "--config", str(CONFIGS / "grpo_dsp_v15.yaml")])
    assert result.exit_code == 2
    assert "profile 'deepseek-v1.5' is not installed" in result.output and "prover setup deepseek-v1.5" in result.output
