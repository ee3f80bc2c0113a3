"""Lean text of formulas and proofs: statements with notation or prefix names, term proofs and
tactic proofs with varied tactics (why: the theorems read the way people write them)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Optional, Sequence

from data.logic_v2.formulas import names_in


@dataclass(frozen=True)
class Style:
    """How a theorem is written: notation (`p ∧ q`) or prefix names (`And p q`)."""

    notation: bool = True
    type_name: str = "α"  # written on a bound variable whose type nothing else fixes
    annotate: bool = False  # write `∀ x : α, …` on every bound variable


def term_text(t, arg: bool = False) -> str:
    if isinstance(t, str):
        return t
    s = f"{t[1]} {term_text(t[2], True)}"
    return f"({s})" if arg else s


_PREC = {"iff": 20, "imp": 25, "or": 30, "and": 35, "eq": 50}
_NAMES = {"and": "And", "or": "Or", "iff": "Iff"}


def render(f, style: Style = Style(), prec: int = 0) -> str:
    """Lean text of a formula; parenthesizes where Lean's precedences need it."""
    kind = f[0]
    if kind == "atom":
        return f[1]
    if kind == "false":
        return "False"
    if kind == "pred":
        s = " ".join([f[1], *(term_text(a, True) for a in f[2])])
        return f"({s})" if prec > 1000 and f[2] else s
    if kind == "eq":
        if style.notation:
            s = f"{term_text(f[1])} = {term_text(f[2])}"
            return f"({s})" if prec > 50 else s
        s = f"Eq {term_text(f[1], True)} {term_text(f[2], True)}"
        return f"({s})" if prec > 1000 else s
    if kind == "not":
        if style.notation:
            return f"¬{render(f[1], style, 40)}"
        s = f"Not {render(f[1], style, 1024)}"
        return f"({s})" if prec > 1000 else s
    if kind in ("forall", "exists"):
        x = f"{f[1]} : {style.type_name}" if style.annotate or not _typed_by_body(f[1], f[2]) else f[1]
        if kind == "forall":
            s = f"∀ {x}, {render(f[2], style, 0)}"
        elif style.notation:
            s = f"∃ {x}, {render(f[2], style, 0)}"
        else:
            x = f"({x})" if " " in x else x
            s = f"Exists fun {x} => {render(f[2], style, 0)}"
        return f"({s})" if prec > 0 else s
    a, b = f[1], f[2]
    if kind == "imp":
        s = f"{render(a, style, 26)} → {render(b, style, 25)}"
        return f"({s})" if prec > 25 else s
    if not style.notation:
        s = f"{_NAMES[kind]} {render(a, style, 1024)} {render(b, style, 1024)}"
        return f"({s})" if prec > 1000 else s
    p = _PREC[kind]
    sym = {"and": "∧", "or": "∨", "iff": "↔"}[kind]
    left, right = (p + 1, p) if kind != "iff" else (p + 1, p + 1)
    s = f"{render(a, style, left)} {sym} {render(b, style, right)}"
    return f"({s})" if prec > p else s


def _typed_by_body(x: str, f) -> bool:
    """Whether Lean can infer x's type from f: x is an argument of a predicate or of f."""
    if isinstance(f, str):
        return False
    kind = f[0]
    if kind == "pred":
        return any(x in names_in(a) for a in f[2])
    if kind in ("forall", "exists"):
        return f[1] != x and _typed_by_body(x, f[2])
    if kind == "eq":
        return any(not isinstance(t, str) and x in names_in(t) for t in f[1:])
    if kind in ("atom", "false"):
        return False
    return any(_typed_by_body(x, a) for a in f[1:])



def _apply_spine(head, args: Sequence[str], names: dict) -> str:
    """Lean text of a hypothesis with its elimination steps; args fill the ("ap",) steps."""
    s = names.get(head[1], head[1])
    it = iter(args)
    for st in head[2]:
        if st[0] == "ap":
            s = f"{s} {_atomic(next(it))}"
        elif st[0] == "inst":
            s = f"{s} {term_text(st[1], True)}"
        else:
            field = {"fst": "1", "snd": "2", "mp": "mp", "mpr": "mpr"}[st[0]]
            s = f"{_atomic(s)}.{field}"
    return s


def _atomic(s: str) -> str:
    return s if _is_atomic(s) else f"({s})"


def _is_atomic(s: str) -> bool:
    depth = 0
    for c in s:
        if c in "(⟨":
            depth += 1
        elif c in ")⟩":
            depth -= 1
        elif c == " " and depth == 0:
            return False
    return True


def _intros(p) -> tuple[list, tuple]:
    """The binders of a run of nested intros, and the proof under them."""
    binders, body = [p[1]], p[2]
    while body[0] in ("intro", "introv"):
        binders.append(body[1])
        body = body[2]
    return binders, body


