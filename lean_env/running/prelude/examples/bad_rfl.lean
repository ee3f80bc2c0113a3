
-- Wrong arithmetic: rfl must fail.
theorem bad_sum : Nat.add 2 2 = 5 := rfl
