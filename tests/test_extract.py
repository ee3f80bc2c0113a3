"""Proof extraction on made-up outputs: what is cut out, and the reason when nothing is."""
import pytest

from lean_env.checker import precheck
from protocol.extract import code_blocks, cut_continuation, extract

HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\n"
ROW = {"name": "t1", "header": HEADER, "informal_prefix": "", "formal_statement": "theorem t1 (a b : ℕ) : a + b = b + a := by\n"}
BLOCK = "```lean4\nimport Mathlib\nimport Aesop\n\ntheorem t1 (a b : ℕ) : a + b = b + a := by\n  {}\n```"


def chat(tactic: str) -> str:
    return BLOCK.replace("{}", tactic)


def test_continuation_is_cut_at_the_closing_fence():
    e = extract(ROW, "  omega\n```\nSome chatter after the block", "deepseek-v1.5")
    assert e.ok and e.task.proof == "  omega\n" and e.task.code is None
    assert e.task.name == "t1" and e.task.header == HEADER


def test_continuation_without_fence_is_kept_unless_truncated():
    assert cut_continuation("  simp") == ("  simp", False)
    assert extract(ROW, "  simp", "deepseek-v1.5").task.proof == "  simp"
    e = extract(ROW, "  simp [Nat.add", "deepseek-v1.5", truncated=True)
    assert not e.ok and e.reason.startswith("truncated")


def test_empty_continuation_has_a_reason():
    e = extract(ROW, "```\n", "deepseek-v1.5")
    assert not e.ok and "empty proof" in e.reason


def test_chat_takes_the_last_complete_block_after_think():
    out = ("<think>\nDraft:\n" + chat("sorry") + "\n</think>\nFirst try:\n" + chat("simp")
           + "\nBetter:\n" + chat("omega") + "\n")
    e = extract(ROW, out, "kimina")
    assert e.ok and "omega" in e.task.code and "simp" not in e.task.code and e.task.proof is None


def test_chat_blanks_imports_via_the_checkers_rule_keeping_lines():
    e = extract(ROW, chat("omega"), "deepseek-v2")
    lines = e.task.code.split("\n")
    assert lines[0] == "" and lines[1] == "" and lines[3].startswith("theorem t1")
    assert precheck(e.task) is None  # the policy no longer sees `import`


def test_chat_import_missing_from_header_is_a_reason():
    row = dict(ROW, header="import Mathlib\n")
    e = extract(row, chat("omega"), "kimina")
    assert not e.ok and "Aesop" in e.reason


def test_chat_reasons():
    assert "no code block" in extract(ROW, "I cannot prove this.", "kimina").reason
    assert extract(ROW, "<think>\nlet me think", "kimina").reason.startswith("truncated")
    assert extract(ROW, "Here:\n```lean4\ntheorem t1 (a b : ℕ) : a + b", "kimina").reason.startswith("truncated")
    other = chat("omega").replace("theorem t1", "theorem t2")
    assert "theorem missing" in extract(ROW, other, "kimina").reason


def test_lean_fence_variants_and_lemma():
    out = "```lean\nlemma t1 (a b : ℕ) : a + b = b + a := by omega\n```"
    assert extract(ROW, out, "goedel-v2").ok
    blocks, unclosed = code_blocks("```python\nx\n```\n```lean4\ny\n```\n```lean4\nz")
    assert blocks == ["y\n"] and unclosed


@pytest.mark.lean
def test_extracted_logic_proofs_pass_the_real_checker():
    """End to end on the bundled Lean: a continuation and a chat answer for a logic row."""
    from data import load
    from lean_env import Checker

    row = next(r for r in load("logic") if r["schema"] == "and_comm")
    cont = extract(row, row["proof"] + "\n```\n", "deepseek-v1.5")
    answer = "<think>swap</think>\n```lean4\n" + row["formal_statement"] + row["proof"] + "\n```\n"
    chat_e = extract(row, answer, "kimina")
    wrong = extract(row, answer.replace("h.2, h.1", "h.1, h.2"), "kimina")
    with Checker("cli", workers=2) as checker:
        ok1, ok2, bad = checker.check_many([cont.task, chat_e.task, wrong.task])
    assert ok1.ok and ok2.ok, (ok1.summary(), ok2.summary())
    assert not bad.ok and bad.status == "rejected"
