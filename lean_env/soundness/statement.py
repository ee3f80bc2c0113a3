"""Reading Lean source text: comments, theorem names, statements. Pure text, no Lean needed."""
from __future__ import annotations

import re

from lean_env.soundness.lexer import IDENT, SYMBOL, blank_comments, code_tokens

_DECL_KEYWORDS = ("theorem", "lemma")
_OPENS, _CLOSES = set("([{⦃⟨"), set(")]}⦄⟩")
_NAME_RE = re.compile(r"(?:^|(?<=\s))(theorem|lemma)\s+([^\s:({\[⦃]+)")


class StatementError(ValueError):
    """The formal statement cannot be understood (no `theorem NAME`, unbalanced brackets ...)."""


def strip_comments(text: str, keep_layout: bool = True) -> str:
    """Blank out `-- line` and nested `/- block -/` comments (doc comments too) exactly where
    Lean's lexer sees them (lean_env.soundness.lexer), leaving string and char literals and `«»` names
    alone. With keep_layout, comment characters become spaces (newlines kept) so offsets and line
    numbers still match the original."""
    return blank_comments(text, keep_layout)


def _declarations(text: str):
    """(keyword token, name token, all code tokens, index of the name) for each `theorem|lemma NAME`."""
    toks = code_tokens(text)
    for k, t in enumerate(toks[:-1]):
        if t.kind == IDENT and not t.escaped and t.text in _DECL_KEYWORDS and toks[k + 1].kind == IDENT:
            yield t, toks[k + 1], toks, k + 1


def _assign_after(toks, k: int) -> int:
    """Offset of the first `:=` token at bracket depth 0 after token k, or -1."""
    depth = 0
    for t in toks[k + 1 :]:
        if t.kind != SYMBOL:
            continue
        if t.text in _OPENS:
            depth += 1
        elif t.text in _CLOSES:
            depth -= 1
        elif depth == 0 and t.text == ":=":
            return t.start
    return -1


def normalize_ws(text: str) -> str:
    """Collapse whitespace runs to one space, drop space next to brackets, trim."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s*([()\[\]{}⦃⦄,])\s*", r"\1", text)


def theorem_name(formal_statement: str) -> str:
    """The declared name in `theorem NAME ...` (or `lemma`), as written."""
    for _, name, _, _ in _declarations(formal_statement):
        return name.text
    raise StatementError(
        "the formal statement must contain `theorem NAME ...` (or `lemma NAME ...`); got: "
        + formal_statement.strip()[:80]
    )


def _top_level_assign(text: str, start: int) -> int:
    """Index of the first `:=` at bracket depth 0 at or after `start`, or -1."""
    depth = 0
    opens, closes = "([{⦃⟨", ")]}⦄⟩"
    i = start
    while i < len(text):
        c = text[i]
        if c in opens:
            depth += 1
        elif c in closes:
            depth -= 1
        elif depth == 0 and text.startswith(":=", i):
            return i
        i += 1
    return -1


def statement_signature(formal_statement: str) -> str:
    """The statement without its trailing `:= by` / `:=` and without comments, whitespace
    normalized: `theorem NAME BINDERS : TYPE` with `lemma` read as `theorem`."""
    text = strip_comments(formal_statement)
    m = _NAME_RE.search(text)
    if not m:
        raise StatementError("no `theorem NAME` in the statement")
    end = _top_level_assign(text, m.end())
    body = text[m.start() : end if end >= 0 else len(text)]
    body = re.sub(r"^lemma\b", "theorem", body.strip())
    return normalize_ws(body)


def find_declaration(code: str, name: str) -> tuple[int, int] | None:
    """(start, end) offsets of `theorem|lemma NAME ... :=` in code (comments ignored), where
    end is the offset of the `:=`; None if the code never declares NAME. NAME matches in any
    spelling (`«foo»` is `foo`)."""
    wanted = {name}
    named = [t for t in code_tokens(name) if t.kind == IDENT]
    if len(named) == 1:
        wanted.add(named[0].name)
    for keyword, declared, toks, k in _declarations(code):
        if declared.text in wanted or declared.name in wanted:
            end = _assign_after(toks, k)
            return (keyword.start, end if end >= 0 else len(code))
    return None


def target_as_axiom(formal_statement: str, axiom_name: str) -> str:
    """Restate the target as `axiom AXIOM_NAME BINDERS : TYPE` (same binders, same text), so
    Lean elaborates the target exactly as written, in the header's environment."""
    text = strip_comments(formal_statement)
    m = _NAME_RE.search(text)
    if not m:
        raise StatementError("no `theorem NAME` in the statement")
    end = _top_level_assign(text, m.end())
    if end < 0:
        raise StatementError("the formal statement must end with `:=` or `:= by`")
    return f"axiom {axiom_name}" + text[m.end() : end].rstrip()
