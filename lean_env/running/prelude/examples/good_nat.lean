
-- Unary Nat computations checked by `rfl` (append after Logic.lean).
theorem two_add_two : Nat.add 2 2 = 4 := rfl
theorem three_mul_four : Nat.mul 3 4 = 12 := Eq.refl 12
theorem unary : Nat.add (Nat.succ (Nat.succ Nat.zero)) (Nat.succ Nat.zero)
    = Nat.succ (Nat.succ (Nat.succ Nat.zero)) := rfl
def double : Nat → Nat
  | Nat.zero => Nat.zero
  | Nat.succ n => Nat.succ (Nat.succ (double n))
theorem double_three : double 3 = 6 := rfl
theorem zero_add' (n : Nat) : Nat.add 0 n = n :=
  @Nat.rec (fun k => Nat.add 0 k = k) rfl (fun _ ih => congrArg Nat.succ ih) n
