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
