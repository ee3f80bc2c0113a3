"""DAPO's refill: uniform groups' slots are taken by informative groups of fresh prompts. The
tensor merge is checked on its own (left-padded prompts, right-padded completions of different
widths), then a short GRPO run on the tiny SFT model and the real Lean refills a batch."""
import pytest
import torch

from prover.train.refill import PromptDrawer, merge_groups, swaps_for

PAD = 9


def batch(prompts, completions, advantages, names):
    """A generation batch as TRL lays it out: prompts left-padded, completions right-padded."""
    pw, cw = max(map(len, prompts)), max(map(len, completions))
    return {"prompt_ids": torch.tensor([[PAD] * (pw - len(p)) + p for p in prompts]),
            "prompt_mask": torch.tensor([[0] * (pw - len(p)) + [1] * len(p) for p in prompts]),
            "completion_ids": torch.tensor([c + [PAD] * (cw - len(c)) for c in completions]),
            "completion_mask": torch.tensor([[1] * len(c) + [0] * (cw - len(c)) for c in completions]),
            "old_per_token_logps": torch.tensor([[-1.0] * len(c) + [0.0] * (cw - len(c)) for c in completions]),
            "advantages": torch.tensor(advantages), "names": list(names), "num_items_in_batch": torch.tensor(7)}


def test_a_slot_takes_the_fresh_group_with_its_padding_kept_right():
    out = batch([[1], [1], [2, 2], [2, 2]], [[5], [5], [6, 6], [6]], [0., 0., .5, -.5], "aabb")
    extra = batch([[3, 3, 3], [3, 3, 3]], [[7, 7, 7], [8]], [1., -1.], "cc")
    merged = merge_groups(out, extra, swaps_for([0], [0]), 2, PAD)
    assert merged["prompt_ids"].tolist() == [[3, 3, 3], [3, 3, 3], [PAD, 2, 2], [PAD, 2, 2]]  # left-padded
    assert merged["prompt_mask"].tolist() == [[1, 1, 1], [1, 1, 1], [0, 1, 1], [0, 1, 1]]
    assert merged["completion_ids"].tolist() == [[7, 7, 7], [8, PAD, PAD], [6, 6, PAD], [6, PAD, PAD]]
    assert merged["completion_mask"].tolist() == [[1, 1, 1], [1, 0, 0], [1, 1, 0], [1, 0, 0]]
    assert merged["old_per_token_logps"][1].tolist() == [-1.0, 0.0, 0.0]
    assert merged["advantages"].tolist() == [1., -1., .5, -.5]
    assert merged["names"] == list("ccbb")
    assert merged["num_items_in_batch"] is out["num_items_in_batch"]  # recounted by the trainer
    assert out["completion_ids"].shape == (4, 2)  # the input batch is not changed


def test_no_informative_fresh_group_leaves_the_batch_as_it_was():
    out = batch([[1], [1]], [[5], [5]], [0., 0.], "aa")
    assert merge_groups(out, batch([[3], [3]], [[7], [7]], [0., 0.], "cc"), swaps_for([0], []), 2, PAD) is out


def test_every_process_draws_the_same_groups_and_takes_its_own_slice():
    data = [{"prompt": f"p{i}"} for i in range(50)]
    a, b = PromptDrawer(data, seed=3), PromptDrawer(data, seed=3)
    rank0, rank1 = a.draw(2, 2, 0, 3), b.draw(2, 2, 1, 3)
    assert len(rank0) == len(rank1) == 6
    assert [r["prompt"] for r in rank0[:3]] == [rank0[0]["prompt"]] * 3  # whole groups
    whole = PromptDrawer(data, seed=3).draw(4, 1, 0, 3)
    assert rank0 + rank1 == whole


@pytest.mark.lean
@pytest.mark.slow
def test_a_grpo_run_refills_uniform_groups(tmp_path):
    """Untrained start: most groups are uniform (all fail), so the trainer generates fresh
    prompts; every batch still holds num_generations x prompts rows and a finite loss."""
    import math

    from prover.train.config import from_dict
    from prover.train.stages.grpo import run_grpo

    scored = []
    cfg = from_dict({"model": "tiny", "tiny": {"layers": 1, "hidden": 32, "seed": 0}, "torch_threads": 1,
                     "logic": {"n": 40, "seed": 0, "levels": [1]}, "max_rows": 6, "seed": 0, "report_to": "none",
                     "output_dir": str(tmp_path), "max_steps": 1, "num_generations": 2,
                     "per_device_train_batch_size": 4, "max_completion_length": 8, "logging_steps": 1,
                     "save_steps": 100, "checker_backend": "cli", "checker_workers": 2,
                     "dynamic_sampling_refills": 2}, "grpo")
    result = run_grpo(cfg, log=lambda _: None, on_scored=lambda rows, texts, v, r: scored.append(len(texts)))
    trainer = result.trainer
    assert result.global_step == 1
    assert trainer.refill_rounds == len(scored) - 1 and 1 <= trainer.refill_rounds <= 2  # all uniform: it refilled
    assert all(n == 4 for n in scored)  # each extra round is a whole batch of fresh groups
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert losses and all(math.isfinite(x) for x in losses)
