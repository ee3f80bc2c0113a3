
-- Very slow but correct rfl check: about 65 s and 1 GB on the dev machine.
def uadd : Nat → Nat → Nat
  | n, Nat.zero => n
  | n, Nat.succ m => Nat.succ (uadd n m)
def umul : Nat → Nat → Nat
  | _, Nat.zero => Nat.zero
  | n, Nat.succ m => uadd (umul n m) n
def upred : Nat → Nat
  | Nat.zero => Nat.zero
  | Nat.succ n => n
def usub : Nat → Nat → Nat
  | n, Nat.zero => n
  | n, Nat.succ m => upred (usub n m)
set_option maxRecDepth 1000000 in
theorem slow2 : usub (umul 200 200) (umul 200 200) = 0 := rfl
