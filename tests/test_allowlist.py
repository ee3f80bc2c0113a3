"""The static policy refuses what could run candidate code, add assumptions or redefine what the
kernel trusts, whatever the spelling, and names the rule; ordinary proof text passes."""
import pytest

from lean_env.soundness.allowlist import MAX_CHARS, RULES, cheat_flags, preamble_violations, violations


def rules(text):
    return {v.rule for v in violations(text)}


REFUSED = [
    # size and lexical errors
    ("x" * (MAX_CHARS + 1), "size"),
    ("theorem t : True := by\n\ttrivial", "lexical_error"),
    ("theorem t : True := by\u00a0trivial", "lexical_error"),
    ("theorem t : True := by\u2028trivial", "lexical_error"),
    ("theorem t : True := by trivial\r#eval 1", "lexical_error"),
    ('def s := "a\\q #eval 1"', "lexical_error"),
    ("/- never closed", "lexical_error"),
    ("/-- doc\t#eval 1 -/\ntheorem t : True := trivial", "lexical_error"),
    ("def «never closed := 1", "lexical_error"),
    ('def s := s!"{x}"', "interpolated_string"),
    # hash commands
    ("#eval IO.println \"hi\"", "hash_command"),
    ("  exact h\n#exit", "hash_command"),
    ("#reduce 1", "hash_command"),
    ("#guard_msgs in\nexample : True := trivial", "hash_command"),
    ("#synth Inhabited Nat", "hash_command"),
    ('#print "\'x\' does not depend on any axioms"', "print_string"),
    # axioms, scope, imports
    ("axiom cheat : False", "axiom"),
    ("private axiom cheat : False", "axiom"),
    ("opaque c : Nat", "axiom"),
    ("def «x/-» := 1\naxiom propext : False\ndef «-/» := 2", "axiom"),
    ('def s := r#"a"# axiom propext : False -- "#', "axiom"),
    ("namespace Foo\ntheorem foo : True := trivial", "scope"),
    ("end\ntheorem foo : True := trivial", "scope"),
    ("section\nvariable (h : False)\nend", "scope"),
    ("variable (h : False)\ninclude h", "scope"),
    ("omit h in theorem x : True := trivial", "scope"),
    ("export Foo (bar)", "scope"),
    ("mutual\ntheorem a : True := trivial\nend", "scope"),
    ("open private foo in\ntheorem x : True := trivial", "scope"),
    ("import Mathlib.Tactic", "import"),
    ("prelude", "import"),
    # code that runs at check time
    ("run_cmd Lean.logInfo \"x\"", "metaprogram"),
    ("run_tac do pure ()", "metaprogram"),
    ("run_elab pure ()", "metaprogram"),
    ("run_meta pure ()", "metaprogram"),
    ("macro \"trivial\" : tactic => `(tactic| sorry)", "metaprogram"),
    ("macro_rules | `(tactic| trivial) => `(tactic| sorry)", "metaprogram"),
    ("elab \"x\" : tactic => pure ()", "metaprogram"),
    ("syntax \"foo\" : term", "metaprogram"),
    ("declare_syntax_cat foo", "metaprogram"),
    ("notation \"⊤\" => False", "metaprogram"),
    ("infixl:65 \" +' \" => f", "metaprogram"),
    ("initialize pure ()", "metaprogram"),
    ("simproc foo (_) := fun _ => pure .continue", "metaprogram"),
    ("theorem t : True := by_elab pure ()", "metaprogram"),
    ("builtin_simproc foo (_) := fun _ => pure .continue", "metaprogram"),
    ("local notation \"x\" => 1", "local"),
    ("scoped instance : Inhabited Foo := ⟨x⟩", "local"),
    ("structure S where\n  x : Nat\nderiving Repr", "command"),
    ("irreducible_def f : Nat := 1", "command"),
    ("alias foo := bar", "command"),
    ("unsafe def f : Nat := 0", "unsafe"),
    ("partial def f : Nat → Nat := f", "unsafe"),
    ("def f := unsafeCast 0", "unsafe"),
    ("def f := ptrAddrUnsafe 0", "unsafe"),
    ("theorem t : True := by exact (include_str \"/etc/passwd\")", "unsafe"),
    # attributes
    ("@[extern \"c_fn\"] def f : Nat := 0", "attribute"),
    ("@[noinline, extern r\"x\"] def f : Nat := 0", "attribute"),
    ("@[«extern» \"x\"] def f : Nat := 0", "attribute"),
    ("@[implemented_by g] def f : Nat := 0", "attribute"),
    ("@[init] def f : Nat := 0", "attribute"),
    ("@[csimp] theorem f : a = b := rfl", "attribute"),
    ("@[export lean_foo] def f : Nat := 0", "attribute"),
    ("@[instance] def i : Inhabited Nat := ⟨0⟩", "attribute"),
    ("@[simp, command_elab foo] def f := 1", "attribute"),
    ("attribute [command_elab Lean.Parser.Command.check] f", "attribute"),
    ("attribute [-instance] instAddNat", "attribute"),
    ("attribute [local instance] Classical.propDecidable", "attribute"),
    ("@[norm_num Nat.add _ _] def e := 1", "attribute"),
    ("@[aesop safe tactic] def t := 1", "attribute"),
    ("attribute [scoped simp] foo", "local"),
    # set_option
    ("set_option debug.skipKernelTC true in\ntheorem x : False := sorry", "set_option"),
    ("set_option «debug».skipKernelTC true", "set_option"),
    ("set_option «debug.skipKernelTC» true", "set_option"),
    ("set_option trust 0", "set_option"),
    ("set_option backward.synthInstance.canonInstances false", "set_option"),
    ("set_option pp.all true", "set_option"),
    ("theorem t : True := by\n  set_option compiler.extract_closed false in trivial", "set_option"),
    # identifier roots and reserved names
    ("def f : IO Unit := pure ()", "identifier_root"),
    ("def f := _root_.IO.println", "identifier_root"),
    ("def f := «IO».println", "identifier_root"),
    ("def f := Lean.Elab.Command.elabCommand", "identifier_root"),
    ("open Lean in\ntheorem t : True := trivial", "identifier_root"),
    ("def f := System.FilePath.mk", "identifier_root"),
    ("def f := EIO.toIO", "identifier_root"),
    ("def f := BaseIO.toIO", "identifier_root"),
    ("theorem __prover_target : True := trivial", "reserved_name"),
    ("theorem x : True := __prover_nonce_1", "reserved_name"),
    # declared names
    ("def Nat.add (a b : Nat) : Nat := a", "core_namespace"),
    ("def\nNat.x := 1", "core_namespace"),
    ("def «Nat».add (a b : Nat) : Nat := a", "core_namespace"),
    ("theorem _root_.String.x : True := trivial", "core_namespace"),
    ("inductive List (α : Type) where\n  | nil : List α", "core_namespace"),
    ("structure Char where\n  val : Nat", "core_namespace"),
    ("def «Nat» := Unit", "core_namespace"),
    ("class CoeT (α : Sort u) (a : α) (β : Sort v)", "core_namespace"),
    ("instance (priority := 100) instOfNatNat : OfNat Nat n := ⟨42⟩", "core_namespace"),
    ("abbrev Quot.lift := 1", "core_namespace"),
    ("theorem propext : True := trivial", "core_namespace"),
    ("def Lean.ofReduceBool := 1", "core_namespace"),
    # native_decide
    ("  native_decide", "native_decide"),
    ("  decide +native", "native_decide"),
    ("  decide (config := { native := true })", "native_decide"),
    ("  bv_decide", "native_decide"),
    ("axiom Lean.ofReduceBool : False", "native_decide"),
    ("theorem t : True := Lean.ofReduceBool _ _ rfl", "native_decide"),
    # search tactics
    ("  apply?", "search_tactic"),
    ("  exact?", "search_tactic"),
    ("  rw?", "search_tactic"),
    ("  hint", "search_tactic"),
    ("  simp? says simp", "search_tactic"),
    ("  aesop?", "search_tactic"),
    ("  simp_all?", "search_tactic"),
    # quotations
    ("def n := `Nat.add", "quotation"),
    ("def n := ``Nat.add", "quotation"),
    ("def s := `(1 + 1)", "quotation"),
]


