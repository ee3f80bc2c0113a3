
-- Wrong: components in the wrong order.
theorem bad_and_swap (p q : Prop) (h : p ∧ q) : q ∧ p := ⟨h.1, h.2⟩
