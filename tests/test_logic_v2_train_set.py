"""data.logic_v2.train_set: train theorems at generator scale keep the shipped split's promises
(disjoint from test-iid by core, from test-ood by core and proof shape), are the same for a seed
whatever the worker count or cache holds, load by name, and (with -m lean) check on the real Lean."""
import json

import pytest

from data.logic_v2 import train_set
from data.logic_v2.splits import SIZE_IID
from data.logic_v2.train_set import chunk_rows, held_out, parse_spec, train_rows


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(train_set, "cache_root", lambda: tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def rows():
    return train_rows(150, seed=4, workers=1, cache=False)


def test_rows_are_disjoint_from_both_test_splits_and_in_the_train_size_range(rows):
    cores, ood_shapes = held_out()
    assert len(rows) == 150 and len({r["core"] for r in rows}) == 150
    assert not {r["core"] for r in rows} & cores
    assert not {r["skeleton"] for r in rows} & ood_shapes
    assert all(SIZE_IID[0] <= r["level"] <= SIZE_IID[1] and r["split"] == "train" for r in rows)
    assert {r["kind"] for r in rows} == {"prop", "fo", "eq"}


def test_a_held_out_core_or_shape_is_filtered(monkeypatch):
    rows = chunk_rows(seed=4, index=0)
    assert rows
    monkeypatch.setattr(train_set, "held_out", lambda: (frozenset({rows[0]["core"]}), frozenset({rows[1]["skeleton"]})))
    kept = chunk_rows(seed=4, index=0)
    assert rows[0]["core"] not in {r["core"] for r in kept}
    assert rows[1]["skeleton"] not in {r["skeleton"] for r in kept}
    assert len(kept) < len(rows)


def test_same_seed_same_rows_whatever_the_workers_and_another_seed_differs():
    one = train_rows(60, seed=2, workers=1, cache=False)
    assert one == train_rows(60, seed=2, workers=2, cache=False)
    assert train_rows(30, seed=2, workers=1, cache=False) == one[:30]  # a prefix of one stream
    assert {r["core"] for r in train_rows(30, seed=3, workers=1, cache=False)} != {r["core"] for r in one[:30]}


def test_chunks_are_cached_and_read_back(cache):
    rows = train_rows(40, seed=5, workers=1)
    files = sorted(cache.rglob("chunk*.jsonl"))
    assert files and not list(cache.rglob("*.tmp*"))
    first = files[0]
    cached = [json.loads(line) for line in first.open(encoding="utf-8")]
    assert cached[0] == rows[0]
    cached[0]["proof"] = " marker"  # the cache, not a fresh draw, is what comes back
    first.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in cached), encoding="utf-8")
    assert train_rows(40, seed=5, workers=1)[0]["proof"] == " marker"


def test_names_are_wider_than_the_shipped_set(rows):
    text = "\n".join(r["formal_statement"] for r in rows)
    assert "(h_" in text and "_of_" in text  # hypotheses named after what they say
    assert any(w in text for w in ("rain", "sunny", "tired", "φ", "p₁"))  # words for propositions
    assert "(h₁ :" in text or "(H1 :" in text  # and the plain styles still


def test_load_by_name_and_bad_names(cache):
    import data

    rows = data.load("logic-v2-train:20:seed=1")
    assert len(rows) == 20 and rows[0]["header"].startswith("prelude") and rows[0]["prompt_header"] == ""
    assert parse_spec("logic-v2-train:50000") == (50000, 0, False) and parse_spec("logic-v2") is None
    assert parse_spec("logic-v2-train:30:seed=2:large") == (30, 2, True)
    for bad in ("logic-v2-train", "logic-v2-train:", "logic-v2-train:x", "logic-v2-train:10:seed"):
        with pytest.raises(ValueError, match="logic-v2-train:N"):
            parse_spec(bad)


@pytest.mark.lean
def test_generated_reference_proofs_check_on_lean(server_checker, cache):
    from lean_env import ProofTask

    import data

    rows = data.load("logic-v2-train:24:seed=7")
    tasks = [ProofTask(formal_statement=r["formal_statement"], header=r["header"], proof=p)
             for r in rows for p in (r["proof"], r["proof_tactic"])]
    verdicts = server_checker.check_many(tasks)
    assert [(t.formal_statement[:60], v.summary()) for t, v in zip(tasks, verdicts) if not v.ok] == []


@pytest.mark.lean
def test_step_rows_of_generated_theorems_are_lean_s_states_and_compose_a_proof(server_checker, cache):
    """A small sample walked on the real Lean: every reference proof walks through, each row's
    completion is the next tactic, and the completions in order are a proof Lean accepts."""
    from lean_env import ProofTask
    from search.step_data import build

    import data

    rows = data.load("logic-v2-train:6:seed=7")
    records, walks = build(rows, server_checker, "compact", workers=2)
    assert [w.error for w in walks if not w.proved] == []
    for row in rows:
        steps = [r for r in records if r["name"] == row["name"]]
        assert steps and [r["step"] for r in steps] == list(range(len(steps)))
        assert all("/- tactic state:" in r["prompt"] and "⊢" in r["prompt"] for r in steps)
        proof = " by\n" + "".join("  " + r["completion"] for r in steps).rstrip("\n")
        v = server_checker.check(ProofTask(formal_statement=row["formal_statement"], header=row["header"], proof=proof))
        assert v.ok, (row["name"], v.summary())


def test_the_large_stream_has_test_ood_sizes_and_none_of_its_cores_or_shapes():
    from data.logic_v2.splits import SIZE_OOD

    rows = train_rows(40, seed=3, workers=1, cache=False, large=True)
    cores, shapes = held_out()
    assert len(rows) == 40 and len({r["core"] for r in rows}) == 40
    assert all(SIZE_OOD[0] <= r["level"] <= SIZE_OOD[1] for r in rows)
    assert not {r["core"] for r in rows} & cores and not {r["skeleton"] for r in rows} & shapes
    small = {r["core"] for r in train_rows(40, seed=3, workers=1, cache=False)}
    assert not small & {r["core"] for r in rows}
