"""The static policy refuses what can escape the check, and names the rule."""
import pytest

from lean_env.policy import preamble_violations, violations


def rules(text):
    return {v.rule for v in violations(text)}


@pytest.mark.parametrize("text,rule", [
    ("#eval IO.println \"hi\"", "eval"),
    ("  exact h\n#exit", "exit"),
    ("run_cmd Lean.logInfo \"x\"", "run_cmd"),
    ("run_tac do pure ()", "run_cmd"),
    ("run_elab pure ()", "run_cmd"),
    ("def f : IO Unit := pure ()", "io"),
    ("unsafe def f : Nat := 0", "unsafe"),
    ("@[extern \"c_fn\"] def f : Nat := 0", "extern"),
    ("@[implemented_by g] def f : Nat := 0", "implemented_by"),
    ("set_option debug.skipKernelTC true in\ntheorem x : False := sorry", "debug_option"),
    ("axiom cheat : False", "axiom"),
    ("private axiom cheat : False", "axiom"),
    ("macro \"trivial\" : tactic => `(tactic| sorry)", "metaprogram"),
    ("elab \"x\" : tactic => pure ()", "metaprogram"),
    ("syntax \"foo\" : term", "metaprogram"),
    ("notation \"⊤\" => False", "metaprogram"),
    ("infixl:65 \" +' \" => f", "metaprogram"),
    ("  apply?", "search_tactic"),
    ("  exact?", "search_tactic"),
    ("  rw?", "search_tactic"),
    ("  hint", "search_tactic"),
    ("import Mathlib.Tactic", "import"),
    ("theorem __prover_target : True := trivial", "reserved_name"),
    ("end\ntheorem foo : True := trivial", "namespace_escape"),
    ("namespace Foo\ntheorem foo : True := trivial", "namespace_escape"),
    ("attribute [-instance] instAddNat", "local_instance_override"),
    ("@[init] def f : Nat := 0", "attribute_hack"),
    ("def Nat.add (a b : Nat) : Nat := a", "core_namespace"),
    ("theorem _root_.String.x : True := trivial", "core_namespace"),
    ("inductive List (α : Type) where\n  | nil : List α", "core_namespace"),
    ("structure Char where\n  val : Nat", "core_namespace"),
])
def test_refuses_with_named_rule(text, rule):
    found = violations(text)
    assert rule in {v.rule for v in found}
    v = next(v for v in found if v.rule == rule)
    assert rule in v.reason() and "refused" in v.reason()


@pytest.mark.parametrize("text", [
    "  intro h\n  exact ⟨h.2, h.1⟩",
    "  nlinarith [sq_nonneg (a - b), sq_nonneg (a + b)]",
    "  simp [hIO, h']\n  omega",
    "  decide",
    "  norm_num [Nat.factorial]",
    "  -- by the axiom of choice this is fine\n  exact h",
    "  /- we could try apply? here -/\n  exact h",
    "  have hend : x = y := by rfl\n  exact hend",
    "  rcases h with ⟨x, hx⟩\n  exact ⟨x, hx.symm⟩",
    "  simp only [Finset.sum_range_succ]",
    "  exact fun hx => hx.elim",
    "  unfold f at h\n  exact h",
    "  rw [show (2:ℝ) = 1 + 1 by norm_num]",
    "theorem Nat_helper (n : Nat) : n = n := rfl",
    "theorem Lists_ok : True := trivial",
    "  native_decide",  # not refused: reported from #print axioms and rejected unless allowed
])
def test_allows_ordinary_proofs(text):
    assert violations(text) == []


def test_raw_rules_see_through_comment_tricks():
    # a `#eval` that a naive comment stripper might hide is still refused
    assert "eval" in rules("/- \" -/ #eval 1")
    assert "eval" in rules("-- #eval 1")  # dangerous text is refused even in a comment


def test_preamble_rules_allow_prelude_declarations():
    assert preamble_violations("prelude\nunsafe axiom lcErased : Type\naxiom propext : True") == []
    assert {v.rule for v in preamble_violations("import Mathlib\n#eval 1")} == {"eval"}