def term_proof(p, names: Optional[dict] = None) -> str:
    """Term-style Lean text of a proof."""
    names = names or {}
    kind = p[0]
    if kind == "hyp":
        return names.get(p[1], p[1])
    if kind in ("intro", "introv"):
        binders, body = _intros(p)
        return f"fun {' '.join(binders)} => {term_proof(body, names)}"
    if kind == "pair":
        return f"⟨{term_proof(p[1], names)}, {term_proof(p[2], names)}⟩"
    if kind in ("inl", "inr"):
        return f"Or.{kind} {_atomic(term_proof(p[1], names))}"
    if kind == "exi":
        return f"⟨{term_text(p[1])}, {term_proof(p[2], names)}⟩"
    if kind == "efq":
        return f"False.elim {_atomic(term_proof(p[1], names))}"
    if kind == "elim":
        return _apply_spine(p[1], [term_proof(q, names) for q in p[2]], names)
    if kind == "orelim":
        h = names.get(p[1], p[1])
        return (f"Or.elim {h} (fun {p[2]} => {term_proof(p[3], names)}) "
                f"(fun {p[4]} => {term_proof(p[5], names)})")
    if kind == "exelim":
        h = names.get(p[1], p[1])
        return f"Exists.elim {h} (fun {p[2]} {p[3]} => {term_proof(p[4], names)})"
    if kind == "refl":
        return "rfl"
    if kind == "symm":
        return f"Eq.symm {_atomic(term_proof(p[1], names))}"
    if kind == "trans":
        return f"Eq.trans {_atomic(term_proof(p[1], names))} {_atomic(term_proof(p[2], names))}"
    if kind == "congr":
        return f"congrArg {p[1]} {_atomic(term_proof(p[2], names))}"
    if kind == "rw":
        return f"{_atomic(term_proof(p[1], names))} ▸ {_atomic(term_proof(p[2], names))}"
    raise ValueError(kind)


def _small(p) -> bool:
    """A proof that reads well as one `exact` term (no binders or case splits inside)."""
    if p[0] in ("hyp", "refl"):
        return True
    if p[0] in ("intro", "introv", "orelim", "exelim", "pair", "exi"):
        return False
    if p[0] == "elim":
        return all(_small(q) for q in p[2])
    if p[0] in ("inl", "inr", "efq"):
        return p[1][0] in ("hyp", "elim") and _small(p[1])
    if p[0] == "rw":
        return p[1][0] not in ("hyp", "symm")
    return p[0] in ("symm", "trans", "congr")


def tactic_proof(p, rng: random.Random, indent: int = 2) -> str:
    """Tactic-style Lean text (`by` + lines), the tactics chosen with some variety."""
    return "by\n" + "\n".join(_tactics(p, rng, indent))


def _tactics(p, rng, ind) -> list[str]:
    pad = " " * ind
    kind = p[0]
    if kind in ("intro", "introv"):
        binders, body = _intros(p)
        return [pad + "intro " + " ".join(binders)] + _tactics(body, rng, ind)
    if kind == "hyp":
        return [pad + rng.choice(("exact ", "exact ", "apply ")) + p[1]]
    if kind == "refl":
        return [pad + "rfl"]
    if _small(p) and kind != "efq":
        return [pad + "exact " + term_proof(p)]
    if kind == "pair":
        if _small(p[1]) and _small(p[2]) and rng.random() < 0.5:
            return [pad + f"exact ⟨{term_proof(p[1])}, {term_proof(p[2])}⟩"]
        return [pad + "constructor"] + _bullet(p[1], rng, ind) + _bullet(p[2], rng, ind)
    if kind in ("inl", "inr"):
        return [pad + ("left" if kind == "inl" else "right")] + _tactics(p[1], rng, ind)
    if kind == "exi":
        if _small(p[2]):
            return [pad + f"exact ⟨{term_text(p[1])}, {term_proof(p[2])}⟩"]
        return [pad + f"refine ⟨{term_text(p[1])}, ?_⟩"] + _tactics(p[2], rng, ind)
    if kind == "efq":
        if _small(p[1]) and rng.random() < 0.5:
            return [pad + "exact " + term_proof(p)]
        return [pad + "exfalso"] + _tactics(p[1], rng, ind)
    if kind == "elim":
        args, subs = [], []
        for q in p[2]:
            if _small(q):
                args.append(term_proof(q))
            else:
                args.append("?_")
                subs.append(q)
        if not subs:
            return [pad + "exact " + _apply_spine(p[1], args, {})]
        steps = p[1][2]
        if all(st[0] == "ap" for st in steps) and rng.random() < 0.5:
            lines = [pad + f"apply {p[1][1]}"]
            if len(subs) != len(args):
                lines = [pad + "refine " + _apply_spine(p[1], args, {})]
        else:
            lines = [pad + "refine " + _apply_spine(p[1], args, {})]
        if len(subs) == 1:
            return lines + _tactics(subs[0], rng, ind)
        for q in subs:
            lines += _bullet(q, rng, ind)
        return lines
    if kind == "orelim":
        if rng.random() < 0.5:
            lines = [pad + f"rcases {p[1]} with {p[2]} | {p[4]}"]
            return lines + _bullet(p[3], rng, ind) + _bullet(p[5], rng, ind)
        lines = [pad + f"cases {p[1]} with"]
        lines.append(pad + f"| inl {p[2]} =>")
        lines += _tactics(p[3], rng, ind + 2)
        lines.append(pad + f"| inr {p[4]} =>")
        lines += _tactics(p[5], rng, ind + 2)
        return lines
    if kind == "exelim":
        return [pad + f"obtain ⟨{p[2]}, {p[3]}⟩ := {p[1]}"] + _tactics(p[4], rng, ind)
    if kind == "rw":
        e = p[1]
        if e[0] == "hyp":
            return [pad + f"rw [← {e[1]}]", pad + "exact " + term_proof(p[2])]
        if e[0] == "symm" and e[1][0] == "hyp":
            return [pad + f"rw [{e[1][1]}]", pad + "exact " + term_proof(p[2])]
        return [pad + "exact " + term_proof(p)]
    raise ValueError(kind)


def _bullet(p, rng, ind) -> list[str]:
    lines = _tactics(p, rng, ind + 2)
    first = lines[0]
    return [" " * ind + "· " + first[ind + 2:]] + lines[1:]
