"""The logic benchmark: seeded, versioned theorems of propositional and first-order logic over
the project's logic prelude (lean_env/running/prelude/Logic.lean), each with a reference term proof.

Why: MiniF2F needs Mathlib, which these machines cannot have. The logic prelude runs on the
bundled Lean everywhere, so this benchmark gives real-kernel rewards for tests, CI and the CPU
demo of the RL loop. Every theorem comes from a schema whose proof term is generic in its
meta-variables, so the reference proof is right by construction (and CI checks it in Lean).

Levels: 1 one schema over atoms (mostly one connective); 2 nested: two-or-more-connective
schemas, and any propositional schema with compound formulas in place of atoms; 3 quantifiers
(forall/exists over a type) and longer implication chains.

Statements use the prelude's names (`And a b`, `Or`, `Not`, `Iff`, `Exists (fun x => ..)`):
the bundled Lean has no parser descriptors, so `∧`-style notation cannot be declared
(see lean_env/running/prelude). `→`, `∀` and `fun` are built in. Term mode: statements end with `:=`.

Atoms are renamed in order of first appearance (p q r ..., P Q R ...), so two theorems that
differ only by renaming are the same row; the split is a hash of that canonical text, so a
theorem and its renamings can never land in different splits.
"""
from __future__ import annotations

import hashlib
import re
import random
from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Sequence

VERSION = "logic-v1"
LEVELS = (1, 2, 3)
SPLIT_FRACTIONS = (("train", 0.70), ("valid", 0.15), ("test", 0.15))

# Formulas are tuples: ("atom", name) ("app", pred, vars...) ("not", A) ("and"|"or"|"imp"|"iff", A, B)
# ("forall"|"exists", var, A) ("true",) ("false",)
F = tuple


def atom(n: str) -> F:
    return ("atom", n)


def app(p: str, *xs: str) -> F:
    return ("app", p, *xs)


def Not(a: F) -> F:
    return ("not", a)


def And(a: F, b: F) -> F:
    return ("and", a, b)


def Or(a: F, b: F) -> F:
    return ("or", a, b)


def Imp(a: F, b: F) -> F:
    return ("imp", a, b)


def Iff(a: F, b: F) -> F:
    return ("iff", a, b)


def All(x: str, a: F) -> F:
    return ("forall", x, a)


def Ex(x: str, a: F) -> F:
    return ("exists", x, a)


_HEAD = {"not": "Not", "and": "And", "or": "Or", "iff": "Iff"}


def render(f: F, arg: bool = False) -> str:
    """Lean text of a formula; `arg` is True in argument position (compound terms get parens)."""
    kind = f[0]
    if kind == "atom":
        return f[1]
    if kind == "true":
        return "True"
    if kind == "false":
        return "False"
    if kind == "app":
        text = " ".join(f[1:])
    elif kind in _HEAD:
        text = _HEAD[kind] + " " + " ".join(render(a, True) for a in f[1:])
    elif kind == "imp":
        left = render(f[1], f[1][0] in ("imp", "forall"))
        text = f"{left} → {render(f[2])}"
    elif kind == "forall":
        text = f"∀ {f[1]}, {render(f[2])}"
    elif kind == "exists":
        text = f"Exists (fun {f[1]} => {render(f[2])})"
    else:
        raise ValueError(f"unknown formula {f!r}")
    return f"({text})" if arg else text


@dataclass(frozen=True)
class Schema:
    """A theorem shape: `build(metas)` gives the statement, `proof` is generic in the metas."""

    name: str
    level: int
    arity: int  # number of meta-variables
    build: Callable[..., F]
    proof: str
    first_order: bool = False  # metas are bodies in the bound variable, not closed formulas


def _s(name: str, level: int, arity: int, build, proof: str, first_order: bool = False) -> Schema:
    return Schema(name, level, arity, build, proof, first_order)


