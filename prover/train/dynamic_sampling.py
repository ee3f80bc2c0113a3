"""DAPO's dynamic sampling on top of TRL's GRPOTrainer.

A group whose completions all got the same reward (all proved, or all failed) has zero
advantage for every member: it teaches nothing, yet under a token-normalised loss it still
counts in the normaliser (diluting the groups that do carry signal) and under a KL penalty it
still pulls toward the reference. DAPO drops such groups and samples more prompts until the
batch is full. TRL 1.16 has no hook for either, so:

- `GRPOTrainer._calculate_rewards` is wrapped to remember the gathered rewards of the batch;
- `GRPOTrainer._generate_and_score_completions` is wrapped to zero the `completion_mask` of
  every row of a uniform group (the mask every TRL loss multiplies by), and to recount
  `num_items_in_batch` from the new mask.

Zeroing the mask rather than deleting rows keeps tensor shapes, so TRL's split of a
generation batch into `steps_per_generation` micro-batches and multi-process slicing work
unchanged. With `refills: N` (DAPO's refill, prover.train.refill; the config's
`dynamic_sampling_refills`) up to N extra batches of fresh prompts are generated first and their
informative groups take the uniform groups' places; what is still uniform after that is dropped
as above. Effect by loss type: `dapo`/`bnpo`/`cispo` normalise by the kept tokens, so the
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

    def __init__(self, *args: Any, dynamic_sampling: bool = True, drop_negatives: float = 0.0, refills: int = 0,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.dynamic_sampling = dynamic_sampling
        self.refills = refills  # DAPO's refill: extra generation rounds a batch may take (prover.train.refill)
        self._drawer: Any = None
        self._refill_warned = False
        self.drop_negatives = drop_negatives
        self.negatives_seen = 0
        self.negatives_dropped = 0
        self._negatives_rng = torch.Generator().manual_seed(int(self.args.seed))
        self._batch_rewards: torch.Tensor | None = None
        self.groups_seen = 0
        self.groups_dropped = 0
        self.refill_rounds = 0

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        self._batch_rewards = rewards  # gathered over processes: whole groups
        return rewards

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        rewards, self._batch_rewards = self._batch_rewards, None
        if not self.model.training:
            return output
        if self.dynamic_sampling and self.refills and rewards is not None:
            output, rewards = self._refill(output, rewards)
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

    def _refill(self, output: dict, rewards: torch.Tensor) -> tuple[dict, torch.Tensor]:
        """Up to `refills` extra batches of fresh prompts, generated and scored like the first on
        every process in step (the decision to go on is taken on the gathered rewards, the same
        everywhere); each process swaps their informative groups into its uniform groups' slots."""
        from prover.train.refill import PromptDrawer, merge_groups, swaps_for

        g = self.num_generations
        n_local = output["completion_mask"].shape[0]
        if n_local % g:
            if not self._refill_warned:
                self._refill_warned = True
                import warnings

                warnings.warn(f"dynamic_sampling_refills: a process holds {n_local} completions, not whole groups of "
                              f"{g}; refill is skipped and uniform groups are only dropped (make "
                              "per_device_train_batch_size x steps_per_generation a multiple of num_generations)")
            return output, rewards
        if self._drawer is None:
            self._drawer = PromptDrawer(self.train_dataset, int(self.args.seed) + 1)
        weights = self.reward_weights.to(rewards.device).unsqueeze(0)
        start, groups = self.accelerator.process_index * n_local, n_local // g
        pad_id = self.processing_class.pad_token_id if self.processing_class is not None else 0
        rounds = 0
        for _ in range(self.refills):
            uniform = uniform_groups(rewards * weights, g)
            if not bool(uniform.any()):
                break
            extra_inputs = self._drawer.draw(groups, self.accelerator.num_processes, self.accelerator.process_index, g)
            extra = super()._generate_and_score_completions(extra_inputs)
            extra_rewards, self._batch_rewards = self._batch_rewards, None
            extra_uniform = uniform_groups(extra_rewards * weights, g)
            first = start // g
            slots = [i for i in range(groups) if bool(uniform[first + i])]
            fresh = [i for i in range(groups) if not bool(extra_uniform[first + i])]
            swaps = swaps_for(slots, fresh)
            output = merge_groups(output, extra, swaps, g, pad_id)
            local = rewards[start:start + n_local].clone()
            for a, b in swaps:
                local[a * g:(a + 1) * g] = extra_rewards[start + b * g:start + (b + 1) * g]
            rewards = self.accelerator.gather(local)
            rounds += 1
        self.refill_rounds += rounds
        self._metrics["train"]["dynamic_sampling/refill_rounds"].append(rounds)
        return output, rewards

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
