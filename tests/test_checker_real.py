"""The real-kernel suite: the bundled Lean 4.35 with the logic prelude decides every verdict here."""
import pytest

from lean_env.soundness import judge as judge_mod
from lean_env.soundness.checkfile import compose
from lean_env.soundness.verdict import ProofTask

pytestmark = pytest.mark.lean

AND_SWAP = "theorem and_swap (p q : Prop) (h : And p q) : And q p :="


def check(cli_checker, header, statement=AND_SWAP, **kw):
    return cli_checker.check(ProofTask(statement, header=header, **kw))


@pytest.mark.parametrize("statement,proof", [
    (AND_SWAP, " And.intro h.2 h.1"),
    (AND_SWAP, " ⟨h.right, h.left⟩"),
    ("theorem or_swap (p q : Prop) (h : Or p q) : Or q p :=", " Or.elim h (fun hp => Or.inr hp) (fun hq => Or.inl hq)"),
    ("theorem mp (p q : Prop) (hp : p) (hpq : p → q) : q :=", " hpq hp"),
    ("theorem contra (p q : Prop) (hpq : p → q) (hnq : Not q) : Not p :=", " fun hp => hnq (hpq hp)"),
    ("theorem ex_intro (α : Type) (P : α → Prop) (a : α) (h : P a) : Exists P :=", " ⟨a, h⟩"),
    ("theorem eq_symm' (α : Type) (a b : α) (h : Eq a b) : Eq b a :=", " Eq.symm h"),
    ("theorem iff_refl' (p : Prop) : Iff p p :=", " ⟨fun h => h, fun h => h⟩"),
    ("theorem two_plus_two : Eq (Nat.add 2 2) 4 :=", " rfl"),
])
def test_correct_proofs_are_proved(cli_checker, header, statement, proof):
    v = check(cli_checker, header, statement, proof=proof)
    assert v.ok, v.reasons
    assert v.status == "proved" and v.reasons == [] and v.errors == []
    assert v.axioms == []
    assert v.sorries == 0
    assert v.seconds > 0


def test_wrong_proof_rejected_with_leans_own_error(cli_checker, header):
    v = check(cli_checker, header, proof=" h")
    assert not v.ok and v.status == "rejected"
    assert v.errors and "mismatch" in v.errors[0].text.lower()
    assert v.errors[0].line == 1  # positions are relative to the candidate text
    assert "error" in v.reasons[0]


def test_false_arithmetic_rejected(cli_checker, header):
    v = check(cli_checker, header, "theorem bad_arith : Eq (Nat.add 2 2) 5 :=", proof=" rfl")
    assert not v.ok and v.status == "rejected" and v.errors


def test_code_block_with_the_right_statement_is_proved(cli_checker, header):
    code = "/-- swap -/\ntheorem and_swap (p q : Prop)\n    (h : And p q) : And q p :=\n  ⟨h.2, h.1⟩"
    v = check(cli_checker, header, code=code)
    assert v.ok, v.reasons


def test_code_with_helper_lemma_is_proved(cli_checker, header):
    code = ("theorem helper (p q : Prop) (h : And p q) : q := h.2\n"
            "theorem and_swap (p q : Prop) (h : And p q) : And q p := ⟨helper p q h, h.1⟩")
    assert check(cli_checker, header, code=code).ok


def test_edited_statement_rejected(cli_checker, header):
    # the model weakened the statement (assumes what it proves)
    v = check(cli_checker, header, code="theorem and_swap (p q : Prop) (h : And q p) : And q p := h")
    assert not v.ok and v.status == "rejected"
    assert any("differently from the target" in r for r in v.reasons)
    assert any("exactly the target statement" in r for r in v.reasons)  # the kernel check caught it too


def test_kernel_check_catches_what_the_text_check_misses(cli_checker, header, monkeypatch):
    # defence in depth: even if the text comparison were fooled, the kernel compares types
    monkeypatch.setattr(judge_mod, "_statement_reasons", lambda task: [])
    v = check(cli_checker, header, code="theorem and_swap (p q : Prop) (h : And q p) : And q p := h")
    assert not v.ok
    assert any("exactly the target statement" in r for r in v.reasons)


def test_renamed_theorem_rejected(cli_checker, header):
    v = check(cli_checker, header, code="theorem and_swap' (p q : Prop) (h : And p q) : And q p := ⟨h.2, h.1⟩")
    assert not v.ok
    assert any("does not declare `theorem and_swap`" in r for r in v.reasons)


def test_sorry_rejected(cli_checker, header):
    v = check(cli_checker, header, proof=" sorry")
    assert not v.ok and v.status == "rejected"
    assert v.sorries >= 1
    assert any("sorry" in r for r in v.reasons)


def test_sorry_in_helper_lemma_rejected(cli_checker, header):
    code = ("theorem helper (p q : Prop) (h : And p q) : q := sorry\n"
            "theorem and_swap (p q : Prop) (h : And p q) : And q p := ⟨helper p q h, h.1⟩")
    v = check(cli_checker, header, code=code)
    assert not v.ok and any("sorry" in r for r in v.reasons)
    assert v.axioms is not None and "sorryAx" in v.axioms


