"""logic-v2: theorems found by proof search over formulas, not by filling schemas.

Why: logic-v1 instantiates ~40 schemas with one generic proof each and shares every schema
between train and test, so it measures recall. Here random sequents (hypotheses ⊢ goal) of
intuitionistic propositional and first-order logic with equality are generated and kept only
when a bounded proof search finds a proof; difficulty is the size of the shortest proof found.
Each theorem is then written the way people write them: named hypotheses or implications,
notation (`∧ ∨ ¬ ↔ ∃ =`) or the prelude's names (`And p q`), varied binder names and order,
and distractor hypotheses. Reference proofs come in tactic style and term style (both checked
by the real Lean in tests/test_logic_v2.py).

Splits: `train` and `test-iid` share the size range SIZE_IID and are disjoint up to renaming
(the split is a hash of the canonical core sequent); `test-ood` has larger proofs (SIZE_OOD)
and proof shapes (the rule skeleton) that no train theorem has. Deterministic in (seed, VERSION).

Run `python -m data.logic_v2` to rewrite data/logic/v2.jsonl.
"""
from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from typing import Optional, Sequence

VERSION = "logic-v2"
SIZE_IID = (3, 9)  # proof sizes of train and test-iid
SIZE_OOD = (10, 22)  # proof sizes of test-ood
MAX_SEARCH = 22  # iterative deepening stops here
SPLITS = ("train", "test-iid", "test-ood")

# ---- formulas ------------------------------------------------------------------------------
# ("atom", p) ("false",) ("not", A) ("and"|"or"|"imp"|"iff", A, B) ("forall"|"exists", x, A)
# ("pred", P, (t, ...)) ("eq", s, t); a term is a name (str) or ("fn", f, term).
F = tuple

BINARY = ("and", "or", "imp", "iff")


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


# ---- rendering -----------------------------------------------------------------------------

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


# ---- proofs --------------------------------------------------------------------------------
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


# ---- proof search --------------------------------------------------------------------------

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


# ---- proof text ----------------------------------------------------------------------------

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


# ---- random sequents -----------------------------------------------------------------------

_PROP_NAMES = (("p", "q", "r", "s"), ("a", "b", "c", "d"), ("A", "B", "C", "D"), ("P", "Q", "R", "S"))
_PRED_NAMES = (("P", "Q", "R"), ("p", "q", "r"), ("A", "B", "C"))
_TYPE_NAMES = ("α", "β", "U", "D")
_CONST_NAMES = (("a", "b", "c"), ("x", "y", "z"), ("u", "v", "w"))
_HYP_STYLES = ("h", "H", "hyp", "named")


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


def _subformulas(f, out: list) -> list:
    if isinstance(f, str) or f[0] in ("forall", "exists"):
        if not isinstance(f, str):
            out.append(f)
        return out
    out.append(f)
    if f[0] in ("and", "or", "imp", "iff", "not"):
        for a in f[1:]:
            _subformulas(a, out)
    return out


def _closed(f) -> bool:
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
        _subformulas(f, pieces)
    pieces = [f for f in pieces if _closed(f)]
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


# ---- canonical form and splits -------------------------------------------------------------

def _rename(f, mapping: dict):
    if isinstance(f, str):
        return mapping.get(f, f)
    kind = f[0]
    if kind == "atom":
        return ("atom", mapping.get(f[1], f[1]))
    if kind == "fn":
        return ("fn", mapping.get(f[1], f[1]), _rename(f[2], mapping))
    if kind in ("forall", "exists"):
        return (kind, mapping.get(f[1], f[1]), _rename(f[2], mapping))
    if kind == "pred":
        return ("pred", mapping.get(f[1], f[1]), tuple(_rename(a, mapping) for a in f[2]))
    if kind == "eq":
        return ("eq", _rename(f[1], mapping), _rename(f[2], mapping))
    if kind == "false":
        return f
    return (kind, *(_rename(a, mapping) for a in f[1:]))


def _shape(f) -> str:
    """A formula's text with every name erased (the renaming-invariant part)."""
    return json.dumps(_rename(f, _Blank()))


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
    prem = sorted(json.dumps(_rename(f, mapping)) for f in prem)
    return json.dumps([json.dumps(_rename(goal, mapping)), prem])


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---- from a sequent to a theorem -----------------------------------------------------------

def _used_hyps(p, out: list) -> list:
    kind = p[0]
    if kind == "hyp":
        out.append(p[1])
    elif kind == "elim":
        out.append(p[1][1])
        for q in p[2]:
            _used_hyps(q, out)
    elif kind in ("orelim", "exelim"):
        out.append(p[1])
    for q in p[1:]:
        if isinstance(q, tuple) and q and q[0] in _NODE:
            _used_hyps(q, out)
    return out


