"""Did a run learn anything? A check of the weights and the trainer's log after training.

Why: GRPO from a model that never solves a train theorem gets reward 0 in every group, so every
advantage is 0, the loss is 0 and the weights end byte-identical to the start, yet the run used
to end with "model saved" as if it had trained. Here the weights are fingerprinted before and
after (a sum and a sum of squares per trainable tensor: no copy of the model), and the log is
read for the reason; the runner prints the finding and what to change.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional


def fingerprint(model: Any) -> list[tuple[float, float]]:
    """(sum, sum of squares) of every trainable tensor, in float64."""
    import torch

    with torch.no_grad():
        return [(float(p.detach().double().sum()), float(p.detach().double().pow(2).sum()))
                for p in model.parameters() if p.requires_grad]


def _values(history: Iterable[Mapping[str, Any]], key: str) -> list[float]:
    return [float(h[key]) for h in history if isinstance(h.get(key), (int, float))]


def no_signal_reason(stage: str, history: list[Mapping[str, Any]], unchanged: bool,
                     steps: int) -> Optional[str]:
    """A message when the run had no learning signal (None when it did): no optimizer step ran,
    the weights did not change over `steps` steps, or every logged gradient norm was 0 (not the
    loss: a GRPO loss is ~0 on policy even when its gradient is not)."""
    losses, grads = _values(history, "loss"), _values(history, "grad_norm")
    flat = bool(grads) and all(v == 0 for v in grads)
    if steps <= 0:
        return (f"{stage}: no optimizer step ran, so the saved model is the start model. To learn: give it "
                "at least one full batch of rows (per_device_train_batch_size / num_generations prompts), "
                "or raise max_steps / num_train_epochs")
    if not (unchanged or flat):
        return None
    rewards, stds = _values(history, "reward"), _values(history, "reward_std")
    zero_std = _values(history, "frac_reward_zero_std")
    seen = []
    if unchanged:
        seen.append(f"the weights are unchanged after {steps} steps")
    if losses and all(v == 0 for v in losses):
        seen.append("every logged loss is 0")
    if grads and all(v == 0 for v in grads):
        seen.append("every gradient norm is 0")
    if rewards:
        seen.append(f"mean reward {sum(rewards) / len(rewards):.3f}")
    if (zero_std and all(v == 1 for v in zero_std)) or (stds and all(v == 0 for v in stds)):
        seen.append("every group of samples got one reward (all failed or all proved: zero advantage)")
    if stage in ("grpo", "rloo") or rewards:
        todo = ("start from a stronger model (longer SFT, more data: dataset logic-v2-train:N), train on "
                "theorems at the frontier (pass rate neither 0 nor 1: filter them first), or sample more "
                "per prompt (num_generations)")
    elif stage in ("dpo", "kto"):
        todo = "check that the preference data has both verified and failed attempts per theorem"
    else:
        todo = "check the learning rate (0 or too small?), that the data has completions, and max_steps"
    return f"{stage}: no step had a learning signal ({'; '.join(seen)}). To learn: {todo}."
