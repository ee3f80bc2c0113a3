
-- Uses sorry: Lean warns "declaration uses `sorry`", `#print axioms` lists sorryAx.
theorem with_sorry (p q : Prop) (h : p) : p ∧ q := ⟨h, sorry⟩
#print axioms with_sorry