def test_added_axiom_refused_before_lean(cli_checker, header):
    v = check(cli_checker, header, code="axiom cheat : False\ntheorem and_swap (p q : Prop) (h : And p q) : And q p := False.elim cheat")
    assert v.status == "refused" and any("'axiom'" in r for r in v.reasons)


def test_axiom_smuggled_through_the_header_is_caught_by_print_axioms(cli_checker, header):
    v = cli_checker.check(ProofTask(AND_SWAP, header=header + "axiom cheat : False\n", proof=" False.elim cheat"))
    assert not v.ok and v.axioms == ["cheat"]
    assert any("non-standard axioms: cheat" in r for r in v.reasons)


def test_standard_axioms_are_accepted(cli_checker, header):
    v = check(cli_checker, header, "theorem pe (p : Prop) (h : p) : Eq p True :=",
              proof=" propext ⟨fun _ => trivial, fun _ => h⟩")
    assert v.ok, v.reasons
    assert v.axioms == ["propext"]


def test_native_decide_axiom_is_rejected_by_default(cli_checker, header):
    # stand-in for native_decide's axiom: the bundled prelude has no compiler-backed decide
    # (the opt-in, allow_native_decide / --trust native_decide: tests/test_trust_native_decide.py)
    hdr = header + "axiom Lean.ofReduceBool (a b : Bool) (h : Eq a b) : True\n"
    statement = "theorem nd : True :="
    proof = " Lean.ofReduceBool Bool.true Bool.true rfl"
    v = cli_checker.check(ProofTask(statement, header=hdr, proof=proof))
    assert not v.ok, v.reasons
    assert v.status in ("rejected", "refused")
    assert any("native_decide" in r for r in v.reasons)


def test_unterminated_comment_cannot_swallow_the_checks(cli_checker, header):
    v = check(cli_checker, header, proof=" ⟨h.2, h.1⟩\n/-")
    assert not v.ok


def test_proof_that_closes_early_and_adds_junk(cli_checker, header):
    v = check(cli_checker, header, proof=" ⟨h.2, h.1⟩\ntheorem other : False := sorry")
    assert not v.ok and any("sorry" in r for r in v.reasons)


def test_fake_axiom_report_in_candidate_does_not_count(cli_checker, header):
    # a candidate may print axioms of something else; only our own #print line counts
    code = ("theorem and_swap (p q : Prop) (h : And p q) : And q p := sorry\n"
            "theorem clean : True := trivial\n#print axioms clean")
    v = check(cli_checker, header, code=code)
    assert not v.ok and "sorryAx" in (v.axioms or [])


def test_header_error_reported(cli_checker, header):
    v = cli_checker.check(ProofTask(AND_SWAP, header=header + "theorem broken : False := trivial\n", proof=" ⟨h.2, h.1⟩"))
    assert not v.ok and any("header has errors" in r for r in v.reasons)


def test_statement_that_does_not_elaborate(cli_checker, header):
    v = check(cli_checker, header, "theorem undefined_thing (p : Prop) (h : Foo p) : p :=", proof=" h")
    assert not v.ok and any("target statement does not elaborate" in r for r in v.reasons)


def test_policy_refusals_never_start_lean(cli_checker, header, monkeypatch):
    calls = []
    monkeypatch.setattr(cli_checker.backend, "run", lambda *a, **k: calls.append(a))
    for proof in [" by exact?", "\n#eval 1", " h\naxiom x : False", " h\nset_option debug.skipKernelTC true"]:
        v = check(cli_checker, header, proof=proof)
        assert v.status == "refused" and not v.ok
    assert calls == []


def test_backend_failure_is_a_verdict_not_an_exception(cli_checker, header, monkeypatch):
    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(cli_checker.backend, "run", boom)
    v = check(cli_checker, header, proof=" ⟨h.2, h.1⟩")
    assert v.status == "crashed" and "disk full" in v.reasons[0]


def test_code_importing_beyond_the_header_is_refused(cli_checker, header):
    v = check(cli_checker, header, code="import Mathlib\ntheorem and_swap (p q : Prop) (h : And p q) : And q p := ⟨h.2, h.1⟩")
    assert v.status == "refused"


def test_check_file_layout_keeps_candidate_positions():
    cf = compose(ProofTask(AND_SWAP, header="prelude\n", proof=" h"), nonce="abc123")
    lines = cf.body.split("\n")
    assert lines[cf.candidate_start - 1] == AND_SWAP + " h"
    assert lines[cf.closer_line - 1] == "#print axioms _root_.__prover_target_abc123"
    assert lines[cf.check_line - 1] == ("theorem __prover_check_abc123 : type_of% @_root_.__prover_target_abc123"
                                        " := @_root_.and_swap")
    assert lines[cf.axioms_line - 1] == "#print axioms _root_.__prover_check_abc123"
    assert compose(ProofTask(AND_SWAP, proof=" h")).nonce != compose(ProofTask(AND_SWAP, proof=" h")).nonce


