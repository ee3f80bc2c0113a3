"""`--trust native_decide`: opt-in, strict by default. On the real bundled Lean, a header that
declares native_decide's axiom the way Lean's core does (`Lean.ofReduceBool` over an opaque-ish
`Lean.reduceBool`; the per-use `_native` auxiliary axiom of newer Lean) stands in for `Init`:
the allowlist lets the token through and the judge accepts exactly those axioms only when the
task (or the checker's settings) trust it, and every ok verdict then says so."""
import pytest

from lean_env.checker import Checker, precheck
from lean_env.settings import Settings, normalize_trust
from lean_env.verdict import ProofTask

pytestmark = pytest.mark.lean

NATIVE_HEADER_TAIL = """
def Lean.reduceBool (b : Bool) : Bool := b
axiom Lean.ofReduceBool (a b : Bool) (h : Eq (Lean.reduceBool a) b) : Eq a b
theorem native_fact : Eq Bool.true Bool.true := Lean.ofReduceBool Bool.true Bool.true rfl
axiom aux._native.native_decide.ax_1_1 : Eq Bool.false Bool.false
theorem aux_fact : Eq Bool.false Bool.false := aux._native.native_decide.ax_1_1
axiom Lean.notNative : Eq Bool.true Bool.true
theorem sneaky_fact : Eq Bool.true Bool.true := Lean.notNative
"""


@pytest.fixture(scope="module")
def native_header(header):
    return header + NATIVE_HEADER_TAIL


def task(header, proof, statement="theorem t : Eq Bool.true Bool.true :=", **kw):
    return ProofTask(statement, header=header, proof=proof, **kw)


def test_default_is_strict_at_the_judge(cli_checker, native_header):
    v = cli_checker.check(task(native_header, " native_fact"))
    assert not v.ok and any("native_decide is not accepted" in r and "--trust native_decide" in r for r in v.reasons)
    assert v.axioms == ["Lean.ofReduceBool"]


def test_trusted_task_is_accepted_and_the_evidence_says_so(cli_checker, native_header):
    v = cli_checker.check(task(native_header, " native_fact", allow_native_decide=True))
    assert v.ok, v.reasons
    assert v.evidence["native_decide_axioms"] == ["Lean.ofReduceBool"]
    assert "native_decide" in v.evidence["trust"]
    aux = cli_checker.check(task(native_header, " aux_fact", "theorem t : Eq Bool.false Bool.false :=",
                                 allow_native_decide=True))
    assert aux.ok and aux.evidence["native_decide_axioms"] == ["aux._native.native_decide.ax_1_1"]


def test_trust_covers_native_decide_only(cli_checker, native_header):
    v = cli_checker.check(task(native_header, " sneaky_fact", allow_native_decide=True))
    assert not v.ok and v.axioms == ["Lean.notNative"]


def test_the_token_is_refused_before_lean_unless_trusted(cli_checker, native_header):
    direct = " Lean.ofReduceBool Bool.true Bool.true rfl"
    refused = precheck(task(native_header, direct))
    assert refused is not None and any("native_decide" in r for r in refused.reasons)
    assert precheck(task(native_header, direct + " -- and #eval", allow_native_decide=True)) is None
    assert precheck(task(native_header, direct + "\n#eval 1", allow_native_decide=True)) is not None  # other rules stay
    v = cli_checker.check(task(native_header, direct, allow_native_decide=True))
    assert v.ok and v.evidence["native_decide_axioms"] == ["Lean.ofReduceBool"]


def test_a_trusting_checker_marks_every_task_and_ok_verdict(native_header, header):
    with Checker("cli", Settings.from_env(timeout=60, trust="native_decide"), workers=1) as checker:
        v = checker.check(task(native_header, " native_fact"))
        plain = checker.check(ProofTask("theorem u (p : Prop) (hp : p) : p :=", header=header, proof=" hp"))
    assert v.ok and plain.ok
    assert "native_decide" in plain.evidence["trust"] and "native_decide_axioms" not in plain.evidence


def test_trust_names_are_checked():
    assert normalize_trust(["native_decide", "native_decide"]) == "native_decide"
    assert normalize_trust("") == ""
    with pytest.raises(ValueError, match="only native_decide"):
        normalize_trust("everything")
    with pytest.raises(ValueError, match="native_decide"):
        Settings.from_env(trust="sorry")
