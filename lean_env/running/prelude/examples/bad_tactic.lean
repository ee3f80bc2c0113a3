
-- Wrong tactic proof: goal left open.
theorem bad_tac (p q : Prop) (hp : p) : p ∧ q := by
  constructor
  exact hp