def test_batch_keeps_order_and_loses_nothing(cli_checker, header):
    tasks = [ProofTask(AND_SWAP, header=header, proof=p) for p in [" ⟨h.2, h.1⟩", " h", " sorry", " ⟨h.2, h.1⟩"] * 3]
    verdicts = cli_checker.check_many(tasks)
    assert [v.ok for v in verdicts] == [True, False, False, True] * 3


def test_code_with_the_headers_own_imports_is_not_refused(cli_checker, header):
    # a whole file as the model wrote it: its imports agree with the header, so they are fine
    hdr = "import Foo\n" + header  # (not a real module: we only check the policy decision)
    from lean_env.checker import precheck

    task = ProofTask(AND_SWAP, header=hdr, code="import Foo\ntheorem and_swap (p q : Prop) (h : And p q) : And q p := ⟨h.2, h.1⟩")
    assert precheck(task) is None
    task = ProofTask(AND_SWAP, header=hdr, code="import Bar\ntheorem and_swap (p q : Prop) (h : And p q) : And q p := ⟨h.2, h.1⟩")
    v = precheck(task)
    assert v is not None and v.status == "refused" and "Bar" in v.reasons[0]


SLOW_DEFS = """
def uadd : Nat → Nat → Nat
  | n, Nat.zero => n
  | n, Nat.succ m => Nat.succ (uadd n m)
def umul : Nat → Nat → Nat
  | _, Nat.zero => Nat.zero
  | n, Nat.succ m => uadd (umul n m) n
def upred : Nat → Nat
  | Nat.zero => Nat.zero
  | Nat.succ n => n
def usub : Nat → Nat → Nat
  | n, Nat.zero => n
  | n, Nat.succ m => upred (usub n m)
set_option maxRecDepth 1000000
"""


def test_check_past_its_timeout_is_killed_and_reported(header):
    from lean_env.checker import Checker
    from lean_env.running.settings import Settings

    # ~65 s of kernel reduction on an idle 2-core machine; the limit is 3 s
    task = ProofTask("theorem slow : usub (umul 200 200) (umul 200 200) = 0 :=", header=header + SLOW_DEFS,
                     proof=" rfl", timeout=3)
    with Checker("cli", Settings.from_env(), workers=1) as c:
        v = c.check(task)
    assert v.status == "timeout" and not v.ok
    assert "time limit" in v.reasons[0]
    assert v.seconds < 30


def test_memory_limit_is_reported_as_crash_not_as_wrong_proof(header):
    from lean_env.checker import Checker
    from lean_env.running.settings import Settings

    task = ProofTask("theorem slow : umul 300 300 = 90000 :=", header=header + SLOW_DEFS, proof=" rfl")
    with Checker("cli", Settings.from_env(memory_mb=100), workers=1) as c:
        v = c.check(task)
    assert v.status == "crashed" and not v.ok
    assert any("memory" in r for r in v.reasons)


def test_address_space_limit_is_reported_as_crash(header):
    from lean_env.checker import Checker
    from lean_env.running.settings import Settings

    with Checker("cli", Settings.from_env(address_space_mb=1500), workers=1) as c:
        v = c.check(ProofTask(AND_SWAP, header=header, proof=" ⟨h.2, h.1⟩"))
    assert v.status == "crashed" and not v.ok
    assert v.reasons and "Lean" in v.reasons[0]


def test_declaring_kernel_special_names_is_refused(cli_checker, header):
    v = check(cli_checker, header, code="def Nat.land (a b : Nat) : Nat := a\n"
              "theorem and_swap (p q : Prop) (h : And p q) : And q p := ⟨h.2, h.1⟩")
    assert v.status == "refused" and any("core_namespace" in r for r in v.reasons)


def test_notation_and_tactics_of_the_prelude(cli_checker, header):
    v = check(cli_checker, header, "theorem t (p q : Prop) (h : p ∧ q) : q ∧ p := by",
              proof="\n  constructor\n  · exact h.2\n  · exact h.1")
    assert v.ok, v.reasons
    v = check(cli_checker, header, "theorem t (p q : Prop) (h : p ∧ q) : q ∧ p := by",
              proof="\n  constructor\n  · exact h.1\n  · exact h.2")
    assert not v.ok and v.errors and v.errors[0].line == 3  # the first wrong tactic


def test_a_configured_lean_of_the_bundled_version_checks_the_logic_environment(header):
    from lean_env.checker import Checker
    from lean_env.running.settings import Settings
    from lean_env.running.toolchain import find_toolchain

    bundled = find_toolchain(Settings.from_env(lean=""))
    with Checker("cli", Settings.from_env(lean=str(bundled.lean)), workers=1) as c:
        assert not c.backend.toolchain.bundled
        v = c.check(ProofTask(AND_SWAP, header=header, proof=" ⟨h.2, h.1⟩"))
    assert v.ok, v.reasons


def test_wrong_proof_is_not_blamed_on_sorry(cli_checker, header):
    v = check(cli_checker, header, proof=" p")
    assert not v.ok and v.status == "rejected"
    assert "sorryAx" in (v.axioms or [])  # Lean's error recovery
    assert not any("sorry" in r for r in v.reasons)
