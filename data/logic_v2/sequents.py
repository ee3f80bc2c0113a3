"""Random vocabularies and sequents (premises ⊢ goal), built so a proof often exists (why: the
search keeps only the provable ones, so the draw decides what the benchmark covers)."""
from __future__ import annotations

import random
from typing import Sequence

from data.logic_v2.formulas import closed, names_in, subformulas, subst



class World:
    """The vocabulary of one theorem: Prop atoms, or a type with predicates, constants, f."""

    def __init__(self, rng: random.Random, first_order: bool, equality: bool):
        self.rng = rng
        self.fo = first_order
        self.eq = equality
        self.atoms = [f"p{i}" for i in range(rng.randint(2, 4))]
        self.preds = [f"P{i}" for i in range(rng.randint(1, 3))] if first_order else []
        self.consts = [f"c{i}" for i in range(rng.randint(1, 2) + (1 if equality else 0))] if first_order else []
        self.fn = "f0" if equality and rng.random() < 0.4 else None
        self.var_count = 0

    def bound(self) -> str:
        self.var_count += 1
        return f"v{self.var_count}"

    def term(self, scope: Sequence[str]):
        pool = list(scope) + self.consts
        t = self.rng.choice(pool)
        if self.fn and self.rng.random() < 0.25:
            return ("fn", self.fn, t)
        return t

    def atomic(self, scope: Sequence[str]):
        r = self.rng.random()
        if self.fo and (scope or self.consts) and r < 0.7:
            if self.eq and r < 0.2:
                return ("eq", self.term(scope), self.term(scope))
            return ("pred", self.rng.choice(self.preds), (self.term(scope),))
        return ("atom", self.rng.choice(self.atoms))

    def formula(self, depth: int, scope: Sequence[str] = ()):
        rng = self.rng
        if depth <= 0 or rng.random() < 0.2:
            return self.atomic(scope)
        choices = ["and", "or", "imp", "imp", "iff", "not"]
        if self.fo:
            choices += ["forall", "forall", "exists"]
        kind = rng.choice(choices)
        if kind == "not":
            return ("not", self.formula(depth - 1, scope))
        if kind in ("forall", "exists"):
            x = self.bound()
            body = self.formula(depth - 1, list(scope) + [x])
            if x not in names_in(body):
                body = ("imp", ("pred", rng.choice(self.preds), (x,)), body) if kind == "forall" else \
                    ("and", ("pred", rng.choice(self.preds), (x,)), body)
            return (kind, x, body)
        a = self.formula(rng.randint(0, depth - 1), scope)
        b = self.formula(rng.randint(0, depth - 1), scope)
        if a == b:
            return a
        return (kind, a, b)


def _combine(rng: random.Random, pieces: list, k: int):
    """k random pieces joined by random connectives."""
    goal = rng.choice(pieces)
    for _ in range(k - 1):
        q = rng.choice(pieces)
        if q != goal:
            goal = (rng.choice(("and", "or", "imp", "iff")), goal, q)
    return goal


def _equational(rng: random.Random, w: "World"):
    """Equations between constants (and f of them) with a goal that needs them: P t from P s,
    or an equation by symmetry, transitivity or congruence."""
    cs = list(w.consts)
    rng.shuffle(cs)
    a, b = cs[0], cs[1]
    c = cs[2] if len(cs) > 2 else a
    eqs = [("eq", a, b) if rng.random() < 0.5 else ("eq", b, a)]
    if c != a:
        eqs.append(("eq", b, c) if rng.random() < 0.5 else ("eq", c, b))
    last = c if c != a else b
    wrap = (lambda t: ("fn", w.fn, t)) if w.fn and rng.random() < 0.5 else (lambda t: t)
    if rng.random() < 0.5 and w.preds:
        pred = rng.choice(w.preds)
        return eqs + [("pred", pred, (wrap(a),))], ("pred", pred, (wrap(last),))
    return eqs, ("eq", wrap(last), wrap(a))


def random_sequent(rng: random.Random, deep: bool = False):
    """(world, premises, goal): premises are random formulas; the goal is built from pieces
    of them (so that a proof often exists), or is a random formula with no premises."""
    fo = rng.random() < 0.45
    eq = fo and rng.random() < 0.3
    w = World(rng, fo, eq)
    k = rng.randint(2, 5) if deep else rng.randint(0, 4)
    prem = [w.formula(rng.randint(1, 3)) for _ in range(k)]
    pieces = []
    for f in prem:
        subformulas(f, pieces)
    pieces = [f for f in pieces if closed(f)]
    if not pieces or (rng.random() < 0.15 and not deep):
        goal = w.formula(rng.randint(2, 4))
    elif deep:
        subs = [_combine(rng, pieces, rng.randint(1, 2)) for _ in range(rng.randint(2, 3))]
        goal = subs[0]
        for q in subs[1:]:
            goal = (rng.choice(("and", "and", "iff", "or")), goal, q) if goal != q else goal
    else:
        goal = _combine(rng, pieces, rng.randint(1, 3))
        if rng.random() < 0.25:
            goal = ("not", goal) if goal[0] != "not" else goal[1]
    if eq and len(w.consts) >= 2 and rng.random() < 0.7:
        prem_eq, goal_eq = _equational(rng, w)
        prem += prem_eq
        goal = goal_eq if rng.random() < 0.5 else (rng.choice(("and", "imp")), goal, goal_eq)
    if fo and rng.random() < 0.3 and w.consts:
        c = rng.choice(w.consts)
        x = w.bound()
        if c in names_in(goal) and rng.random() < 0.5:
            goal = (rng.choice(("forall", "exists")), x, subst(goal, c, x))
    return w, prem, goal
