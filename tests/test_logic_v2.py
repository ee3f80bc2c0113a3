"""logic-v2: the proof search, the splits' promises, the shipped set, and (with -m lean) every
reference proof, term and tactic style, checked by the real bundled Lean; plus the tactics
the prelude gained for it (exfalso, have, obtain, rcases, rw, try)."""
import collections
import json

import pytest

from data.logic_v2.formulas import canonical
from data.logic_v2.proofs import Search
from data.logic_v2.render import Style, render, term_proof
from data.logic_v2.splits import DEFAULT_SET, SIZE_IID, SIZE_OOD, SPLITS, VERSION, default_rows, generate
from data.logic import write_jsonl
from data.loaders import DATA_DIR
from tests.test_logic_bench import _corrupt

SHIPPED = DATA_DIR / "logic" / "v2.jsonl"
p, q, r = ("atom", "p"), ("atom", "q"), ("atom", "r")


def _shipped():
    return [json.loads(line) for line in SHIPPED.open(encoding="utf-8")]


def _shortest(ctx, goal, terms=()):
    found = Search(list(terms)).shortest(ctx, goal)
    return found


def test_search_finds_the_shortest_proof():
    proof, size = _shortest([], ("imp", ("and", p, q), ("and", q, p)))
    assert term_proof(proof) == "fun h1 => ⟨h1.2, h1.1⟩" and size == 6
    proof, size = _shortest([("h", ("or", p, q))], ("or", q, p))
    assert term_proof(proof) == "Or.elim h (fun h1 => Or.inr h1) (fun h2 => Or.inl h2)"


def test_search_is_intuitionistic():
    assert _shortest([], ("or", p, ("not", p))) is None  # excluded middle
    assert _shortest([], ("imp", ("imp", ("imp", p, q), p), p)) is None  # Peirce
    assert _shortest([], ("not", ("not", ("or", p, ("not", p))))) is not None


def test_search_does_first_order_logic_and_equality():
    P = lambda t: ("pred", "P", (t,))
    proof, _ = _shortest([("h", ("forall", "x", P("x")))], ("exists", "y", P("y")), terms=["a"])
    assert term_proof(proof) == "⟨a, h a⟩"
    proof, _ = _shortest([("h1", ("eq", "a", "b")), ("h2", ("eq", "b", "c"))], ("eq", "c", "a"))
    assert "Eq.trans" in term_proof(proof) and "Eq.symm" in term_proof(proof)
    proof, _ = _shortest([("h", ("eq", "a", "b")), ("hp", P("a"))], P("b"))
    assert term_proof(proof) == "h ▸ hp"


def test_render_uses_lean_precedences():
    f = ("imp", ("imp", p, q), ("and", ("not", ("or", p, q)), ("iff", q, r)))
    assert render(f) == "(p → q) → ¬(p ∨ q) ∧ (q ↔ r)"
    assert render(f, Style(notation=False)) == "(p → q) → And (Not (Or p q)) (Iff q r)"
    g = ("exists", "x", ("eq", "x", "x"))
    assert render(g, Style(type_name="β")) == "∃ x : β, x = x"  # nothing else fixes x's type


def test_renamings_and_premise_order_are_one_core():
    a = canonical([("imp", p, q), p], q)
    b = canonical([("atom", "s"), ("imp", ("atom", "s"), ("atom", "t"))], ("atom", "t"))
    assert a == b
    assert a != canonical([("imp", p, q), q], p)


def test_generate_is_deterministic_and_seeded():
    a = generate(12, 4, 4, seed=1)
    assert a == generate(12, 4, 4, seed=1)
    assert a != generate(12, 4, 4, seed=2)
    assert collections.Counter(r["split"] for r in a) == {"train": 12, "test-iid": 4, "test-ood": 4}


def test_shipped_set_keeps_the_split_promises():
    rows = _shipped()
    assert len(rows) == sum(DEFAULT_SET[k] for k in ("n_train", "n_iid", "n_ood"))
    assert len({r["name"] for r in rows}) == len(rows)
    by = collections.defaultdict(list)
    for row in rows:
        by[row["split"]].append(row)
        assert row["version"] == VERSION and row["env"] == "logic"
        assert row["formal_statement"].startswith(f"theorem {row['name']} ") and row["formal_statement"].endswith(":=")
        assert row["proof_tactic"].startswith(" by\n")
    assert set(by) == set(SPLITS)
    for split in ("train", "test-iid"):
        assert all(SIZE_IID[0] <= r["difficulty"] <= SIZE_IID[1] for r in by[split])
    assert all(r["difficulty"] >= SIZE_OOD[0] for r in by["test-ood"])
    train_cores = {r["core"] for r in by["train"]}
    assert not train_cores & {r["core"] for r in by["test-iid"]}  # disjoint up to renaming
    assert not {r["skeleton"] for r in by["train"]} & {r["skeleton"] for r in by["test-ood"]}
    for split in SPLITS:  # every kind of world in every split
        assert {r["kind"] for r in by[split]} == {"prop", "fo", "eq"}


def test_shipped_set_has_the_surface_variety():
    text = "\n".join(r["formal_statement"] for r in _shipped())
    for token in ("∧", "∨", "¬", "↔", "∃", "∀", " = ", "And ", "Not ", "Exists fun", "(h₁ :", "(H1 :", "(ha :"):
        assert token in text, token
    tactics = "\n".join(r["proof_tactic"] for r in _shipped())
    for tactic in ("intro ", "constructor", "rcases ", "cases ", "obtain ⟨", "exfalso", "left", "right",
                   "refine ", "apply ", "rw [", "· "):
        assert tactic in tactics, tactic


