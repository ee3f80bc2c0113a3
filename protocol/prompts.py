"""Prompt formats: how a dataset row is shown to a model, and what shape its answer takes.

Two families, as published by the provers they come from:
- continuation (DeepSeek-Prover-V1.5): the prompt opens a ```lean4 fence and ends with the
  theorem statement; the model writes the proof and closes the fence. The completion is a `proof`.
- chat (DeepSeek-Prover-V2, Goedel-Prover-V2, Kimina-Prover): a user turn shows the statement
  in a fence; the model answers (possibly after <think>...</think>) with a ```lean4 block that
  restates the theorem with its proof. The answer's block is `code`.

The wording is each project's own (DeepSeek-Prover-V1.5 `prover/utils.py`, DeepSeek-Prover-V2 and
Goedel-Prover-V2 READMEs, Kimina-Prover model cards): models answer best when asked the way they
were trained. Extraction of the answer lives in protocol/extract.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, Mapping, Optional, Sequence

Kind = Literal["continuation", "chat"]

# The header every miniF2F row of DeepSeek-Prover-V1.5 carries; used when a row has none.
DEEPSEEK_HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n\n"

_V15_PLAIN = "Complete the following Lean 4 code:\n\n```lean4\n"
_V15_COT = "Complete the following Lean 4 code with explanatory comments preceding each line of code:\n\n```lean4\n"
_PLAN_TAIL = (
    "Before producing the Lean 4 code to formally prove the given theorem, provide a detailed proof plan "
    "outlining the main proof steps and strategies.\nThe plan should highlight key ideas, intermediate lemmas, "
    "and proof structures that will guide the construction of the final formal proof."
)
_NAME_RE = re.compile(r"^((?:theorem|lemma)\s+)\S+", re.MULTILINE)
_KIMINA_SYSTEM = "You are an expert in mathematics and Lean 4."
_KIMINA_LEAD = "Think about and solve the following problem step by step in Lean 4."


@dataclass(frozen=True)
class Prompt:
    """What goes to the model: `text` for a completion model; for chat formats also the
    `messages`, so a policy with a chat template can render them itself."""

    text: str
    messages: Optional[list[dict[str, str]]] = None


@dataclass(frozen=True)
class PromptFormat:
    name: str
    kind: Kind
    description: str

    def build(self, row: Mapping[str, Any], tokenizer: Any = None) -> Prompt:
        """The prompt for one dataset row (fields header, informal_prefix, formal_statement).
        For chat formats, `tokenizer`'s chat template renders the messages when it has one."""
        header = prompt_header(row)
        informal = row.get("informal_prefix") or ""
        statement = row["formal_statement"]
        if self.name in ("compact", "state"):  # `state` shows goals only when resuming (state_prompt)
            return Prompt("```lean4\n" + header + informal + _NAME_RE.sub(r"\1X", statement, count=1))
        if self.kind == "continuation":
            lead = _V15_COT if self.name == "deepseek-v1.5-cot" else _V15_PLAIN
            return Prompt(lead + header + informal + statement)
        messages = _chat_messages(self.name, header, informal, statement)
        return Prompt(render_chat(messages, tokenizer), messages)


def row_header(row: Mapping[str, Any]) -> str:
    """The row's header (DeepSeek's miniF2F header when the row has none), ending in a newline."""
    header = row.get("header")
    if header is None:
        header = DEEPSEEK_HEADER
    if header and not header.endswith("\n"):
        header += "\n"
    return header


def prompt_header(row: Mapping[str, Any]) -> str:
    """The header the model is shown: `prompt_header` when the row has one (the logic rows'
    environment is a long prelude the model need not read), else the checking header."""
    shown = row.get("prompt_header")
    return row_header(row) if shown is None else shown


def with_sorry(statement: str) -> str:
    """The statement as a complete file line: `... := by\\n  sorry` or `... := sorry`, the way
    the chat provers were shown theorems (a placeholder for the proof they are to write)."""
    s = statement.rstrip()
    if s.endswith("by"):
        return s + "\n  sorry"
    return s + " sorry"


def informal_text(informal_prefix: str) -> str:
    """The prose inside a `/-- ... -/` doc comment (Kimina asks with the problem in words)."""
    text = informal_prefix.strip()
    m = re.fullmatch(r"/-[-!]?(.*?)-/", text, re.DOTALL)
    return (m.group(1) if m else text).strip()


def goedel_sorry(statement: str) -> str:
    """The statement cut at its first `:= by` and closed with ` sorry` on the same line, as
    Goedel-Prover-V2's pipeline shows it (src/inference.py, src/utils.py); a term-mode statement
    gets with_sorry's form."""
    head, sep, _ = statement.partition(":= by")
    return head + ":= by sorry" if sep else with_sorry(statement)


