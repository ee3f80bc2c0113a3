"""pass@k: Chen et al.'s unbiased estimator, and how search records are read."""
from fractions import Fraction
from math import comb

import pytest

from search.metrics import mean_pass_at_k, pass_at_k, pass_at_k_curve, record_pass_at_k
from search.records import Attempt, ProblemRecord


def exact(n, c, k):
    return 1 - Fraction(comb(n - c, k), comb(n, k))


@pytest.mark.parametrize("n", [1, 2, 5, 8, 16, 32])
def test_matches_the_exact_binomial_formula(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(float(exact(n, c, k)), abs=1e-12)


def test_known_values():
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(10, 10, 1) == 1.0
    assert pass_at_k(10, 1, 1) == pytest.approx(0.1)
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)  # pass@1 = c/n
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    assert pass_at_k(5, 2, 5) == 1.0  # every draw includes a correct sample


def test_stable_for_large_n():
    # 1 - C(999, 100)/C(1000, 100) = 100/1000 exactly; naive comb() ratios overflow floats here
    assert pass_at_k(1000, 1, 100) == pytest.approx(0.1, abs=1e-12)
    assert pass_at_k(5000, 7, 1) == pytest.approx(7 / 5000, abs=1e-12)
    assert 0.0 <= pass_at_k(10000, 1, 5000) <= 1.0


def test_rejects_impossible_counts():
    with pytest.raises(ValueError):
        pass_at_k(5, 6, 1)
    with pytest.raises(ValueError):
        pass_at_k(5, 1, 6)
    with pytest.raises(ValueError):
        pass_at_k(5, 1, 0)


def rec(oks, budget, stopped_early=False):
    attempts = [Attempt(completion="", verdict={"ok": ok, "status": "proved" if ok else "rejected"}) for ok in oks]
    return ProblemRecord(name="t", budget=budget, attempts=attempts, stopped_early=stopped_early)


def test_full_budget_records_use_chen():
    r = rec([False, True, False, True], budget=4)
    assert (r.n, r.c, r.solved, r.first_success_index) == (4, 2, True, 1)
    assert record_pass_at_k(r, 1) == pytest.approx(0.5)
    assert record_pass_at_k(r, 3) == 1.0


def test_early_stopped_records_use_the_first_success_index():
    # stopped at its first proof, sample #3 (index 2) of a budget of 8
    r = rec([False, False, True], budget=8, stopped_early=True)
    assert [record_pass_at_k(r, k) for k in (1, 2, 3, 4, 8)] == [0.0, 0.0, 1.0, 1.0, 1.0]
    assert record_pass_at_k(r, 9) is None


def test_curve_and_mean():
    solved = rec([True], budget=4, stopped_early=True)
    unsolved = rec([False] * 4, budget=4)
    assert mean_pass_at_k([solved, unsolved], 1) == 0.5
    assert pass_at_k_curve([solved, unsolved]) == {1: 0.5, 2: 0.5, 3: 0.5, 4: 0.5}
    assert pass_at_k_curve([]) == {}


def test_record_round_trips_through_json():
    import json

    r = rec([False, True], budget=2)
    d = json.loads(json.dumps(r.to_dict()))
    assert d["n"] == 2 and d["c"] == 1 and d["solved"] and d["first_success_index"] == 1
    back = ProblemRecord.from_dict(d)
    assert back.to_dict() == r.to_dict()
