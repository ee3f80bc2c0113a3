"""From a provable sequent to a theorem: surface names, binders, distractors, the statement and
its reference proofs (why: one core sequent becomes many phrasings, and the core keys the split)."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Optional

from data.logic_v2.formulas import canonical, closed, digest, names_in, rename
from data.logic_v2.proofs import MAX_SEARCH, Search, skeleton, used_hyps
from data.logic_v2.render import Style, render, tactic_proof, term_proof
from data.logic_v2.sequents import World, random_sequent

_PROP_NAMES = (("p", "q", "r", "s"), ("a", "b", "c", "d"), ("A", "B", "C", "D"), ("P", "Q", "R", "S"))
_PRED_NAMES = (("P", "Q", "R"), ("p", "q", "r"), ("A", "B", "C"))
_TYPE_NAMES = ("α", "β", "U", "D")
_CONST_NAMES = (("a", "b", "c"), ("x", "y", "z"), ("u", "v", "w"))
_HYP_STYLES = ("h", "H", "hyp", "named")
# names="wide" (the train set at scale, data.logic_v2.train_set) adds what people write: words for
# propositions, predicates and constants, more type names, and hypotheses named after what they
# say (`h_wet_of_rain`, `hpq`, `hnq`). The shipped benchmark keeps the plain names above.
_WORD_PROPS = (("rain", "wet", "cold", "windy"), ("sunny", "warm", "dry", "calm"), ("tired", "hungry", "happy", "busy"),
               ("p₁", "p₂", "p₃", "p₄"), ("φ", "ψ", "χ", "θ"))
_WORD_PREDS = (("Human", "Mortal", "Greek"), ("Even", "Odd", "Big"), ("Red", "Round", "Sweet"), ("P₁", "P₂", "P₃"))
_WORD_CONSTS = (("socrates", "plato", "zeno"), ("alice", "bob", "carol"), ("n", "m", "k"), ("a₁", "a₂", "a₃"))
_WIDE_TYPES = ("Person", "ι", "T", "Obj", "σ")
NAMINGS = ("plain", "wide")



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


def build_theorem(rng: random.Random, limit: int = MAX_SEARCH, deep: bool = False,
                  names: str = "plain") -> Optional[Theorem]:
    """One random theorem, or None when the search finds no proof. `deep` draws more
    premises and a bigger goal (the source of test-ood's longer proofs); `names` is "plain"
    (the shipped benchmark's) or "wide" (see _WORD_PROPS)."""
    if names not in NAMINGS:
        raise ValueError(f"names must be one of {', '.join(NAMINGS)}, not {names!r}")
    wide = names == "wide"
    w, prem, goal = random_sequent(rng, deep)
    ctx = [(f"h{i}", f) for i, f in enumerate(prem)]
    terms = list(w.consts)
    found = Search(terms, max_nodes=30_000).shortest(ctx, goal, limit)
    if found is None:
        return None
    proof, size = found
    used = [h for h in used_hyps(proof, []) if h.startswith("h") and h[1:].isdigit() and int(h[1:]) < len(prem)]
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
        if closed(d) and d not in named and d != goal:
            distractors.append(d)
    hyps = named + distractors
    rng.shuffle(hyps)
    flat_prem, flat_goal = _flatten_goal(goal)
    key = canonical(named + flat_prem, flat_goal)
    # Names: atoms, predicates, constants, bound variables, hypotheses.
    mapping = _surface_names(rng, w, hyps + [goal], wide)
    hyps = [rename(f, mapping) for f in hyps]
    goal = rename(goal, mapping)
    hyp_names = _hyp_names(rng, len(hyps)) if not wide else _wide_hyp_names(rng, hyps, mapping)
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
    binders, type_name = _binders(rng, w, mapping, hyps + [goal], wide)
    style = Style(notation=rng.random() < 0.8, type_name=type_name, annotate=rng.random() < 0.15)
    hyp_text = " ".join(f"({h} : {render(f, style)})" for h, f in ctx)
    body = " ".join(x for x in (binders, hyp_text) if x)
    statement_body = f"{body} : {render(goal, style)}".strip()
    kind = _kind(hyps + [goal])
    name = f"logic2_{kind}_s{size}_{digest(statement_body)[:10]}"
    return Theorem(name=name, statement=f"theorem {name} {statement_body} :=", term=term_proof(proof),
                   tactic=tactic_proof(proof, rng), size=size, skeleton=skeleton(proof), key=key, kind=kind)


def _kind(formulas) -> str:
    """eq if an equation occurs, fo if a predicate or quantifier does, else prop."""
    text = json.dumps(formulas)
    if '"eq"' in text:
        return "eq"
    return "fo" if any(k in text for k in ('"pred"', '"forall"', '"exists"')) else "prop"


def _surface_names(rng, w: World, formulas, wide: bool = False) -> dict:
    names: list = []
    for f in formulas:
        names_in(f, names)
    mapping: dict = {}
    words = wide and rng.random() < 0.5
    props = list(rng.choice(_WORD_PROPS if words else _PROP_NAMES))
    preds = list(rng.choice(_WORD_PREDS if words else _PRED_NAMES))
    if w.fo and set(props) & set(preds):
        props = [p for p in ("p", "q", "r", "s", "t") if p not in preds][:4] if preds[0].isupper() else \
            ["A", "B", "C", "D"]
    consts = list(rng.choice(_WORD_CONSTS if words else _CONST_NAMES))
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


def _wide_hyp_names(rng, hyps: list, mapping: dict) -> list[str]:
    """Hypothesis names of the wide naming: half the time one of the plain styles, else each
    named after what it says, compactly (`hpq`, `hnq`) or spelled out (`h_q_of_p`)."""
    if rng.random() < 0.5:
        return _hyp_names(rng, len(hyps))
    spelled = rng.random() < 0.5
    taken = set(mapping.values())
    out = []
    for i, f in enumerate(hyps):
        words = _describe(f, spelled, rng)
        name = ("h_" + "_".join(words)) if spelled else "h" + "".join(words)
        if len(name) > 24 or not words:
            name = f"h{i + 1}"
        base, k = name, 2
        while name in taken:
            name = f"{base}_{k}" if spelled else f"{base}{k}"
            k += 1
        taken.add(name)
        out.append(name)
    return out


def _describe(f, spelled: bool, rng) -> list[str]:
    """Words for a formula, the way people name a hypothesis after it: p → q is `q of p`
    (or `if`, `imp`) spelled out, `pq` compact; ¬p is `not p` / `np`."""
    kind = f[0]
    if kind == "atom":
        return [f[1]]
    if kind == "false":
        return ["false"]
    if kind == "pred":
        return [f[1]] + [_term_word(t) for t in f[2]]
    if kind == "eq":
        return [_term_word(f[1]), "eq", _term_word(f[2])] if spelled else [_term_word(f[1]), _term_word(f[2])]
    if kind == "not":
        return ["not"] + _describe(f[1], spelled, rng) if spelled else ["n"] + _describe(f[1], spelled, rng)
    if kind in ("forall", "exists"):
        head = "all" if kind == "forall" else "ex"
        return [head] + (_describe(f[2], spelled, rng) if spelled else [])
    a, b = _describe(f[1], spelled, rng), _describe(f[2], spelled, rng)
    if not spelled:
        return a + b
    if kind == "imp":
        return rng.choice((b + ["of"] + a, b + ["if"] + a, a + ["imp"] + b))
    return a + [kind] + b


def _term_word(t) -> str:
    return t if isinstance(t, str) else t[1] + _term_word(t[2])


def _binders(rng, w: World, mapping: dict, formulas, wide: bool = False) -> str:
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
        ty = rng.choice(_TYPE_NAMES + _WIDE_TYPES if wide else _TYPE_NAMES)
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
