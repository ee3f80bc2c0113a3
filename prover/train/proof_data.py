"""Training rows from verified and failed attempts (eval records, results.jsonl).

Lean's verdicts are the labels: an attempt is a proof exactly when its recorded verdict is
ok. Completions are rewritten from what was checked (the extracted proof or code) into the
run's prompt format, the way `reference_completion` writes a reference proof, so the model is
trained on the text that Lean accepted, ending where the format says a proof ends; an attempt
where nothing could be extracted keeps its raw text (it is a failure as the model wrote it).

- verified_rows: SFT rows (prompt + completion) for expert iteration: deduplicated per
  statement, optionally shortest first and at most N per statement.
- dpo_pairs: {prompt, chosen, rejected}: a verified proof against a failed attempt at the
  same statement (TRL DPOTrainer's preference format).
- kto_rows: {prompt, completion, label}: verified desirable, failed undesirable (TRL
  KTOTrainer's unpaired format) - a natural fit for a binary verifier.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

from prover.train.config import TrainConfig
from prover.train.data import prompt_text, reference_completion, with_header


def key_of(row: dict) -> tuple[str, str]:
    return (str(row.get("split", "")), str(row.get("name", "")))


def rows_by_key(rows: Iterable[dict]) -> dict[tuple[str, str], dict]:
    return {key_of(r): r for r in rows}


def attempt_completion(row: dict, attempt: Any, fmt: str) -> str:
    """The completion text to train on for one attempt (see module docstring)."""
    task = attempt.task or {}
    if task.get("proof") is not None:
        return reference_completion({**row, "proof": task["proof"]}, fmt) or attempt.completion
    if task.get("code") is not None:
        return "```lean4\n" + task["code"].rstrip() + "\n```"
    return attempt.completion


def _prompt(row: dict, cfg: TrainConfig, tokenizer: Any) -> str:
    _, shown = with_header(row, cfg.env)
    return prompt_text(shown, cfg.prompt_format, tokenizer, cfg.include_informal)


def _unique(texts: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for t in texts:
        if t.strip():
            seen.setdefault(t, None)
    return list(seen)


def split_attempts(record: Any, row: dict, fmt: str) -> tuple[list[str], list[str]]:
    """(verified completions, failed completions) of one record, each deduplicated, in order."""
    good = _unique(attempt_completion(row, a, fmt) for a in record.attempts if a.ok)
    bad = _unique(attempt_completion(row, a, fmt) for a in record.attempts if not a.ok)
    return good, [b for b in bad if b not in good]


def _matched(records: Iterable[Any], rows: dict) -> Iterable[tuple[Any, dict]]:
    by_name = {name: r for (_, name), r in rows.items()}
    for record in records:
        row = rows.get((record.split, record.name)) or by_name.get(record.name)
        if row is not None:
            yield record, row


def verified_rows(records: Iterable[Any], rows: dict, cfg: TrainConfig, tokenizer: Any = None,
                  shortest_first: bool = True, per_statement: int = 0) -> list[dict]:
    """SFT rows from every verified attempt (see module docstring)."""
    out = []
    for record, row in _matched(records, rows):
        good, _ = split_attempts(record, row, cfg.prompt_format)
        if shortest_first:
            good = sorted(good, key=len)
        if per_statement:
            good = good[:per_statement]
        prompt = _prompt(row, cfg, tokenizer)
        out += [{"name": row.get("name", ""), "split": row.get("split", ""), "prompt": prompt, "completion": g}
                for g in good]
    return out


def dpo_pairs(records: Iterable[Any], rows: dict, cfg: TrainConfig, tokenizer: Any = None,
              per_statement: int = 1) -> list[dict]:
    """Up to `per_statement` (verified, failed) pairs per statement with both (0: all pairs).
    Shorter proofs are paired first; each failed attempt is used once before any repeats."""
    out = []
    for record, row in _matched(records, rows):
        good, bad = split_attempts(record, row, cfg.prompt_format)
        if not good or not bad:
            continue
        good = sorted(good, key=len)
        first = [(good[i % len(good)], bad[i % len(bad)]) for i in range(max(len(good), len(bad)))]
        pairs = first + [(g, b) for g in good for b in bad if (g, b) not in first]
        prompt = _prompt(row, cfg, tokenizer)
        for g, b in pairs[:per_statement] if per_statement else pairs:
            out.append({"prompt": prompt, "chosen": g, "rejected": b, "name": row.get("name", "")})
    return _dedupe(out, ("prompt", "chosen", "rejected"))


def kto_rows(records: Iterable[Any], rows: dict, cfg: TrainConfig, tokenizer: Any = None,
             per_statement: int = 0) -> list[dict]:
    """Every distinct attempt as a labelled singleton (at most `per_statement` of each label
    per statement; 0: all)."""
    out = []
    for record, row in _matched(records, rows):
        good, bad = split_attempts(record, row, cfg.prompt_format)
        if per_statement:
            good, bad = sorted(good, key=len)[:per_statement], bad[:per_statement]
        prompt = _prompt(row, cfg, tokenizer)
        out += [{"prompt": prompt, "completion": g, "label": True, "name": row.get("name", "")} for g in good]
        out += [{"prompt": prompt, "completion": b, "label": False, "name": row.get("name", "")} for b in bad]
    return out


def _dedupe(rows: list[dict], keys: tuple[str, ...]) -> list[dict]:
    seen = set()
    out = []
    for r in rows:
        k = tuple(r[x] for x in keys)
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def unsolved(rows: list[dict], records: Iterable[Any]) -> list[dict]:
    """The rows no record solved (expert iteration carries them to the next round)."""
    solved = {(r.split, r.name) for r in records if r.solved}
    return [r for r in rows if key_of(r) not in solved]


def label_counts(rows: list[dict]) -> Optional[dict]:
    return {"desirable": sum(bool(r["label"]) for r in rows), "undesirable": sum(not r["label"] for r in rows)}


def verified_step_rows(records: Iterable[Any], rows: dict, checker: Any, fmt: str, shortest_first: bool = True,
                       per_statement: int = 0) -> list[dict]:
    """For a step policy (the `state` format): one (goal -> next tactic) row per state along each
    verified tactic proof, the states read again from the Lean server (search.step_data.walk),
    since a record keeps the proof text, not the goals. A proof whose walk does not end in a
    Checker-accepted proof gives no rows."""
    from search.step_data import step_rows, walk

    if getattr(getattr(checker, "backend", None), "name", "") != "server":
        raise ValueError("step rows from verified proofs are read from the Lean server: set checker_backend: server")
    out = []
    for record, row in _matched(records, rows):
        proofs = _unique(a.task["proof"] for a in record.attempts if a.ok and (a.task or {}).get("proof"))
        if shortest_first:
            proofs = sorted(proofs, key=len)
        for proof in proofs[:per_statement] if per_statement else proofs:
            out += step_rows(walk(checker, {**row, "proof_tactic": proof}), fmt)
    return out
