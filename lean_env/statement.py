"""Reading Lean source text: comments, theorem names, statements. Pure text, no Lean needed."""
from __future__ import annotations

import re

_DECL_KEYWORDS = ("theorem", "lemma")
_NAME_RE = re.compile(r"(?:^|(?<=\s))(theorem|lemma)\s+([^\s:({\[⦃]+)")


class StatementError(ValueError):
    """The formal statement cannot be understood (no `theorem NAME`, unbalanced brackets ...)."""


def strip_comments(text: str, keep_layout: bool = True) -> str:
    """Blank out `-- line` and nested `/- block -/` comments the way Lean's lexer reads them,
    leaving string and char literals alone. With keep_layout, comment characters become spaces
    (newlines kept) so offsets and line numbers still match the original."""
    out: list[str] = []
    i, n = 0, len(text)

    def blank(s: str) -> str:
        return re.sub(r"[^\n]", " ", s) if keep_layout else (" " if "\n" not in s else "\n")

    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif c == "'" and i + 2 < n and (text[i + 2] == "'" or (text[i + 1] == "\\" and "'" in text[i + 2 : i + 8])):
            # a char literal like 'a' or '\n'; a prime in an identifier (h') never has this shape
            j = text.index("'", i + 2) if text[i + 1] == "\\" else i + 2
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(text[i:j]))
            i = j
        elif text.startswith("/-", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/-", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("-/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def normalize_ws(text: str) -> str:
    """Collapse whitespace runs to one space, drop space next to brackets, trim."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s*([()\[\]{}⦃⦄,])\s*", r"\1", text)


def theorem_name(formal_statement: str) -> str:
    """The declared name in `theorem NAME ...` (or `lemma`)."""
    m = _NAME_RE.search(strip_comments(formal_statement))
    if not m:
        raise StatementError(
            "the formal statement must contain `theorem NAME ...` (or `lemma NAME ...`); got: "
            + formal_statement.strip()[:80]
        )
    return m.group(2)


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
    end is the offset of the `:=`; None if the code never declares NAME."""
    text = strip_comments(code)
    pat = re.compile(r"(?:^|(?<=\s))(?:theorem|lemma)\s+" + re.escape(name) + r"(?=[\s:({\[⦃])")
    m = pat.search(text)
    if not m:
        return None
    end = _top_level_assign(text, m.end())
    return (m.start(), end if end >= 0 else len(text))


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
