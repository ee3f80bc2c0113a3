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


def statement_signature(formal_statement: str) -> str:
    """The statement without its trailing `:= by` / `:=` and without comments, whitespace
    normalized: `theorem NAME BINDERS : TYPE` with `lemma` read as `theorem`. The `:=` is a
    token (one inside a string or char literal does not end the statement)."""
    text = strip_comments(formal_statement)
    for keyword, _, toks, k in _declarations(text):
        end = _assign_after(toks, k)
        body = text[keyword.start : end if end >= 0 else len(text)]
        body = re.sub(r"^lemma\b", "theorem", body.strip())
        return normalize_ws(body)
    raise StatementError("no `theorem NAME` in the statement")


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
    Lean elaborates the target exactly as written, in the header's environment. The name and
    the `:=` are found as Lean's lexer reads the statement (a `:=` inside a string or a char
    literal is not one), and a space follows the new name, so the text after the old name is read
    after a token boundary just as it was after that name."""
    for _, name, toks, k in _declarations(formal_statement):
        end = _assign_after(toks, k)
        if end < 0:
            raise StatementError("the formal statement must end with `:=` or `:= by`")
        rest = strip_comments(formal_statement[name.end : end])
        return f"axiom {axiom_name} " + rest.strip()
    raise StatementError("no `theorem NAME` in the statement")
