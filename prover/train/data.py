"""Training rows -> the datasets TRL wants, in the prompt format of the run.

SFT gets `prompt`/`completion` pairs (TRL trains on the completion only); GRPO gets `prompt`
plus the columns the reward needs to rebuild the ProofTask (formal_statement, header, name).
Prompts come from protocol.prompts and completions are shaped so protocol.extract cuts them
back out: training, reward and evaluation read a model's answer the same way.

A row's Lean header: its own `header` column, else the header of its environment (`env`
column, else the run's `env`). Only a row's own header is shown in the prompt: an
environment header such as the 345-line logic prelude is context the checker needs, not
text the model should read on every sample.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from lean_env.running.environments import header_for
from lean_env.tasks_io import resolve_header
from protocol.prompts import build_prompt, get_format
from prover.train.config import TrainConfig


def training_rows(cfg: TrainConfig, split: str) -> list[dict]:
    """The rows of `split` of the run's dataset: "logic" (the generator, with cfg.logic), a
    shipped dataset by name (data/: "logic-v2", "minif2f-v4.24" ...), generated logic-v2 train
    theorems ("logic-v2-train:50000", "logic-v2-train:50000:seed=1"), a jsonl file or an HF dataset."""
    import data
    from data.logic_v2.train_set import parse_spec

    spec = cfg.dataset
    if spec != "logic" and (spec in data.VARIANTS or parse_spec(spec)):
        return data.load(spec, split=split)
    if spec == "logic":
        from data.logic import DEFAULT_SET, generate

        opts = {**DEFAULT_SET, **cfg.logic}
        rows = [r for r in generate(**opts) if r.get("split") == split]
    elif spec.endswith(".jsonl") or Path(spec).is_file():
        from data.loaders import read_jsonl  # the row reader `prover check` and eval use

        rows = read_jsonl(spec)
        if any("split" in r for r in rows):
            rows = [r for r in rows if r.get("split") == split]
    else:
        import datasets

        rows = [dict(r) for r in datasets.load_dataset(spec, split=split)]
    return rows


def with_header(row: dict, default_env: str) -> tuple[dict, dict]:
    """(row for the checker: header filled in, row for the prompt: only the row's own header)."""
    checked = dict(row)
    shown = dict(row)
    if row.get("header") is None:  # the row's env (as `prover check` reads it), else the run's
        checked["header"] = resolve_header(row) or header_for(default_env)
        shown["header"] = ""
    return checked, shown


def prompt_text(shown: dict, fmt: str, tokenizer: Any = None, include_informal: bool = True) -> str:
    if not include_informal:
        shown = {**shown, "informal_prefix": ""}
    return build_prompt(shown, fmt, tokenizer).text


def reference_completion(row: dict, fmt: str) -> Optional[str]:
    """The completion that answers `row` with its reference proof in format `fmt` (None if the
    row has no proof). Continuation formats close the prompt's code block; chat formats answer
    with a ```lean4 block that restates the theorem."""
    proof = row.get("proof")
    if proof is None:
        return None
    if get_format(fmt).kind == "continuation":
        return proof.rstrip() + "\n```"
    return "```lean4\n" + row["formal_statement"].rstrip() + proof.rstrip() + "\n```"


def sft_records(rows: list[dict], cfg: TrainConfig, tokenizer: Any = None) -> list[dict]:
    """prompt/completion pairs. A row that already carries both `prompt` and `completion`
    strings (goal -> tactic pairs, expert iteration's verified proofs) is used as it is;
    any other row is rendered from its statement and reference `proof`."""
    out = []
    for row in rows:
        if isinstance(row.get("prompt"), str) and isinstance(row.get("completion"), str):
            out.append({"prompt": row["prompt"], "completion": row["completion"]})
            continue
        completion = reference_completion(row, cfg.prompt_format)
        if completion is None:
            continue
        _, shown = with_header(row, cfg.env)
        out.append({"prompt": prompt_text(shown, cfg.prompt_format, tokenizer, cfg.include_informal),
                    "completion": completion})
    return out


def grpo_records(rows: list[dict], cfg: TrainConfig, tokenizer: Any = None) -> list[dict]:
    out = []
    for row in rows:
        checked, shown = with_header(row, cfg.env)
        out.append({
            "prompt": prompt_text(shown, cfg.prompt_format, tokenizer, cfg.include_informal),
            "formal_statement": checked["formal_statement"],
            "header": checked["header"],
            "informal_prefix": checked.get("informal_prefix") or "",
            "name": checked.get("name") or "",
        })
    return out


def limit(rows: list[dict], n: int) -> list[dict]:
    return rows[:n] if n and n > 0 else rows


def state_records(walks: list[Any], fmt: str = "state", tokenizer: Any = None) -> list[dict]:
    """GRPO prompts for a step policy: one row per state along each walked reference proof
    (search.step_data.walk), the state kept as JSON `tactics` and `goals` for the reward
    (prover.rewards.StepReward). The reference tactic itself is not kept: the reward never
    compares with it."""
    from protocol.prompts import row_header
    from search.step_data import step_rows

    out = []
    for w in walks:
        for r in step_rows(w, fmt, tokenizer):  # none for a walk that did not prove
            i = r["step"]
            out.append({"prompt": r["prompt"], "formal_statement": w.row["formal_statement"], "header": row_header(w.row),
                        "name": f"{r['name']}@{i}", "tactics": json.dumps(w.tactics[:i]), "goals": json.dumps(w.goals[i]),
                        "remaining": len(w.tactics) - i})
    return out


STATE_COLUMNS = ("prompt", "formal_statement", "header", "name", "tactics", "goals")


def is_state_row(row: dict) -> bool:
    """A proof-state row (state_records), which GRPO trains a step policy on."""
    return "tactics" in row and "goals" in row and "formal_statement" in row


def state_prompt_row(row: dict) -> dict:
    """The columns of a state row TRL and the reward need (a row read back from a jsonl file
    may carry more; every value a string, so the dataset's columns have one type)."""
    missing = [k for k in STATE_COLUMNS if k not in row]
    if missing:
        raise ValueError(f"a proof-state row needs {', '.join(missing)} (prover.train.data.state_records writes them)")
    return {k: row[k] if isinstance(row[k], str) else json.dumps(row[k]) for k in STATE_COLUMNS}
