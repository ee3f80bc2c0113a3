"""logic-v2: theorems found by proof search over formulas, not by filling schemas.

Why: logic-v1 instantiates ~40 schemas with one generic proof each and shares every schema
between train and test, so it measures recall. Here random sequents (hypotheses ⊢ goal) of
intuitionistic propositional and first-order logic with equality are generated and kept only
when a bounded proof search finds a proof; difficulty is the size of the shortest proof found.
Each theorem is then written the way people write them: named hypotheses or implications,
notation (`∧ ∨ ¬ ↔ ∃ =`) or the prelude's names (`And p q`), varied binder names and order,
and distractor hypotheses. Reference proofs come in tactic style and term style (both checked
by the real Lean in tests/test_logic_v2.py).

Splits: `train` and `test-iid` share the size range SIZE_IID and are disjoint up to renaming
(the split is a hash of the canonical core sequent); `test-ood` has larger proofs (SIZE_OOD)
and proof shapes (the rule skeleton) that no train theorem has. Deterministic in (seed, VERSION).

Modules, one job each: formulas (tuples, substitution, the canonical core), sequents (random
premises and goals), proofs (proof trees and the shortest-proof search), render (Lean text of
formulas and proofs), theorems (a sequent made into a theorem with names and binders), splits
(the shipped 600-row benchmark), train_set (train theorems at generator scale, cached), steps
(goal state -> next tactic rows without Lean).

Run `python -m data.logic_v2` to rewrite data/logic/v2.jsonl.
"""
