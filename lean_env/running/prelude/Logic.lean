prelude
/-!
# Logic prelude

A self-contained replacement for the parts of `Init` that a bare Lean 4
(elaborator + kernel, no `.olean` files) needs in order to check proofs in
propositional and first-order logic.  Written from scratch for this project.

Every declaration below is here for one of three reasons, noted per group:
* the elaborator looks a constant up *by name* (auxiliary constructions for
  inductive types, `sorry`, numerals, `▸`, anonymous constructors ...);
* the kernel gives the name a special meaning (`Nat` literals, `Eq`, `Quot`);
* users' proofs need it (the logical connectives and their lemmas).

Naming follows Lean's usual names so that proofs written for real Lean keep
working where the syntax is available (see NOTES.md for what is not).
-/

universe u v w

/-! ## Compiler placeholders

The code generator (run on every `def`, `structure` and `inductive`) refers to
these five constants while it erases types and proofs.  Without them even a
plain theorem containing a `fun` fails with "Unknown constant `lcErased`".
They are `unsafe`, so no safe declaration (in particular no proof) can use them,
and `#print axioms` never lists them. -/
unsafe axiom lcErased : Type
unsafe axiom lcProof {α : Prop} : α
unsafe axiom lcUnreachable {α : Sort u} : α
unsafe axiom lcAny : Type
unsafe axiom lcVoid : Type

/-! ## Basic types needed by the inductive-type elaborator

When an `inductive`/`structure` is declared, Lean builds `casesOn` only if
`PUnit` exists, `noConfusion` only if `Eq` and `HEq` exist, and `below`/`brecOn`
(used by structural recursion and `match`) only if `PProd`/`Prod` exist.
`noConfusion` itself refers to `Eq.ndrec`, `Eq.symm`, `eq_of_heq`, `heq_of_eq`;
the constructor-index machinery of types with several constructors refers to
`PULift`, `Nat.ble`, `Nat.decEq`, `cond` and `dite`.  So these come first, in
dependency order. -/

def id {α : Sort u} (a : α) : α := a

set_option bootstrap.inductiveCheckResultingUniverse false in
/-- The unit type in every universe (also needed by `casesOn`/`below`). -/
inductive PUnit : Sort u
  | unit : PUnit

/-- The true proposition. -/
inductive True : Prop
  | intro : True

/-- The false proposition: no constructors. -/
inductive False : Prop

/-- Equality.  The kernel treats `Eq` specially (K-like reduction, `rfl`
checks by definitional unfolding), and the elaborator builds terms with
`Eq.refl`, `Eq.ndrec`, `Eq.mpr`, `Eq.symm`, `congrArg` ... by name. -/
inductive Eq {α : Sort u} : α → α → Prop
  | refl (a : α) : Eq a a

/-- Non-dependent elimination for `Eq` (used by `noConfusion` and `▸`).  Its
universe parameters are (motive, type), the order the elaborator assumes. -/
def Eq.ndrec.{u1, u2} {α : Sort u2} {a : α} {motive : α → Sort u1}
    (m : motive a) {b : α} (h : Eq a b) : motive b :=
  @Eq.rec α a (fun x _ => motive x) m b h

theorem rfl {α : Sort u} {a : α} : Eq a a := Eq.refl a

theorem Eq.symm {α : Sort u} {a b : α} (h : Eq a b) : Eq b a :=
  @Eq.rec α a (fun x _ => Eq x a) (Eq.refl a) b h

theorem Eq.trans {α : Sort u} {a b c : α} (h₁ : Eq a b) (h₂ : Eq b c) : Eq a c :=
  @Eq.rec α b (fun x _ => Eq a x) h₁ c h₂

/-- Heterogeneous equality (needed by `noConfusion` for dependent fields). -/
inductive HEq : {α : Sort u} → α → {β : Sort u} → β → Prop
  | refl {α : Sort u} (a : α) : HEq a a

/-- Transport along an equality of types. -/
def cast {α β : Sort u} (h : Eq α β) (a : α) : β :=
  @Eq.rec (Sort u) α (fun t _ => t) a β h

theorem heq_of_eq {α : Sort u} {a b : α} (h : Eq a b) : HEq a b :=
  @Eq.rec α a (fun x _ => HEq a x) (HEq.refl a) b h

