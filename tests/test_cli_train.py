"""`prover train --resume` says which checkpoint (and step) it resumes from, or why it cannot."""
import json

import pytest

from prover.commands.train import _resume_arg
from prover.train.config import ConfigError


def test_resume_last_names_the_checkpoint_and_its_step(tmp_path, capsys):
    for step in (5, 10):
        ckpt = tmp_path / f"checkpoint-{step}"
        ckpt.mkdir()
        (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": step, "max_steps": 20}))
    assert _resume_arg("last", str(tmp_path)) == str(tmp_path / "checkpoint-10")
    assert f"resuming from {tmp_path / 'checkpoint-10'} (step 10 of 20)" in capsys.readouterr().err


def test_resume_without_checkpoints_says_it_starts_over(tmp_path, capsys):
    assert _resume_arg("last", str(tmp_path)) is None
    assert "no checkpoint in" in capsys.readouterr().err


def test_resume_from_a_missing_directory_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such checkpoint directory"):
        _resume_arg(str(tmp_path / "nope"), str(tmp_path))


TINY_SFT = {"model": "tiny", "tiny": {"layers": 1, "hidden": 32, "seed": 0}, "torch_threads": 1, "dataset": "logic",
            "max_rows": 8, "max_steps": 3, "save_steps": 100, "per_device_train_batch_size": 2, "logging_steps": 100,
            "report_to": "none"}


def test_ctrl_c_saves_a_checkpoint_says_how_to_resume_and_a_finished_run_is_not_extended(tmp_path, monkeypatch):
    """The first Ctrl-C ends the step with a checkpoint and prints the command that resumes; that
    command finishes the run; resuming a finished run trains nothing (it used to take a step more).
    A run shorter than logging_steps still prints its loss, as aligned lines, not a dict."""
    import os
    import signal

    import yaml
    from typer.testing import CliRunner
    from transformers import TrainerCallback

    import prover.train.progress as progress
    from prover.cli import app

    class CtrlCInStep2(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            if state.global_step == 1 and not getattr(self, "sent", False):
                self.sent = True
                os.kill(os.getpid(), signal.SIGINT)

    real = progress.use_console_callbacks
    monkeypatch.setattr(progress, "use_console_callbacks",
                        lambda trainer, log: (trainer.add_callback(CtrlCInStep2()), real(trainer, log))[1])
    config, out = tmp_path / "sft.yaml", tmp_path / "out"
    config.write_text(yaml.safe_dump(TINY_SFT))
    res = CliRunner().invoke(app, ["train", "sft", "--config", str(config), "-o", str(out)])
    assert res.exit_code == 130, res.output
    assert "Ctrl-C: stopping at the end of this step" in res.stderr
    line = [x for x in res.stderr.splitlines() if x.startswith("interrupted at step 2 of 3")]
    assert line and f"checkpoint saved in {out / 'checkpoint-2'}" in line[0], res.stderr
    command = line[0].split("resume with: ", 1)[1]
    assert command == f"prover train sft --config {config} --output-dir {out} --resume last"
    assert (out / "checkpoint-2" / "trainer_state.json").exists() and not (out / "model.safetensors").exists()

    monkeypatch.setattr(progress, "use_console_callbacks", real)
    res = CliRunner().invoke(app, command.split()[1:])
    assert res.exit_code == 0, res.output
    assert "sft: 3 steps" in res.stderr and (out / "model.safetensors").exists()
    assert "final metrics:" in res.stderr and "{'" not in res.stderr
    assert any(x.split()[:1] == ["train_loss"] for x in res.stderr.splitlines())

    res = CliRunner().invoke(app, command.split()[1:])  # again: the run is finished
    assert res.exit_code == 0, res.output
    assert "is step 3 of 3: this run is finished, nothing to train" in res.stderr and "4 steps" not in res.stderr


def test_train_takes_model_and_its_help_names_the_overrides():
    from typer.testing import CliRunner

    from prover.cli import app

    res = CliRunner().invoke(app, ["train", "--help"])
    assert "--max-steps" in res.stdout and "-o DIR" in res.stdout and "--model" in res.stdout
    res = CliRunner().invoke(app, ["train", "grpo", "--help"])
    assert "overrides the config's model" in res.stdout


def test_a_models_command_line_override_reaches_the_config(tmp_path, monkeypatch):
    import yaml

    import prover.train.registry as registry
    from prover.commands.train import run_train

    seen = {}

    def run(cfg, **kwargs):
        seen.update(model=cfg.model)
        raise ValueError("stop here")

    stage = registry.get_stage("sft")
    monkeypatch.setitem(registry._STAGES, "sft", registry.Stage(**{**stage.__dict__, "run": run}))
    config = tmp_path / "sft.yaml"
    config.write_text(yaml.safe_dump(TINY_SFT))
    assert run_train("sft", config, model="my/model") == 2
    assert seen == {"model": "my/model"}
