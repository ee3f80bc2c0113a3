"""(goal state -> next tactic) training pairs, read from the Lean server along reference proofs.

Why: a policy trained only on whole proofs gives BFS nothing to expand and MCTS nothing to
resume from. Here each reference tactic proof of logic-v2 is walked on the real Lean (the
flat script checked once by the Checker, the goals before each tactic read from that
elaboration with `$/lean/plainGoal`), and each state becomes one SFT row whose prompt is exactly what
search.bfs.BestFirst shows the model there (the statement, the script so far, the goals as a
`/- tactic state -/` comment: search.tactic_env.resume_prompt) and whose completion is the
next tactic ended by BFS's stop (a newline). After the first tactic the same text is also
MCTS's resume prompt for that prefix (search.mcts cuts a proof at a line start and resumes
with the same helper).

Reference proofs are structured (`·` focus blocks, `cases … with | inl h => …`); BFS writes a
flat script, one tactic a line, each acting on the first goal. `flat_tactics` turns one into
the other (bullets dropped in order; a two-armed `cases` becomes `rcases h with a | b`), and
the walk proves the flat script with Lean before any of its rows is kept.

    python -m search.step_data --out runs/logic_v2_steps.jsonl [--splits train] [--with-proofs]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

from lean_env.soundness.checkfile import compose
from lean_env.soundness.verdict import ProofTask
from protocol.prompts import build_prompt, get_format, row_header
from search.tactic_env import INDENT, real_errors, resume_prompt, tactic_proof

Row = Mapping[str, Any]
STEP_STOP = "\n"  # search.bfs.TACTIC_STOP's first stop: one tactic a line
_CASES_RE = re.compile(r"^cases\s+(.+?)\s+with$")
_ALT_RE = re.compile(r"^\|\s*(inl|inr)\s+(\S+)\s*=>\s*(.*)$")


def flat_tactics(proof: str) -> list[str]:
    """The tactics of a structured `by` proof as a flat script in the same (depth-first) order.
    Raises ValueError on a construct it cannot flatten (say which line)."""
    lines = [ln for ln in proof.split("\n") if ln.strip()]
    if not lines or lines[0].strip() != "by":
        raise ValueError(f"not a tactic proof (expected it to start with `by`): {proof[:40]!r}")
    out: list[str] = []
    open_cases: list[tuple[int, str, list[str]]] = []  # (slot in out, target, arm names so far)
    for ln in lines[1:]:
        t = ln.strip()
        while t.startswith("·"):
            t = t[1:].strip()
        alt = _ALT_RE.match(t)
        if alt:
            if not open_cases:
                raise ValueError(f"a `| {alt.group(1)} …` arm outside `cases … with`: {t!r}")
            if alt.group(3):
                raise ValueError(f"an arm with its tactic on the same line is not flattened: {t!r}")
            slot, target, names = open_cases[-1]
            names.append(alt.group(2))
            if len(names) == 2:  # the arms' bodies follow in order, so one rcases covers both
                out[slot] = f"rcases {target} with {names[0]} | {names[1]}"
                open_cases.pop()
            continue
        m = _CASES_RE.match(t)
        if m:
            open_cases.append((len(out), m.group(1), []))
            out.append("")  # filled in when both arms are read
            continue
        out.append(t)
    if open_cases:
        raise ValueError(f"`cases {open_cases[-1][1]} with` does not have two arms")
    return out


def bfs_prefix(formal_statement: str, tactics: Sequence[str]) -> str:
    """The proof text BFS resumes after, for a script (search.bfs.BestFirst._propose's rule)."""
    return tactic_proof(formal_statement, tactics) + "\n" if tactics else tactic_proof(formal_statement, [])


def step_prompt(row: Row, tactics: Sequence[str], goals: Sequence[str], fmt: str = "deepseek-v1.5",
                tokenizer: Any = None) -> str:
    """What BFS shows the model at the state reached by `tactics`, whose goals are `goals`."""
    return resume_prompt(row, fmt, bfs_prefix(row["formal_statement"], tactics), goals, tokenizer)


def step_completion(tactic: str) -> str:
    """The next tactic, then BFS's stop. Not indented: the prompt ends with a newline, and a
    byte-level BPE merges that newline with following spaces into one token, so an indented
    completion would be trained on a context (no final newline) that BFS never shows; BFS
    strips the line anyway (search.tactic_env.clean_tactic)."""
    return tactic + STEP_STOP


@dataclass
class Walk:
    """One reference proof walked on Lean: the states (goals before each tactic) and whether the
    flat script, applied in full, was accepted by the Checker."""

    row: Row
    tactics: list[str]
    goals: list[list[str]]  # goals[i]: the goals Lean reports before tactics[i]
    proved: bool
    error: str = ""


def walk(checker, row: Row, proof_field: str = "proof_tactic", timeout: Optional[float] = None) -> Walk:
    """Check the row's reference tactics as one flat script (the Checker's verdict), then read
    the goals before each tactic from that one elaboration (`$/lean/plainGoal` at the tactic's
    first character). Why at once: applying the tactics one by one, as search does, costs an
    elaboration per tactic and another per goal query (~8 a proof here against 2); the states
    are the same ones search.tactic_env.ServerTacticEnv reaches (tests/test_step_data.py)."""
    try:
        tactics = flat_tactics(row[proof_field])
    except (KeyError, ValueError) as exc:
        return Walk(row, [], [], False, f"cannot flatten: {exc}")
    if not tactics:
        return Walk(row, [], [], False, "no tactics")
    if not hasattr(checker.backend, "goals_at"):
        raise ValueError(f"walking proofs reads goals from the `server` checker backend, not {checker.backend.name!r}")
    task = ProofTask(formal_statement=row["formal_statement"], header=row_header(row),
                     proof=tactic_proof(row["formal_statement"], tactics), timeout=timeout)
    verdict = checker.check(task)
    if not verdict.ok:
        wrong = real_errors(verdict)
        why = wrong[0].short() if wrong else "; ".join(verdict.reasons) or verdict.status
        return Walk(row, tactics, [], False, f"the flat script is not a proof: {why}")
    cf = compose(task)
    first = cf.candidate_end - len(tactics) + 1  # the tactics are the candidate's last lines
    goals = checker.backend.goals_at(cf, [(first + i, len(INDENT)) for i in range(len(tactics))], timeout)
    missing = [i for i, g in enumerate(goals) if not g]
    if missing:
        return Walk(row, tactics, [], False, f"Lean reported no goal before tactic {missing[0] + 1}")
    return Walk(row, tactics, [list(g) for g in goals], True)


def step_rows(w: Walk, fmt: str = "deepseek-v1.5", tokenizer: Any = None) -> list[dict]:
    """One SFT row per state of a proved walk (none for an unproved one)."""
    if not w.proved:
        return []
    name, split = w.row.get("name", ""), w.row.get("split", "")
    return [{"name": name, "split": split, "kind": "step", "step": i,
             "prompt": step_prompt(w.row, w.tactics[:i], w.goals[i], fmt, tokenizer),
             "completion": step_completion(w.tactics[i])} for i in range(len(w.tactics))]


def proof_row(w: Walk, fmt: str = "deepseek-v1.5", tokenizer: Any = None) -> dict:
    """The walked proof as one whole-proof row: the prompt best-of-n and MCTS's root show, the
    flat script as the completion (so MCTS's cuts of a proof in this style are exactly the
    step rows' states), closing the prompt's code block as SFT's reference completions do."""
    if get_format(fmt).kind != "continuation":
        raise ValueError(f"step data is for continuation prompt formats (e.g. deepseek-v1.5), not {fmt!r}")
    return {"name": w.row.get("name", ""), "split": w.row.get("split", ""), "kind": "proof",
            "prompt": build_prompt(w.row, fmt, tokenizer).text,
            "completion": tactic_proof(w.row["formal_statement"], w.tactics) + "\n```"}


def build(rows: Iterable[Row], checker, fmt: str = "deepseek-v1.5", with_proofs: bool = False,
          log=None, workers: int = 1) -> tuple[list[dict], list[Walk]]:
    """Step rows (and, with `with_proofs`, whole-proof rows) for every row whose reference
    proof walks through on Lean (`workers` walks at a time); the walks say what happened."""
    rows = list(rows)
    t0 = last = time.monotonic()
    walks: list[Walk] = []

    def progress(w: Walk) -> None:  # a long walk (thousands of theorems) says how far it is
        nonlocal last
        walks.append(w)
        if log and time.monotonic() - last > 30:
            last = time.monotonic()
            log(f"walked {len(walks)}/{len(rows)} proofs on Lean ({last - t0:.0f}s)")

    if workers > 1:  # the checker's pool runs the walks side by side
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as ex:
            for w in ex.map(lambda r: walk(checker, r), rows):
                progress(w)
    else:
        for row in rows:
            progress(walk(checker, row))
    out: list[dict] = []
    for row, w in zip(rows, walks):
        if w.proved:
            if with_proofs:
                out.append(proof_row(w, fmt))
            out += step_rows(w, fmt)
        elif log:
            log(f"skipped {row.get('name')}: {w.error}")
    return out, walks


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="the jsonl to write")
    ap.add_argument("--dataset", default="logic-v2", help="a dataset data.load knows (default logic-v2; "
                    "logic-v2-train:N[:seed=S] walks N generated train theorems)")
    ap.add_argument("--splits", nargs="+", default=["train"])
    ap.add_argument("--limit", type=int, help="rows per split")
    ap.add_argument("--with-proofs", action="store_true", help="also one whole-proof row per theorem")
    ap.add_argument("--format", default="deepseek-v1.5")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)
    get_format(args.format)
    rows = write_steps(args.out, args.dataset, args.splits, args.limit, args.with_proofs, args.format, args.workers,
                       log=lambda s: print(s, file=sys.stderr))
    print(f"wrote {rows} rows to {args.out}")
    return 0


