"""The HF policy caps sequences per generate call by a KV-cache estimate, so the plain
`prover eval --engine hf` of a 7B prover does not run out of memory on an 80 GB GPU; a prompt's
samples are then split across calls, and seeded samples do not change with the split."""
from types import SimpleNamespace

from prover.policies.hf import HFPolicy, batch_cap, kv_bytes_per_token
from protocol.policy import SamplingParams

GiB = 2**30
# DeepSeek-Prover-V1.5 (7B, Llama-like): 30 layers, 32 heads of 128, no grouped-query attention
DEEPSEEK_V15 = SimpleNamespace(num_hidden_layers=30, num_attention_heads=32, hidden_size=4096)
# Qwen3-8B (Goedel-Prover-V2-8B, Kimina-Prover-Distill-8B): 36 layers, 8 KV heads of 128
QWEN3_8B = SimpleNamespace(num_hidden_layers=36, num_attention_heads=32, num_key_value_heads=8, head_dim=128,
                           hidden_size=4096)


def test_the_kv_estimate_and_the_cap_for_published_provers():
    assert kv_bytes_per_token(DEEPSEEK_V15, 2) == 491_520  # about 0.47 MiB per token in bf16
    free = 66 * GiB  # an 80 GB GPU after 14 GB of weights
    tokens = 500 + 2048  # prompt + DeepSeek-V1.5's budget
    assert 64 * kv_bytes_per_token(DEEPSEEK_V15, 2) * tokens > free  # the old fixed batch of 64 does not fit
    cap = batch_cap(DEEPSEEK_V15, free, tokens, 2, 64)
    assert cap == 45 and cap * kv_bytes_per_token(DEEPSEEK_V15, 2) * tokens <= 0.8 * free
    assert batch_cap(QWEN3_8B, 60 * GiB, 500 + 40960, 2, 64) == 8  # Goedel-V2's 40K budget
    assert batch_cap(DEEPSEEK_V15, 10 * GiB, 10**6, 2, 64) == 1  # never zero
    assert batch_cap(QWEN3_8B, 10**15, 100, 2, 64) == 64  # never above max_batch


def test_samples_split_across_calls_are_the_samples_of_one_call(tmp_path, monkeypatch):
    from prover.models import load_hf
    from prover.tiny_model import build_tiny_model

    model, tok, _ = load_hf(str(build_tiny_model(tmp_path / "m")))
    policy = HFPolicy(model, tok, max_batch=64)
    params = SamplingParams(n=5, max_tokens=6, temperature=1.0, seeds=((11, 12, 13, 14, 15), (21, 22, 23, 24, 25)))
    prompts = ["theorem a (p : Prop) (hp : p) : p :=", "theorem b (p q : Prop) (h : p ∧ q) : q :="]
    whole = policy.generate(prompts, params)
    calls = []
    original = policy._generate_chunk

    def recording(chunk, p, n_gen, seeds=None):
        calls.append(len(chunk) * n_gen)
        return original(chunk, p, n_gen, seeds)

    monkeypatch.setattr(policy, "_batch_cap", lambda prompts, max_tokens: 2)
    monkeypatch.setattr(policy, "_generate_chunk", recording)
    split = policy.generate(prompts, params)
    assert max(calls) == 2 and sum(calls) == 10
    assert [[c.text for c in row] for row in split] == [[c.text for c in row] for row in whole]
