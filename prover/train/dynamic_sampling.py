"""DAPO's dynamic sampling on top of TRL's GRPOTrainer.

A group whose completions all got the same reward (all proved, or all failed) has zero
advantage for every member: it teaches nothing, yet under a token-normalised loss it still
counts in the normaliser (diluting the groups that do carry signal) and under a KL penalty it
still pulls toward the reference. DAPO drops such groups and samples more prompts until the
batch is full. TRL 1.16 has no hook for refilling, so we do the drop and not the refill:

- `GRPOTrainer._calculate_rewards` is wrapped to remember the gathered rewards of the batch;
- `GRPOTrainer._generate_and_score_completions` is wrapped to zero the `completion_mask` of
  every row of a uniform group (the mask every TRL loss multiplies by), and to recount
  `num_items_in_batch` from the new mask.

Zeroing the mask rather than deleting rows keeps tensor shapes, so TRL's split of a
generation batch into `steps_per_generation` micro-batches and multi-process slicing work
unchanged. Effect by loss type: `dapo`/`bnpo`/`cispo` normalise by the kept tokens, so the
informative groups get the full step (DAPO's semantics); `grpo`/`dr_grpo` average over all
rows of the batch, so dropped rows contribute exactly zero (no KL) and the step is scaled by
the kept fraction. When every group is uniform the step has no gradient at all.

The same trainer also leaves out a fraction of the negative-advantage samples when asked
(`drop_negatives`, prover.train.negatives), by the same mask.
"""
from __future__ import annotations

from typing import Any

import torch
from trl import GRPOTrainer


def uniform_groups(rewards: torch.Tensor, num_generations: int) -> torch.Tensor:
    """Bool per group: all its (non-NaN) rewards are equal. `rewards` is (B*G,) or (B*G, F)
    with one column per reward function (already weighted or not: equality is what matters)."""
    if rewards.dim() == 1:
        rewards = rewards.unsqueeze(1)
    grouped = rewards.reshape(-1, num_generations, rewards.shape[-1])
    nan = torch.isnan(grouped)
    hi = torch.where(nan, torch.full_like(grouped, -torch.inf), grouped).amax(dim=1)
    lo = torch.where(nan, torch.full_like(grouped, torch.inf), grouped).amin(dim=1)
    same = (hi <= lo) | torch.isinf(hi)  # a column with no scored member counts as uniform
    return same.all(dim=-1)


def keep_mask(rewards: torch.Tensor, num_generations: int) -> torch.Tensor:
    """Bool per row (completion): its group is not uniform."""
    return (~uniform_groups(rewards, num_generations)).repeat_interleave(num_generations)


def drop_rows(batch: dict[str, Any], keep: torch.Tensor) -> dict[str, Any]:
    """Zero the loss mask of the rows not kept (in place) and return the batch."""
    mask = batch["completion_mask"]
    batch["completion_mask"] = mask * keep.to(mask.device, mask.dtype).unsqueeze(1)
    return batch


class DynamicSamplingGRPOTrainer(GRPOTrainer):
    """GRPOTrainer that drops uniform-reward groups from the loss (see module docstring).
    `dynamic_sampling=False` makes it behave exactly like GRPOTrainer."""

    def __init__(self, *args: Any, dynamic_sampling: bool = True, drop_negatives: float = 0.0, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.dynamic_sampling = dynamic_sampling
        self.drop_negatives = drop_negatives
        self.negatives_seen = 0
        self.negatives_dropped = 0
        self._negatives_rng = torch.Generator().manual_seed(int(self.args.seed))
        self._batch_rewards: torch.Tensor | None = None
        self.groups_seen = 0
        self.groups_dropped = 0

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        self._batch_rewards = rewards  # gathered over processes: whole groups
        return rewards

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        rewards, self._batch_rewards = self._batch_rewards, None
        if not self.model.training:
            return output
        if self.drop_negatives > 0:
            self._drop_negatives(output)
        if not self.dynamic_sampling or rewards is None:
            self._recount(output)
            return output
        weighted = rewards * self.reward_weights.to(rewards.device).unsqueeze(0)
        keep_all = keep_mask(weighted, self.num_generations)
        n_local = output["completion_mask"].shape[0]
        start = self.accelerator.process_index * n_local
        keep = keep_all[start:start + n_local]
        drop_rows(output, keep)
        self._recount(output)
        groups = keep_all.numel() // self.num_generations
        kept = int(keep_all.sum().item()) // self.num_generations
        self.groups_seen += groups
        self.groups_dropped += groups - kept
        self._metrics["train"]["dynamic_sampling/kept_group_fraction"].append(kept / max(groups, 1))
        return output

    def _recount(self, output: dict) -> None:
        """num_items_in_batch (the dapo/cispo normaliser) from the mask as it now is."""
        loss_mask = output["completion_mask"]
        if "tool_mask" in output:
            loss_mask = loss_mask * output["tool_mask"]
        output["num_items_in_batch"] = self.accelerator.gather(loss_mask.sum()).sum()

    def _drop_negatives(self, output: dict) -> None:
        from prover.train.negatives import negative_keep_mask

        advantages = output["advantages"]
        keep = negative_keep_mask(advantages, self.drop_negatives, self._negatives_rng)
        negatives = int((advantages < 0).sum().item())
        self.negatives_seen += negatives
        self.negatives_dropped += int((~keep).sum().item())
        drop_rows(output, keep)
        self._metrics["train"]["drop_negatives/dropped_fraction"].append(
            float((~keep).sum().item()) / max(negatives, 1))
