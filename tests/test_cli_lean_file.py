"""`prover check FILE.lean --theorem NAME` reads the file up to the end of NAME's declaration
(pure text, no Lean): what follows is not part of NAME's proof."""
from prover.lean_file import declaration_end, file_task

FILE = """prelude
import ProverLogic

theorem helper (p : Prop) (hp : p) : p := hp

/-- the one we check -/
theorem target (p q : Prop) (hp : p) (hq : q) : And p q :=
  And.intro
    (helper p hp)
    hq
-- a comment at column 0 does not end it
  -- nor an indented one

@[simp] theorem later (p : Prop) : p := sorry
"""


def test_the_declaration_ends_before_the_next_command(tmp_path):
    f = tmp_path / "t.lean"
    f.write_text(FILE)
    ft = file_task(f, "target")
    assert ft.task.code.startswith("theorem target")
    assert "hq\n" in ft.task.code and "later" not in ft.task.code
    assert ft.task.header.endswith("/-- the one we check -/\n") and "helper" in ft.task.header
    assert ft.line_offset == FILE[: FILE.index("theorem target")].count("\n")
    with_env = file_task(f, "target", env="logic")
    assert with_env.task.code.startswith("prelude") and "later" not in with_env.task.code
    assert (with_env.line_offset, with_env.column_offset) == (0, 0)


def test_commands_that_end_a_declaration():
    for nxt in ("theorem b : True := trivial", "lemma b : True := trivial", "#print axioms a", "end Foo",
                "namespace Foo", "open Foo", "private theorem b : True := trivial", "example : True := trivial"):
        text = f"theorem a : True :=\n  trivial\n{nxt}\n"
        assert text[: declaration_end(text, text.index(":="))] == "theorem a : True :=\n  trivial\n", nxt
    text = "theorem a : True :=\n  trivial\ntheorems_are_fun\n"  # a word that only starts like a command
    assert declaration_end(text, text.index(":=")) == len(text)