# Propositional schemas. Level 1: one rule of natural deduction each.
PROP_SCHEMAS: tuple[Schema, ...] = (
    _s("and_comm", 1, 2, lambda a, b: Imp(And(a, b), And(b, a)), "fun h => ⟨h.2, h.1⟩"),
    _s("and_left", 1, 2, lambda a, b: Imp(And(a, b), a), "fun h => h.1"),
    _s("and_right", 1, 2, lambda a, b: Imp(And(a, b), b), "fun h => h.2"),
    _s("and_intro", 1, 2, lambda a, b: Imp(a, Imp(b, And(a, b))), "fun ha hb => ⟨ha, hb⟩"),
    _s("or_inl", 1, 2, lambda a, b: Imp(a, Or(a, b)), "fun h => Or.inl h"),
    _s("or_inr", 1, 2, lambda a, b: Imp(b, Or(a, b)), "fun h => Or.inr h"),
    _s("or_comm", 1, 2, lambda a, b: Imp(Or(a, b), Or(b, a)),
       "fun h => Or.elim h (fun ha => Or.inr ha) (fun hb => Or.inl hb)"),
    _s("imp_self", 1, 1, lambda a: Imp(a, a), "fun h => h"),
    _s("modus_ponens", 1, 2, lambda a, b: Imp(Imp(a, b), Imp(a, b)), "fun f ha => f ha"),
    _s("imp_trans", 1, 3, lambda a, b, c: Imp(Imp(a, b), Imp(Imp(b, c), Imp(a, c))), "fun f g ha => g (f ha)"),
    _s("not_not_intro", 1, 1, lambda a: Imp(a, Not(Not(a))), "fun ha hna => hna ha"),
    _s("absurd", 1, 2, lambda a, b: Imp(a, Imp(Not(a), b)), "fun ha hna => absurd ha hna"),
    _s("iff_refl", 1, 1, lambda a: Iff(a, a), "⟨fun h => h, fun h => h⟩"),
    _s("iff_symm", 1, 2, lambda a, b: Imp(Iff(a, b), Iff(b, a)), "fun h => ⟨h.2, h.1⟩"),
    _s("false_elim", 1, 1, lambda a: Imp(("false",), a), "fun h => False.elim h"),
    _s("true_intro", 1, 1, lambda a: Imp(a, ("true",)), "fun _ => trivial"),
    # Level 2: nested connectives.
    _s("and_assoc", 2, 3, lambda a, b, c: Imp(And(And(a, b), c), And(a, And(b, c))),
       "fun h => ⟨h.1.1, ⟨h.1.2, h.2⟩⟩"),
    _s("or_assoc", 2, 3, lambda a, b, c: Imp(Or(Or(a, b), c), Or(a, Or(b, c))),
       "fun h => Or.elim h (fun hab => Or.elim hab (fun ha => Or.inl ha) (fun hb => Or.inr (Or.inl hb))) "
       "(fun hc => Or.inr (Or.inr hc))"),
    _s("and_or_distrib", 2, 3, lambda a, b, c: Imp(And(a, Or(b, c)), Or(And(a, b), And(a, c))),
       "fun h => Or.elim h.2 (fun hb => Or.inl ⟨h.1, hb⟩) (fun hc => Or.inr ⟨h.1, hc⟩)"),
    _s("curry", 2, 3, lambda a, b, c: Imp(Imp(And(a, b), c), Imp(a, Imp(b, c))), "fun f ha hb => f ⟨ha, hb⟩"),
    _s("uncurry", 2, 3, lambda a, b, c: Imp(Imp(a, Imp(b, c)), Imp(And(a, b), c)), "fun f h => f h.1 h.2"),
    _s("contrapositive", 2, 2, lambda a, b: Imp(Imp(a, b), Imp(Not(b), Not(a))), "fun f hnb ha => hnb (f ha)"),
    _s("not_or", 2, 2, lambda a, b: Imp(Not(Or(a, b)), And(Not(a), Not(b))),
       "fun h => ⟨fun ha => h (Or.inl ha), fun hb => h (Or.inr hb)⟩"),
    _s("not_or_rev", 2, 2, lambda a, b: Imp(And(Not(a), Not(b)), Not(Or(a, b))),
       "fun h hab => Or.elim hab h.1 h.2"),
    _s("not_and_of_or_not", 2, 2, lambda a, b: Imp(Or(Not(a), Not(b)), Not(And(a, b))),
       "fun h hab => Or.elim h (fun hna => hna hab.1) (fun hnb => hnb hab.2)"),
    _s("iff_intro", 2, 2, lambda a, b: Imp(Imp(a, b), Imp(Imp(b, a), Iff(a, b))), "fun f g => ⟨f, g⟩"),
    _s("imp_and", 2, 3, lambda a, b, c: Imp(Imp(a, And(b, c)), And(Imp(a, b), Imp(a, c))),
       "fun f => ⟨fun ha => (f ha).1, fun ha => (f ha).2⟩"),
    _s("or_imp", 2, 3, lambda a, b, c: Imp(Imp(Or(a, b), c), And(Imp(a, c), Imp(b, c))),
       "fun f => ⟨fun ha => f (Or.inl ha), fun hb => f (Or.inr hb)⟩"),
    _s("and_comm_iff", 2, 2, lambda a, b: Iff(And(a, b), And(b, a)),
       "⟨fun h => ⟨h.2, h.1⟩, fun h => ⟨h.2, h.1⟩⟩"),
    _s("or_elim", 2, 3, lambda a, b, c: Imp(Imp(a, c), Imp(Imp(b, c), Imp(Or(a, b), c))),
       "fun f g h => Or.elim h f g"),
    _s("not_not_not", 2, 1, lambda a: Imp(Not(Not(Not(a))), Not(a)), "fun h ha => h (fun hna => hna ha)"),
    _s("iff_mp", 2, 2, lambda a, b: Imp(Iff(a, b), Imp(a, b)), "fun h ha => h.1 ha"),
)

