"""Held-out pass@k in a multi-process run: every rank evaluates its share of the theorems and the
shares are combined into one number; a run whose ranks hold only a shard of the weights (ZeRO-3,
FSDP) is refused before its first step, with what to do instead."""
from types import SimpleNamespace

import pytest

from prover.train.evaluate import HeldoutResult, PassAtKCallback, combine, sharded_model_reason


def share(correct, k=4):
    return HeldoutResult(theorems=len(correct), samples=k * len(correct), pass_at={}, solved=sum(c > 0 for c in correct),
                         generation_seconds=float(len(correct)), verification_seconds=1.0, correct=list(correct))


def test_shares_combine_into_the_pass_at_k_of_all_theorems():
    whole = combine([share([4, 0, 1]), share([2, 0]), share([])], k=4)
    alone = combine([share([4, 0, 1, 2, 0])], k=4)
    assert whole.theorems == 5 and whole.solved == 3 and whole.samples == 20
    assert whole.pass_at == alone.pass_at
    assert whole.pass_at[1] == pytest.approx((1 + 0 + 0.25 + 0.5 + 0) / 5)  # mean of c/k
    assert whole.pass_at[4] == pytest.approx(3 / 5)
    assert whole.generation_seconds == 3.0  # the ranks ran at the same time: the slowest one


def trainer(fsdp=False, deepspeed_stage=None):
    plugin = SimpleNamespace(zero_stage=deepspeed_stage) if deepspeed_stage else None
    return SimpleNamespace(is_fsdp_enabled=fsdp, is_deepspeed_enabled=deepspeed_stage is not None,
                           accelerator=SimpleNamespace(state=SimpleNamespace(deepspeed_plugin=plugin)))


def test_sharded_weights_are_refused_with_what_to_do():
    assert sharded_model_reason(trainer()) is None  # DDP / one process
    assert sharded_model_reason(trainer(deepspeed_stage=2)) is None  # ZeRO-2 keeps whole weights on each rank
    assert "ZeRO-3" in sharded_model_reason(trainer(deepspeed_stage=3))
    assert "FSDP" in sharded_model_reason(trainer(fsdp=True))
    cb = PassAtKCallback([{"prompt": "p"}], reward=None, tokenizer=None, every=10)
    with pytest.raises(ValueError, match="heldout_every: 0.*prover eval --model"):
        cb.attach(trainer(fsdp=True))
    assert cb.trainer is None
    cb.attach(trainer())
    assert cb.trainer is not None
