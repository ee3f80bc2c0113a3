"""DAPO's refill: replace a batch's uniform-reward groups by informative groups of fresh prompts.

DAPO (Yu et al. 2025) samples more prompts until the batch holds only groups whose rewards
differ. TRL 1.16 generates one batch per step and has no hook for more, so the trainer
(prover.train.dynamic_sampling) generates extra batches itself, in lockstep on every process,
and swaps their informative groups into the slots of the uniform ones with `merge_groups`.
Each process swaps within its own rows, so a group must not span processes: refill needs each
process's rows to be whole groups (per_device_train_batch_size x steps_per_generation a multiple
of num_generations); otherwise it is skipped with a warning and the uniform groups are dropped.

Rows of the two batches have different padded widths: prompts are left-padded and completions
(and every per-token tensor) right-padded, so the narrower side is padded before rows are taken.
"""
from __future__ import annotations

import random
from typing import Any

import torch

LEFT_PADDED = ("prompt_ids", "prompt_mask")  # TRL left-pads prompts; everything else per token is right-padded


def _pad_to(t: torch.Tensor, width: int, left: bool, value: float) -> torch.Tensor:
    missing = width - t.shape[1]
    if missing <= 0:
        return t
    pad = torch.full((t.shape[0], missing, *t.shape[2:]), value, dtype=t.dtype, device=t.device)
    return torch.cat([pad, t] if left else [t, pad], dim=1)


def merge_groups(output: dict, extra: dict, swaps: list[tuple[int, int]], num_generations: int,
                 pad_token_id: int) -> dict:
    """`output` with group slot `a` replaced by `extra`'s group `b` for each (a, b) in `swaps`
    (group indices within this process's rows). Per-row tensors and lists are merged; scalars
    (num_items_in_batch) are left for the caller to recount."""
    n = next(v.shape[0] for k, v in output.items() if k == "completion_ids")
    rows_from_extra = {}
    for a, b in swaps:
        for j in range(num_generations):
            rows_from_extra[a * num_generations + j] = b * num_generations + j
    if not rows_from_extra:
        return output
    merged = dict(output)
    mine = torch.tensor(sorted(rows_from_extra), dtype=torch.long)
    theirs = torch.tensor([rows_from_extra[i] for i in sorted(rows_from_extra)], dtype=torch.long)
    for key, value in output.items():
        other = extra.get(key)
        if isinstance(value, torch.Tensor) and value.dim() >= 1 and value.shape[0] == n and isinstance(other, torch.Tensor):
            if value.dim() >= 2 and value.shape[1] != other.shape[1]:
                width = max(value.shape[1], other.shape[1])
                fill = pad_token_id if key.endswith("_ids") else 0
                value = _pad_to(value, width, key in LEFT_PADDED, fill)
                other = _pad_to(other, width, key in LEFT_PADDED, fill)
            value = value.clone()
            value[mine.to(value.device)] = other[theirs.to(other.device)].to(value.dtype)
            merged[key] = value
        elif isinstance(value, list) and len(value) == n and isinstance(other, list):
            value = list(value)
            for a, b in zip(mine.tolist(), theirs.tolist()):
                value[a] = other[b]
            merged[key] = value
    return merged


def swaps_for(uniform_slots: list[int], informative_extra: list[int]) -> list[tuple[int, int]]:
    """Pair each uniform group slot with the next informative extra group, while both last."""
    return list(zip(uniform_slots, informative_extra))


class PromptDrawer:
    """Fresh prompts for refill, the same on every process (one seed, one call sequence): each
    draw is the global list of groups, and a process takes its own slice, as TRL's sampler lays
    groups out (process p holds groups p*k .. p*k+k-1, each repeated num_generations times)."""

    def __init__(self, dataset: Any, seed: int):
        self.dataset = dataset
        self.rng = random.Random(seed)

    def draw(self, groups_per_process: int, processes: int, process: int, num_generations: int) -> list[dict]:
        picks = [self.rng.randrange(len(self.dataset)) for _ in range(groups_per_process * processes)]
        mine = picks[process * groups_per_process:(process + 1) * groups_per_process]
        return [dict(self.dataset[i]) for i in mine for _ in range(num_generations)]