# First-order schemas (level 3): metas are bodies in the bound variable(s).
FO_SCHEMAS: tuple[Schema, ...] = (
    _s("forall_and", 3, 2, lambda P, Q: Imp(All("x", And(P("x"), Q("x"))), And(All("x", P("x")), All("x", Q("x")))),
       "fun h => ⟨fun x => (h x).1, fun x => (h x).2⟩", True),
    _s("forall_and_rev", 3, 2, lambda P, Q: Imp(And(All("x", P("x")), All("x", Q("x"))), All("x", And(P("x"), Q("x")))),
       "fun h x => ⟨h.1 x, h.2 x⟩", True),
    _s("exists_or", 3, 2, lambda P, Q: Imp(Ex("x", Or(P("x"), Q("x"))), Or(Ex("x", P("x")), Ex("x", Q("x")))),
       "fun h => Exists.elim h (fun w hw => Or.elim hw (fun hp => Or.inl ⟨w, hp⟩) (fun hq => Or.inr ⟨w, hq⟩))", True),
    _s("exists_and_left", 3, 2, lambda P, Q: Imp(Ex("x", And(P("x"), Q("x"))), Ex("x", P("x"))),
       "fun h => Exists.elim h (fun w hw => ⟨w, hw.1⟩)", True),
    _s("not_exists", 3, 1, lambda P: Imp(Not(Ex("x", P("x"))), All("x", Not(P("x")))),
       "fun h x hp => h ⟨x, hp⟩", True),
    _s("forall_not", 3, 1, lambda P: Imp(All("x", Not(P("x"))), Not(Ex("x", P("x")))),
       "fun h he => Exists.elim he (fun w hw => h w hw)", True),
    _s("exists_not", 3, 1, lambda P: Imp(Ex("x", Not(P("x"))), Not(All("x", P("x")))),
       "fun h ha => Exists.elim h (fun w hw => hw (ha w))", True),
    _s("forall_imp_trans", 3, 3,
       lambda P, Q, R: Imp(All("x", Imp(P("x"), Q("x"))), Imp(All("x", Imp(Q("x"), R("x"))), All("x", Imp(P("x"), R("x"))))),
       "fun f g x hp => g x (f x hp)", True),
    _s("forall_elim", 3, 1, lambda P: Imp(All("x", P("x")), P("a")), "fun h => h a", True),
    _s("exists_intro", 3, 1, lambda P: Imp(P("a"), Ex("x", P("x"))), "fun h => ⟨a, h⟩", True),
    _s("forall_exists", 3, 1, lambda P: Imp(All("x", P("x")), Ex("x", P("x"))), "fun h => ⟨a, h a⟩", True),
    _s("exists_imp", 3, 2, lambda P, Q: Imp(All("x", Imp(P("x"), Q("x"))), Imp(Ex("x", P("x")), Ex("x", Q("x")))),
       "fun f h => Exists.elim h (fun w hw => ⟨w, f w hw⟩)", True),
    _s("forall_swap", 3, 0, lambda: Imp(All("x", All("y", app("S", "x", "y"))), All("y", All("x", app("S", "x", "y")))),
       "fun h y x => h x y", True),
    _s("exists_swap", 3, 0, lambda: Imp(Ex("x", Ex("y", app("S", "x", "y"))), Ex("y", Ex("x", app("S", "x", "y")))),
       "fun h => Exists.elim h (fun x hx => Exists.elim hx (fun y hy => ⟨y, ⟨x, hy⟩⟩))", True),
    _s("exists_forall_swap", 3, 0,
       lambda: Imp(Ex("x", All("y", app("S", "x", "y"))), All("y", Ex("x", app("S", "x", "y")))),
       "fun h y => Exists.elim h (fun x hx => ⟨x, hx y⟩)", True),
)

