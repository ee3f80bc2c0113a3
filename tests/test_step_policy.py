"""The step policy's prompt (`state`: the main goal alone) and the renaming that widens its
training names: a prompt that shows exactly the goal the next tactic acts on, and renamed rows
that stay correct steps."""
import random
import re

import pytest

from protocol.prompts import build_prompt, get_format, state_prompt
from search.step_data import rename_locals
from search.tactic_env import resume_prompt

GOALS = ["case mp\np q : Prop\nh_p : p\nh1 : Or p q\n⊢ p → Or p q",
         "case mpr\np q : Prop\nh_p : p\nh1 : Or p q\n⊢ Or p q → p"]
ROW = {"name": "t", "formal_statement": "theorem t (p q : Prop) (h_p : p) : p ∨ q → (p ↔ p ∨ q) := by",
       "header": "", "informal_prefix": ""}


def test_state_prompt_is_the_main_goal_without_its_case_tag():
    text = state_prompt(GOALS)
    assert text == "p q : Prop\nh_p : p\nh1 : Or p q\n⊢ p → Or p q\n>>>\n"
    assert "mpr" not in text and "theorem" not in text


def test_resuming_in_the_state_format_shows_only_the_goal():
    assert get_format("state").kind == "continuation"
    assert resume_prompt(ROW, "state", " by\n  intro h1\n  constructor\n", GOALS) == state_prompt(GOALS)
    # no goals known (a whole proof asked for): the statement, as in compact
    assert build_prompt(ROW, "state").text == build_prompt(ROW, "compact").text


def _idents(text):
    return re.findall(r"[^\W\d][\w'₀-₉!?✝]*", text)


@pytest.mark.parametrize("seed", range(20))
def test_renaming_is_a_consistent_bijection_on_the_locals(seed):
    prompt = "p q : Prop\nh_p : p\nh1 h✝ : Or p q\nhpq : p → q\n⊢ Or q p\n>>>\n"
    completion = "exact Or.inr (hpq h_p)\n"
    p2, c2 = rename_locals(prompt, completion, random.Random(seed))
    mapping = {}
    for a, b in zip(_idents(prompt + completion), _idents(p2 + c2)):
        assert mapping.setdefault(a, b) == b  # the same name always becomes the same name
    assert len(set(mapping.values())) == len(mapping)  # and two names never become one
    for kept in ("Or", "Prop", "inr", "h1", "h✝", "exact"):
        assert mapping[kept] == kept
    assert any(mapping[n] != n for n in ("p", "q", "h_p", "hpq"))
    assert p2.endswith("⊢ Or " + mapping["q"] + " " + mapping["p"] + "\n>>>\n")
    assert c2 == f"exact Or.inr ({mapping['hpq']} {mapping['h_p']})\n"


def test_renaming_leaves_a_row_without_locals_alone():
    assert rename_locals("⊢ True\n>>>\n", "trivial\n", random.Random(0)) == ("⊢ True\n>>>\n", "trivial\n")
