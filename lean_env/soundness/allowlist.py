"""The allowlist over Lean tokens. Refuses before Lean runs, naming the rule.

Model output is untrusted code, and under RL a model searches for whatever the checker wrongly
accepts. Lean runs code while it elaborates (`#eval`, registered parsers/elaborators/attributes,
`native_decide`, and the interpreter binds any declaration name to the native function of that
name), so the allowlist's goal is that NO candidate code can run and the candidate can neither
assume nor redefine what the kernel trusts. It reads the text through lean_env.soundness.lexer, which
agrees with Lean on where comments, strings and identifiers are, so nothing hides in a spelling.

Design (every rule is in RULES, with its reason):
- size: over MAX_CHARS is refused before lexing.
- lexical_error: any token Lean itself would reject (tab, lone CR, U+00A0/U+2028 ..., an
  unterminated comment/string/«», a bad escape). After such an error Lean re-reads quoted text as
  code, so nothing after it can be trusted to mean what it looks like.
- interpolated_string: a string containing `{` (Lean lexes `s!"…{e}…"` as code inside `{}`).
- hash_command: `#check` and `#print` only (and `#print` of a string is refused: it forges
  messages); `#eval #exit #reduce #guard_msgs #synth …` are refused.
- command / axiom / scope / metaprogram / import / local: command keywords a proof does not need
  and that add assumptions, change scope, or run code, wherever they occur as a bare keyword
  (`«axiom»` is an identifier to Lean and is not refused). Decided: `open` (its names pass the
  root check, so `open Lean` is refused; `open scoped X` is allowed), `set_option … in`,
  `universe`, `noncomputable`, `private`, and helper `lemma`/`def`/`instance`/`structure` stay
  allowed (they run no code; keeping their scope away from the checks is the check file's job); `alias`,
  `deriving`, `irreducible_def` and other Mathlib commands that generate declarations are refused.
- attribute: `@[…]` and `attribute […]` entries must be in ATTRIBUTES (compared on the
  normalized name, so `«extern»` is `extern`); `local` is allowed as a kind, `-attr` erases.
- set_option: the option name (normalized) must be in SET_OPTIONS or under an allowed prefix.
- identifier_root: no identifier (normalized: `«Lean».x`, `_root_.IO.x`) may start with a root
  that reaches the meta level, IO or native code (`Lean`, `IO`, `System` …) or name an unsafe
  primitive (`unsafeCast`, `ptrAddrUnsafe` …).
- reserved_name: identifiers with a component starting `__prover` belong to the checker.
- core_namespace: the name declared by theorem/def/instance/structure/… (across newlines, any
  spelling) must not start with a root the kernel or elaborator treats by name or that lives in
  the core library (`Nat`, `String`, `Quot`, `OfNat`, `CoeT` …): in an environment that lacks
  them the candidate would otherwise define them.
- native_decide: `native_decide`, `decide +native` (any `native` config), `bv_decide`,
  `Lean.ofReduceBool`. In Lean 4.35 native_decide rests on a per-use auxiliary axiom and runs
  compiled code that candidate declarations can influence; its soundness cannot be audited, so it
  is refused (use `decide`). The checker can tell this rule apart by its name.
- search_tactic: `apply? exact? rw? hint says aesop? simp? …` leave no checkable proof.
- quotation: name literals and syntax quotations are metaprogramming.
Each Violation's reason() names the rule, says why and shows the offending text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lean_env.soundness.lexer import ERROR, IDENT, NAME, STRING, SYMBOL, Token, code_tokens

MAX_CHARS = 1_000_000

RULES: dict[str, str] = {
    "size": f"the text is over {MAX_CHARS} characters",
    "lexical_error": "Lean's lexer rejects this text, and after a lexical error Lean reads quoted text as code",
    "interpolated_string": "a `{` in a string: Lean reads `s!\"…{e}…\"` as code inside the braces",
    "hash_command": "only `#check` and `#print` may appear; other `#` commands run code or hide messages",
    "print_string": "`#print \"…\"` prints text of the candidate's choosing (it could forge a check's message)",
    "axiom": "a proof may not add axioms or opaque constants: it must not assume what it proves",
    "scope": "namespace, section, variable and export commands change the scope the checks run in",
    "metaprogram": "defining syntax, macros, elaborators or initializers, or running meta code, runs candidate code",
    "command": "this command is not needed in a proof and can run code or change the environment",
    "import": "`import`/`prelude` inside the proof: the task's header governs the environment",
    "local": "`local`/`scoped` declarations (notation, instances, macros) change what later text means",
    "unsafe": "`unsafe`/`partial` code and unsafe primitives bypass the kernel",
    "attribute": ("this attribute is not on the allowlist (attributes can bind native code, register elaborators "
                  "or change instances)"),
    "set_option": "this option is not on the allowlist (options can switch off kernel checks or change elaboration)",
    "identifier_root": "identifiers under `Lean`, `IO`, `System` … reach the meta level, IO or native code",
    "reserved_name": "names starting `__prover` are reserved for the checker",
    "core_namespace": ("declaring a name in a core namespace the kernel or elaborator treat specially "
                       "(Nat, String, Quot, OfNat ...)"),
    "native_decide": ("native_decide (and `decide +native`, `Lean.ofReduceBool`) trusts compiled code the candidate can "
                      "influence; its soundness cannot be audited: use `decide`"),
    "search_tactic": "proof-search tactics leave no checkable proof (and were exploited in Lean 4.9)",
    "quotation": "name literals and syntax quotations are metaprogramming, which a proof does not need",
}

HASH_COMMANDS = frozenset({"#check", "#print"})

# bare keywords refused, grouped by rule
_KEYWORDS: dict[str, str] = {}
for _rule, _words in {
    "axiom": "axiom opaque constant",
    "scope": "namespace section end variable include omit export mutual",
    "metaprogram": ("macro macro_rules syntax elab elab_rules notation notation3 infix infixl infixr prefix postfix "
                    "declare_syntax_cat initialize builtin_initialize run_cmd run_elab run_meta run_tac by_elab "
                    "simproc dsimproc simproc_decl dsimproc_decl declare_simp_like_tactic register_simp_attr "
                    "register_option register_builtin_option register_label_attr declare_aesop_rule_sets "
                    "declare_config_elab initialize_simps_projections add_decl_doc elab_stx_quot "
                    "register_error_explanation"),
    "command": ("deriving init_quot irreducible_def alias assert_not_exists assert_not_imported suppress_compilation "
                "unseal seal open_locale library_note compile_inductive compile_def library_note2 "
                "unif_hint grind_pattern recommended_spelling variable? add_aesop_rules erase_aesop_rules "
                "binder_predicate register_tactic_tag tactic_extension whatsnew"),
    "import": "import prelude",
    "local": "scoped",
    "unsafe": "unsafe partial implemented_by extern",
}.items():
    for _w in _words.split():
        _KEYWORDS[_w] = _rule

# attributes a proof may use (normalized names)
ATTRIBUTES = frozenset("""simp simps reducible irreducible semireducible inline noinline ext norm_cast push_cast
    symm refl trans congr gcongr mono elab_as_elim elab_without_expected_type match_pattern nolint deprecated
    inherit_doc pp_nodot field_simps local grind induction_eliminator cases_eliminator specialize""".split())

# set_option names a proof may use, and allowed prefixes (normalized)
SET_OPTIONS = frozenset("""maxHeartbeats maxRecDepth synthInstance.maxHeartbeats synthInstance.maxSize autoImplicit
    relaxedAutoImplicit linter.all tactic.hygienic push_neg.use_distrib maxSteps exponentiation.threshold""".split())
SET_OPTION_PREFIXES = ("linter.",)

# identifier roots refused anywhere, and single names refused anywhere (normalized)
REFUSED_ROOTS = frozenset("Lean IO EIO BaseIO System".split())
UNSAFE_NAMES = frozenset("""unsafeCast unsafeIO unsafeBaseIO unsafeEIO ptrAddrUnsafe ptrEq ptrEqList withPtrAddr
    withPtrEq withPtrAddrUnsafe dbgTrace dbgTraceIfShared dbg_trace dbgStackTrace dbgSleep include_str""".split())
NATIVE_NAMES = frozenset("""native_decide bv_decide bv_check native ofReduceBool ofReduceNat reduceBool reduceNat
    trustCompiler""".split())
_NATIVE_LEAN = frozenset(f"Lean.{n}" for n in "ofReduceBool ofReduceNat reduceBool reduceNat trustCompiler".split())
SEARCH_TACTICS = frozenset("""apply? exact? rw? hint says aesop? simp? simp_all? dsimp? simp?! simp_all?! dsimp?!
    rw_search library_search polyrith? suggest observe? rfl? field_simp? norm_num? apply_rules? unfold?""".split())

# names the kernel or the elaborator treat by name, or core library namespaces (first component)
CORE_ROOTS = frozenset("""Nat Int String Char List Array Bool Eq HEq Quot Quotient Decidable DecidableEq OfNat
    OfScientific Lean IO System Std Init UInt8 UInt16 UInt32 UInt64 USize Int8 Int16 Int32 Int64 Fin Float Float32
    Thunk Task ByteArray FloatArray Subtype Sigma PSigma Prod PProd MProd And Or Not Iff True False Exists Unit PUnit
    Empty PEmpty Option Sum PSum Classical propext funext sorryAx Function Substring Inhabited Nonempty
    Coe CoeT CoeTC CoeOTC CoeHTC CoeHTCT CoeTail CoeHead CoeOut CoeFun CoeSort CoeDep CoeTT
    HAdd HSub HMul HDiv HMod HPow HAppend HOrElse HAndThen HAnd HOr HXor HShiftLeft HShiftRight
    Add Sub Mul Div Mod Neg Pow LE LT BEq Hashable Membership GetElem GetElem? Append
    ite dite cond id cast absurd namedPattern outParam optParam autoParam semiOutParam
    NatCast IntCast Pure Bind Monad Functor ToString Repr""".split())

DECL_KEYWORDS = frozenset("""theorem lemma def abbrev instance structure inductive class example axiom opaque
    coinductive""".split())
# single names that need a closer look, and name components that do
_WATCHED = frozenset(_KEYWORDS) | DECL_KEYWORDS | SEARCH_TACTICS | {"local", "set_option", "open"}
_WATCHED_PARTS = REFUSED_ROOTS | NATIVE_NAMES | UNSAFE_NAMES


@dataclass(frozen=True)
class Violation:
    rule: str
    why: str
    snippet: str

    def reason(self) -> str:
        return f"refused by policy rule '{self.rule}': {self.why} (found `{self.snippet}`)"


def _snippet(t: Token, limit: int = 60) -> str:
    s = t.text.replace("\n", "⏎")
    return s if len(s) <= limit else s[: limit - 1] + "…"


class _Scan:
    """One pass over the code tokens, collecting violations (the first of each rule)."""

    def __init__(self, toks: list[Token]):
        self.toks = toks
        self.found: dict[str, Violation] = {}
        self.attribute_kinds: set[int] = set()  # indices of `local` used as an attribute kind

    def add(self, rule: str, tok: Token, detail: str = "") -> None:
        if rule not in self.found:
            why = RULES[rule] + (f": {detail}" if detail else "")
            self.found[rule] = Violation(rule, why, _snippet(tok))

    def at(self, k: int) -> Token | None:
        return self.toks[k] if 0 <= k < len(self.toks) else None

    def run(self) -> list[Violation]:
        self.attributes()
        for k, t in enumerate(self.toks):
            if t.kind == ERROR:
                self.add("lexical_error", t, t.message)
            elif t.kind == STRING:
                if not t.text.startswith("r") and "{" in t.text:
                    self.add("interpolated_string", t)
            elif t.kind == NAME:
                self.add("quotation", t)
            elif t.kind == SYMBOL:
                if t.text.startswith("#") and len(t.text) > 1 and t.text != "#[":
                    if t.text not in HASH_COMMANDS:
                        self.add("hash_command", t)
                    elif t.text == "#print" and (n := self.at(k + 1)) is not None and n.kind == STRING:
                        self.add("print_string", n)
                elif t.text.startswith("`"):  # `(…), `[…], and the first ` of ``name
                    self.add("quotation", t)
            elif t.kind == IDENT:
                self.ident(k, t)
        return list(self.found.values())

    def attributes(self) -> None:
        """Check each entry of `@[…]` and `attribute […]`: `-`? `local`? NAME args…"""
        toks = self.toks
        for k, t in enumerate(toks):
            opener = t.kind == SYMBOL and t.text == "@["
            if t.kind == IDENT and t.text == "attribute" and (n := self.at(k + 1)) is not None and n.text == "[":
                opener, k = True, k + 1
            if not opener:
                continue
            depth, j, entry_start = 1, k + 1, True
            while j < len(toks) and depth:
                u = toks[j]
                if u.kind == SYMBOL and u.text in ("[", "@[", "%["):
                    depth += 1
                elif u.kind == SYMBOL and u.text == "]":
                    depth -= 1
                elif depth == 1 and u.kind == SYMBOL and u.text == ",":
                    entry_start = True
                elif depth == 1 and entry_start:
                    if u.kind == SYMBOL and u.text == "-":
                        pass  # `-attr` erases; the name follows
                    elif u.kind == IDENT and not u.escaped and u.text in ("local", "scoped"):
                        self.attribute_kinds.add(j)
                        if u.text == "scoped":
                            self.add("local", u)
                    else:
                        if u.kind != IDENT or u.name not in ATTRIBUTES:
                            self.add("attribute", u, f"`{u.name or u.text}`")
                        entry_start = False
                j += 1

    def ident(self, k: int, t: Token) -> None:
        parts, name = t.parts, t.name
        if len(parts) == 1 and name.startswith("builtin_") and not t.escaped:
            self.add("metaprogram", t)  # builtin_initialize, builtin_simproc ...: Lean's own registration commands
        if len(parts) == 1 and name in _WATCHED:
            if not t.escaped:
                self.keyword(k, t, name)
            if name in SEARCH_TACTICS:
                self.add("search_tactic", t)
        for p in parts:
            if p in _WATCHED_PARTS or p.startswith(("__prover", "unsafe")):
                self.name_parts(t, parts, name)
                break

    def keyword(self, k: int, t: Token, name: str) -> None:
        rule = _KEYWORDS.get(name)
        if rule and not (name == "scoped" and k and self.toks[k - 1].text == "open"):  # `open scoped X` opens notation
            self.add(rule, t)
        if name == "local" and k not in self.attribute_kinds:
            self.add("local", t)
        elif name == "set_option":
            self.set_option(k)
        elif name in DECL_KEYWORDS:
            self.declaration(k)
        elif name == "open" and (n := self.at(k + 1)) is not None and n.text == "private":
            self.add("scope", n)

    def name_parts(self, t: Token, parts: tuple[str, ...], name: str) -> None:
        if any(p.startswith("__prover") for p in parts):
            self.add("reserved_name", t)
        if name in _NATIVE_LEAN:  # only this rule, so a task that allows native_decide allows them too
            self.add("native_decide", t)
        elif parts[0] in REFUSED_ROOTS:
            self.add("identifier_root", t)
        if any(p in NATIVE_NAMES for p in parts):
            self.add("native_decide", t)
        if any(p in UNSAFE_NAMES or p.startswith("unsafe") for p in parts):
            self.add("unsafe", t)

    def set_option(self, k: int) -> None:
        n = self.at(k + 1)
        if n is None or n.kind != IDENT:
            self.add("set_option", n or self.toks[k], "no option name")
        elif n.name not in SET_OPTIONS and not n.name.startswith(SET_OPTION_PREFIXES):
            self.add("set_option", n, f"`{n.name}`")

    def declaration(self, k: int) -> None:
        """The name declared after theorem/def/instance/… (on instances, skip `(priority := …)`)."""
        toks, j = self.toks, k + 1
        if toks[k].name == "instance" and j < len(toks) and toks[j].text == "(":
            depth = 0
            while j < len(toks):
                depth += {"(": 1, ")": -1}.get(toks[j].text, 0)
                j += 1
                if depth == 0:
                    break
        d = self.at(j)
        if d is not None and d.kind == IDENT and d.parts:
            root = d.parts[0]
            if root in CORE_ROOTS or d.name in CORE_ROOTS or _CORE_INSTANCE.match(root):
                self.add("core_namespace", d, f"`{d.name}`")


_CORE_INSTANCE = re.compile(r"inst[A-Z]")  # core instances the elaborator finds by name (instOfNatNat …)


def violations(text: str) -> list[Violation]:
    """Every rule the text breaks, one violation per rule (empty list: the text may go to Lean)."""
    if len(text) > MAX_CHARS:
        return [Violation("size", RULES["size"], f"{len(text)} characters")]
    return _Scan(code_tokens(text)).run()


# Rules that also apply to a file's own preamble in `prover check FILE.lean` (the text before the
# theorem, when its header is not a `prelude`): what runs code or switches off checking. A user's
# preamble may declare axioms, open namespaces and use instances; `#print axioms` still reports
# any axiom the proof uses.
PREAMBLE_RULES = frozenset({"size", "lexical_error", "hash_command", "print_string", "metaprogram",
                            "reserved_name", "native_decide"})
_PREAMBLE_BAD_OPTIONS = ("debug.", "compiler.", "interpreter.", "backward.", "bootstrap.", "trust", "kernel", "Elab.")
_CODE_ATTRIBUTES = frozenset("""extern implemented_by export init builtin_init csimp command_elab term_elab tactic
    macro simproc dsimproc norm_num positivity aesop env_extension command_parser term_parser tactic_parser
    delab app_unexpander builtin_command_elab builtin_term_elab builtin_tactic builtin_macro
    builtin_delab builtin_doc never_extract cpass""".split())


def preamble_violations(text: str) -> list[Violation]:
    found = violations(text)
    kept = [v for v in found if v.rule in PREAMBLE_RULES]
    kept += [v for v in found if v.rule == "set_option" and v.snippet.startswith(_PREAMBLE_BAD_OPTIONS)]
    return kept + _preamble_attributes(text)


def _preamble_attributes(text: str) -> list[Violation]:
    toks = code_tokens(text) if len(text) <= MAX_CHARS else []
    for k, t in enumerate(toks):
        if t.kind == IDENT and t.name in _CODE_ATTRIBUTES and k and toks[k - 1].text in ("@[", "[", ","):
            return [Violation("attribute", RULES["attribute"] + f": `{t.name}`", _snippet(t))]
    return []


# Tokens worth flagging in a proof even when the Checker may accept it: they trust the compiler
# (native_decide), leave holes (sorry, admit) or search at check time (apply?, exact?). A flag is a
# report for humans and statistics, not a verdict; comments and strings are ignored.
CHEAT_TOKENS = ("native_decide", "sorry", "admit", "apply?", "exact?")


def cheat_flags(text: str) -> set[str]:
    """The CHEAT_TOKENS that occur as tokens (bare identifiers) in the text outside comments."""
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
    return {t.text for t in code_tokens(text) if t.kind == IDENT and t.text in CHEAT_TOKENS}
