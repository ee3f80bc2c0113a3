
-- Tactic proofs (append after Logic.lean).
theorem t_exact (p : Prop) (h : p) : p := by exact h
theorem t_intro (p q : Prop) : p → q → p := by
  intro hp _
  exact hp
theorem t_constructor (p q : Prop) (hp : p) (hq : q) : p ∧ q := by
  constructor
  · exact hp
  · exact hq
theorem t_apply (p q : Prop) (hpq : p → q) (hp : p) : q := by apply hpq; exact hp
theorem t_assumption (p : Prop) (hp : p) : p := by assumption
theorem t_cases_and (p q : Prop) (h : p ∧ q) : q ∧ p := by
  cases h with
  | intro a b => exact ⟨b, a⟩
theorem t_cases_or (p q : Prop) (h : p ∨ q) : q ∨ p := by
  cases h with
  | inl hp => right; exact hp
  | inr hq => left; exact hq
theorem t_rfl : Nat.add 2 2 = 4 := by rfl
theorem t_contradiction (p : Prop) (h : False) : p := by contradiction
theorem t_induction (n : Nat) : Nat.add 0 n = n := by
  induction n with
  | zero => rfl
  | succ k ih => exact congrArg Nat.succ ih
theorem t_subst (α : Type) (p : α → Prop) (a b : α) (h : a = b) (ha : p a) : p b := by
  subst h
  exact ha