def write_steps(out: str | Path, dataset: str = "logic-v2", splits: Sequence[str] = ("train",),
                limit: Optional[int] = None, with_proofs: bool = False, fmt: str = "deepseek-v1.5",
                workers: int = 1, log=None) -> int:
    """Walk the dataset's reference proofs on the bundled Lean's server pool and write the rows."""
    import data
    from lean_env.checker import Checker
    from lean_env.running.settings import Settings

    rows = [r for s in splits for r in data.load(dataset, split=s, limit=limit)]
    t0 = time.monotonic()
    with Checker("server", Settings.from_env(timeout=60), workers=workers) as checker:
        records, walks = build(rows, checker, fmt, with_proofs, log, workers)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    if log:
        proved = sum(w.proved for w in walks)
        log(f"{proved}/{len(walks)} reference proofs walked on Lean, {len(records)} rows, "
            f"{time.monotonic() - t0:.0f}s")
    return len(records)



# -- naming: the generator's names are few; people's theorems use their own ---------------------
_IDENT = r"[^\W\d][\w'₀-₉!?]*"
_HYP_LINE = re.compile(rf"^((?:{_IDENT} )*{_IDENT}) : (.+)$")
_WORDS = ("rain", "wet", "cold", "sun", "shut", "ready", "over", "safe", "big", "even", "odd", "good", "bad", "lhs",
          "rhs", "up", "down", "red", "blue", "pos", "zero", "one", "fst", "snd", "main", "aux", "key", "base",
          "stair", "later", "prev", "src", "dst", "ok", "lost", "win", "lose", "alpha", "beta", "gamma", "delta")
