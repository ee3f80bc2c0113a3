"""Natural-deduction proof trees and the iterative-deepening search for the shortest one (why: a
theorem is kept only when a proof is found, and its size is the difficulty)."""
from __future__ import annotations

import json
from typing import Sequence

from data.logic_v2.formulas import names_in, subst

MAX_SEARCH = 22  # iterative deepening stops here

# Nodes: ("hyp", h) ("intro", h, body) ("introv", x, body) ("pair", p, q) ("inl", p) ("inr", p)
# ("exi", t, p) ("elim", head, [premise proofs]) where head is a spine (see _spines);
# ("efq", p) from a proof of False; ("orelim", h, h1, p1, h2, p2) ("exelim", h, w, hw, p);
# equality: ("refl",) ("symm", e) ("trans", e1, e2) ("congr", f, e) ("rw", e, p) (p : P s, e : s = t)
# Spine heads: ("h", name) ("fst", e) ("snd", e) ("mp", e) ("mpr", e) ("inst", e, t) ("ap", e, i)


def proof_size(p) -> int:
    kind = p[0]
    if kind in ("hyp", "refl"):
        return 1
    if kind in ("intro", "introv"):
        return 1 + proof_size(p[2])
    if kind in ("inl", "inr", "efq", "symm"):
        return 1 + proof_size(p[1])
    if kind == "exi":
        return 1 + proof_size(p[2])
    if kind in ("pair", "trans"):
        return 1 + proof_size(p[1]) + proof_size(p[2])
    if kind == "congr":
        return 1 + proof_size(p[2])
    if kind == "rw":
        return 1 + proof_size(p[1]) + proof_size(p[2])
    if kind == "elim":
        return _head_size(p[1]) + sum(proof_size(q) for q in p[2])
    if kind == "orelim":
        return 1 + proof_size(p[3]) + proof_size(p[5])
    if kind == "exelim":
        return 1 + proof_size(p[4])
    raise ValueError(kind)


def _head_size(head) -> int:
    return 1 + sum(1 for st in head[2] if st[0] != "ap")


def skeleton(p) -> str:
    """The proof's rule tree without names: its shape (test-ood's shapes are not in train)."""
    kind = p[0]
    if kind in ("hyp", "refl"):
        return kind
    if kind == "elim":
        return f"elim[{_head_skel(p[1])}]({','.join(skeleton(q) for q in p[2])})"
    kids = [skeleton(q) for q in p[1:] if isinstance(q, tuple) and q and isinstance(q[0], str) and q[0] in _NODE]
    return f"{kind}({','.join(kids)})"


_NODE = {"hyp", "intro", "introv", "pair", "inl", "inr", "exi", "elim", "efq", "orelim", "exelim",
         "refl", "symm", "trans", "congr", "rw"}


def _head_skel(head) -> str:
    return ".".join(["h"] + [st[0] for st in head[2]])



