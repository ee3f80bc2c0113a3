"""prover.train.signal: the finding that a run had no learning signal, from weights and the log."""
from prover.train.signal import fingerprint, no_signal_reason

GRPO_DEAD = [{"loss": 0.0, "grad_norm": 0.0, "reward": 0.0, "reward_std": 0.0, "frac_reward_zero_std": 1.0}] * 3
GRPO_LIVE = [{"loss": 0.0, "grad_norm": 0.4, "reward": 0.25, "reward_std": 0.3, "frac_reward_zero_std": 0.5}]


def test_unchanged_weights_or_zero_gradients_are_named_with_what_to_change():
    reason = no_signal_reason("grpo", GRPO_DEAD, unchanged=True, steps=3)
    for part in ("weights are unchanged after 3 steps", "every logged loss is 0", "every gradient norm is 0",
                 "mean reward 0.000", "zero advantage", "stronger model", "frontier", "num_generations"):
        assert part in reason, part
    assert "gradient norm" in no_signal_reason("grpo", GRPO_DEAD, unchanged=False, steps=3)
    assert "learning rate" in no_signal_reason("sft", [{"loss": 1.2, "grad_norm": 0.0}], unchanged=True, steps=5)


def test_a_zero_grpo_loss_with_a_gradient_is_a_signal():
    assert no_signal_reason("grpo", GRPO_LIVE, unchanged=False, steps=1) is None



def test_a_run_with_no_optimizer_step_says_so():
    reason = no_signal_reason("grpo", [], unchanged=True, steps=0)
    assert "no optimizer step ran" in reason and "full batch" in reason


def test_fingerprint_sees_any_change_of_a_trainable_weight():
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    before = fingerprint(model)
    assert fingerprint(model) == before
    with torch.no_grad():
        model[1].bias += 1e-6
    assert fingerprint(model) != before