@pytest.mark.parametrize("text,rule", REFUSED, ids=[f"{r}:{t[:30]}" for t, r in REFUSED])
def test_refuses_with_named_rule(text, rule):
    found = violations(text)
    assert rule in {v.rule for v in found}
    v = next(v for v in found if v.rule == rule)
    reason = v.reason()
    assert reason.startswith(f"refused by policy rule '{rule}': ") and RULES[rule] in reason
    assert v.snippet and len(v.snippet) <= 60 and f"`{v.snippet}`" in reason


def test_every_rule_is_exercised():
    assert {r for _, r in REFUSED} == set(RULES)


ALLOWED = [
    "  intro h\n  exact ⟨h.2, h.1⟩",
    "  nlinarith [sq_nonneg (a - b), sq_nonneg (a + b)]",
    "  simp [hIO, h']\n  omega",
    "  decide",
    "  decide +kernel",
    "  norm_num [Nat.factorial]",
    "  -- by the axiom of choice this is fine\n  exact h",
    "  /- we could try apply? here, or #eval it -/\n  exact h",
    "  -- #eval 1\n  exact h",
    "/-- a doc comment mentioning `axiom` and #exit -/\ntheorem t : True := trivial",
    "  have hend : x = y := by rfl\n  exact hend",
    "  rcases h with ⟨x, hx⟩\n  exact ⟨x, hx.symm⟩",
    "  simp only [Finset.sum_range_succ]",
    "  exact fun hx => hx.elim",
    "  unfold f at h\n  exact h",
    "  rw [show (2:ℝ) = 1 + 1 by norm_num]",
    "theorem Nat_helper (n : Nat) : n = n := rfl",
    "theorem Lists_ok : True := trivial",
    "open Real Nat Topology in\ntheorem t : True := trivial",
    "open BigOperators Real Nat Topology Rat\n\ntheorem t : True := trivial",
    "open scoped BigOperators in\ntheorem t : True := trivial",
    "set_option maxHeartbeats 400000 in\ntheorem t : True := by\n  trivial",
    "set_option maxRecDepth 10000 in\nset_option linter.unusedVariables false in\ntheorem t : True := trivial",
    "theorem t : True := by\n  set_option maxHeartbeats 0 in\n  trivial",
    "lemma helper (x : ℝ) (h : 0 < x) : 0 ≤ x := le_of_lt h\n\ntheorem t : True := trivial",
    "def f (n : ℕ) : ℕ := n + 1\n\ntheorem t : f 1 = 2 := rfl",
    "noncomputable def g (x : ℝ) : ℝ := x\n\ntheorem t : True := trivial",
    "@[simp] lemma f_one : f 1 = 2 := rfl",
    "@[simp, norm_cast] lemma c (n : ℕ) : ((n : ℤ) : ℝ) = n := by simp",
    "attribute [local simp] mul_comm in\ntheorem t : True := trivial",
    "attribute [-simp] Nat.succ_eq_add_one",
    "@[simp high] lemma x : True := trivial",
    "instance : Fact (1 < 2) := ⟨by norm_num⟩",
    "universe u\ntheorem t (α : Sort u) : True := trivial",
    "theorem t (α β : Type) (x₁ x₂ : α) (h' : x₁ = x₂) : x₂ = x₁ := h'.symm",
    "theorem t (f : ℕ → ℕ) (h₀ : ∀ n, f n = 2 * n) : f 3 = 6 := by simp [h₀]",
    "theorem t (s : Set ℝ) (f : ℝ → ℝ) : f ⁻¹' s = f ⁻¹' s := rfl",
    "theorem t : (∑ k in Finset.range 3, k) = 3 := by decide",
    'theorem t : "axiom" = "axiom" := rfl',
    "theorem t : 'a' ≠ 'b' := by decide",
    "theorem «my theorem» : True := trivial",
    "theorem t : True := by\n  have IO_bound : True := trivial\n  exact IO_bound",
    "theorem t (Lean_x : ℕ) : Lean_x = Lean_x := rfl",
    "#check (1 : ℕ)\n#print axioms t",
    "example : True := by\n  show_term trivial",
    "theorem t : True := by\n  first | trivial | simp",
    "theorem t : True := by\n  sorry",  # not a policy matter: the judge rejects sorry
]


