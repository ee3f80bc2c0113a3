"""search.metrics' percentile bootstrap: deterministic for a seed, brackets the mean, collapses
on constant data, narrows with more problems, and the paired difference keeps the pairs."""
import pytest

from search.metrics import bootstrap_interval, paired_bootstrap_difference


def test_same_seed_same_interval_and_seed_matters():
    vals = [0.125 * (i % 9) for i in range(13)]
    assert bootstrap_interval(vals, seed=3) == bootstrap_interval(vals, seed=3)
    assert bootstrap_interval(vals, seed=3) != bootstrap_interval(vals, seed=4)


def test_interval_brackets_the_mean_within_the_data_range():
    vals = [1, 0, 0, 1, 1, 0, 1, 0, 0, 0]
    lo, hi = bootstrap_interval(vals)
    assert 0 <= lo < 0.4 < hi <= 1


def test_constant_values_give_a_point():
    assert bootstrap_interval([1.0] * 7) == (1.0, 1.0)
    assert bootstrap_interval([0] * 3) == (0.0, 0.0)


def test_more_problems_narrow_the_interval():
    small = bootstrap_interval([1, 0] * 5)
    large = bootstrap_interval([1, 0] * 200)
    assert (large[1] - large[0]) < (small[1] - small[0])
    # a normal approximation: the 95% half-width of a mean of 400 fair coins is ~0.049
    assert 0.08 < large[1] - large[0] < 0.12


def test_paired_difference():
    a = [1, 1, 1, 0, 1, 1, 0, 1]
    assert paired_bootstrap_difference(a, a) == (0.0, 0.0)
    lo, hi = paired_bootstrap_difference([1] * 20, [0] * 10 + [1] * 10)
    assert 0 < lo <= 0.5 <= hi <= 1
    with pytest.raises(ValueError, match="same problems"):
        paired_bootstrap_difference([1], [1, 0])


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="at least one"):
        bootstrap_interval([])
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_interval([1], confidence=1.5)