def test_logic_v2_loads_by_name_and_v1_still_does():
    from data.loaders import load

    rows = load("logic-v2", split="test-ood")
    assert len(rows) == DEFAULT_SET["n_ood"] and rows[0]["header"].startswith("prelude")
    assert rows[0]["profile"] == "bundled" and rows[0]["prompt_header"] == ""
    assert len(load("logic")) == 300


@pytest.mark.slow
def test_regenerating_gives_the_shipped_file_byte_for_byte(tmp_path):
    out = tmp_path / "v2.jsonl"
    write_jsonl(default_rows(), out)
    assert out.read_bytes() == SHIPPED.read_bytes()


@pytest.mark.lean
def test_every_reference_proof_checks_in_both_styles_and_corruptions_fail():
    from lean_env import Checker, ProofTask
    from lean_env.running.environments import logic_header
    from lean_env.running.settings import Settings

    header = logic_header()
    rows = _shipped()
    corrupted = [dict(r, proof=_corrupt(r["proof"])) for r in rows if _corrupt(r["proof"]) != r["proof"]][:12]
    tasks = [ProofTask(formal_statement=r["formal_statement"], header=header, proof=pr)
             for r in rows for pr in (r["proof"], r["proof_tactic"])]
    tasks += [ProofTask(formal_statement=r["formal_statement"], header=header, proof=r["proof"]) for r in corrupted]
    with Checker("server", Settings.from_env(timeout=60), workers=2) as checker:
        verdicts = checker.check_many(tasks)
    n = 2 * len(rows)
    failed = [(rows[i // 2]["name"], ("term", "tactic")[i % 2], v.reasons[:1]) for i, v in enumerate(verdicts[:n])
              if not v.ok]
    assert failed == []
    rejected = [v for v in verdicts[n:] if not v.ok and v.status == "rejected" and v.errors]
    # a swap can still prove the theorem (e.g. ⟨h.1, h.1⟩ of p ∧ p); nearly all must fail
    assert len(rejected) >= len(corrupted) - 2, [v.summary() for v in verdicts[n:]]


TACTICS_OK = {
    "exfalso": "theorem t1 (p q : Prop) (hp : p) (hn : ¬p) : q := by\n  exfalso\n  exact hn hp",
    "have": "theorem t2 (p q : Prop) (hp : p) (hq : q) : q ∧ p := by\n  have h : q := hq\n  exact ⟨h, hp⟩",
    "have_this": "theorem t3 (p q : Prop) (hp : p) (hn : ¬p) : q := by\n  have : False := hn hp\n  exact this.elim",
    "obtain": "theorem t4 (α : Type) (P : α → Prop) (h : ∃ x, P x) : ∃ y, P y := by\n"
              "  obtain ⟨w, hw⟩ := h\n  exact ⟨w, hw⟩",
    "obtain_clear": "theorem t5 (p q : Prop) (h : p ∧ q) : q := by\n  obtain ⟨-, hq⟩ := h\n  exact hq",
    "rcases": "theorem t6 (p q r : Prop) (h : p ∨ q ∧ r) : p ∨ r := by\n  rcases h with hp | ⟨_, hr⟩\n"
              "  · left; exact hp\n  · right; exact hr",
    "rw": "theorem t7 (α : Type) (a b : α) (P : α → Prop) (h : a = b) (ha : P a) : P b := by\n"
          "  rw [← h]\n  exact ha",
    "rw_closes_rfl": "theorem t8 (α : Type) (a b : α) (h : a = b) : b = a := by\n  rw [h]",
    "rewrite_at": "theorem t9 (α : Type) (a b : α) (P : α → Prop) (h : a = b) (ha : P a) : P b := by\n"
                  "  rewrite [h] at ha\n  exact ha",
    "try": "theorem t10 (p : Prop) (hp : p) : p := by\n  try exact hp",
    "show_from": "theorem t11 (p q : Prop) (hp : p) (hq : q) : p ∧ q := show p ∧ q from ⟨hp, hq⟩",
}
TACTICS_BAD = {
    "exfalso_wrong": ("theorem b1 (p q : Prop) (hp : p) : q := by\n  exfalso\n  exact hp", "Type mismatch"),
    "rcases_wrong": ("theorem b2 (p q r : Prop) (h : p ∨ q ∧ r) : p ∨ r := by\n  rcases h with hp | ⟨hr, _⟩\n"
                     "  · left; exact hp\n  · right; exact hr", "Type mismatch"),
    "lean3_cases": ("theorem b3 (p q : Prop) (h : p ∧ q) : q := by\n  cases h with hp hq\n  exact hq",
                    "unknown tactic"),
    "rw_and": ("theorem b4 (p q : Prop) (h : p ∧ q) : q := by\n  rw [h]", "Invalid rewrite argument"),
}


@pytest.mark.lean
def test_added_tactics_work_and_wrong_uses_fail(cli_checker, header):
    from lean_env import ProofTask

    def task(text):
        statement, _, proof = text.partition(":= ")
        return ProofTask(formal_statement=statement + ":=", header=header, proof=" " + proof)

    tasks = [task(t) for t in TACTICS_OK.values()] + [task(t) for t, _ in TACTICS_BAD.values()]
    verdicts = cli_checker.check_many(tasks)
    for name, v in zip(TACTICS_OK, verdicts):
        assert v.ok, (name, v.summary())
    for (name, (_, message)), v in zip(TACTICS_BAD.items(), verdicts[len(TACTICS_OK):]):
        assert not v.ok and any(message in e.text for e in v.errors), (name, v.errors)