SCHEMAS: dict[str, Schema] = {s.name: s for s in PROP_SCHEMAS + FO_SCHEMAS}


# ---- random instantiation -------------------------------------------------------------------

def _random_formula(rng: random.Random, depth: int, pool: Sequence[str]) -> F:
    if depth == 0:
        return atom(rng.choice(pool))
    kind = rng.choice(("and", "or", "imp", "iff", "not"))
    if kind == "not":
        return Not(_random_formula(rng, depth - 1, pool))
    left = _random_formula(rng, rng.randint(0, depth - 1), pool)
    right = left
    while right == left:  # `And p p`-style formulas teach nothing
        right = _random_formula(rng, rng.randint(0, depth - 1), pool)
    return (kind, left, right)


def _random_body(rng: random.Random, preds: Sequence[str], compound: bool) -> Callable[[str], F]:
    """A body in one variable: `P x`, or (compound) a connective over `P x`, `Q x` or a Prop atom."""
    p = rng.choice(preds)
    if not compound:
        return lambda x: app(p, x)
    q = rng.choice([c for c in preds if c != p])
    kind = rng.choice(("and", "or", "imp", "not", "prop"))
    if kind == "not":
        return lambda x: Not(app(p, x))
    if kind == "prop":
        return lambda x: Imp(atom("p"), app(p, x))
    return lambda x: (kind, app(p, x), app(q, x))


def _chain(rng: random.Random, n: int, compound: bool) -> tuple[F, str]:
    """(A1 → A2) → ... → (A(n-1) → An) → A1 → An, hypotheses in shuffled order."""
    pool = [f"c{i}" for i in range(n)]
    links = [(_random_formula(rng, 1, pool) if compound and rng.random() < 0.4 else atom(pool[i])) for i in range(n)]
    hyps = [Imp(links[i], links[i + 1]) for i in range(n - 1)]
    order = list(range(n - 1))
    rng.shuffle(order)
    stmt: F = Imp(links[0], links[-1])
    for i in reversed(order):
        stmt = Imp(hyps[i], stmt)
    names = {i: f"h{k + 1}" for k, i in enumerate(order)}
    body = "ha"
    for i in range(n - 1):
        body = f"{names[i]} ({body})" if " " in body else f"{names[i]} {body}"
    return stmt, "fun " + " ".join(names[i] for i in order) + f" ha => {body}"


# ---- canonical names, binders, statement ----------------------------------------------------

_PROPS = "p q r s t u v w".split()
_PREDS = "P Q R T U V".split()


def canonicalize(f: F) -> F:
    """Rename Prop atoms and predicates in order of first appearance (left to right)."""
    props: dict[str, str] = {}
    preds: dict[str, str] = {}

    def go(g: F) -> F:
        kind = g[0]
        if kind == "atom":
            props.setdefault(g[1], _PROPS[len(props)])
            return ("atom", props[g[1]])
        if kind == "app":
            if len(g) == 2 + 1 and g[1] != "S":
                preds.setdefault(g[1], _PREDS[len(preds)])
                return ("app", preds[g[1]], *g[2:])
            return g
        if kind in ("forall", "exists"):
            return (kind, g[1], go(g[2]))
        return (kind, *(go(a) for a in g[1:]))

    return go(f)


def _collect(f: F, kind: str, out: list) -> list:
    if f[0] == kind:
        key = f[1] if kind == "atom" else (f[1], len(f) - 2)
        if key not in out:
            out.append(key)
    for a in f[1:]:
        if isinstance(a, tuple):
            _collect(a, kind, out)
    return out


def binders(f: F, element: bool = False) -> str:
    """Lean binders for the free names of f; `element` adds `(a : α)` (a proof or the
    statement uses an inhabitant of α)."""
    parts = []
    preds = _collect(f, "app", [])
    if preds:
        parts.append("(α : Type)")
        unary = [p for p, n in preds if n == 1]
        if unary:
            parts.append(f"({' '.join(unary)} : α → Prop)")
        for p, n in preds:
            if n == 2:
                parts.append(f"({p} : α → α → Prop)")
        if element:
            parts.append("(a : α)")
    props = _collect(f, "atom", [])
    if props:
        parts.append(f"({' '.join(props)} : Prop)")
    return " ".join(parts)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_of(body: str) -> str:
    """Deterministic split from the canonical statement text (no name)."""
    x = int(_digest(VERSION + "\n" + body)[:8], 16) / 2**32
    acc = 0.0
    for split, frac in SPLIT_FRACTIONS:
        acc += frac
        if x < acc:
            return split
    return SPLIT_FRACTIONS[-1][0]


