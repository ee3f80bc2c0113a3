"""Judge a found answer (PutnamBench's answer-to-find track) by Lean, never by comparing strings.

A problem that asks for an answer has a placeholder `abbrev NAME_solution : T := sorry` before
its theorem (data/adapters.putnam_find_rows keeps it in the row's header, published answer
removed). A model answers with a code block that fills the placeholder and proves the theorem.
The answer counts only when both hold, each a Verdict from the Checker:

1. the proof: the header with the model's answer where the `sorry` was, and the theorem checked
   as usual against the row's statement (the model's own copy of the placeholder is blanked);
2. the answer: with the published answer declared beside it, Lean proves
   `Eq NAME_solution NAME_published` with a fixed tactic written here (rfl, norm_num, simp, ext).
   Two answers that are equal but not provably so by that tactic are reported as unconfirmed,
   not as solved: the judge can be incomplete, never unsound.

The answer is model output placed in a header, so it is vetted first: the allowlist applies to
it, and it must be one term (no command keyword, no `#` command); comments are dropped and it is
parenthesized on lines of its own, so it cannot end the declaration early or hide the `)`.
"""
from __future__ import annotations

import dataclasses
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable, Mapping, Optional

from lean_env.interface import PooledChecks
from lean_env.soundness.allowlist import violations
from lean_env.soundness.lexer import IDENT, code_tokens
from lean_env.soundness.statement import strip_comments
from lean_env.soundness.verdict import ProofTask, Verdict

# Tokens that start a Lean command: none may appear in an answer term.
COMMAND_WORDS = frozenset("""theorem lemma def abbrev axiom axioms opaque instance example structure inductive class
    namespace section end open export variable universe set_option attribute macro macro_rules syntax notation
    infix infixl infixr prefix postfix elab elab_rules mutual noncomputable private protected partial unsafe
    initialize import prelude deriving""".split())
MATCH_TACTIC = ("by\n  first\n    | rfl\n    | norm_num [{sol}, {pub}]\n    | simp [{sol}, {pub}]\n"
                "    | (funext x; simp [{sol}, {pub}])\n    | (ext x; simp [{sol}, {pub}])\n")


class AnswerError(ValueError):
    """The model's answer cannot be judged (none given, or not a single vetted term)."""


def split_answer(code: str, solution: str) -> tuple[str, str]:
    """(the answer term the code gives `solution`, the code with that declaration blanked, lines
    kept so Lean's positions still match). The declaration runs from its keyword to the next line
    that starts at column 0 (Lean's layout for a new command)."""
    plain = strip_comments(code)
    m = re.search(r"^(?:noncomputable\s+)?(?:abbrev|def)\s+" + re.escape(solution) + r"\b", plain, re.MULTILINE)
    if m is None:
        raise AnswerError(f"no answer: the code does not define `{solution}` (write `abbrev {solution} : … := ANSWER`)")
    lines = plain.split("\n")
    first = plain.count("\n", 0, m.start())
    last = first
    while last + 1 < len(lines) and (not lines[last + 1] or lines[last + 1][0] in " \t"):
        last += 1
    decl = "\n".join(lines[first:last + 1])
    assign = _top_level_assign(decl)
    if assign < 0:
        raise AnswerError(f"no answer: `{solution}` has no `:=`")
    answer = decl[assign + 2:].strip()
    kept = code.split("\n")
    for i in range(first, last + 1):
        kept[i] = ""
    return answer, "\n".join(kept)


