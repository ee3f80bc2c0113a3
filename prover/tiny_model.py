"""A tiny causal LM built from a config, with a BPE tokenizer trained on Lean-like text: the
stand-in model for tests of policies, search and training (no hub, builds in about a second).
It writes nonsense, which is the point: tests check the machinery, the Checker judges the text."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Union

SPECIAL = ["<|endoftext|>", "<|pad|>", "<|bos|>"]

# Fixed text, so the vocabulary (and so every seeded sample) is the same on every machine.
LEAN_TEXT = """\
theorem and_swap (p q : Prop) (h : p ∧ q) : q ∧ p := ⟨h.2, h.1⟩
theorem or_swap (p q : Prop) (h : p ∨ q) : q ∨ p := Or.elim h (fun hp => Or.inr hp) (fun hq => Or.inl hq)
theorem imp_trans (p q r : Prop) (hpq : p → q) (hqr : q → r) : p → r := fun hp => hqr (hpq hp)
theorem not_not_intro (p : Prop) (hp : p) : ¬¬p := fun hn => hn hp
theorem iff_refl' (p : Prop) : p ↔ p := Iff.intro (fun h => h) (fun h => h)
theorem ex_intro (α : Type) (P : α → Prop) (a : α) (h : P a) : ∃ x, P x := ⟨a, h⟩
theorem forall_and (α : Type) (P Q : α → Prop) (h : ∀ x, P x ∧ Q x) (a : α) : P a := (h a).1
theorem eq_symm' (α : Type) (a b : α) (h : a = b) : b = a := Eq.symm h
Complete the following Lean 4 code:
```lean4
theorem foo (p : Prop) (hp : p) : p := by
  exact hp
```
intro h
  exact And.intro h.right h.left
  cases h with
  | inl hp => exact Or.inr hp
  | inr hq => exact Or.inl hq
  apply Iff.intro
  constructor
  assumption
  rfl
  simp
"""


def train_tokenizer(vocab_size: int = 384, corpus: Optional[Sequence[str]] = None):
    """A byte-level BPE tokenizer (any text round-trips) wrapped for transformers, trained on
    LEAN_TEXT or on `corpus` (the run's own training text: fewer tokens per proof)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(list(corpus) if corpus else [LEAN_TEXT] * 4, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|pad|>",
                                   bos_token="<|bos|>")


def build_tiny_model(out_dir: Union[str, Path], *, layers: int = 2, hidden: int = 64, seed: int = 0,
                     vocab_size: int = 384, corpus: Optional[Sequence[str]] = None, heads: int = 4) -> Path:
    """Write a tiny Llama model + tokenizer to out_dir (reused if already there) and return it.
    Loadable with AutoModelForCausalLM / prover.policies.load_policy(str(out_dir)). `corpus`
    fits the tokenizer (of `vocab_size`) to the text the model will be trained on."""
    out = Path(out_dir)
    if not (out / "config.json").exists():
        _build(out, layers, hidden, seed, vocab_size, corpus, heads)
    card = out / "prover.json"  # its prompt format, as `prover train` records one (prover.models)
    if not card.exists():
        card.write_text('{"prompt_format": "deepseek-v1.5"}\n', encoding="utf-8")
    return out


def _build(out: Path, layers: int, hidden: int, seed: int, vocab_size: int, corpus: Optional[Sequence[str]],
           heads: int) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = train_tokenizer(vocab_size, corpus)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
                         max_position_embeddings=2048, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                         tie_word_embeddings=True)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out)
    model.save_pretrained(out)
