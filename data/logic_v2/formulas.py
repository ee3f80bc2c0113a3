"""logic-v2 formulas as tuples, and the canonical core of a sequent (why: the split is a hash of
the core up to renaming and premise order, so no renaming of a test theorem can be trained on)."""
from __future__ import annotations

import hashlib
import json
from typing import Optional, Sequence

# ("atom", p) ("false",) ("not", A) ("and"|"or"|"imp"|"iff", A, B) ("forall"|"exists", x, A)
# ("pred", P, (t, ...)) ("eq", s, t); a term is a name (str) or ("fn", f, term).



def subst(f, x: str, t):
    """f with the free variable x replaced by the term t (bound names never clash: see _fresh)."""
    if isinstance(f, str):
        return t if f == x else f
    kind = f[0]
    if kind == "fn":
        return ("fn", f[1], subst(f[2], x, t))
    if kind in ("forall", "exists"):
        return f if f[1] == x else (kind, f[1], subst(f[2], x, t))
    if kind == "pred":
        return ("pred", f[1], tuple(subst(a, x, t) for a in f[2]))
    if kind == "eq":
        return ("eq", subst(f[1], x, t), subst(f[2], x, t))
    if kind == "atom" or kind == "false":
        return f
    return (kind, *(subst(a, x, t) for a in f[1:]))


def names_in(f, out: Optional[list] = None) -> list:
    """Every name (atoms, predicates, terms, bound variables) in f, in order of appearance."""
    out = [] if out is None else out

    def add(n):
        if n not in out:
            out.append(n)

    if isinstance(f, str):
        add(f)
        return out
    kind = f[0]
    if kind == "atom":
        add(f[1])
    elif kind == "fn":
        add(f[1])
        names_in(f[2], out)
    elif kind in ("forall", "exists"):
        add(f[1])
        names_in(f[2], out)
    elif kind == "pred":
        add(f[1])
        for a in f[2]:
            names_in(a, out)
    elif kind == "eq":
        names_in(f[1], out)
        names_in(f[2], out)
    elif kind != "false":
        for a in f[1:]:
            names_in(a, out)
    return out


def subformulas(f, out: list) -> list:
    if isinstance(f, str) or f[0] in ("forall", "exists"):
        if not isinstance(f, str):
            out.append(f)
        return out
    out.append(f)
    if f[0] in ("and", "or", "imp", "iff", "not"):
        for a in f[1:]:
            subformulas(a, out)
    return out


def closed(f) -> bool:
    """No free bound-variable names (v1, v2 ...) left in f."""
    return _free(f, set()) == set()


def _free(f, bound: set) -> set:
    if isinstance(f, str):
        return {f} if f.startswith("v") and f not in bound else set()
    kind = f[0]
    if kind in ("forall", "exists"):
        return _free(f[2], bound | {f[1]})
    if kind == "fn":
        return _free(f[2], bound)
    if kind == "pred":
        return set().union(*(_free(a, bound) for a in f[2])) if f[2] else set()
    if kind == "eq":
        return _free(f[1], bound) | _free(f[2], bound)
    if kind in ("atom", "false"):
        return set()
    return set().union(*(_free(a, bound) for a in f[1:]))



def rename(f, mapping: dict):
    if isinstance(f, str):
        return mapping.get(f, f)
    kind = f[0]
    if kind == "atom":
        return ("atom", mapping.get(f[1], f[1]))
    if kind == "fn":
        return ("fn", mapping.get(f[1], f[1]), rename(f[2], mapping))
    if kind in ("forall", "exists"):
        return (kind, mapping.get(f[1], f[1]), rename(f[2], mapping))
    if kind == "pred":
        return ("pred", mapping.get(f[1], f[1]), tuple(rename(a, mapping) for a in f[2]))
    if kind == "eq":
        return ("eq", rename(f[1], mapping), rename(f[2], mapping))
    if kind == "false":
        return f
    return (kind, *(rename(a, mapping) for a in f[1:]))


def _shape(f) -> str:
    """A formula's text with every name erased (the renaming-invariant part)."""
    return json.dumps(rename(f, _Blank()))


class _Blank(dict):
    def get(self, k, d=None):
        return "_"


def canonical(premises: Sequence, goal) -> str:
    """The core sequent up to renaming and premise order: the goal first, premises sorted by
    shape, then names numbered in order of first appearance."""
    prem = sorted(premises, key=lambda f: (_shape(f), json.dumps(f)))
    order: list = []
    for f in [goal] + prem:
        names_in(f, order)
    mapping = {n: f"n{i}" for i, n in enumerate(order)}
    prem = sorted(json.dumps(rename(f, mapping)) for f in prem)
    return json.dumps([json.dumps(rename(goal, mapping)), prem])


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