def _chat_messages(name: str, header: str, informal: str, statement: str) -> list[dict[str, str]]:
    if name == "kimina":
        # the card's layout: header, the /-- problem -/ doc comment, the statement, a newline
        problem = informal_text(informal)
        code = f"{header}{informal}{statement.rstrip()}\n"
        user = f"{_KIMINA_LEAD}\n# Problem:{problem}\n# Formal statement:\n```lean4\n{code}\n```\n"
        return [{"role": "system", "content": _KIMINA_SYSTEM}, {"role": "user", "content": user}]
    # deepseek-v2 / goedel-v2: the same "proof plan" request; Goedel closes the fence right
    # after `:= by sorry`, DeepSeek's card puts `sorry` on its own line
    if name == "goedel-v2":
        block = header + informal + goedel_sorry(statement)
    else:
        block = header + informal + with_sorry(statement) + "\n"
    user = f"Complete the following Lean 4 code:\n\n```lean4\n{block}```\n\n{_PLAN_TAIL}"
    return [{"role": "user", "content": user}]


def render_chat(messages: list[dict[str, str]], tokenizer: Any = None) -> str:
    """Chat messages as one prompt string: the tokenizer's own chat template when it has one
    (the format the model was tuned on), else a plain role-labelled transcript."""
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    parts = [f"{m['role'].capitalize()}: {m['content'].rstrip()}" for m in messages]
    return "\n\n".join(parts) + "\n\nAssistant: "


def starts_with_bos(tokenizer: Any, prompt: str) -> bool:
    """Whether a rendered prompt already opens with the tokenizer's BOS text (chat templates of
    Llama-style tokenizers write it): such a prompt must be tokenized without special tokens,
    or the model sees BOS twice, a prefix it was never trained on."""
    bos = getattr(tokenizer, "bos_token", None)
    return bool(bos) and prompt.startswith(bos)


FORMATS: dict[str, PromptFormat] = {
    f.name: f
    for f in (
        PromptFormat("deepseek-v1.5", "continuation", "DeepSeek-Prover-V1.5 non-CoT: the model continues the proof"),
        PromptFormat("deepseek-v1.5-cot", "continuation",
                     "DeepSeek-Prover-V1.5 CoT: continues the proof with a comment before each line"),
        PromptFormat("compact", "continuation",
                     "for small models trained from scratch: the code fence and the statement with its name "
                     "replaced by X (no instruction text, no name hash to read)"),
        PromptFormat("state", "continuation",
                     "a step policy for small models: when resuming a proof (best-first search, MCTS, step "
                     "rows) the prompt is the first open goal alone, hypotheses and target, no statement and no "
                     "script; a whole proof is asked for as in compact"),
        PromptFormat("deepseek-v2", "chat", "DeepSeek-Prover-V2: proof plan, then a ```lean4 block with the theorem"),
        PromptFormat("goedel-v2", "chat", "Goedel-Prover-V2: DeepSeek-Prover-V2's request, the statement ending "
                     "`:= by sorry`"),
        PromptFormat("kimina", "chat", "Kimina-Prover: <think> reasoning, then a ```lean4 block with the theorem"),
    )
}


def state_prompt(goals: Sequence[str]) -> str:
    """The `state` format's prompt at a proof state: the goal the next tactic acts on (Lean's
    main goal, first in the list), without its `case` tag, then a line the tactic follows. The
    other goals, the statement and the script so far are left out: choosing the next tactic is
    a local decision, and a small model learns it faster without text it does not need."""
    first = goals[0] if goals else "no goals"
    lines = [line for line in first.split("\n") if not line.startswith("case ")]
    return "\n".join(lines).strip("\n") + "\n>>>\n"


def get_format(name: str) -> PromptFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown prompt format {name!r}; choose one of {', '.join(FORMATS)}") from None


def default_stop(fmt: str) -> tuple[str, ...]:
    """Continuation prompts open a ```lean4 fence, so the proof ends where the model closes it."""
    return ("```",) if get_format(fmt).kind == "continuation" else ()


def build_prompt(row: Mapping[str, Any], fmt: str = "deepseek-v1.5", tokenizer: Any = None) -> Prompt:
    return get_format(fmt).build(row, tokenizer)


# -- repair: show the model its last attempt, Lean's first error and the goal there ------------
REPAIR_MARK = "A previous proof of this theorem failed."


def _comment_safe(text: str) -> str:
    """Text that cannot close (or open) a Lean block comment."""
    return text.replace("-/", "- /").replace("/-", "/ -")


def repair_note(previous_proof: str, error: str, error_line: Optional[int], goals: Sequence[str]) -> str:
    """The feedback as a Lean block comment placed before the statement. Every format shows the
    informal prefix before the statement (continuation: in the code; chat: in the problem), so
    the same note serves all of them and the model still writes the proof after `:=`."""
    where = f" (line {error_line} of the theorem)" if error_line else ""
    goal_text = "\n\n".join(g.strip() for g in goals) if goals else "(not known)"
    body = (f"{REPAIR_MARK}\nPrevious proof:\n{previous_proof.strip()}\n"
            f"Lean's first error{where}:\n{error.strip()}\n"
            f"Goal at the error:\n{goal_text}\n"
            "Write a corrected proof.")
    return f"/- {_comment_safe(body)} -/\n"


def repair_prompt(row: Mapping[str, Any], fmt: str, previous_proof: str, error: str, error_line: Optional[int],
                  goals: Sequence[str], tokenizer: Any = None) -> Prompt:
    """The format's prompt for `row` with the repair note ahead of the statement."""
    note = repair_note(previous_proof, error, error_line, goals)
    shown = dict(row)
    shown["informal_prefix"] = (row.get("informal_prefix") or "") + note
    return build_prompt(shown, fmt, tokenizer)
