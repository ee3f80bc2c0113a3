
-- Conjunction / disjunction / implication, term mode (append after Logic.lean).
theorem and_swap (p q : Prop) (h : p ∧ q) : q ∧ p := ⟨h.2, h.1⟩
theorem and_swap' (p q : Prop) (h : And p q) : And q p := ⟨h.right, h.left⟩
theorem or_swap (p q : Prop) (h : p ∨ q) : q ∨ p :=
  Or.elim h (fun hp => Or.inr hp) (fun hq => Or.inl hq)
theorem modus_ponens (p q : Prop) (hp : p) (hpq : p → q) : q := hpq hp
theorem contrapositive (p q : Prop) (hpq : p → q) (hnq : ¬q) : ¬p := fun hp => hnq (hpq hp)
theorem not_not_intro (p : Prop) (hp : p) : ¬¬p := fun hn => hn hp
theorem no_contradiction (p : Prop) : ¬(p ∧ ¬p) := fun h => h.2 h.1
theorem and_comm_iff (p q : Prop) : p ∧ q ↔ q ∧ p :=
  ⟨fun h => ⟨h.2, h.1⟩, fun h => ⟨h.2, h.1⟩⟩
theorem explosion (p q : Prop) (hp : p) (hnp : ¬p) : q := absurd hp hnp
theorem from_false (p : Prop) (h : False) : p := h.elim
theorem or_match (p q : Prop) (h : p ∨ q) : q ∨ p :=
  match h with
  | Or.inl hp => Or.inr hp
  | Or.inr hq => Or.inl hq
#print axioms and_swap
