"""From a model's raw output to a ProofTask for the Checker, or a reason why there is none.

Model output is untrusted: extraction only cuts text out, it never repairs or judges a proof.
Whether the proof is right (and whether the block states exactly the target) is the Checker's
call. What extraction can say is that there is nothing to check: no code block, output cut off
by the token limit, the target theorem never declared, imports the environment lacks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from lean_env.soundness.checkfile import TaskError, split_code_preamble
from lean_env.soundness.statement import StatementError, find_declaration, theorem_name
from lean_env.soundness.verdict import ProofTask
from protocol.prompts import get_format, row_header

FENCE = "```"
# A fence line: ``` plus an info string (the language; empty on a closing fence).
_FENCE_RE = re.compile(r"^[ \t]*```[ \t]*([\w+-]*)[ \t]*$")
LEAN_LANGS = ("lean4", "lean")


@dataclass(frozen=True)
class Extraction:
    """`task` when something can be checked, else `reason` (for logs, rewards and reports)."""

    task: Optional[ProofTask] = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.task is not None


def _fail(reason: str) -> Extraction:
    return Extraction(None, reason)


def cut_continuation(completion: str) -> tuple[str, bool]:
    """(proof, closed): the completion up to the fence that ends the prompt's ```lean4 block.
    closed is False when the model never closed it (stopped at EOS, or was cut off)."""
    idx = completion.find(FENCE)
    if idx < 0:
        return completion, False
    return completion[:idx], True


def extract_continuation(row: Mapping[str, Any], completion: str, truncated: bool = False) -> Extraction:
    """A `proof` task for a continuation format (DeepSeek-Prover-V1.5). `truncated` says the
    generation stopped at the token limit (finish_reason "length"): without a closing fence the
    proof is then known to be incomplete."""
    proof, closed = cut_continuation(completion)
    if not closed and truncated:
        return _fail("truncated: the output hit the token limit before the proof's code block was closed")
    if not proof.strip():
        return _fail("empty proof: the model wrote nothing before closing the code block")
    try:
        task = ProofTask(formal_statement=row["formal_statement"], header=row_header(row), proof=proof)
    except StatementError as exc:
        return _fail(f"the row's formal statement is unusable: {exc}")
    return Extraction(task)


def code_blocks(text: str) -> tuple[list[str], bool]:
    """(complete ```lean4 / ```lean blocks in order, whether the last opened block of any
    language was never closed). Fences pair up line by line, as Markdown reads them."""
    blocks: list[str] = []
    lang: str | None = None  # info string of the open block, None outside a block
    body: list[str] = []
    for line in text.split("\n"):
        fence = _FENCE_RE.match(line)
        if lang is None:
            if fence:
                lang, body = fence.group(1).lower(), []
        elif fence and not fence.group(1):
            if lang in LEAN_LANGS:
                blocks.append("\n".join(body) + "\n")
            lang = None
        else:
            body.append(line)
    return blocks, lang in LEAN_LANGS


def answer_section(output: str) -> tuple[str, str]:
    """(the part after the reasoning, reason it is unusable or ""). Drafts inside <think> are
    not the answer; an unclosed <think> means the output was cut off mid-reasoning."""
    if "<think>" in output and "</think>" not in output:
        return "", "truncated: the reasoning section (<think>) never ended, so there is no answer"
    return output.rsplit("</think>", 1)[-1], ""


def code_task(code: str, formal_statement: str, header: str) -> Extraction:
    """A `code` task: the block must declare the target theorem; its own `import` lines are
    blanked by the Checker's rule (lean_env.soundness.checkfile), which also rejects imports the header lacks."""
    try:
        name = theorem_name(formal_statement)
    except StatementError as exc:
        return _fail(f"the row's formal statement is unusable: {exc}")
    if find_declaration(code, name) is None:
        return _fail(f"theorem missing: the code block does not declare `theorem {name}`")
    try:
        code = split_code_preamble(code, header)
    except TaskError as exc:
        return _fail(str(exc))
    return Extraction(ProofTask(formal_statement=formal_statement, header=header, code=code, name=name))


def extract_chat(row: Mapping[str, Any], output: str, truncated: bool = False) -> Extraction:
    """A `code` task from a chat answer: the LAST complete ```lean4 block after any <think>."""
    answer, why = answer_section(output)
    if why:
        return _fail(why)
    blocks, unclosed = code_blocks(answer)
    if not blocks:
        if unclosed:
            return _fail("truncated: the answer's ```lean4 block was never closed")
        if truncated:
            return _fail("truncated: the output hit the token limit before any code block")
        return _fail("no code block: the answer contains no ```lean4 block")
    return code_task(blocks[-1], row["formal_statement"], row_header(row))


def extract(row: Mapping[str, Any], output: str, fmt: str = "deepseek-v1.5", truncated: bool = False) -> Extraction:
    """The task to check for `output`, written in answer to `row` prompted with format `fmt`."""
    if get_format(fmt).kind == "continuation":
        return extract_continuation(row, output, truncated)
    return extract_chat(row, output, truncated)