@pytest.mark.parametrize("text", ALLOWED)
def test_allows_ordinary_proofs(text):
    assert violations(text) == []


def test_escaped_keywords_are_identifiers_to_lean_and_to_the_policy():
    # `«axiom»` is an identifier, not the command (Lean agrees); `«IO»` is still the root `IO`
    assert violations("theorem t («axiom» : Prop) (h : «axiom») : «axiom» := h") == []
    assert "identifier_root" in rules("theorem t : «IO» Unit := pure ()")


def test_each_rule_reported_once_with_the_first_snippet():
    found = violations("#eval 1\n#eval 2\n#reduce 3")
    assert [v.rule for v in found] == ["hash_command"] and found[0].snippet == "#eval"


def test_comment_tricks_do_not_hide_code():
    assert "hash_command" in rules("/- \" -/ #eval 1")
    assert "hash_command" in rules("def c := '\"' #eval 1 -- \"")
    assert "axiom" in rules("def «a/-» := 1 axiom x : False def «-/» := 1")
    assert "hash_command" in rules("theorem t : True := by trivial\n\"unterminated #eval 1")


def test_preamble_rules_allow_prelude_declarations():
    assert preamble_violations("prelude\nunsafe axiom lcErased : Type\naxiom propext : True") == []
    assert preamble_violations("import Mathlib\nopen Real Nat\nattribute [local instance] Classical.propDecidable\n"
                               "set_option maxHeartbeats 400000") == []
    assert {v.rule for v in preamble_violations("import Mathlib\n#eval 1")} == {"hash_command"}
    assert {v.rule for v in preamble_violations("import Mathlib\n@[extern \"x\"] def f := 1")} == {"attribute"}
    assert {v.rule for v in preamble_violations("set_option debug.skipKernelTC true")} == {"set_option"}
    assert {v.rule for v in preamble_violations("macro \"x\" : term => `(1)")} >= {"metaprogram"}


