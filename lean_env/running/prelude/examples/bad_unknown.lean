
-- Wrong: unknown identifier, and classical reasoning is not available.
theorem bad_em (p : Prop) : p ∨ ¬p := Classical.em p
