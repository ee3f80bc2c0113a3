"""Policies: prompts in, n completions out (HF transformers, vLLM, or a script for tests)."""
from __future__ import annotations

from typing import Optional

from protocol.policy import Completion, GenerationStats, Policy, SamplingParams, cut_at_stop

ENGINES = ("hf", "vllm")


def load_policy(model: Optional[str] = None, backend: str = "hf", **kwargs) -> Policy:
    """The policy for `model` (hub id, local path, .gguf; None = the built-in default) on
    `backend`. Raises prover.models.ModelLoadError with what to pass when it cannot load."""
    if backend == "hf":
        from prover.policies.hf import HFPolicy

        return HFPolicy.load(model, **kwargs)
    if backend == "vllm":
        from prover.policies.vllm import VLLMPolicy

        kwargs.pop("max_batch", None)
        kwargs.pop("device", None)
        return VLLMPolicy.load(model, **kwargs)
    raise ValueError(f"unknown engine {backend!r}; choose one of {', '.join(ENGINES)}")


__all__ = ["ENGINES", "Completion", "GenerationStats", "Policy", "SamplingParams", "cut_at_stop", "load_policy"]
