"""The logic benchmark: deterministic generation, the shipped set, and (with -m lean) every
reference proof checked by the real bundled Lean, with corrupted proofs rejected."""
import collections
import json
import re

import pytest

from data import logic
from data.loaders import DATA_DIR

SHIPPED = DATA_DIR / "logic" / "v1.jsonl"


def _shipped():
    return [json.loads(line) for line in SHIPPED.open(encoding="utf-8")]


def test_regenerating_gives_the_shipped_file_byte_for_byte(tmp_path):
    out = tmp_path / "v1.jsonl"
    logic.write_jsonl(logic.default_rows(), out)
    assert out.read_bytes() == SHIPPED.read_bytes()


def test_shipped_set_shape():
    rows = _shipped()
    assert len(rows) == logic.DEFAULT_SET["n"] == 300
    assert len({r["name"] for r in rows}) == len(rows)
    levels = collections.Counter(r["level"] for r in rows)
    assert levels == {1: 16, 2: 142, 3: 142}
    assert {r["split"] for r in rows} == {"train", "valid", "test"}
    for r in rows:
        assert r["version"] == logic.VERSION and r["env"] == "logic"
        assert r["formal_statement"].startswith(f"theorem {r['name']} ") and r["formal_statement"].endswith(":=")
        assert r["split"] == logic.split_of(r["formal_statement"].split(" ", 2)[2][: -len(" :=")])


def test_generate_is_deterministic_and_seeded():
    a = logic.generate(40, seed=7, levels=[2, 3])
    assert a == logic.generate(40, seed=7, levels=[2, 3])
    assert a != logic.generate(40, seed=8, levels=[2, 3])
    assert {r["level"] for r in a} == {2, 3}
    assert collections.Counter(r["level"] for r in a) == {2: 20, 3: 20}


def test_level_one_runs_out_instead_of_looping():
    rows = logic.generate(100, seed=0, levels=[1])
    assert len(rows) == 16 and len({r["name"] for r in rows}) == 16


def test_bad_levels_are_refused():
    with pytest.raises(ValueError):
        logic.generate(5, levels=[4])


def test_level_three_has_quantifiers_or_chains():
    for r in _shipped():
        if r["level"] == 3:
            assert "∀" in r["formal_statement"] or "Exists" in r["formal_statement"] or r["schema"].startswith("chain")


def test_renamings_are_one_theorem():
    f1 = logic.Imp(logic.And(logic.atom("z"), logic.atom("y")), logic.atom("z"))
    f2 = logic.Imp(logic.And(logic.atom("a"), logic.atom("b")), logic.atom("a"))
    assert logic.make_row("and_left", 1, f1, "fun h => h.1") == logic.make_row("and_left", 1, f2, "fun h => h.1")


def test_render_parenthesizes_arguments_and_arrow_left():
    p, q = logic.atom("p"), logic.atom("q")
    f = logic.Imp(logic.Imp(p, q), logic.And(logic.Not(p), logic.All("x", logic.app("P", "x"))))
    assert logic.render(f) == "(p → q) → And (Not p) (∀ x, P x)"


def _corrupt(proof: str) -> str:
    """Swap the components a proof picks (h.1 <-> h.2, Or.inl <-> Or.inr)."""
    swapped = re.sub(r"\.([12])\b", lambda m: "." + ("2" if m.group(1) == "1" else "1"), proof)
    if swapped != proof:
        return swapped
    return proof.replace("Or.inl", "Or.TMP").replace("Or.inr", "Or.inl").replace("Or.TMP", "Or.inr")


@pytest.mark.lean
def test_every_reference_proof_checks_and_corruptions_fail():
    from lean_env import Checker, ProofTask
    from lean_env.running.environments import logic_header

    header = logic_header()
    rows = _shipped()
    corrupted = []
    for level in logic.LEVELS:
        row = next(r for r in rows if r["level"] == level and _corrupt(r["proof"]) != r["proof"])
        corrupted.append(dict(row, proof=_corrupt(row["proof"])))
    tasks = [ProofTask(formal_statement=r["formal_statement"], header=header, proof=r["proof"])
             for r in rows + corrupted]
    with Checker("cli", workers=2) as checker:
        verdicts = checker.check_many(tasks)
    failed = [(r["name"], v.status, v.reasons[:1]) for r, v in zip(rows, verdicts) if not v.ok]
    assert failed == []
    for r, v in zip(corrupted, verdicts[len(rows):]):
        assert not v.ok and v.status == "rejected" and v.errors, (r["name"], r["proof"], v.summary())
