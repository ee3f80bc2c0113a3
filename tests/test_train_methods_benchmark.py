"""benchmarks/train_methods.py without training: every method's config reads the same fresh pool in
the start's prompt format and is planned to spend the same Lean-check budget; the pool leaves out
the start's cores and (but for sft) the reference proofs; intervals and paired differences come
from the per-theorem lists."""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import train_methods as tm  # noqa: E402  (benchmarks/train_methods.py)


def _pool(tmp_path):
    return {"statements": tmp_path / "pool_statements.jsonl", "proofs": tmp_path / "pool_proofs.jsonl"}


@pytest.mark.parametrize("sizes", [tm.QUICK, tm.FULL], ids=["quick", "full"])
def test_every_method_reads_the_fresh_pool_in_the_starts_format_under_one_budget(tmp_path, sizes):
    from prover.train.config import from_dict
    from prover.train.registry import get_stage

    pool = _pool(tmp_path)
    for method in tm.METHODS:
        cfg = from_dict(tm.method_config(method, "runs/whole/sft", "compact", pool, tmp_path, sizes),
                        tm.stage_of(method))
        get_stage(cfg.stage)
        assert cfg.model == "runs/whole/sft" and cfg.prompt_format == "compact" and cfg.split == "train"
        assert cfg.output_dir == str(tmp_path / method)
        if method == "sft":
            assert cfg.dataset == str(pool["proofs"]) and tm.planned_checks(cfg) == 0
            continue
        assert cfg.dataset == str(pool["statements"])
        assert tm.planned_checks(cfg) == sizes["budget"], method
        assert 0 < cfg.max_rows <= tm.pool_size(sizes), method


def test_gspo_is_the_grpo_stage_with_the_gspo_recipes_knobs(tmp_path):
    from prover.train.config import from_dict, load_config

    p = tm.QUICK
    gspo = from_dict(tm.method_config("gspo", "s", "compact", _pool(tmp_path), tmp_path, p), "grpo")
    grpo = from_dict(tm.method_config("grpo", "s", "compact", _pool(tmp_path), tmp_path, p), "grpo")
    recipe = load_config(tm.GSPO_CONFIG, "grpo")
    assert gspo.trl["importance_sampling_level"] == "sequence" == recipe.trl["importance_sampling_level"]
    assert gspo.drop_negatives == recipe.drop_negatives > 0 and gspo.overlong_buffer == recipe.overlong_buffer > 0
    assert "importance_sampling_level" not in grpo.trl and grpo.trl["loss_type"] == "dapo"
    assert (gspo.trl["max_steps"], gspo.trl["per_device_train_batch_size"], gspo.max_rows) == (
        grpo.trl["max_steps"], grpo.trl["per_device_train_batch_size"], grpo.max_rows)


def test_expert_iterations_budget_counts_every_round(tmp_path):
    from prover.train.config import from_dict

    p = {**tm.QUICK, "budget": 96}
    cfg = from_dict(tm.method_config("expert-iteration", "s", "compact", _pool(tmp_path), tmp_path, p),
                    "expert-iteration")
    assert cfg.options.rounds == tm.EI_ROUNDS == 2 and cfg.options.k == tm.SEARCH_K
    assert cfg.max_rows == 96 // (tm.SEARCH_K * 2) and tm.planned_checks(cfg) == 96


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError, match="no benchmark settings"):
        tm.method_config("ppo", "s", "compact", {"statements": "a", "proofs": "b"}, Path("x"), tm.QUICK)
    with pytest.raises(SystemExit, match="unknown method"):
        tm.main(["--methods", "sft,ppo", "--out", "/nonexistent/never"])


def test_the_prompt_format_is_the_one_the_starts_prover_json_records(tmp_path):
    from prover.models import ModelLoadError

    start = tmp_path / "sft"
    start.mkdir()
    with pytest.raises(ModelLoadError):  # no card: unknown, never a silent default
        tm.start_format(str(start))
    for fmt in ("compact", "deepseek-v1.5"):
        (start / "prover.json").write_text(json.dumps({"prompt_format": fmt}))
        assert tm.start_format(str(start)) == fmt


def test_the_start_run_is_train_logics_summary_next_to_its_sft_dir(tmp_path):
    (tmp_path / "sft").mkdir()
    (tmp_path / "other").mkdir()
    assert tm.start_run(str(tmp_path / "sft")) == {}
    (tmp_path / "summary.json").write_text(json.dumps({"size": {"train": 123}}))
    assert tm.start_run(str(tmp_path / "sft"))["size"]["train"] == 123
    assert tm.start_run(str(tmp_path / "other")) == {}


