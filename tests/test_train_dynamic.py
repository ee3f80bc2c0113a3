"""DAPO dynamic sampling: which groups are uniform, and what dropping does to the batch."""
import math

import torch

from prover.train.dynamic_sampling import drop_rows, keep_mask, uniform_groups


def test_uniform_groups_all_zero_all_one_and_mixed():
    rewards = torch.tensor([0., 0., 0., 0.,   # all failed: uniform
                            1., 1., 1., 1.,   # all proved: uniform
                            0., 1., 0., 0.,   # mixed: signal
                            1., 1., 0., 1.])  # mixed
    assert uniform_groups(rewards, 4).tolist() == [True, True, False, False]
    assert keep_mask(rewards, 4).tolist() == [False] * 8 + [True] * 8


def test_nan_rewards_are_ignored_and_multiple_functions_must_all_agree():
    nan = math.nan
    rewards = torch.tensor([[0., nan], [0., nan],   # lean column uniform, other unscored
                            [1., 0.], [1., 1.],      # lean uniform, format reward differs: signal
                            [nan, nan], [nan, nan]])
    assert uniform_groups(rewards, 2).tolist() == [True, False, True]


def test_drop_rows_zeroes_only_uniform_groups_loss_mask():
    batch = {"completion_mask": torch.ones(4, 3, dtype=torch.long), "advantages": torch.zeros(4)}
    keep = keep_mask(torch.tensor([0., 0., 1., 0.]), 2)
    drop_rows(batch, keep)
    assert batch["completion_mask"].tolist() == [[0, 0, 0], [0, 0, 0], [1, 1, 1], [1, 1, 1]]
    assert batch["completion_mask"].dtype == torch.long
