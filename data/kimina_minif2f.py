"""Rebuild the miniF2F test set Kimina-Prover Preview was scored on (Kimina "corrects eight
unsolvable problems"; its own file is on Hugging Face only, AI-MO/minif2f_test).

What can be known here: the statement Kimina proved, read from the head of each of its 225
published proof files (MoonshotAI/Kimina-Prover-Preview@7abd61a5). For those problems the row
takes Kimina's statement where it differs from DeepSeek-V1.5's in meaning or notation (the 14
that ERRATA.md lists under K) and DeepSeek's text otherwise (equal up to whitespace). The other
19 test problems were not solved by Kimina, so its statement for them is unknown: they keep
DeepSeek-V1.5's statement (Goedel-Prover-V2's file, which agrees with Kimina on 224 of the 225,
has the same text for all 19) and say so in `statement_from`. That part is a best guess, not
Kimina's file: a correction Kimina made to an unsolved problem cannot be recovered.

`python -m data.kimina_minif2f` rewrites data/minif2f/kimina_preview_test.jsonl from
../shared/data; tests/test_datasets.py checks the bytes are reproduced.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from lean_env.soundness.statement import find_declaration, normalize_ws, strip_comments

DATA_DIR = Path(__file__).parent
OUT = DATA_DIR / "minif2f" / "kimina_preview_test.jsonl"
DEEPSEEK_COMMIT = "2c4ba9119eef74d0d611f494261b2c5bae98c69a"


def _comparable(statement: str) -> str:
    """The statement as ERRATA compares them: comments out, whitespace collapsed, `∑ x in s` as
    `∑ x ∈ s`, the trailing `:= by` dropped."""
    text = normalize_ws(strip_comments(statement))
    text = re.sub(r"([∑∏]\s*[^,]*?)\bin\b", r"\1∈", text)
    return re.sub(r"\s*:=\s*(by)?\s*$", "", text)


def kimina_statement(proof_text: str, name: str) -> str:
    """`theorem NAME ... := by\\n` as written at the head of a Kimina proof file."""
    span = find_declaration(proof_text, name)
    if span is None:
        raise ValueError(f"{name}: the proof file does not declare `theorem {name}`")
    start, end = span
    if not proof_text[end:].startswith(":= by"):
        raise ValueError(f"{name}: the statement is not followed by `:= by`")
    return proof_text[start:end] + ":= by\n"


def build(shared: Path) -> list[dict]:
    deepseek = [json.loads(line) for line in (shared / "minif2f" / "deepseek_v1.5.jsonl").open(encoding="utf-8")]
    kimina = {r["name"]: r for r in map(json.loads, (shared / "proofs" / "kimina_preview" /
                                                      "minif2f_test_solved.jsonl").open(encoding="utf-8"))}
    rows = []
    for ds in (r for r in deepseek if r["split"] == "test"):
        row = {k: ds[k] for k in ("name", "split", "informal_prefix", "formal_statement", "header")}
        k = kimina.get(ds["name"])
        if k is None:
            row["statement_from"] = "deepseek-v1.5 (not among Kimina's solved proofs: Kimina's statement unknown)"
            row["source"] = f"deepseek-ai/DeepSeek-Prover-V1.5@{DEEPSEEK_COMMIT}:datasets/minif2f.jsonl"
        else:
            theirs = kimina_statement(k["proof_text"], ds["name"])
            if _comparable(theirs) != _comparable(ds["formal_statement"]):
                row["formal_statement"] = theirs
                row["statement_from"] = "kimina-preview (differs from deepseek-v1.5)"
            else:
                row["statement_from"] = "kimina-preview (same as deepseek-v1.5 up to whitespace)"
            row["source"] = k["source"]
        rows.append(row)
    return rows


def write(rows: list[dict], path: Path = OUT) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


if __name__ == "__main__":
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else DATA_DIR.parent.parent / "shared" / "data"
    write(build(shared))
    print(f"wrote {OUT}")