def test_fresh_statements_leave_out_the_starts_cores_in_stream_order():
    rows = [{"name": str(i), "core": c} for i, c in enumerate("abcadbe")]
    assert [r["name"] for r in tm.fresh_statements(rows, {"a", "b"}, 3)] == ["2", "4", "6"]
    assert [r["name"] for r in tm.fresh_statements(rows, set(), 2)] == ["0", "1"]


def test_the_pool_is_another_seeds_statements_without_the_starts_cores_or_proofs(tmp_path):
    import data

    pool = tm.make_pool(9, 40, 6, "compact", tmp_path)
    assert pool["spec"].endswith(":seed=10") and pool["cores_excluded_of"] == "logic-v2-train:40:seed=9"
    seen = {r["core"] for r in data.load("logic-v2-train:40:seed=9")}
    statements = [json.loads(line) for line in pool["statements"].open()]
    assert len(statements) == pool["statements_n"] == 6
    assert all(r["core"] not in seen and "seed 10" in r["source"] for r in statements)
    assert not any("proof" in r or "proof_tactic" in r for r in statements)
    proofs = [json.loads(line) for line in pool["proofs"].open()]
    assert [r["name"] for r in proofs] == [r["name"] for r in statements][:len(proofs)] and len(proofs) >= 5
    assert all(r["completion"].endswith("```") and r["split"] == "train" for r in proofs)


def _ev(pass1, passk):
    return {s: tm.split_result(pass1, passk) for s in tm.SPLITS}


def test_intervals_and_paired_differences_come_from_the_per_theorem_lists():
    start = _ev([0.0] * 20, [0.0] * 20)
    method = _ev([1.0] * 10 + [0.0] * 10, [1.0] * 15 + [0.0] * 5)
    r = method["test-iid"]
    assert r["theorems"] == 20 and r["pass@1"] == 0.5 and r["pass@k"] == 0.75
    lo, hi = r["pass@1 CI"]
    assert 0.2 < lo < 0.5 < hi < 0.8
    d = tm.versus(method, start)
    assert d["test-ood"]["pass@1"]["difference"] == 0.5 and d["test-ood"]["pass@k"]["difference"] == 0.75
    lo, hi = d["test-ood"]["pass@k"]["CI"]
    assert 0.5 < lo < 0.75 < hi <= 1.0
    same = tm.versus(start, start)["test-iid"]["pass@1"]
    assert same == {"difference": 0.0, "CI": [0.0, 0.0]}
    with pytest.raises(ValueError):  # pass@1 and pass@k of different theorems
        tm.split_result([1.0], [1.0, 0.0])
    with pytest.raises(ValueError):  # a paired difference needs the same theorems
        tm.versus(_ev([1.0], [1.0]), start)


def test_the_table_prints_intervals_and_differences(capsys):
    start = _ev([0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0])
    method = _ev([1.0, 0.0, 1.0, 0.0], [1.0, 1.0, 1.0, 0.0])
    row = {"method": "grpo", "lean_checks": 256, "heldout": method, "vs_start": tm.versus(method, start),
           "generation_s": 1.0, "verification_s": 2.0, "optimisation_s": 3.0, "wall_s": 6.0}
    tm.print_tables(start, [row], 8)
    out = capsys.readouterr().out
    assert "| (start) | 0 | 0.250 [" in out and "test-iid pass@8 [95% CI]" in out
    assert "| grpo | 256 | 0.500 [" in out and "| grpo | +25.0 [" in out


def test_the_starts_results_are_reused_only_for_the_same_theorems_and_k():
    results = [{"stage": "SFT", "split": s, "method": "best-of-8", "theorems": 3, "checks": 24,
                "pass1": [0.5, 0.0, 1.0], "passk": [1.0, 0.0, 1.0]} for s in tm.SPLITS]
    results.append({"stage": "GRPO", "split": "test-iid", "method": "best-of-8", "theorems": 3, "checks": 24,
                    "pass1": [1.0, 1.0, 1.0], "passk": [1.0, 1.0, 1.0]})
    run = {"results": results}
    got = tm.start_eval_from_run(run, {**tm.QUICK, "heldout": 3, "k": 8})
    assert got["test-iid"]["pass@1"] == 0.5 and got["test-ood"]["checks"] == 24
    assert tm.start_eval_from_run(run, {**tm.QUICK, "heldout": 4, "k": 8}) is None
    assert tm.start_eval_from_run(run, {**tm.QUICK, "heldout": 3, "k": 4}) is None
    assert tm.start_eval_from_run({}, tm.QUICK) is None