class Search:
    """Iterative-deepening proof search for intuitionistic natural deduction: intro rules on the
    goal, elimination spines from hypotheses (projections, modus ponens, ∀-instances, ↔ halves,
    ex falso), case splits on ∨ and ∃ hypotheses, equality by symm/trans/congrArg and rewriting.
    The first proof found at the smallest size bound is the shortest one in this calculus."""

    def __init__(self, terms: Sequence, max_nodes: int = 200_000):
        self.terms = list(terms)  # closed terms to instantiate ∀ / witness ∃ with
        self.max_nodes = max_nodes
        self.nodes = 0
        self.fail: dict = {}

    def fresh(self, used: set, base: str) -> str:
        i = 1
        while f"{base}{i}" in used:
            i += 1
        return f"{base}{i}"

    def shortest(self, ctx: list, goal, limit: int = MAX_SEARCH):
        """(proof, size) of the shortest proof of goal from ctx [(name, formula)], or None."""
        self.fail = {}
        for n in range(1, limit + 1):
            try:
                p = self.prove(tuple(ctx), goal, n, tuple(self.terms))
            except _Budget:
                return None
            if p is not None:
                return p, proof_size(p)
        return None

    def prove(self, ctx: tuple, goal, n: int, terms: tuple):
        if n <= 0:
            return None
        key = (tuple(f for _, f in ctx), goal, terms)
        if self.fail.get(key, 0) >= n:
            return None
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise _Budget()
        p = self._prove(ctx, goal, n, terms)
        if p is None:
            self.fail[key] = max(n, self.fail.get(key, 0))
        return p

    def _used(self, ctx, terms) -> set:
        used = {h for h, _ in ctx}
        for t in terms:
            used.update(names_in(t))
        return used

    def _prove(self, ctx, goal, n, terms):
        for h, f in ctx:
            if f == goal:
                return ("hyp", h)
        kind = goal[0]
        used = self._used(ctx, terms)
        if kind in ("imp", "not"):
            a = goal[1]
            b = goal[2] if kind == "imp" else ("false",)
            h = self.fresh(used, "h")
            body = self.prove(ctx + ((h, a),), b, n - 1, terms)
            return ("intro", h, body) if body else None
        if kind == "forall":
            x = self.fresh(used | set(names_in(goal)), "x")
            body = self.prove(ctx, subst(goal[2], goal[1], x), n - 1, terms + (x,))
            return ("introv", x, body) if body else None
        if kind == "and":
            p = self._pair(ctx, goal[1], goal[2], n, terms)
            if p:
                return p
        if kind == "iff":
            p = self._pair(ctx, ("imp", goal[1], goal[2]), ("imp", goal[2], goal[1]), n, terms)
            if p:
                return p
        if kind == "or":
            for side, g in (("inl", goal[1]), ("inr", goal[2])):
                p = self.prove(ctx, g, n - 1, terms)
                if p:
                    return (side, p)
        if kind == "exists":
            for t in terms:
                p = self.prove(ctx, subst(goal[2], goal[1], t), n - 1, terms)
                if p:
                    return ("exi", t, p)
        if kind == "eq":
            e = self._eq(ctx, goal[1], goal[2], n)
            if e:
                return e
        if kind == "pred" and len(goal[2]) == 1 and n >= 3:
            p = self._rewrite(ctx, goal, n, terms)
            if p:
                return p
        p = self._eliminate(ctx, goal, n, terms)
        if p:
            return p
        return self._cases(ctx, goal, n, terms)

    def _pair(self, ctx, a, b, n, terms):
        for k in range(1, n - 1):
            p = self.prove(ctx, a, k, terms)
            if p:
                q = self.prove(ctx, b, n - 1 - proof_size(p), terms)
                return ("pair", p, q) if q else None
        return None

    def _spines(self, steps: tuple, f, terms, depth=0):
        """(steps, premises, conclusion) for each way to eliminate a hypothesis of type f:
        steps apply in order to the hypothesis, ("ap",) taking the next premise proof."""
        yield steps, [], f
        if depth > 4:
            return
        kind = f[0]
        if kind in ("imp", "not"):
            b = f[2] if kind == "imp" else ("false",)
            for st, prem, concl in self._spines(steps + (("ap",),), b, terms, depth + 1):
                yield st, [f[1]] + prem, concl
        elif kind == "and":
            yield from self._spines(steps + (("fst",),), f[1], terms, depth + 1)
            yield from self._spines(steps + (("snd",),), f[2], terms, depth + 1)
        elif kind == "iff":
            yield from self._spines(steps + (("mp",),), ("imp", f[1], f[2]), terms, depth + 1)
            yield from self._spines(steps + (("mpr",),), ("imp", f[2], f[1]), terms, depth + 1)
        elif kind == "forall":
            for t in terms:
                yield from self._spines(steps + (("inst", t),), subst(f[2], f[1], t), terms, depth + 1)

    def _eliminate(self, ctx, goal, n, terms):
        for h, f in ctx:
            for steps, prem, concl in self._spines((), f, terms):
                absurd = concl == ("false",) and goal != ("false",)
                if concl != goal and not absurd:
                    continue
                if not steps:
                    if absurd:
                        return ("efq", ("hyp", h))
                    continue
                head = ("spine", h, steps)
                cost = _head_size(head) + (1 if absurd else 0)
                if cost + len(prem) > n:
                    continue
                proofs = self._premises(ctx, prem, n - cost, terms)
                if proofs is None:
                    continue
                p = ("elim", head, proofs)
                return ("efq", p) if absurd else p
        return None

    def _premises(self, ctx, prem, n, terms):
        out = []
        left = n
        for i, a in enumerate(prem):
            rest = len(prem) - i - 1
            p = None
            for k in range(1, left - rest + 1):
                p = self.prove(ctx, a, k, terms)
                if p:
                    break
            if p is None:
                return None
            out.append(p)
            left -= proof_size(p)
        return out

    def _cases(self, ctx, goal, n, terms):
        used = self._used(ctx, terms)
        for i, (h, f) in enumerate(ctx):
            rest = ctx[:i] + ctx[i + 1:]
            if f[0] == "or" and n >= 3:
                h1 = self.fresh(used, "h")
                h2 = self.fresh(used | {h1}, "h")
                for k in range(1, n - 1):
                    p1 = self.prove(rest + ((h1, f[1]),), goal, k, terms)
                    if p1:
                        p2 = self.prove(rest + ((h2, f[2]),), goal, n - 1 - proof_size(p1), terms)
                        if p2:
                            return ("orelim", h, h1, p1, h2, p2)
                        break
            if f[0] == "exists" and n >= 2:
                w = self.fresh(used | set(names_in(goal)) | set(names_in(f)), "w")
                hw = self.fresh(used | {w}, "h")
                p = self.prove(rest + ((hw, subst(f[2], f[1], w)),), goal, n - 1, terms + (w,))
                if p:
                    return ("exelim", h, w, hw, p)
        return None

    def _eq(self, ctx, s, t, n):
        """Shortest chain s = t from equations by symm/trans/congrArg (breadth first)."""
        if s == t:
            return ("refl",)
        eqs = [(h, f[1], f[2]) for h, f in ctx if f[0] == "eq"]
        if not eqs:
            return None
        frontier = [(s, None)]
        seen = {_key(s): None}
        for _ in range(n):
            nxt = []
            for u, pu in frontier:
                for h, a, b in eqs:
                    for x, y, e in ((a, b, ("hyp", h)), (b, a, ("symm", ("hyp", h)))):
                        for v, step in _rewrites(u, x, y, e):
                            if _key(v) in seen:
                                continue
                            pv = step if pu is None else ("trans", pu, step)
                            if proof_size(pv) > n:
                                continue
                            seen[_key(v)] = pv
                            if v == t:
                                return pv
                            nxt.append((v, pv))
            frontier = nxt
            if not frontier:
                break
        return None

    def _rewrite(self, ctx, goal, n, terms):
        """Goal P t from a hypothesis P s and a proof of s = t."""
        pred, (t,) = goal[1], goal[2]
        for h, f in ctx:
            if f[0] == "pred" and f[1] == pred and len(f[2]) == 1 and f[2][0] != t:
                e = self._eq(ctx, f[2][0], t, n - 2)
                if e:
                    return ("rw", e, ("hyp", h))
        return None


class _Budget(Exception):
    pass


def _key(t) -> str:
    return json.dumps(t)


def _rewrites(u, x, y, e):
    """Terms u' with u' = u[x := y] at one position, with the equality proof u = u'."""
    if u == x:
        yield y, e
    if not isinstance(u, str) and u[0] == "fn":
        for v, ev in _rewrites(u[2], x, y, e):
            yield ("fn", u[1], v), ("congr", u[1], ev)


def used_hyps(p, out: list) -> list:
    kind = p[0]
    if kind == "hyp":
        out.append(p[1])
    elif kind == "elim":
        out.append(p[1][1])
        for q in p[2]:
            used_hyps(q, out)
    elif kind in ("orelim", "exelim"):
        out.append(p[1])
    for q in p[1:]:
        if isinstance(q, tuple) and q and q[0] in _NODE:
            used_hyps(q, out)
    return out
