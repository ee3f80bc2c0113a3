"""Which splits `prover eval` scores: the held-out ones unless asked, never a model's own
training split without a warning (prover.evaluation.splits). Rows only: no model, no Lean."""
import json
import logging

import pytest

import data
from prover.evaluation import EvalError
from prover.evaluation.splits import select_rows


def splits_of(rows):
    return sorted({r["split"] for r in rows})


def trained_model(tmp_path, dataset, split):
    model = tmp_path / "model"
    model.mkdir()
    (model / "prover.json").write_text(json.dumps({"dataset": dataset, "split": split, "prompt_format": "deepseek-v1.5"}))
    return str(model)


def test_default_leaves_out_train_and_says_so(caplog):
    caplog.set_level(logging.INFO, "prover.eval")
    rows = select_rows(data.load, "logic", None, None, None)
    assert splits_of(rows) == ["test", "valid"]
    assert "left out train: it is a training split" in caplog.text and "--split all" in caplog.text
    assert splits_of(select_rows(data.load, "logic-v2", None, None, None)) == ["test-iid", "test-ood"]
    assert splits_of(select_rows(data.load, "minif2f-v4.24", None, None, None)) == ["test", "valid"]  # no train: all


def test_limit_counts_held_out_rows_only():
    rows = select_rows(data.load, "logic", None, 5, None)
    assert len(rows) == 5 and "train" not in splits_of(rows)


def test_a_models_own_training_split_is_left_out(tmp_path, caplog):
    caplog.set_level(logging.INFO, "prover.eval")
    model = trained_model(tmp_path, "logic", "valid")
    assert splits_of(select_rows(data.load, "logic", None, None, model)) == ["test"]
    assert "valid: the model trained on it" in caplog.text
    # another dataset's split of the same name is not the one it trained on (and a note says so)
    assert splits_of(select_rows(data.load, "minif2f-v4.24", None, None, model)) == ["test", "valid"]
    assert "says it trained on logic (split valid), not on minif2f-v4.24" in caplog.text


def test_asking_for_a_training_split_scores_it_with_a_warning(tmp_path, caplog):
    model = trained_model(tmp_path, "logic", "valid")
    assert splits_of(select_rows(data.load, "logic", "valid", None, model)) == ["valid"]
    assert [r.levelname for r in caplog.records] == ["WARNING"] and "not held-out" in caplog.text
    caplog.clear()
    assert splits_of(select_rows(data.load, "logic", "test", None, model)) == ["test"]
    assert not caplog.records  # a held-out split asked for: nothing to warn about
    caplog.set_level(logging.INFO, "prover.eval")
    assert splits_of(select_rows(data.load, "logic", "all", None, None)) == ["test", "train", "valid"]
    assert "--split all scores the training split(s) train too" in caplog.text


def test_a_file_of_training_rows_only_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"formal_statement": "theorem t (p : Prop) (hp : p) : p :=", "env": "logic",
                                "split": "train"}) + "\n")
    with pytest.raises(EvalError, match="pass --split train to score it anyway"):
        select_rows(data.load, str(path), None, None, None)
    assert len(select_rows(data.load, str(path), "train", None, None)) == 1


def test_every_shipped_dataset_declares_its_splits():
    """eval --help lists VARIANTS' splits: they must be the files' own."""
    from data.loaders import VARIANTS

    for name, variant in VARIANTS.items():
        assert set(variant.splits) == set(splits_of(data.load(name))), name


def test_default_output_directory_names_what_was_scored():
    from pathlib import Path

    from prover.commands.eval import default_out_dir
    from prover.evaluation import EvalSpec

    assert default_out_dir(EvalSpec(dataset="logic", k=4)) == Path("runs/eval-logic-heldout-default-k4")
    assert default_out_dir(EvalSpec(dataset="logic", k=4, split="all")) == Path("runs/eval-logic-all-default-k4")
