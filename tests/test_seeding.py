"""Per-sample seeds (issue 16 item 1): with SamplingParams.seeds, a completion of the HF policy
depends on its prompt and its seed alone, not on the other prompts of the call, n, or how the
call is chunked; best-of-n gives sample i of a problem the same seed in every run."""
import pytest

from prover.policies import SamplingParams
from search.base import sample_seed

A = "Complete the following Lean 4 code:\n```lean4\ntheorem foo (p : Prop) (hp : p) : p :="
B = "theorem and_swap (p q : Prop) (h : p ∧ q) : q ∧ p :="


def texts(out):
    return [[c.text for c in cs] for cs in out]


def test_a_seeded_sample_does_not_depend_on_what_shares_the_call(tiny):
    p = SamplingParams(n=3, max_tokens=12, temperature=1.0, top_p=0.95)
    alone = texts(tiny.generate([A], p.replace(seeds=((11, 12, 13),))))[0]
    assert len(set(alone)) == 3  # three different streams
    batched = texts(tiny.generate([B, A], p.replace(seeds=((5, 6, 7), (11, 12, 13)))))
    assert batched[1] == alone
    one = texts(tiny.generate([A], p.replace(n=1, seeds=((12,),))))[0]
    assert one == alone[1:2]  # n and the sample's place in the round do not matter either
    tiny.max_batch, old = 1, tiny.max_batch  # chunked one sequence at a time
    try:
        assert texts(tiny.generate([B, A], p.replace(seeds=((5, 6, 7), (11, 12, 13)))))[1] == alone
    finally:
        tiny.max_batch = old


def test_seeds_must_match_n():
    with pytest.raises(ValueError, match="n=2 seeds for each prompt"):
        SamplingParams(n=2, seeds=((1,),))
    assert "seeds" not in SamplingParams(seed=3).to_dict()  # run cards read as before


def test_sample_seeds_are_per_problem_and_index():
    s = sample_seed(0, "test", "foo", 0)
    assert s == sample_seed(0, "test", "foo", 0) and 0 <= s < 2**31
    assert len({sample_seed(0, "test", "foo", i) for i in range(100)}) == 100
    assert s not in (sample_seed(1, "test", "foo", 0), sample_seed(0, "valid", "foo", 0), sample_seed(0, "test", "bar", 0))
