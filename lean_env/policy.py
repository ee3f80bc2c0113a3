"""Static policy: text a proof may not contain. Refuses before Lean runs, naming the rule.

Model output is untrusted code. Some Lean commands run arbitrary programs at elaboration time
(`#eval`, `run_cmd`), change what the checker sees (`#exit`, `set_option debug.*`, new syntax),
or assume what should be proved (`axiom`). A rule matches on the raw text when the construct is
dangerous even inside something we might misread as a comment, and on comment-stripped text
when the word also occurs in ordinary prose.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lean_env.statement import strip_comments


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern
    why: str
    raw: bool  # match the raw text (True) or comment-stripped text (False)


def _r(name: str, regex: str, why: str, raw: bool = True) -> Rule:
    return Rule(name, re.compile(regex, re.MULTILINE), why, raw)


_W = r"(?<![\w.'])"  # start of a Lean identifier token
_E = r"(?![\w'!?])"  # end of a Lean identifier token

RULES: tuple[Rule, ...] = (
    _r("eval", r"#eval\b|#reduce\b", "`#eval`/`#reduce` run code at check time"),
    _r("exit", r"#exit\b", "`#exit` stops Lean before the checks at the end of the file"),
    _r("run_cmd", r"\brun_(cmd|tac|elab|meta)\b", "`run_cmd`/`run_tac`/`run_elab` run metaprograms"),
    _r("io", _W + r"IO" + r"(?![\w'])", "IO actions are not allowed in proofs"),
    _r("unsafe", _W + r"unsafe" + _E, "`unsafe` code bypasses the kernel"),
    _r("extern", r"@\[\s*extern\b|\bextern\s*\"", "`@[extern]` binds declarations to native code"),
    _r("implemented_by", _W + r"implemented_by" + _E, "`implemented_by` swaps in unchecked code"),
    _r("debug_option", r"set_option\s+(debug|compiler|interpreter|backward|bootstrap)\.",
       "`set_option debug.*`-style options can switch off checking"),
    _r("trust_option", r"set_option\s+(trust|kernel)\b|(--|-D\s*)trust", "options that change trust levels"),
    _r("axiom", _W + r"axiom" + _E, "new axioms assume what should be proved", raw=False),
    _r("opaque_constant", _W + r"(opaque|constant)\s+\S+\s*:", "opaque constants can hide assumptions", raw=False),
    _r("metaprogram", _W + r"(macro|macro_rules|elab|elab_rules|syntax|declare_syntax_cat|notation|infix|infixl|infixr|prefix|postfix)" + _E,
       "defining syntax, macros or elaborators in a proof can change what the checker reads", raw=False),
    _r("attribute_hack", r"@\[\s*(init|builtin_init|env_extension|command_elab|term_elab|tactic|csimp)\b",
       "attributes that register code to run at check time"),
    _r("import", r"^\s*import\s", "`import` inside the proof: the task's header governs imports", raw=False),
    _r("search_tactic", r"(?<![\w.])(apply\?|exact\?|rw\?|hint|says|aesop\?|simp\?|simp_all\?|rw_search|library_search)(?![\w'])",
       "proof-search tactics leave no checkable proof (and were exploited in Lean 4.9)", raw=False),
    _r("reserved_name", r"__prover_", "names starting `__prover_` are reserved for the checker"),
    _r("namespace_escape", r"^\s*(namespace|section|end|export|open\s+private)\b", "changing namespace or sections can redirect the checks", raw=False),
    _r("core_namespace",
       r"(?m)^[ \t]*(?:@\[[^\]]*\][ \t]*)?(?:(?:private|protected|noncomputable|partial|nonrec)[ \t]+)*"
       r"(?:theorem|lemma|def|abbrev|instance|structure|inductive|opaque|class|example)[ \t]+(?:_root_\.)?"
       r"(?:Nat|Int|String|Char|List|Lean|Quot|Eq|HEq|Decidable|OfNat|Bool|UInt\d+|Fin)(?:\.|(?![\w'.!?]))",
       "the kernel gives some core names (Nat.add, String/Char/List for string literals ...) built-in meanings",
       raw=False),
    _r("mutual", _W + r"mutual" + _E, "`mutual` blocks are not needed for proofs", raw=False),
    _r("local_instance_override", r"attribute\s*\[\s*-?\s*instance", "changing instances around the target", raw=False),
)


@dataclass(frozen=True)
class Violation:
    rule: str
    why: str
    snippet: str

    def reason(self) -> str:
        return f"refused by policy rule '{self.rule}': {self.why} (found `{self.snippet}`)"


def violations(text: str) -> list[Violation]:
    """Every rule the text breaks (empty list: the text may go to Lean)."""
    stripped = strip_comments(text)
    found: list[Violation] = []
    for rule in RULES:
        m = rule.pattern.search(text if rule.raw else stripped)
        if m:
            found.append(Violation(rule.name, rule.why, m.group(0).strip()))
    return found


# Rules that also apply to a file's own preamble in `prover check FILE.lean` (the text before the
# theorem): commands that run code or switch off checking. Declarations such as `unsafe axiom`
# stay allowed there (a prelude needs them); `#print axioms` still reports any the proof uses.
PREAMBLE_RULES = frozenset({"eval", "exit", "run_cmd", "io", "extern", "implemented_by", "debug_option",
                            "trust_option", "attribute_hack", "reserved_name"})


def preamble_violations(text: str) -> list[Violation]:
    return [v for v in violations(text) if v.rule in PREAMBLE_RULES]


# Tokens worth flagging in a proof even when the Checker may accept it: they trust the compiler
# (native_decide), leave holes (sorry, admit) or search at check time (apply?, exact?). A flag is a
# report for humans and statistics, not a verdict; comments are ignored (prose mentions them).
CHEAT_TOKENS = ("native_decide", "sorry", "admit", "apply?", "exact?")
_CHEAT_RE = re.compile(r"(?<![\w.'])(native_decide|sorry|admit|apply\?|exact\?)(?![\w'])")


def cheat_flags(text: str) -> set[str]:
    """The CHEAT_TOKENS that occur as tokens in the text outside comments."""
    return {m.group(1) for m in _CHEAT_RE.finditer(strip_comments(text))}