_KEEP = {"Prop", "Type", "Or", "And", "Iff", "Not", "Exists", "True", "False", "fun", "trivial", "Eq", "Nat"}
_FRESH = re.compile(r"^[hx]\d+$")  # the names the policy gives `intro` (h1, h2, x1): never produced here


def _new_name(kind: str, rng) -> str:
    w, v = rng.choice(_WORDS), rng.choice(_WORDS)
    if kind == "prop":
        return rng.choice([w, w.upper()[:1] + w[1:], rng.choice("pqrstabcPQRSABC") + rng.choice(["", "'", "₁", "₂"])])
    if kind == "type":
        return rng.choice(["α", "β", "γ", "T", "U", "X", w.capitalize()])
    if kind == "pred":
        return rng.choice([w, "is_" + w, rng.choice("PQRSpqr") + rng.choice(["", "'", "₁"])])
    if kind == "elem":
        return rng.choice(["a", "b", "c", "u", "v", "w", "y", "z", "t", w[:1] + "₀", w])
    return rng.choice([f"h_{w}", f"h_{w}_{v}", f"h{w}", f"{w}_{v}", w, f"H{rng.randint(0, 9)}",
                       f"hyp{rng.randint(0, 9)}", f"h{w[:1]}{v[:1]}", f"h'", f"this_{w}"])


def _kind(ty: str) -> str:
    ty = ty.strip()
    if ty == "Prop":
        return "prop"
    if ty in ("Type", "Sort u", "Type u"):
        return "type"
    if ty.endswith("→ Prop"):
        return "pred"
    if re.fullmatch(_IDENT, ty) and ty not in _KEEP:
        return "elem"  # `u : D`: an element of a declared type
    return "hyp"


def rename_locals(prompt: str, completion: str, rng) -> tuple[str, str]:
    """A `state`-format step row with every named local of the goal renamed, consistently in the
    goal and the tactic (a Prop `p` may become `rain`, a hypothesis `h` `h_wet_if_rain`).
    Generated theorems name their hypotheses h, ha, h₁, H1; a policy that only saw those copies
    them into theorems that say `h_rain`. Inaccessible names (`h✝`) and the policy's own
    `intro` names (h1, x1) are kept, so the row stays a correct step."""
    names: dict[str, str] = {}
    used = set(re.findall(_IDENT, prompt + " " + completion))
    for line in prompt.split("\n"):
        m = _HYP_LINE.match(line)
        if not m:
            continue
        kind = _kind(m.group(2))
        for old in m.group(1).split():
            if old in names or old in _KEEP or _FRESH.match(old) or "✝" in old:
                continue
            for _ in range(20):
                new = _new_name(kind, rng)
                if new not in used and new not in _KEEP and not _FRESH.match(new):
                    names[old] = new
                    used.add(new)
                    break
    if not names:
        return prompt, completion
    pattern = re.compile(r"(?<![\w'₀-₉!?.✝])(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True))
                         + r")(?![\w'₀-₉!?✝])")
    swap = lambda t: pattern.sub(lambda m: names[m.group(1)], t)  # noqa: E731
    return swap(prompt), swap(completion)


if __name__ == "__main__":
    raise SystemExit(main())
