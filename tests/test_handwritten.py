"""data/logic/handwritten.jsonl and handwritten_2.jsonl: theorems written by hand in the logic
environment, phrased unlike data/logic.py and data/logic_v2/ produce them (descriptive hypothesis
names, every binder in the goal, implicit binders, `True`, `≠`, `↔` goals, `Nat` literals,
chained and reversed rewrites, nested `∃`). Every reference proof checks on the real Lean, and a
wrong proof does not."""
import pytest

import data

SETS = {"logic-handwritten": 24, "logic-handwritten-2": 14}


@pytest.mark.parametrize("name", SETS)
def test_loads_with_the_logic_header_and_unique_names(name):
    rows = data.load(name)
    assert len(rows) == SETS[name]
    assert len({r["name"] for r in rows}) == len(rows)
    logic_header = data.load("logic-v2", limit=1)[0]["header"]
    assert all(r["split"] == "handwritten" and r["header"] == logic_header for r in rows)
    assert all(r["formal_statement"].startswith(f"theorem {r['name']} ") for r in rows)


def test_not_generator_names_and_no_statement_twice():
    """Generated theorems are named logic_* / logic2_*; none of these is, and the later set
    repeats no name or statement of the first."""
    rows = [r for name in SETS for r in data.load(name)]
    assert not [r for r in rows if r["name"].startswith("logic")]
    assert len({r["name"] for r in rows}) == len(rows)
    assert len({r["formal_statement"].split(" ", 2)[2] for r in rows}) == len(rows)


@pytest.mark.lean
def test_every_reference_proof_checks_and_a_broken_one_does_not():
    from lean_env import Checker, ProofTask
    from lean_env.running.settings import Settings

    rows = data.load("logic-handwritten") + data.load("logic-handwritten-2")
    tasks = [ProofTask(formal_statement=r["formal_statement"], header=r["header"], proof=r["proof"]) for r in rows]
    tasks.append(ProofTask(formal_statement=rows[0]["formal_statement"], header=rows[0]["header"],
                           proof=" by\n  exact ⟨hp, hq⟩"))  # the components swapped
    with Checker("server", Settings.from_env(timeout=60), workers=2) as checker:
        verdicts = checker.check_many(tasks)
    failed = [(r["name"], v.summary()) for r, v in zip(rows, verdicts) if not v.ok]
    assert failed == []
    assert all(v.axioms == [] for v in verdicts[:-1])
    assert not verdicts[-1].ok and verdicts[-1].status == "rejected" and verdicts[-1].errors
