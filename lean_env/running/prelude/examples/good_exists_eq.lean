
-- Quantifiers and equality (append after Logic.lean).
theorem exists_intro_ex : ∃ n : Nat, n = 0 := ⟨0, rfl⟩
theorem exists_swap (α : Type) (p : α → α → Prop) (h : ∃ x y, p x y) : ∃ y x, p x y :=
  Exists.elim h (fun x hx => Exists.elim hx (fun y hy => ⟨y, x, hy⟩))
theorem exists_match (α : Type) (p q : α → Prop) (h : ∃ x, p x ∧ q x) : ∃ x, q x :=
  match h with
  | ⟨x, hx⟩ => ⟨x, hx.2⟩
theorem not_forall_not (α : Type) (p : α → Prop) (h : ∃ x, p x) : ¬ ∀ x, ¬ p x :=
  fun hn => Exists.elim h (fun x hx => hn x hx)
theorem eq_symm_trans (α : Type) (a b c : α) (h₁ : a = b) (h₂ : b = c) : c = a :=
  Eq.symm (Eq.trans h₁ h₂)
theorem eq_subst_ex (α : Type) (p : α → Prop) (a b : α) (h : a = b) (ha : p a) : p b := h ▸ ha
theorem congr_ex (f : Nat → Nat) (a b : Nat) (h : a = b) : f a = f b := congrArg f h
theorem succ_ne_zero' : Nat.succ 0 ≠ 0 := fun h => Nat.noConfusion h
