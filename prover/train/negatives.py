"""Dropping a fraction of the negative samples from the GRPO loss (TRL 1.16 has no knob for it).

Why: with a binary verifier most samples of a hard statement fail, so a batch is dominated by
negative-advantage completions; pushing all of them down at once is what destabilises RL on
provers (entropy collapse, the policy forgetting how to write Lean at all). Kimina-Prover
Preview (Wang et al. 2025, arXiv:2504.11354) trains with a Kimi-k1.5-style loss and discards
part of its negative samples; its exact selection rule may differ from this one (uniform at
random, by a seeded generator). `drop_negatives: F` leaves out of the loss a random F of the samples
whose advantage is negative (their completion_mask zeroed, like dynamic sampling: shapes stay
the same); positive and zero-advantage samples are never dropped.
"""
from __future__ import annotations

from typing import Optional

import torch


def negative_keep_mask(advantages: torch.Tensor, fraction: float,
                       generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Bool per sample: keep it. round(fraction * negatives) of the negative-advantage samples,
    chosen uniformly at random by `generator`, are not kept."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"drop_negatives must be in [0, 1), got {fraction}")
    keep = torch.ones(advantages.shape[0], dtype=torch.bool)
    negative = (advantages.detach().cpu() < 0).nonzero(as_tuple=True)[0]
    n_drop = int(round(fraction * negative.numel()))
    if n_drop:
        order = torch.randperm(negative.numel(), generator=generator)[:n_drop]
        keep[negative[order]] = False
    return keep
