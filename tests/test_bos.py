"""A chat template of a Llama-style tokenizer writes the BOS token into the prompt text; tokenizing
that text with special tokens adds a second BOS, a prefix the model never saw in training.
Both engines must send exactly one. The tokenizer is the tiny model's, made to add a BOS the way
Llama's (DeepSeek-Prover-V2's) does; vLLM's engine is replaced by a recorder of its inputs."""
from types import SimpleNamespace

import pytest

from protocol.policy import SamplingParams


@pytest.fixture(scope="module")
def bos_tokenizer():
    from tokenizers.processors import TemplateProcessing

    from prover.tiny_model import train_tokenizer

    tok = train_tokenizer()
    tok._tokenizer.post_processor = TemplateProcessing(single=f"{tok.bos_token} $A",
                                                       special_tokens=[(tok.bos_token, tok.bos_token_id)])
    assert tok("x")["input_ids"][0] == tok.bos_token_id  # it adds a BOS, as Llama's does
    return tok


class RecordingLLM:
    """Stands in for vllm.LLM: records what generate receives, answers with empty completions."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.inputs = None

    def get_tokenizer(self):
        return self.tokenizer

    def generate(self, inputs, params, use_tqdm=False):
        self.inputs = list(inputs)
        n = params[0].n if isinstance(params, list) else params.n
        done = SimpleNamespace(text="", finish_reason="stop", token_ids=[], cumulative_logprob=0.0)
        return [SimpleNamespace(outputs=[done] * n) for _ in self.inputs]


def _ids(tok, item):
    return item["prompt_token_ids"] if isinstance(item, dict) else tok(item)["input_ids"]


def test_vllm_sends_one_bos_for_a_templated_prompt(bos_tokenizer):
    pytest.importorskip("vllm")
    from prover.policies.vllm import VLLMPolicy

    tok = bos_tokenizer
    llm = RecordingLLM(tok)
    templated = tok.bos_token + "User: prove it\n\nAssistant: "
    assert tok(templated)["input_ids"][:2] == [tok.bos_token_id] * 2  # the bug: text tokenized with specials
    VLLMPolicy(llm).generate([templated, "Complete the following Lean 4 code"], SamplingParams(n=2, seeds=((1, 2), (3, 4))))
    sent = [_ids(tok, x) for x in llm.inputs]
    assert [ids.count(tok.bos_token_id) for ids in sent] == [1, 1, 1, 1]
    assert all(ids[0] == tok.bos_token_id for ids in sent)
    assert isinstance(llm.inputs[2], str)  # a prompt without the BOS text: vLLM adds the one BOS itself


def test_hf_encodes_one_bos_for_a_templated_prompt(bos_tokenizer, tmp_path):
    from prover.models import load_hf
    from prover.policies.hf import HFPolicy
    from prover.tiny_model import build_tiny_model

    model, _, _ = load_hf(str(build_tiny_model(tmp_path / "m")))
    policy = HFPolicy(model, bos_tokenizer)
    ids = policy._encode([bos_tokenizer.bos_token + "User: prove it"])["input_ids"][0].tolist()
    assert ids.count(bos_tokenizer.bos_token_id) == 1 and ids[0] == bos_tokenizer.bos_token_id
