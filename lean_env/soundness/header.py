"""Reading a Lean header with the project's lexer, and deciding which environment it selects.

Why: a header that arrives inside model output (a Kimina snippet, a chat answer's own `import`
lines, a service row's header text) is untrusted text placed where nothing checks it. Such a
header may only say *where* (`prelude`, `import Module.Name`, comments); its first other token
ends it, and everything from there on is body that the allowlist reads. The modules must lie in
a known environment's import closure; Lean then runs that environment's own imports, written
by this module from the names, never the untrusted bytes.
"""
from __future__ import annotations

from dataclasses import dataclass

from lean_env.soundness.lexer import COMMENT, IDENT, SPACE, tokenize

# Packages Mathlib imports (so `import Mathlib` already loads every module under these roots):
# an answer's own `import Aesop` under a Mathlib header selects the same environment.
MATHLIB_CLOSURE_ROOTS = frozenset("Mathlib Batteries Aesop Qq ProofWidgets Plausible LeanSearchClient "
                                  "ImportGraph Init Std Lean".split())


class HeaderError(ValueError):
    """An untrusted header that selects no known environment; the message names the allowed ones."""


@dataclass(frozen=True)
class HeaderSplit:
    """The leading `prelude`/`import` part of a text: what it imports, and the offset where it ends
    (the end of its last `prelude`/module token; 0 when there is none)."""

    prelude: bool
    modules: tuple[str, ...]
    end: int

    def text(self) -> str:
        """The header Lean runs for this selection, written from the names alone."""
        return ("prelude\n" if self.prelude else "") + "".join(f"import {m}\n" for m in self.modules)


def read_header(text: str) -> HeaderSplit:
    """The maximal leading run of `prelude` (first only), `import NAME` and plain comments, as
    Lean's lexer reads the text. A doc comment, an escaped or keyword-like name, `import` without
    a name, or any other token ends it."""
    prelude, modules, end, first = False, [], 0, True
    toks = [t for t in tokenize(text, spaces=False) if t.kind != SPACE]
    k = 0
    while k < len(toks):
        t = toks[k]
        if t.kind == COMMENT:
            k += 1
            continue
        if first and t.kind == IDENT and t.text == "prelude":
            prelude, end, first = True, t.end, False
            k += 1
            continue
        if t.kind == IDENT and t.text == "import":
            j = k + 1
            while j < len(toks) and toks[j].kind == COMMENT:
                j += 1
            m = toks[j] if j < len(toks) else None
            if m is not None and m.kind == IDENT and not m.escaped and not m.root and m.text == m.name \
                    and m.name not in ("import", "prelude"):
                if m.name not in modules:
                    modules.append(m.name)
                end, first, k = m.end, False, j + 1
                continue
        break
    return HeaderSplit(prelude, tuple(modules), end)


def blank(text: str, end: int) -> str:
    """text with its first `end` characters turned into spaces (line breaks kept), so every offset,
    line and column of the rest is what it was."""
    return "".join(c if c in "\r\n" else " " for c in text[:end]) + text[end:]


def in_closure(module: str, header: HeaderSplit) -> bool:
    """Whether importing `module` adds nothing to what `header` imports (it is one of them, or
    lies in the closure of a whole package the header imports: Mathlib's dependencies)."""
    if module in header.modules:
        return True
    return "Mathlib" in header.modules and module.split(".")[0] in MATHLIB_CLOSURE_ROOTS


def select(untrusted: HeaderSplit, known: list[str]) -> HeaderSplit:
    """The known environment an untrusted header selects: the first of the `known` (trusted)
    headers with the same `prelude` choice whose closure holds every module it names (at least
    one). What comes back is that environment's own `prelude`/`import` part, so Lean imports only
    what a trusted header imports. HeaderError naming the environments otherwise."""
    for k in known:
        env = read_header(k)
        if untrusted.modules and untrusted.prelude == env.prelude and all(in_closure(m, env)
                                                                          for m in untrusted.modules):
            return HeaderSplit(env.prelude, env.modules, 0)
    allowed = "; ".join(" ".join(read_header(k).text().split()) or "(empty)" for k in known) or "none installed"
    got = " ".join(untrusted.text().split()) or "no imports"
    raise HeaderError(f"the header ({got}) selects no known environment; a header inside the checked text may "
                      f"only import one of: {allowed}")