theorem eq_of_heq {α : Sort u} {a b : α} (h : HEq a b) : Eq a b :=
  (fun (gen : (β : Sort u) → (b' : β) → HEq a b' → (e : Eq α β) → Eq (cast e a) b') =>
      gen α b h (Eq.refl α))
    (fun β b' h' =>
      @HEq.rec α a (fun {γ} (c : γ) _ => (e : Eq α γ) → Eq (cast e a) c)
        (fun _ => Eq.refl a) β b' h')

/-- Pairs in arbitrary universes (structural recursion's `below`). -/
structure PProd (α : Sort u) (β : Sort v) where
  fst : α
  snd : β

/-- Pairs of types (presence enables `below`/`brecOn`). -/
structure Prod (α : Type u) (β : Type v) where
  fst : α
  snd : β

/-- Universe lifting (used by the constructor-elimination helpers). -/
structure PULift.{r, s} (α : Sort s) : Sort (max s r 1) where
  up ::
  down : α

/-! `Bool` and `Nat` are declared before `Nat.decEq`/`cond` exist, so their
constructor-index function (`ctorIdx`, which would need those) is switched off
for these two types only; everything else (`casesOn`, `noConfusion`, `rec`,
`below`, `brecOn`) is generated as usual. -/

set_option genCtorIdx false in
inductive Bool : Type
  | false : Bool
  | true : Bool

set_option genCtorIdx false in
/-- Unary natural numbers.  The kernel recognises the names `Nat`, `Nat.zero`,
`Nat.succ` (numeric literals are `Nat` values, `n+1` literals unfold to
`Nat.succ n`) and computes `Nat.add`, `Nat.mul`, `Nat.pow`, `Nat.sub`,
`Nat.beq`, `Nat.ble` on literals with big-number arithmetic: the definitions
below MUST therefore have exactly the standard meaning. -/
inductive Nat : Type
  | zero : Nat
  | succ (n : Nat) : Nat

/-! Arithmetic.  The bodies (plain recursor applications) are what the kernel
and elaborator unfold.  The `@[extern]` attributes only tell the code
generator which run-time primitive implements each function: the compiler
needs `Nat.add`, `Nat.sub`, `Nat.decEq` ... to compile any later `def` that
matches on a `Nat`, and it cannot compile recursor applications itself. -/

/-- `Nat.ble n m` is `true` iff `n ≤ m`.  Kernel-accelerated on literals. -/
@[extern "lean_nat_dec_le"]
def Nat.ble (n : Nat) : Nat → Bool :=
  @Nat.rec (fun _ => Nat → Bool) (fun _ => Bool.true)
    (fun _ ih m => @Nat.rec (fun _ => Bool) Bool.false (fun m' _ => ih m') m) n

/-- `Nat.beq n m` is `true` iff `n = m`.  Kernel-accelerated on literals. -/
@[extern "lean_nat_dec_eq"]
def Nat.beq (n : Nat) : Nat → Bool :=
  @Nat.rec (fun _ => Nat → Bool)
    (fun m => @Nat.rec (fun _ => Bool) Bool.true (fun _ _ => Bool.false) m)
    (fun _ ih m => @Nat.rec (fun _ => Bool) Bool.false (fun m' _ => ih m') m) n

/-- Addition by recursion on the second argument:
`n + 0 = n`, `n + (m+1) = (n + m) + 1`.  Kernel-accelerated on literals. -/
@[extern "lean_nat_add"]
def Nat.add (n m : Nat) : Nat :=
  @Nat.rec (fun _ => Nat) n (fun _ ih => Nat.succ ih) m

/-- Multiplication: `n * 0 = 0`, `n * (m+1) = n * m + n`. -/
@[extern "lean_nat_mul"]
def Nat.mul (n m : Nat) : Nat :=
  @Nat.rec (fun _ => Nat) Nat.zero (fun _ ih => Nat.add ih n) m

/-- Power: `n ^ 0 = 1`, `n ^ (m+1) = n ^ m * n`. -/
@[extern "lean_nat_pow"]
def Nat.pow (n m : Nat) : Nat :=
  @Nat.rec (fun _ => Nat) (Nat.succ Nat.zero) (fun _ ih => Nat.mul ih n) m

/-- Predecessor (`0 - 1 = 0`). -/
@[extern "lean_nat_pred"]
def Nat.pred (n : Nat) : Nat :=
  @Nat.rec (fun _ => Nat) Nat.zero (fun k _ => k) n

/-- Truncated subtraction: `n - 0 = n`, `n - (m+1) = pred (n - m)`. -/
@[extern "lean_nat_sub"]
def Nat.sub (n m : Nat) : Nat :=
  @Nat.rec (fun _ => Nat) n (fun _ ih => Nat.pred ih) m


/-! The kernel also computes `Nat.div`, `Nat.mod`, `Nat.gcd`, `Nat.land`,
`Nat.lor`, `Nat.xor`, `Nat.shiftLeft`, `Nat.shiftRight` and `Nat.log2` on
literals, by name.  They are reserved here as `opaque` constants (no
definitional content, so the kernel's big-number results cannot contradict
anything) so that a user file cannot define one of these names with a
different meaning and make the kernel unsound. -/
@[extern "lean_nat_div"] opaque Nat.div (n m : Nat) : Nat := n
@[extern "lean_nat_mod"] opaque Nat.mod (n m : Nat) : Nat := n
@[extern "lean_nat_gcd"] opaque Nat.gcd (n m : Nat) : Nat := n
@[extern "lean_nat_land"] opaque Nat.land (n m : Nat) : Nat := n
@[extern "lean_nat_lor"] opaque Nat.lor (n m : Nat) : Nat := n
@[extern "lean_nat_lxor"] opaque Nat.xor (n m : Nat) : Nat := n
@[extern "lean_nat_shiftl"] opaque Nat.shiftLeft (n m : Nat) : Nat := n
@[extern "lean_nat_shiftr"] opaque Nat.shiftRight (n m : Nat) : Nat := n
@[extern "lean_nat_log2"] opaque Nat.log2 (n : Nat) : Nat := n

/-- `cond b x y` is `x` if `b` is `true`, else `y`. -/
def cond {α : Sort u} (c : Bool) (x y : α) : α :=
  @Bool.casesOn (fun _ => α) c y x

/-! ## Propositional connectives -/

/-- `Not a` is `a → False`. -/
def Not (a : Prop) : Prop := a → False

/-- From `False`, anything (a `def`: the result may be data). -/
def False.elim {C : Sort u} (h : False) : C :=
  False.rec (fun _ => C) h

/-- From `a` and `¬a`, anything. -/
def absurd {a : Prop} {b : Sort v} (h₁ : a) (h₂ : Not a) : b :=
  False.elim (h₂ h₁)

theorem trivial : True := True.intro

/-- Conjunction; a structure, so `⟨ha, hb⟩`, `h.1`, `h.2`, `h.left`, `h.right`
all work through the generic structure support. -/
structure And (a b : Prop) : Prop where
  intro ::
  left : a
  right : b

/-- Disjunction. -/
inductive Or (a b : Prop) : Prop
  | inl (h : a) : Or a b
  | inr (h : b) : Or a b

theorem Or.intro_left {a : Prop} (b : Prop) (h : a) : Or a b := Or.inl h
theorem Or.intro_right (a : Prop) {b : Prop} (h : b) : Or a b := Or.inr h

theorem Or.elim {a b c : Prop} (h : Or a b) (left : a → c) (right : b → c) : c :=
  @Or.rec a b (fun _ => c) left right h

/-- Logical equivalence; a structure: `⟨mp, mpr⟩`, `h.1`, `h.mp`, `h.2`, `h.mpr`. -/
structure Iff (a b : Prop) : Prop where
  intro ::
  mp : a → b
  mpr : b → a

/-- Existential quantifier; anonymous constructor `⟨w, h⟩` works. -/
inductive Exists {α : Sort u} (p : α → Prop) : Prop
  | intro (w : α) (h : p w) : Exists p

theorem Exists.elim {α : Sort u} {p : α → Prop} {b : Prop}
    (h₁ : Exists p) (h₂ : (a : α) → p a → b) : b :=
  @Exists.rec α p (fun _ => b) h₂ h₁

/-- Disequality. -/
def Ne {α : Sort u} (a b : α) : Prop := Not (Eq a b)

/-! ## Equality lemmas (the `▸` elaborator builds `Eq.mpr`/`Eq.ndrec` terms) -/

theorem Eq.subst {α : Sort u} {motive : α → Prop} {a b : α}
    (h₁ : Eq a b) (h₂ : motive a) : motive b :=
  @Eq.ndrec α a motive h₂ b h₁

def Eq.mp {α β : Sort u} (h : Eq α β) (a : α) : β :=
  @Eq.rec (Sort u) α (fun t _ => t) a β h

def Eq.mpr {α β : Sort u} (h : Eq α β) (b : β) : α :=
  @Eq.rec (Sort u) β (fun t _ => t) b α (Eq.symm h)

theorem congrArg {α : Sort u} {β : Sort v} {a₁ a₂ : α} (f : α → β)
    (h : Eq a₁ a₂) : Eq (f a₁) (f a₂) :=
  @Eq.rec α a₁ (fun x _ => Eq (f a₁) (f x)) (Eq.refl (f a₁)) a₂ h

theorem congrFun {α : Sort u} {β : α → Sort v} {f g : (x : α) → β x}
    (h : Eq f g) (a : α) : Eq (f a) (g a) :=
  @Eq.rec ((x : α) → β x) f (fun k _ => Eq (f a) (k a)) (Eq.refl (f a)) g h

theorem congr {α : Sort u} {β : Sort v} {f₁ f₂ : α → β} {a₁ a₂ : α}
    (h₁ : Eq f₁ f₂) (h₂ : Eq a₁ a₂) : Eq (f₁ a₁) (f₂ a₂) :=
  Eq.trans (congrArg (fun x => f₁ x) h₂) (congrFun h₁ a₂)

theorem Nat.succ.inj {n m : Nat} (h : Eq (Nat.succ n) (Nat.succ m)) : Eq n m :=
  Nat.noConfusion h (fun e => e)

/-! ## Decidability (needed for the `ctorIdx`/`noConfusion` helpers of
multi-constructor types, and for `if ... then ... else`) -/

class inductive Decidable (p : Prop) : Type
  | isFalse (h : Not p) : Decidable p
  | isTrue (h : p) : Decidable p

def dite {α : Sort u} (c : Prop) [h : Decidable c] (t : c → α) (e : Not c → α) : α :=
  @Decidable.casesOn c (fun _ => α) h e t

def ite {α : Sort u} (c : Prop) [h : Decidable c] (t e : α) : α :=
  @Decidable.casesOn c (fun _ => α) h (fun _ => e) (fun _ => t)

/-- Decidable equality of naturals, looked up by name by the constructor-index
machinery of every later inductive type with more than one constructor. -/
@[extern "lean_nat_dec_eq"]
def Nat.decEq (n : Nat) : (m : Nat) → Decidable (Eq n m) :=
  @Nat.rec (fun n => (m : Nat) → Decidable (Eq n m))
    (fun m => @Nat.casesOn (fun m => Decidable (Eq Nat.zero m)) m
      (Decidable.isTrue (Eq.refl Nat.zero))
      (fun _ => Decidable.isFalse (fun h => Nat.noConfusion h)))
    (fun n ih m => @Nat.casesOn (fun m => Decidable (Eq (Nat.succ n) m)) m
      (Decidable.isFalse (fun h => Nat.noConfusion h))
      (fun m' => @Decidable.casesOn (Eq n m')
        (fun _ => Decidable (Eq (Nat.succ n) (Nat.succ m'))) (ih m')
        (fun hne => Decidable.isFalse (fun e => hne (Nat.succ.inj e)))
        (fun he => Decidable.isTrue (congrArg Nat.succ he))))
    n

/-! ## Numerals

A numeral `3` elaborates to `@OfNat.ofNat ?α 3 ?inst`; with `?α` unknown the
default instance `instOfNatNat` makes it a `Nat`.  The raw literal inside is a
kernel `Nat` literal. -/

class OfNat (α : Type u) (n : Nat) where
  ofNat : α

@[default_instance]
instance instOfNatNat (n : Nat) : OfNat Nat n := ⟨n⟩

/-! ## `sorry`

`sorry` elaborates to `sorryAx (Lean.Name → T) false <unique tag>`, where the
tag is a `Lean.Name` built from `Lean.Name.str`/`Lean.Name.num`, string and
`Nat` literals.  If `Lean.Name` or `sorryAx` is missing the elaborator aborts
the command ("internal exception #3").  `Unit`, `Unit.unit` and
`Function.const` are used for non-unique sorries. -/

inductive Unit : Type
  | unit : Unit

def Function.const {α : Sort u} (β : Sort v) (a : α) : β → α := fun _ => a

/-- Only the name matters to the elaborator (string literals have type
`String`); the fields are a placeholder and nothing here computes with
strings. -/
structure String : Type where
  private mk' ::
  private dummy : Nat

/-- Hierarchical names, as the `sorry` tag is encoded. -/
inductive Lean.Name : Type
  | anonymous : Lean.Name
  | str (pre : Lean.Name) (s : String) : Lean.Name
  | num (pre : Lean.Name) (i : Nat) : Lean.Name

/-- The axiom behind `sorry`; `#print axioms` reports it. -/
axiom sorryAx (α : Sort u) (synthetic : Bool) : α

/-! ## The standard axioms

Lean's three axioms, for users' proofs that want them; nothing in this file
uses them. -/

axiom propext {a b : Prop} : Iff a b → Eq a b

-- `Quot`, `Quot.mk`, `Quot.lift`, `Quot.ind` are built into the kernel;
-- `init_quot` adds them (the kernel checks that `Eq` has the expected shape).
init_quot

axiom Quot.sound {α : Sort u} {r : α → α → Prop} {a b : α} :
    r a b → Eq (Quot.mk r a) (Quot.mk r b)

class inductive Nonempty (α : Sort u) : Prop
  | intro (val : α) : Nonempty α

axiom Classical.choice {α : Sort u} : Nonempty α → α

/-! ## Syntax support

Everything below exists so that `syntax` declarations (tactic syntax and
notation) can be made in this file.  A `syntax` command produces a definition
of type `Lean.ParserDescr`; Lean *runs* that definition (in its bytecode
interpreter) and turns the resulting value into a parser.  So:

* `Lean.ParserDescr` must have exactly the constructor order and field types
  that Lean's run-time code expects (the value is inspected by compiled code);
* names inside it are built with `Lean.Name.mkStr1` ... `mkStr8`
  (`Lean.Name.str`/`num` for longer ones), which must therefore exist;
* run-time names carry a cached hash that Lean's own `Lean.Name` computes when
  a name is constructed.  Our `Lean.Name` has no such field, so its two
  constructors are `implemented_by` the run-time primitives
  (`lean_name_mk_string`, `lean_name_mk_numeral`).  Without this, names built
  by our code have garbage hashes and e.g. a parsed tactic's kind is not found
  in the table of built-in tactic elaborators ("Tactic ... has not been
  implemented"). -/

namespace Lean

@[extern "lean_name_mk_string"]
opaque Name.str._override (p : Name) (s : String) : Name := Name.str p s
@[extern "lean_name_mk_numeral"]
opaque Name.num._override (p : Name) (i : Nat) : Name := Name.num p i
attribute [implemented_by Name.str._override] Name.str
attribute [implemented_by Name.num._override] Name.num

def Name.mkStr1 (s₁ : String) : Name := Name.str Name.anonymous s₁
def Name.mkStr2 (s₁ s₂ : String) : Name := Name.str (mkStr1 s₁) s₂
def Name.mkStr3 (s₁ s₂ s₃ : String) : Name := Name.str (mkStr2 s₁ s₂) s₃
def Name.mkStr4 (s₁ s₂ s₃ s₄ : String) : Name := Name.str (mkStr3 s₁ s₂ s₃) s₄
def Name.mkStr5 (s₁ s₂ s₃ s₄ s₅ : String) : Name :=
  Name.str (mkStr4 s₁ s₂ s₃ s₄) s₅
def Name.mkStr6 (s₁ s₂ s₃ s₄ s₅ s₆ : String) : Name :=
  Name.str (mkStr5 s₁ s₂ s₃ s₄ s₅) s₆
def Name.mkStr7 (s₁ s₂ s₃ s₄ s₅ s₆ s₇ : String) : Name :=
  Name.str (mkStr6 s₁ s₂ s₃ s₄ s₅ s₆) s₇
def Name.mkStr8 (s₁ s₂ s₃ s₄ s₅ s₆ s₇ s₈ : String) : Name :=
  Name.str (mkStr7 s₁ s₂ s₃ s₄ s₅ s₆ s₇) s₈

abbrev SyntaxNodeKind := Name

/-- Parser descriptions, produced by the `syntax` command.  Constructor order
and field types are an interface with Lean's run-time code: do not change. -/
inductive ParserDescr : Type
  | const (name : Name)
  | unary (name : Name) (p : ParserDescr)
  | binary (name : Name) (p₁ p₂ : ParserDescr)
  | node (kind : SyntaxNodeKind) (prec : Nat) (p : ParserDescr)
  | trailingNode (kind : SyntaxNodeKind) (prec lhsPrec : Nat) (p : ParserDescr)
  | symbol (val : String)
  | nonReservedSymbol (val : String) (includeIdent : Bool)
  | cat (catName : Name) (rbp : Nat)
  | parser (declName : Name)
  | nodeWithAntiquot (name : String) (kind : SyntaxNodeKind) (p : ParserDescr)
  | sepBy (p : ParserDescr) (sep : String) (psep : ParserDescr) (allowTrailingSep : Bool)
  | sepBy1 (p : ParserDescr) (sep : String) (psep : ParserDescr) (allowTrailingSep : Bool)

/-- Parsers that continue a term (infix operators) have this type. -/
abbrev TrailingParserDescr := ParserDescr

/-! ### Macros

A `macro`/`macro_rules` needs all of `Lean.Syntax`, `Lean.MacroM`, arrays,
quotations ... at run time; that is not declared here.  Only the *type*
`Lean.Macro` is: it is what the `@[macro k]` attribute checks for.  Its
arguments (syntax, context, state) are opaque here, and its result type
`Macro.Result'` mirrors the run-time layout of Lean's
`EStateM.Result Macro.Exception Macro.State Syntax` (constructor 1 = error;
`Macro.Exception'` constructor 1 = "unsupported syntax"), so the placeholder
bodies below, if ever run, answer "unsupported syntax" instead of crashing. -/

inductive Macro.Exception' : Type
  | error (ref : PUnit.{1}) (msg : PUnit.{1})
  | unsupportedSyntax

inductive Macro.Result' : Type
  | ok (a : PUnit.{1}) (s : PUnit.{1})
  | error (e : Macro.Exception') (s : PUnit.{1})

def Macro : Type := PUnit.{1} → PUnit.{1} → PUnit.{1} → Macro.Result'

/-- Placeholder macro body: "unsupported syntax". -/
def Macro.unsupported' : Macro := fun _ _ s => Macro.Result'.error Macro.Exception'.unsupportedSyntax s

end Lean

/-! ## Notation: `∧ ∨ ¬ ↔ = ≠ ∃`

The parsers are declared here.  The expansions (`p ∧ q` ↦ `And p q`,
`a = b` ↦ `binrel% Eq a b`, `∃ x y, p` ↦ `Exists fun x => Exists fun y => p`
...) are NOT written in Lean here: each `@[macro]` declaration below carries
the exact declaration name that Lean 4.35.0's own notation macro has, and
Lean's interpreter, with `interpreter.prefer_native` on (its default), runs
the natively compiled function of that name that is already inside the Lean
executable instead of the placeholder body.  This ties the notation to the
Lean 4.35.0 binary (see NOTES.md); with another binary the placeholder runs
and the notation reports "elaboration function ... has not been implemented".
`→` and `fun` are built into Lean's parser and need nothing. -/

set_option interpreter.prefer_native true

syntax:35 term:36 " ∧ " term:35 : term
@[macro «term_∧_»] def «_aux_Init_Notation___macroRules_term_∧__1» : Lean.Macro :=
  Lean.Macro.unsupported'

syntax:30 term:31 " ∨ " term:30 : term
@[macro «term_∨_»] def «_aux_Init_Notation___macroRules_term_∨__1» : Lean.Macro :=
  Lean.Macro.unsupported'

syntax:1024 "¬" term:40 : term
@[macro «term¬_»] def «_aux_Init_Notation___macroRules_term¬__1» : Lean.Macro :=
  Lean.Macro.unsupported'

syntax:20 term:21 " ↔ " term:21 : term
@[macro «term_↔_»] def «_aux_Init_Core___macroRules_term_↔__1» : Lean.Macro :=
  Lean.Macro.unsupported'

syntax:50 term:51 " = " term:51 : term
@[macro «term_=_»] def «_aux_Init_Notation___macroRules_term_=__1» : Lean.Macro :=
  Lean.Macro.unsupported'

syntax:50 term:51 " ≠ " term:51 : term
@[macro «term_≠_»] def «_aux_Init_Core___macroRules_term_≠__1» : Lean.Macro :=
  Lean.Macro.unsupported'

namespace Lean
/-- A binder name or `_`. -/
syntax binderIdent := orelse(ident, hole)
syntax unbracketedExplicitBinders := many1(ppSpace binderIdent) optional(" : " term)
syntax bracketedExplicitBinders :=
  "(" withoutPosition(many1(ppSpace binderIdent) ppSpace " : " term) ")"
syntax explicitBinders :=
  orelse(atomic(unbracketedExplicitBinders), many1(ppSpace bracketedExplicitBinders))
end Lean

syntax "∃" Lean.explicitBinders ", " term : term
@[macro «term∃_,_»] def «_aux_Init_NotationExtra___macroRules_term∃_,__1» : Lean.Macro :=
  Lean.Macro.unsupported'

/-! ## Tactic syntax

Lean's tactic *implementations* are compiled into Lean and registered on
syntax kinds such as `Lean.Parser.Tactic.exact`; only the *syntax* lives in
`Init`.  Declaring syntax with those kind names (in `namespace
Lean.Parser.Tactic`) and the node shape the implementation expects makes the
tactic work.  `by`, tactic sequences (newlines and `;`), `match` and
`intro | pat => ...` are built into the parser already.

The parsers actually used are Lean's own compiled parsers of the same names
(`interpreter.prefer_native`, see the notation section), so the node shapes
are exactly what the implementations expect; the declarations below say the
same thing in this file's own words.  The one exception is `rfl`: Lean defines
`rfl` as a macro, so here the kind `applyRfl` (whose implementation handles
`Eq`) is given the text `rfl`, with `prefer_native` off for that one
declaration so that our text is used.  Tactics that Lean defines as macros
(`exfalso`, `trivial`, `exists`, `have`, `show ... from`, `rw`, `sorry`,
`omega` ...) are not available; `rfl` below is Lean's `apply_rfl`
implementation, which handles `Eq` (and `Iff`/`HEq` where lemmas exist). -/

namespace Lean.Parser.Tactic
syntax (name := exact) "exact " term : tactic
syntax (name := apply) "apply " term : tactic
syntax (name := refine) "refine " term : tactic
syntax (name := intro) "intro" notFollowedBy("|") many(ppSpace colGt term:1024) : tactic
syntax (name := intros) "intros" many(ppSpace colGt orelse(ident, hole)) : tactic
syntax (name := assumption) "assumption" : tactic
syntax (name := constructor) "constructor" : tactic
syntax (name := left) "left" : tactic
syntax (name := right) "right" : tactic
syntax (name := contradiction) "contradiction" : tactic
syntax (name := eqRefl) "eq_refl" : tactic
set_option interpreter.prefer_native false in
syntax (name := applyRfl) "rfl" : tactic
syntax (name := skip) "skip" : tactic
syntax (name := done) "done" : tactic
syntax (name := «show») "show " term : tactic
syntax (name := paren) "(" withoutPosition(tacticSeq) ")" : tactic
syntax (name := focus) "focus " tacticSeq : tactic
syntax (name := allGoals) "all_goals " tacticSeq : tactic
syntax (name := first) "first " withPosition(many1(ppDedent(ppLine) colGe "| " tacticSeq)) : tactic
syntax (name := subst) "subst" many1(ppSpace colGt term:1024) : tactic
syntax (name := revert) "revert" many1(ppSpace colGt term:1024) : tactic
syntax (name := clear) "clear" many1(ppSpace colGt term:1024) : tactic
syntax casesTarget := optional(atomic(Lean.binderIdent " : ")) term
syntax inductionAltLHS := "| " orelse(optional("@") ident, hole) many(colGt Lean.binderIdent)
syntax inductionAlt :=
  ppDedent(ppLine) many1(inductionAltLHS) " => " orelse(hole, orelse(syntheticHole, tacticSeq))
syntax inductionAlts := " with" optional(ppSpace colGt tactic) withPosition(many1(colGe inductionAlt))
syntax (name := cases) "cases " sepBy1(casesTarget, ", ") optional(" using " ident)
  optional(inductionAlts) : tactic
syntax (name := induction) "induction " sepBy1(term, ", ") optional(" using " ident)
  optional("generalizing" many1(ppSpace colGt term:1024)) optional(inductionAlts) : tactic
end Lean.Parser.Tactic

namespace Lean
/-- `· tacs` focuses on the main goal. -/
syntax cdotTk := orelse("· ", ". ")
syntax (name := cdot) cdotTk tacticSeqIndentGt : tactic
end Lean

/-! ## More tactics: `exfalso`, `have`, `obtain`, `rcases`, `rewrite`, `rw`, `try`

Added for logic-v2 (the tactics a person writes on such goals).  Same method
as above: each declaration carries the kind name of Lean 4.35.0's own syntax,
and each `@[macro]` the exact name of Lean's own compiled macro, so with
`interpreter.prefer_native` Lean's native parsers and expansions run and the
text here only has to typecheck.  `exfalso` ↦ `refine @False.elim _ ?_`;
`have d` ↦ `refine_lift have d; ?_` ↦ `focus (refine no_implicit_lambda% …;
rotate_right)`; `rw [rs]` ↦ `rewrite [rs]; try (with_reducible rfl)`, whose
`rfl` has kind `tacticRfl`: that kind gets an unused token (`rw_rfl%`, with
`prefer_native` off so the text `rfl` stays `applyRfl`'s) and Lean's own
`tacticRfl` macro.  `obtain`/`rcases` have built-in elaborators; their
pattern category needs `Lean.Parser.Category` to exist. -/

namespace Lean.Parser
/-- `declare_syntax_cat` declares a constant of this type. -/
structure Category : Type
end Lean.Parser

namespace Lean.Parser.Tactic
syntax (name := tacticExfalso) "exfalso" : tactic
@[macro tacticExfalso] def «_aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticExfalso_1» : Lean.Macro :=
  Lean.Macro.unsupported'
syntax (name := rotateRight) "rotate_right" optional(ppSpace num) : tactic
syntax (name := tacticRefine_lift_) "refine_lift " term : tactic
@[macro tacticRefine_lift_] def «_aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticRefine_lift__1» :
    Lean.Macro :=
  Lean.Macro.unsupported'
syntax (name := tacticHave__) "have " term : tactic
@[macro tacticHave__] def «_aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticHave___1» : Lean.Macro :=
  Lean.Macro.unsupported'
syntax optConfig := many(colGt term:1024)
syntax rwRule := optional("← ") term
syntax rwRuleSeq := " [" withoutPosition(sepBy(rwRule, ", ")) "]"
syntax location := " at " many(ident)
syntax (name := rewriteSeq) "rewrite" optConfig rwRuleSeq optional(location) : tactic
syntax (name := withReducible) "with_reducible " tacticSeq : tactic
syntax (name := tacticTry_) "try " tacticSeq : tactic
@[macro tacticTry_] def «_aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticTry__1» : Lean.Macro :=
  Lean.Macro.unsupported'
set_option interpreter.prefer_native false in
syntax (name := tacticRfl) "rw_rfl%" : tactic
@[macro tacticRfl] def «_aux_Init_Tactics___macroRules_Lean_Parser_Tactic_tacticRfl_1» : Lean.Macro :=
  Lean.Macro.unsupported'
syntax (name := rwSeq) "rw " optConfig rwRuleSeq optional(location) : tactic
@[macro rwSeq] def «_aux_Init_Tactics___macroRules_Lean_Parser_Tactic_rwSeq_1» : Lean.Macro :=
  Lean.Macro.unsupported'
declare_syntax_cat rcasesPat
syntax rcasesPatMed := sepBy1(rcasesPat, " | ")
syntax rcasesPatLo := rcasesPatMed optional(" : " term)
syntax (name := rcasesPat.one) ident : rcasesPat
syntax (name := rcasesPat.ignore) "_" : rcasesPat
syntax (name := rcasesPat.clear) "-" : rcasesPat
syntax (name := rcasesPat.explicit) "@" rcasesPat : rcasesPat
syntax (name := rcasesPat.tuple) "⟨" sepBy(rcasesPatLo, ", ") "⟩" : rcasesPat
syntax (name := rcasesPat.paren) "(" rcasesPatLo ")" : rcasesPat
syntax (name := rcases) "rcases" sepBy(casesTarget, ", ") optional(" with " rcasesPatLo) : tactic
syntax (name := obtain) "obtain" optional(ppSpace rcasesPatMed) optional(" : " term)
  optional(" := " sepBy1(term, ", ")) : tactic
end Lean.Parser.Tactic