def test_size_is_refused_before_lexing():
    assert [v.rule for v in violations("/-" * MAX_CHARS)] == ["size"]  # one violation, nothing lexed


def test_cheat_flags_tokens():
    assert cheat_flags("by\n  native_decide") == {"native_decide"}
    assert cheat_flags("by\n  apply?\n  exact?\n  sorry\n  admit") == {"apply?", "exact?", "sorry", "admit"}
    assert cheat_flags("-- sorry, native_decide would work\nexact foo_sorry h.admit") == set()
    assert cheat_flags('by exact "sorry"') == set()


@pytest.mark.lean
def test_lean_reads_the_spellings_as_the_policy_normalizes_them(tmp_path):
    """Why names are compared normalized and keywords only bare: on the bundled Lean, `«debug»`
    names the real `debug.*` options, `«Nat».foo` declares `Nat.foo`, attribute names are looked
    up normalized, and `«axiom»` is a plain identifier."""
    import os
    import subprocess

    from lean_env.running.environments import logic_header
    from lean_env.running.toolchain import ToolchainError, find_toolchain

    try:
        tc = find_toolchain()
    except ToolchainError as exc:
        pytest.skip(str(exc))

    def lean(body: str) -> str:
        path = tmp_path / "Spell.lean"
        path.write_text(logic_header() + body + "\n", encoding="utf-8")
        proc = subprocess.run([str(tc.lean), str(path)], capture_output=True, text=True, timeout=120,
                              env={**os.environ, **tc.env()})
        return proc.stdout + proc.stderr

    assert lean("set_option «debug».skipKernelTC true in\ntheorem x : True := True.intro") == ""
    assert "Unknown option `debug.nonexistent`" in lean("set_option «debug».nonexistent true in\n"
                                                        "theorem x : True := True.intro")
    assert "def Nat.foo : Nat" in lean("def «Nat».foo : Nat := Nat.zero\n#print Nat.foo")
    assert "Unknown attribute `[nonexistent_attr]`" in lean("@[«nonexistent_attr»] def f : Nat := Nat.zero")
    assert lean("theorem t («axiom» : Prop) (h : «axiom») : «axiom» := h") == ""
    assert "set_option" in rules("set_option «debug».skipKernelTC true in\ntheorem x : True := True.intro")
    assert "core_namespace" in rules("def «Nat».foo : Nat := Nat.zero")
    assert "attribute" in rules("@[«nonexistent_attr»] def f : Nat := Nat.zero")