def _flatten_goal(goal):
    """A → B → G as ([A, B], G): implications in the goal count as premises of the core."""
    prem = []
    while goal[0] == "imp":
        prem.append(goal[1])
        goal = goal[2]
    return prem, goal


@dataclass
class Theorem:
    name: str
    statement: str
    term: str
    tactic: str
    size: int
    skeleton: str
    key: str
    kind: str  # prop | fo | eq


def build_theorem(rng: random.Random, limit: int = MAX_SEARCH, deep: bool = False) -> Optional[Theorem]:
    """One random theorem, or None when the search finds no proof. `deep` draws more
    premises and a bigger goal (the source of test-ood's longer proofs)."""
    w, prem, goal = random_sequent(rng, deep)
    ctx = [(f"h{i}", f) for i, f in enumerate(prem)]
    terms = list(w.consts)
    found = Search(terms, max_nodes=30_000).shortest(ctx, goal, limit)
    if found is None:
        return None
    proof, size = found
    used = [h for h in _used_hyps(proof, []) if h.startswith("h") and h[1:].isdigit() and int(h[1:]) < len(prem)]
    core = [f for i, f in enumerate(prem) if f"h{i}" in used]
    # Surface: some core premises move into the goal as implications; distractors join.
    rng.shuffle(core)
    n_goal = rng.randint(0, len(core))
    named, in_goal = core[n_goal:], core[:n_goal]
    for f in reversed(in_goal):
        goal = ("imp", f, goal)
    distractors = []
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        d = w.formula(rng.randint(0, 2))
        if _closed(d) and d not in named and d != goal:
            distractors.append(d)
    hyps = named + distractors
    rng.shuffle(hyps)
    flat_prem, flat_goal = _flatten_goal(goal)
    key = canonical(named + flat_prem, flat_goal)
    # Names: atoms, predicates, constants, bound variables, hypotheses.
    mapping = _surface_names(rng, w, hyps + [goal])
    hyps = [_rename(f, mapping) for f in hyps]
    goal = _rename(goal, mapping)
    hyp_names = _hyp_names(rng, len(hyps))
    ctx = list(zip(hyp_names, hyps))
    present: list = []
    for f in hyps + [goal]:
        names_in(f, present)
    terms = [mapping[c] for c in w.consts if mapping.get(c) in present]
    search = Search(terms, max_nodes=60_000)
    found = search.shortest(ctx, goal, limit)
    if found is None:
        return None
    proof, size = found
    binders, type_name = _binders(rng, w, mapping, hyps + [goal])
    style = Style(notation=rng.random() < 0.8, type_name=type_name, annotate=rng.random() < 0.15)
    hyp_text = " ".join(f"({h} : {render(f, style)})" for h, f in ctx)
    body = " ".join(x for x in (binders, hyp_text) if x)
    statement_body = f"{body} : {render(goal, style)}".strip()
    kind = _kind(hyps + [goal])
    name = f"logic2_{kind}_s{size}_{_digest(statement_body)[:10]}"
    return Theorem(name=name, statement=f"theorem {name} {statement_body} :=", term=term_proof(proof),
                   tactic=tactic_proof(proof, rng), size=size, skeleton=skeleton(proof), key=key, kind=kind)


def _kind(formulas) -> str:
    """eq if an equation occurs, fo if a predicate or quantifier does, else prop."""
    text = json.dumps(formulas)
    if '"eq"' in text:
        return "eq"
    return "fo" if any(k in text for k in ('"pred"', '"forall"', '"exists"')) else "prop"


def _surface_names(rng, w: World, formulas) -> dict:
    names: list = []
    for f in formulas:
        names_in(f, names)
    mapping: dict = {}
    props = list(rng.choice(_PROP_NAMES))
    preds = list(rng.choice(_PRED_NAMES))
    if w.fo and set(props) & set(preds):
        props = [p for p in ("p", "q", "r", "s", "t") if p not in preds][:4] if preds[0].isupper() else \
            ["A", "B", "C", "D"]
    consts = list(rng.choice(_CONST_NAMES))
    bvars = [v for v in ("x", "y", "z", "w", "u", "v") if v not in consts]
    used = set()
    for n in names:
        if n in w.atoms:
            pool = props
        elif n in w.preds:
            pool = preds
        elif n in w.consts:
            pool = consts
        elif n == w.fn:
            pool = ["f", "g"]
        else:
            pool = bvars
        pick = next((x for x in pool if x not in used), None)
        if pick is None:
            pick = f"{pool[0]}{len(used)}"
        used.add(pick)
        mapping[n] = pick
    return mapping  # every name distinct, so no bound variable can capture another


def _hyp_names(rng, n: int) -> list[str]:
    style = rng.choice(_HYP_STYLES)
    if style == "h":
        return [f"h{i + 1}" if n > 1 else "h" for i in range(n)]
    if style == "H":
        return [f"H{i + 1}" for i in range(n)]
    if style == "hyp":
        return ["h₁", "h₂", "h₃", "h₄", "h₅", "h₆"][:n] if n <= 6 else [f"h{i}" for i in range(n)]
    return [f"h{c}" for c in "abcdefgh"[:n]]


