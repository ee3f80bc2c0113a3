
-- Wrong: proves q from p (elaborator "Type mismatch").
theorem bad_mp (p q : Prop) (hp : p) : q := hp
