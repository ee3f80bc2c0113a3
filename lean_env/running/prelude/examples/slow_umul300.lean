
-- Slow but correct rfl check: about 7 s and 420 MB on the dev machine.
def uadd : Nat → Nat → Nat
  | n, Nat.zero => n
  | n, Nat.succ m => Nat.succ (uadd n m)
def umul : Nat → Nat → Nat
  | _, Nat.zero => Nat.zero
  | n, Nat.succ m => uadd (umul n m) n
set_option maxRecDepth 1000000 in
theorem slow : umul 300 300 = 90000 := rfl
