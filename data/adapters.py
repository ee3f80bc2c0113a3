"""Turn a shipped file whose rows are not yet in the common schema (name, split, header,
informal_prefix, formal_statement, source) into rows that are: ProofNet's repeated names and
PutnamBench's whole-file problems. Pure text work; no Lean here."""
from __future__ import annotations

import re

from lean_env.soundness.statement import find_declaration

PUTNAM_SOURCE = "trishullab/PutnamBench@3c9b9268ebd132d482938b8e9d242dd71fc1ebc0:lean4/src/{name}.lean"
PROOFNET_SOURCE = "deepseek-ai/DeepSeek-Prover-V1.5@2c4ba9119eef74d0d611f494261b2c5bae98c69a:datasets/proofnet.jsonl"


def proofnet_rows(rows: list[dict]) -> list[dict]:
    """ProofNet's exercise numbers repeat across textbooks (371 rows, 349 names), and an eval
    record is keyed by (split, name): a later row with a name already seen becomes `NAME#2`,
    `NAME#3` (the statement keeps its theorem name, which is what Lean checks). Rows that state
    a `def` (14: `def … : CommGroup G :=`) are kept, marked `kind: def`, so the denominator is
    the paper's; the checker judges theorems only, so they cannot be scored as proved."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for raw in rows:
        row = dict(raw)
        key = (row["split"], row["name"])
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            row["name"] = f"{row['name']}#{seen[key]}"
        row["kind"] = "theorem" if re.match(r"\s*theorem\b", row["formal_statement"]) else "def"
        row.setdefault("source", PROOFNET_SOURCE)
        out.append(row)
    return out


_DOC_BEFORE = re.compile(r"(/--.*?-/\s*)$", re.DOTALL)


def _solution_stub(context: str, solution: str) -> re.Match:
    """The `[noncomputable] abbrev SOLUTION : T := sorry` declaration and the published-answer
    comment line after it (`-- ANSWER`)."""
    m = re.search(r"^((?:noncomputable\s+)?abbrev\s+" + re.escape(solution) + r"\b(.*?):=\s*)sorry[ \t]*\n"
                  r"((?:[ \t]*--[^\n]*\n)?)", context, re.MULTILINE | re.DOTALL)
    if m is None:
        raise ValueError(f"no `abbrev {solution} … := sorry` placeholder in the problem file")
    return m


def putnam_parts(raw: dict) -> dict:
    """A PutnamBench problem split into the context before the theorem (helper definitions,
    the answer placeholder, notes), its docstring, and `theorem NAME … := by\\n`."""
    src, name = raw["lean4_source"], raw["name"]
    span = find_declaration(src, name)
    if span is None:
        raise ValueError(f"{name}: no `theorem {name}` in the problem file")
    before, statement = src[: span[0]], src[span[0] : span[1]].rstrip() + " := by\n"
    doc = _DOC_BEFORE.search(before)
    informal, context = (doc.group(1), before[: doc.start()]) if doc else ("", before)
    return {"name": name, "split": "test", "informal_prefix": informal, "formal_statement": statement,
            "context": context, "source": PUTNAM_SOURCE.format(name=name),
            "informal_statement": raw.get("informal_statement", ""), "tags": raw.get("tags", [])}


def _header(raw: dict, context: str) -> str:
    head = raw["header"] if raw["header"].endswith("\n") else raw["header"] + "\n"
    return head + ("\n" + context if context.strip() else "")


def putnam_given_rows(rows: list[dict]) -> list[dict]:
    """All 672 problems, the published answer substituted for the placeholder's `sorry` (as
    PutnamBench's rewrite_solutions does), so only the theorem is left to prove. The answer is
    in the header: the model sees it, Lean checks the proof against it."""
    out = []
    for raw in rows:
        p = putnam_parts(raw)
        context = p.pop("context")
        if raw.get("has_solution"):
            m = _solution_stub(context, raw["solution_name"])
            context = context[: m.start()] + m.group(1) + raw["published_answer"].strip() + "\n" + context[m.end():]
        p["header"] = _header(raw, context)
        out.append(p)
    return out


def putnam_find_rows(rows: list[dict]) -> list[dict]:
    """The 346 problems that ask for an answer, with the answer to be found. The header keeps
    the placeholder `abbrev SOLUTION : T := sorry` (the published answer's comment removed, so
    the model is not shown it): checked as it stands, every proof rests on that sorry and is
    rejected. lean_env.answer judges a model's answer: it puts the model's answer where the
    sorry was, checks the proof, and asks Lean to prove the answer equals the published one."""
    out = []
    for raw in rows:
        if not raw.get("has_solution"):
            continue
        p = putnam_parts(raw)
        context = p.pop("context")
        m = _solution_stub(context, raw["solution_name"])
        stub = m.group(1) + "sorry\n"
        context = context[: m.start()] + stub + context[m.end():]
        p["header"] = _header(raw, context)
        p.update(answer_track="find", solution_name=raw["solution_name"], solution_stub=stub,
                 solution_type=m.group(2).strip().lstrip(":").strip(), published_answer=raw["published_answer"].strip())
        out.append(p)
    return out
