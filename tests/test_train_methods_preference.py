"""DPO and KTO: data built from a real results.jsonl (a scripted policy's attempts, every one
judged by the real bundled Lean), then a short run of each with a reference model, a finite
loss, and a resume that continues from the saved step.

The scripted policy only stands in for generation: it answers each logic-v2 statement with
a wrong term, its reference proof and another wrong term; which of them are proofs is Lean's
verdict, read back from results.jsonl."""
import json
import math

import pytest

from prover.evaluation import EvalSpec, run_eval
from prover.policies.scripted import ScriptedPolicy
from prover.train.config import from_dict
from prover.train.data import limit, training_rows, reference_completion
from prover.train.proof_data import dpo_pairs, kto_rows, rows_by_key
from prover.train.search_round import read_results, write_pool
from prover.train.stages.dpo import run_dpo
from prover.train.stages.kto import run_kto

pytestmark = [pytest.mark.lean, pytest.mark.slow]

WRONG = (" True.intro\n```", " (fun h => h) 0\n```")
TINY = {"model": "tiny", "tiny": {"layers": 1, "hidden": 32, "seed": 0}, "torch_threads": 1, "dataset": "logic-v2",
        "max_rows": 3, "seed": 0, "report_to": "none", "checker_backend": "cli", "checker_workers": 2}


@pytest.fixture(scope="module")
def results(tmp_path_factory, cli_checker):
    """A real eval directory: 3 logic-v2 statements x 3 scripted attempts, judged by Lean."""
    out = tmp_path_factory.mktemp("eval")
    rows = limit(training_rows(from_dict(TINY, "dpo"), "train"), 3)
    script = {r["name"]: [WRONG[0], r["proof"].rstrip() + "\n```", WRONG[1]] for r in rows}
    pool = write_pool(rows, out / "pool.jsonl")
    run_eval(EvalSpec(dataset=str(pool), split="all", k=3, model="scripted", prompt_format="deepseek-v1.5", stop_at_first=False,
                      max_tokens=64), out / "run", policy=ScriptedPolicy(script), checker=cli_checker)
    return out / "run", rows


def test_records_hold_real_verdicts(results):
    run, rows = results
    lines = (run / "results.jsonl").read_text().splitlines()
    assert len(lines) == 3
    for record in map(json.loads, lines):
        assert [bool(a["verdict"] and a["verdict"]["ok"]) for a in record["attempts"]] == [False, True, False]
        assert all(a["verdict"]["status"] == "rejected" for i, a in enumerate(record["attempts"]) if i != 1)


def test_dpo_pairs_and_kto_labels_come_from_the_verdicts(results):
    run, rows = results
    cfg = from_dict(TINY, "dpo")
    records = read_results(run)
    by_key = rows_by_key(rows)
    pairs = dpo_pairs(records, by_key, cfg, per_statement=0)
    assert len(pairs) == 6  # 1 verified x 2 failed per statement
    for p in pairs:
        row = next(r for r in rows if r["name"] == p["name"])
        assert p["chosen"] == reference_completion(row, "deepseek-v1.5")
        assert p["rejected"] in WRONG and p["prompt"].endswith(row["formal_statement"])
    assert len(dpo_pairs(records, by_key, cfg, per_statement=1)) == 3
    kto = kto_rows(records, by_key, cfg)
    assert sorted((k["name"], k["label"]) for k in kto) == sorted(
        [(r["name"], True) for r in rows] + [(r["name"], False) for r in rows] * 2)
    assert all(k["label"] == (k["completion"] not in WRONG) for k in kto)


def _losses(result):
    return [h["loss"] for h in result.trainer.state.log_history if "loss" in h]


@pytest.mark.parametrize("stage,run,extra", [
    ("dpo", run_dpo, {"beta": 0.1, "per_statement": 0}),
    ("kto", run_kto, {"beta": 0.1}),
])
def test_short_run_has_a_finite_loss_and_resumes_from_the_saved_step(results, tmp_path, stage, run, extra):
    run_dir, _ = results
    base = {**TINY, **extra, "records": str(run_dir), "output_dir": str(tmp_path), "per_device_train_batch_size": 2,
            "learning_rate": 1e-3, "logging_steps": 1, "save_steps": 1, "max_length": 256}
    first = run(from_dict({**base, "max_steps": 2}, stage), log=lambda _: None)
    assert first.global_step == 2 and first.lean_checks == 9
    assert len(_losses(first)) == 2 and all(math.isfinite(x) for x in _losses(first))
    assert first.trainer.ref_model is not None and first.trainer.ref_model is not first.trainer.model
    resumed = run(from_dict({**base, "max_steps": 3}, stage), resume=str(tmp_path / "checkpoint-2"),
                  log=lambda _: None)
    assert resumed.global_step == 3
    assert [h["step"] for h in resumed.trainer.state.log_history if "loss" in h] == [1, 2, 3]
    assert (tmp_path / "prover.json").is_file()


def test_dpo_searches_for_its_own_data_and_says_when_there_is_none(tmp_path):
    """records empty: the stage searches with its (untrained) starting model through the HF
    policy and the eval machinery; nothing it writes is a proof, so there are no pairs."""
    cfg = from_dict({**TINY, "max_rows": 2, "k": 2, "search_max_tokens": 8, "output_dir": str(tmp_path),
                     "max_steps": 1}, "dpo")
    with pytest.raises(ValueError, match="no training data"):
        run_dpo(cfg, log=lambda _: None)
    records = read_results(tmp_path / "search")
    assert len(records) == 2 and all(len(r.attempts) == 2 and not r.solved for r in records)


def test_cli_dispatches_dpo_through_the_registry(results, tmp_path):
    import yaml
    from typer.testing import CliRunner

    from prover.cli import app

    run_dir, _ = results
    path = tmp_path / "dpo.yaml"
    path.write_text(yaml.safe_dump({**TINY, "records": str(run_dir), "per_device_train_batch_size": 2,
                                    "max_length": 256, "max_steps": 5}))
    result = CliRunner().invoke(app, ["train", "dpo", "--config", str(path), "--output-dir", str(tmp_path / "out"),
                                      "--max-steps", "1"])
    assert result.exit_code == 0, result.output
    assert "dpo: 1 steps" in result.output and "Lean checks spent on training data / rewards: 9" in result.output
    assert (tmp_path / "out" / "prover.json").is_file()