def _binders(rng, w: World, mapping: dict, formulas) -> str:
    present: list = []
    for f in formulas:
        names_in(f, present)
    atoms = [mapping[a] for a in w.atoms if mapping.get(a) in present]
    preds = [mapping[p] for p in w.preds if mapping.get(p) in present]
    consts = [mapping[c] for c in w.consts if mapping.get(c) in present]
    fn = mapping.get(w.fn) if w.fn and mapping.get(w.fn) in present else None
    rng.shuffle(atoms)
    parts = []
    ty = "α"
    if preds or consts or fn or w.fo:
        ty = rng.choice(_TYPE_NAMES)
        groups = []
        if consts:
            groups.append(f"({' '.join(consts)} : {ty})")
        if fn:
            groups.append(f"({fn} : {ty} → {ty})")
        if preds:
            groups.append(f"({' '.join(preds)} : {ty} → Prop)")
        rng.shuffle(groups)
        parts.append(f"{{{ty} : Type}}" if rng.random() < 0.3 else f"({ty} : Type)")
        parts += groups
    if atoms:
        if rng.random() < 0.3 and len(atoms) > 1:
            parts += [f"({a} : Prop)" for a in atoms]
        else:
            parts.append(f"({' '.join(atoms)} : Prop)")
    if parts and parts[0].startswith(("(α", "(β", "(U", "(D", "{")) and atoms and rng.random() < 0.3:
        parts = parts[-1:] + parts[:-1]
    return " ".join(parts), ty


# ---- the data set --------------------------------------------------------------------------

def generate(n_train: int, n_iid: int, n_ood: int, seed: int = 0, max_candidates: int = 200_000) -> list[dict]:
    """Rows for the three splits. Deterministic in (arguments, VERSION)."""
    rng = random.Random(f"{VERSION}:{seed}")
    by_key: dict = {}
    iid: list[Theorem] = []
    ood: list[Theorem] = []
    for i in range(max_candidates):
        need_iid = len(iid) < (n_train + n_iid) * 5 // 4
        need_ood = len(ood) < n_ood * 3 // 2
        if not need_iid and not need_ood:
            break
        deep = need_ood and (not need_iid or i % 2 == 1)
        th = build_theorem(rng, deep=deep)
        if th is None or th.key in by_key:
            continue
        by_key[th.key] = th
        if SIZE_IID[0] <= th.size <= SIZE_IID[1]:
            iid.append(th)
        elif SIZE_OOD[0] <= th.size <= SIZE_OOD[1]:
            ood.append(th)
    train, test_iid = [], []
    for th in iid:
        x = int(_digest(VERSION + "\n" + th.key)[:8], 16) / 2**32
        (test_iid if x < n_iid / (n_train + n_iid) else train).append(th)
    train, test_iid = _balanced(train, n_train), _balanced(test_iid, n_iid)
    train_shapes = {th.skeleton for th in train}
    test_ood = _balanced([th for th in ood if th.skeleton not in train_shapes], n_ood)
    rows = []
    for split, group in (("train", train), ("test-iid", test_iid), ("test-ood", test_ood)):
        for th in group:
            rows.append(_row(th, split, seed))
    return rows


def _balanced(group: list, n: int) -> list:
    """Up to n theorems, round-robin over kinds (prop / fo / eq) so each kind is present."""
    kinds: dict = {}
    for th in group:
        kinds.setdefault(th.kind, []).append(th)
    out = []
    while len(out) < n and any(kinds.values()):
        for k in ("prop", "fo", "eq"):
            if kinds.get(k) and len(out) < n:
                out.append(kinds[k].pop(0))
    return out


def _row(th: Theorem, split: str, seed: int) -> dict:
    return {
        "name": th.name,
        "split": split,
        "level": th.size,
        "difficulty": th.size,
        "kind": th.kind,
        "env": "logic",
        "informal_prefix": "",
        "formal_statement": th.statement,
        "proof": " " + th.term,
        "proof_tactic": " " + th.tactic,
        "skeleton": th.skeleton,
        "core": _digest(th.key)[:16],  # the core sequent up to renaming: equal across splits never
        "version": VERSION,
        "source": f"generated by data/logic_v2.py ({VERSION}, seed {seed})",
    }


DEFAULT_SET = {"n_train": 400, "n_iid": 100, "n_ood": 100, "seed": 0}


def default_rows() -> list[dict]:
    return generate(**DEFAULT_SET)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Regenerate data/logic/v2.jsonl: `python -m data.logic_v2 [OUT]`."""
    from data.logic import regenerate

    return regenerate(default_rows, "v2.jsonl", argv)


if __name__ == "__main__":
    raise SystemExit(main())
