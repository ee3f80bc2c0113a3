"""Prompt formats: the published wording, the row's parts in order, chat template vs fallback."""
import pytest

from protocol.prompts import DEEPSEEK_HEADER, FORMATS, build_prompt, get_format, informal_text, with_sorry

ROW = {
    "name": "mathd_algebra_10",
    "header": DEEPSEEK_HEADER,
    "informal_prefix": "/-- What is $1+1$? Show that it is 2.-/\n",
    "formal_statement": "theorem mathd_algebra_10 : (1 : ℕ) + 1 = 2 := by\n",
}


def test_deepseek_v15_prompt_is_an_open_fence_ending_in_the_statement():
    p = build_prompt(ROW, "deepseek-v1.5")
    assert p.messages is None
    assert p.text == ("Complete the following Lean 4 code:\n\n```lean4\n" + DEEPSEEK_HEADER
                      + ROW["informal_prefix"] + ROW["formal_statement"])


def test_deepseek_v15_cot_asks_for_comments():
    p = build_prompt(ROW, "deepseek-v1.5-cot")
    assert p.text.startswith("Complete the following Lean 4 code with explanatory comments preceding each line of code:\n\n```lean4\nimport Mathlib")
    assert p.text.endswith(":= by\n")


def test_missing_header_defaults_to_deepseeks():
    row = {k: v for k, v in ROW.items() if k != "header"}
    assert DEEPSEEK_HEADER in build_prompt(row, "deepseek-v1.5").text


def test_v2_chat_shows_the_statement_with_sorry_and_asks_for_a_plan():
    p = build_prompt(ROW, "deepseek-v2")
    assert p.messages and p.messages[-1]["role"] == "user"
    user = p.messages[-1]["content"]
    assert "```lean4\n" + DEEPSEEK_HEADER + ROW["informal_prefix"] + "theorem mathd_algebra_10 : (1 : ℕ) + 1 = 2 := by\n  sorry\n```" in user
    assert "detailed proof plan" in user
    assert build_prompt(ROW, "goedel-v2").messages == p.messages


def test_kimina_has_system_prompt_and_problem_in_words():
    p = build_prompt(ROW, "kimina")
    assert p.messages[0] == {"role": "system", "content": "You are an expert in mathematics and Lean 4."}
    user = p.messages[1]["content"]
    assert user.startswith("Think about and solve the following problem step by step in Lean 4.\n# Problem:What is $1+1$? Show that it is 2.\n# Formal statement:\n```lean4\nimport Mathlib")
    assert user.endswith(":= by\n```\n")


def test_plain_fallback_without_chat_template():
    p = build_prompt(ROW, "kimina", tokenizer=None)
    assert p.text.startswith("System: You are an expert")
    assert p.text.endswith("Assistant: ")


def test_tokenizer_chat_template_is_used():
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(WordLevel({"[UNK]": 0}, unk_token="[UNK]")))
    tok.chat_template = ("{% for m in messages %}<|{{ m.role }}|>{{ m.content }}<|end|>{% endfor %}"
                         "{% if add_generation_prompt %}<|assistant|>{% endif %}")
    p = build_prompt(ROW, "kimina", tokenizer=tok)
    assert p.text.startswith("<|system|>You are an expert in mathematics and Lean 4.<|end|><|user|>Think about")
    assert p.text.endswith("<|end|><|assistant|>")


def test_with_sorry_and_informal_text():
    assert with_sorry("theorem t : True := by\n") == "theorem t : True := by\n  sorry"
    assert with_sorry("theorem t : True :=") == "theorem t : True := sorry"
    assert informal_text("/-- Show that 1 = 1.-/\n") == "Show that 1 = 1."
    assert informal_text("") == ""


def test_unknown_format_names_the_choices():
    with pytest.raises(ValueError, match="deepseek-v1.5"):
        get_format("nope")
    assert {f.kind for f in FORMATS.values()} == {"continuation", "chat"}
