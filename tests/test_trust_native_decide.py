"""`--trust native_decide`: opt-in, strict by default. On the real bundled Lean, a header that
declares native_decide's axiom the way Lean's core does (`Lean.ofReduceBool` over an opaque-ish
`Lean.reduceBool`; the per-use `_native` auxiliary axiom of newer Lean) stands in for `Init`:
the allowlist lets the token through and the judge accepts exactly those axioms only when the
task (or the checker's settings) trust it, and every ok verdict then says so."""
import pytest

from lean_env.checker import Checker, precheck
from lean_env.running.settings import Settings, normalize_trust
from lean_env.soundness.verdict import ProofTask

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
    assert any("non-standard axioms: Lean.notNative" in r for r in v.reasons)


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


# -- wiring: eval's run card and identity, the service, the CLI and training config -------------

def test_eval_records_trust_in_the_card_and_a_resume_cannot_mix(tmp_path):
    import json

    import data
    from prover.evaluation import EvalError, EvalSpec, run_eval
    from prover.policies.scripted import ScriptedPolicy

    rows = data.load("logic", split="test", limit=2)
    script = {r["name"]: [r["proof"]] for r in rows}
    spec = dict(dataset="logic", split="test", limit=2, k=1, model="scripted", checker_backend="cli")
    out = tmp_path / "run"
    res = run_eval(EvalSpec(trust="native_decide", **spec), out, policy=ScriptedPolicy(script))
    assert res.card["trust"] == "native_decide" and json.loads((out / "run_card.json").read_text())["trust"]
    verdicts = [a["verdict"] for line in (out / "results.jsonl").read_text().splitlines()
                for a in json.loads(line)["attempts"] if a.get("verdict")]
    assert verdicts and all("native_decide" in v["evidence"]["trust"] for v in verdicts if v["ok"])
    with pytest.raises(EvalError, match="trust"):
        run_eval(EvalSpec(**spec), out, policy=ScriptedPolicy(script))
    strict = run_eval(EvalSpec(**spec), tmp_path / "strict", policy=ScriptedPolicy(script))
    assert "trust" not in strict.card


def test_service_refuses_a_row_asking_for_native_decide_unless_its_operator_enabled_it(native_header, monkeypatch):
    from fastapi.testclient import TestClient

    from lean_env.service.app import ServiceConfig, create_app
    from prover.commands.serve import build

    row = {"header": native_header, "formal_statement": "theorem t : Eq Bool.true Bool.true :=",
           "proof": " native_fact", "allow_native_decide": True}
    plain = dict(row, allow_native_decide=False)
    with Checker("cli", Settings.from_env(timeout=60, trust=""), workers=1) as checker:
        strict = TestClient(create_app(checker, ServiceConfig()))
        vs = strict.post("/v1/verify", json={"tasks": [row, plain]}).json()["verdicts"]
        assert vs[0]["status"] == "refused" and "prover serve --trust native_decide" in vs[0]["reasons"][0]
        assert vs[1]["status"] == "rejected"
        trusting = TestClient(create_app(checker, ServiceConfig(trust_native_decide=True)))
        vs = trusting.post("/v1/verify", json={"tasks": [row, plain]}).json()["verdicts"]
        assert vs[0]["ok"] and "native_decide" in vs[0]["evidence"]["trust"]
        assert vs[1]["status"] == "rejected"  # enabling it lets rows ask; it trusts nothing for the others
    monkeypatch.setenv("PROVER_TRUST", "native_decide")
    app, chk = build(checker="cli", workers=1, trust=["native_decide"])
    try:
        assert chk.settings.trust == "" and app is not None
    finally:
        chk.close()


def test_cli_flag_is_validated_and_reaches_the_config_key():
    import dataclasses

    from prover.choices import UsageError, trust
    from prover.train.config import TrainConfig

    assert trust(["native_decide"]) == "native_decide" and trust(None) == ""
    with pytest.raises(UsageError, match="--trust"):
        trust(["kernel"])
    assert "trust" in {f.name for f in dataclasses.fields(TrainConfig)} and TrainConfig().trust == ""