def make_row(schema_name: str, level: int, formula: F, proof: str) -> dict:
    f = canonicalize(formula)
    bs = binders(f, element=re.search(r"(?<![\w.'])a(?![\w'])", proof) is not None)
    body = f"{bs} : {render(f)}" if bs else f": {render(f)}"
    name = f"logic_l{level}_{schema_name}_{_digest(body)[:10]}"
    return {
        "name": name,
        "split": split_of(body),
        "level": level,
        "schema": schema_name,
        "env": "logic",
        "informal_prefix": "",
        "formal_statement": f"theorem {name} {body} :=",
        "proof": " " + proof,
        "version": VERSION,
        "source": f"generated by data/logic.py ({VERSION})",
    }


def _instance(rng: random.Random, level: int) -> tuple[str, F, str]:
    if level == 1:
        s = rng.choice([s for s in PROP_SCHEMAS if s.level == 1])
        return s.name, s.build(*(atom(f"m{i}") for i in range(s.arity))), s.proof
    if level == 2:
        s = rng.choice(PROP_SCHEMAS)
        pool = [f"m{i}" for i in range(4)]
        metas = [_random_formula(rng, rng.randint(0 if s.level == 2 else 1, 2), pool) for _ in range(s.arity)]
        if s.level == 1 and all(m[0] == "atom" for m in metas):
            metas[0] = _random_formula(rng, 1, pool)
        return s.name, s.build(*metas), s.proof
    if rng.random() < 0.25:
        n = rng.randint(3, 6)
        stmt, proof = _chain(rng, n, compound=rng.random() < 0.5)
        return f"chain{n}", stmt, proof
    s = rng.choice(FO_SCHEMAS)
    preds = [f"k{i}" for i in range(4)]
    compound = rng.random() < 0.5
    bodies = [_random_body(rng, preds, compound) for _ in range(s.arity)]
    return s.name, s.build(*bodies), s.proof


def generate(n: int, seed: int = 0, levels: Iterable[int] = LEVELS, max_tries: int = 200) -> list[dict]:
    """Up to n distinct theorems, spread evenly over `levels` (each new row goes to the level
    with the fewest so far). Deterministic in (n, seed, levels, VERSION). A level that runs out
    of new theorems (level 1 has 16) is dropped after `max_tries` misses in a row, so fewer
    than n rows come back only when every level is exhausted."""
    levels = list(levels)
    bad = [lv for lv in levels if lv not in LEVELS]
    if bad or not levels:
        raise ValueError(f"levels must be among {LEVELS}; got {levels}")
    rng = random.Random(f"{VERSION}:{seed}")
    rows: list[dict] = []
    seen: set[str] = set()
    misses = {lv: 0 for lv in levels}
    count = {lv: 0 for lv in levels}
    while len(rows) < n:
        open_levels = [lv for lv in levels if misses[lv] < max_tries]
        if not open_levels:
            break
        level = min(open_levels, key=lambda lv: count[lv])
        schema, formula, proof = _instance(rng, level)
        row = make_row(schema, level, formula, proof)
        if row["name"] in seen:
            misses[level] += 1
            continue
        misses[level] = 0
        count[level] += 1
        seen.add(row["name"])
        rows.append(row)
    return rows


# The shipped default set: data/logic/v1.jsonl = generate(**DEFAULT_SET).
DEFAULT_SET = {"n": 300, "seed": 0, "levels": LEVELS}


def default_rows() -> list[dict]:
    return generate(**DEFAULT_SET)


def write_jsonl(rows: Iterable[dict], path) -> None:
    import json

    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def regenerate(rows: Callable[[], list[dict]], filename: str, argv: Optional[Sequence[str]] = None) -> int:
    """Write a generator's default set to data/logic/FILENAME, or to the path given as argv[0]."""
    import sys
    from pathlib import Path

    args = list(sys.argv[1:] if argv is None else argv)
    out = Path(args[0]) if args else Path(__file__).parent / "logic" / filename
    out.parent.mkdir(parents=True, exist_ok=True)
    made = rows()
    write_jsonl(made, out)
    print(f"wrote {len(made)} rows to {out}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Regenerate data/logic/v1.jsonl: `python -m data.logic [OUT]`."""
    return regenerate(default_rows, "v1.jsonl", argv)


if __name__ == "__main__":
    raise SystemExit(main())
