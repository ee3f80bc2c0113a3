"""Extraction, policy and cheat flags on real model-written miniF2F proofs (DeepSeek-Prover-V2,
Kimina-Prover-Preview). The proofs have no clear license, so they are read from ../shared/data
(or $PROVER_SHARED_DATA) and never copied into the project; the tests skip where it is absent."""
from tests.shared_data import SHARED
import dataclasses
import json
import re
from pathlib import Path

import pytest

from lean_env.soundness.allowlist import cheat_flags, violations
from lean_env.soundness.statement import find_declaration, statement_signature, strip_comments
from protocol.extract import code_task, extract

KIMINA = SHARED / "proofs" / "kimina_preview" / "minif2f_test_solved.jsonl"
DSV2 = SHARED / "proofs" / "deepseek_prover_v2" / "minif2f_solutions.jsonl"
ERRATA = SHARED / "minif2f" / "ERRATA.md"
DS_MINIF2F = Path(__file__).resolve().parents[1] / "data" / "minif2f" / "deepseek_v1.5.jsonl"

pytestmark = pytest.mark.skipif(not KIMINA.exists() or not DSV2.exists(),
                                reason=f"real proofs not found under {SHARED}")


def _rows(path):
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def _signature(code: str, name: str) -> str:
    span = find_declaration(code, name)
    assert span is not None, f"{name} not declared"
    return statement_signature(strip_comments(code)[span[0] : span[1]])


def _file_statement(proof_text: str, name: str) -> str:
    span = find_declaration(proof_text, name)
    return strip_comments(proof_text)[span[0] : span[1]].rstrip() + " := by\n"


@pytest.fixture(scope="module")
def deepseek():
    return {r["name"]: r for r in _rows(DS_MINIF2F)}


@pytest.fixture(scope="module")
def kimina():
    return _rows(KIMINA)


@pytest.fixture(scope="module")
def dsv2():
    return _rows(DSV2)


def test_every_kimina_output_yields_a_code_task_for_its_theorem(kimina, deepseek):
    with_output = [r for r in kimina if r["model_output"]]
    assert len(with_output) == 197
    for r in with_output:
        statement = _file_statement(r["proof_text"], r["name"])
        row = {"formal_statement": statement, "header": deepseek[r["name"]]["header"]}
        e = extract(row, r["model_output"], "kimina")
        assert e.ok, (r["name"], e.reason)
        assert e.task.code is not None and e.task.name == r["name"]
        assert _signature(e.task.code, r["name"]) == statement_signature(statement)


def _errata_d2_names() -> set[str]:
    """Problems ERRATA.md lists as differing from DeepSeek-V1.5 in the DeepSeek-V2 proofs (S or N)."""
    names = set()
    for line in ERRATA.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[5] in ("S", "N"):  # S table: problem|split|Y|G|K|D2|what
            names.add(cells[0])
        if len(cells) == 4 and re.search(r"\bD2\b", cells[2]):  # N table: problem|split|variants|difference
            names.add(cells[0])
    return names


def test_every_dsv2_file_yields_a_task_matching_the_dataset_modulo_errata(dsv2, deepseek):
    assert len(dsv2) == 438
    mismatched = set()
    for r in dsv2:
        target = deepseek[r["name"]]
        e = code_task(r["proof_text"], target["formal_statement"], target["header"])
        assert e.ok, (r["name"], e.reason)
        if _signature(e.task.code, r["name"]) != statement_signature(target["formal_statement"]):
            mismatched.add(r["name"])
    expected = _errata_d2_names()
    assert len(expected) == 9  # 8 different statements + 1 notation (amc12a_2021_p18)
    assert mismatched == expected


def test_no_real_proof_is_refused_by_the_policy(kimina, dsv2, deepseek):
    """The policy must not refuse ordinary proof text. Checked on what the Checker sees: the
    extracted code (imports blanked by the Checker's own rule). The only refusals are the 16
    Kimina proofs that use `native_decide`, refused on purpose: in Lean 4.35 it rests on a per-use
    auxiliary axiom and runs compiled code the candidate can influence, so it cannot be audited
    (see lean_env/soundness/allowlist.py). They are exactly the proofs cheat_flags marks `native_decide`."""
    refused = {}
    for r in kimina + dsv2:
        target = deepseek[r["name"]]
        e = code_task(r["proof_text"], _file_statement(r["proof_text"], r["name"]), target["header"])
        if not e.ok:  # 0710-subset files that import in another order still carry the same imports
            pytest.fail(f"{r['name']}: {e.reason}")
        found = violations(e.task.code)
        if found:
            refused[r["name"]] = sorted(v.rule for v in found)
    native = {r["name"] for r in kimina if "native_decide" in cheat_flags(r["proof_text"])}
    assert len(native) == 16
    assert refused == {name: ["native_decide"] for name in native}


def test_trusting_native_decide_lets_kiminas_16_native_proofs_reach_lean(kimina, deepseek):
    """With --trust native_decide (allow_native_decide), the policy refuses none of Kimina's proofs."""
    from lean_env.checker import precheck

    native = [r for r in kimina if "native_decide" in cheat_flags(r["proof_text"])]
    for r in native:
        e = code_task(r["proof_text"], _file_statement(r["proof_text"], r["name"]), deepseek[r["name"]]["header"])
        assert precheck(e.task) is not None
        trusted = dataclasses.replace(e.task, allow_native_decide=True)
        assert precheck(trusted) is None, r["name"]


def test_cheat_flags_on_real_proofs(kimina, dsv2):
    flagged = {r["name"] for r in kimina if "native_decide" in cheat_flags(r["proof_text"])}
    assert len(flagged) == 16
    for r in kimina + dsv2:
        raw = r["proof_text"]
        code, flags = strip_comments(raw), cheat_flags(raw)
        for token in ("native_decide", "sorry", "admit", "apply?", "exact?"):
            if re.search(r"(?<![\w.'])" + re.escape(token) + r"(?![\w'])", code):
                assert token in flags, (r["name"], token)
    assert not any(cheat_flags(r["proof_text"]) for r in dsv2)  # DeepSeek-V2: none of these tokens


def test_cheat_flags_tokens():
    assert cheat_flags("by\n  native_decide") == {"native_decide"}
    assert cheat_flags("by\n  apply?\n  exact?\n  sorry\n  admit") == {"apply?", "exact?", "sorry", "admit"}
    assert cheat_flags("-- sorry, native_decide would work\nexact foo_sorry h.admit") == set()