def _top_level_assign(text: str) -> int:
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{⟨":
            depth += 1
        elif ch in ")]}⟩":
            depth -= 1
        elif ch == ":" and depth == 0 and text[i + 1:i + 2] == "=":
            return i
    return -1


def vet_answer(answer: str) -> str:
    """The answer, checked to be one term the allowlist accepts, as text to place after `:=`."""
    if not answer.strip() or answer.strip() == "sorry":
        raise AnswerError("no answer: the placeholder was left as `sorry`")
    found = violations(answer)
    if found:
        raise AnswerError("the answer is refused: " + "; ".join(v.reason() for v in found))
    bad = sorted({t.text for t in code_tokens(answer) if t.kind == IDENT and t.text in COMMAND_WORDS}
                 | {w for w in re.findall(r"#\w+", strip_comments(answer))})
    if bad:
        raise AnswerError(f"the answer must be a single term; it contains {', '.join(bad)}")
    return "\n  (" + strip_comments(answer).strip() + "\n  )"


def answer_header(row: Mapping[str, Any], answer: str) -> str:
    """The row's header with `answer` (vetted) where the placeholder's `sorry` was."""
    stub = row["solution_stub"]
    if row["header"].count(stub) != 1:
        raise AnswerError(f"{row['name']}: the header does not hold the placeholder exactly once")
    return row["header"].replace(stub, stub[: -len("sorry\n")].rstrip() + vet_answer(answer) + "\n")


def match_task(row: Mapping[str, Any], header: str, proof: Optional[str] = None) -> ProofTask:
    """`NAME_solution = NAME_published`, the published answer declared after the model's."""
    sol = row["solution_name"]
    pub = sol.removesuffix("_solution") + "_published"
    kind = "noncomputable abbrev" if row["solution_stub"].startswith("noncomputable") else "abbrev"
    head = header + f"\n{kind} {pub} : {row['solution_type']} :=\n  ({row['published_answer']}\n  )\n"
    statement = f"theorem {pub}_matches : Eq {sol} {pub} :="  # `Eq`, not `=`: also in a prelude without notation
    return ProofTask(statement, header=head, proof=" " + (proof or MATCH_TACTIC.format(sol=sol, pub=pub)),
                     name=f"{pub}_matches")


def judge_found_answer(check: Callable[[ProofTask], Verdict], row: Mapping[str, Any], task: ProofTask,
                       match_proof: Optional[str] = None) -> Verdict:
    """The verdict on a model's answer and proof for a find-track row (see the module doc)."""
    def refused(why: str) -> Verdict:
        return Verdict(name=task.name, ok=False, status="refused", reasons=[why])

    if task.code is None:
        return refused("no answer: the answer-to-find track needs a code block that defines "
                       f"`{row['solution_name']}` and proves the theorem (a chat prompt format)")
    try:
        answer, rest = split_answer(task.code, row["solution_name"])
        header = answer_header(row, answer)
    except AnswerError as exc:
        return refused(str(exc))
    proved = check(dataclasses.replace(task, header=header, code=rest))
    if not proved.ok:
        return proved
    matched = check(dataclasses.replace(match_task(row, header, match_proof),
                                        allow_native_decide=task.allow_native_decide, timeout=task.timeout))
    if not matched.ok:
        why = "; ".join(matched.reasons[:2]) or matched.status
        return Verdict(name=task.name, ok=False, status="rejected", seconds=proved.seconds + matched.seconds,
                       backend=proved.backend, isolation=proved.isolation, axioms=proved.axioms,
                       reasons=["the proof holds for the model's answer, but Lean did not prove that answer equal to "
                                f"the published one, so it is not counted (answer: {answer[:200]}): {why[:300]}"])
    proved.evidence = dict(proved.evidence, answer=(f"Lean proved {row['solution_name']} = the published answer "
                                                    f"(kernel-checked, axioms {matched.axioms})"))
    proved.seconds = round(proved.seconds + matched.seconds, 4)
    return proved


class AnswerChecker(PooledChecks):
    """A ProofChecker for datasets with find-track rows: their tasks are judged by
    judge_found_answer on `inner`; every other task goes to `inner` unchanged."""

    def __init__(self, inner: Any, rows: Iterable[Mapping[str, Any]], match_proof: Optional[str] = None,
                 owns_inner: bool = True):
        from lean_env.soundness.statement import theorem_name

        self.inner = inner
        self.settings, self.backend, self.workers = inner.settings, inner.backend, inner.workers
        self.rows = {theorem_name(r["formal_statement"]): r for r in rows if r.get("answer_track") == "find"}
        self.match_proof = match_proof
        self.owns_inner = owns_inner
        self._executor = ThreadPoolExecutor(max_workers=max(1, inner.workers), thread_name_prefix="answer")

    def check(self, task: ProofTask) -> Verdict:
        row = self.rows.get(task.name)
        if row is None or row["formal_statement"] != task.formal_statement:
            return self.inner.check(task)
        return judge_found_answer(self.inner.check, row, task, self.match_proof)

    def check_many(self, tasks, on_verdict=None) -> list[Verdict]:
        futures = [self.submit(t) for t in tasks]
        out = []
        for i, f in enumerate(futures):
            out.append(f.result())
            if on_verdict:
                on_verdict(i, out[-1])
        return out

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        if self.owns_inner:
            self.inner.close()

    def __enter__(self) -> "AnswerChecker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
