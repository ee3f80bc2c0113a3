"""pass@k, the one implementation (search, evaluation and reports all call it).

Unbiased estimator (Chen et al. 2021, "Evaluating Large Language Models Trained on Code"):
with n samples of which c are correct, pass@k = 1 - C(n-c, k) / C(n, k), computed as a product
of ratios so it stays exact in floating point for any n.

A search that stops at its first proof has not drawn a fixed number of samples, so the formula
above would be biased for it. For such records the estimate is the plain indicator "one of the
first k samples was a proof" (first_success_index < k), which is unbiased for every k up to the
budget because samples are i.i.d. in the order they were drawn.
"""
from __future__ import annotations

from typing import Iterable, Optional, Sequence


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn without replacement from n (c correct)
    is correct."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if k < 1 or k > n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
    if n - c < k:
        return 1.0
    prob_all_wrong = 1.0
    for i in range(n - c + 1, n + 1):  # C(n-c, k)/C(n, k) = prod_{i=n-c+1}^{n} (1 - k/i)
        prob_all_wrong *= 1.0 - k / i
    return 1.0 - prob_all_wrong


def record_pass_at_k(record, k: int) -> Optional[float]:
    """pass@k of one search record (anything with n, c, budget, stopped_early, first_success_index);
    None when the record cannot say (k beyond its samples and it did not stop early)."""
    if record.stopped_early:
        if k > max(record.budget, record.n):
            return None
        return 1.0 if record.first_success_index is not None and record.first_success_index < k else 0.0
    if record.n == 0 or k > record.n:
        return None
    return pass_at_k(record.n, record.c, k)


def mean_pass_at_k(records: Iterable, k: int) -> Optional[float]:
    vals = [record_pass_at_k(r, k) for r in records]
    if not vals or any(v is None for v in vals):
        return None
    return sum(vals) / len(vals)  # type: ignore[arg-type]


def pass_at_k_curve(records: Sequence, ks: Optional[Iterable[int]] = None) -> dict[int, float]:
    """{k: mean pass@k} for every k (default 1..budget) that all records can answer."""
    records = list(records)
    if not records:
        return {}
    if ks is None:
        top = max(max(r.budget, r.n) for r in records)
        ks = range(1, top + 1)
    curve = {}
    for k in ks:
        v = mean_pass_at_k(records, k)
        if v is not None:
            curve[k] = v
    return curve


def bootstrap_interval(values: Sequence[float], confidence: float = 0.95, resamples: int = 2000,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of per-problem values (e.g. each problem's
    pass@k or solved 0/1): problems are resampled with replacement, so the interval says how
    much the mean would move on another draw of problems. Seeded: the same values give the same
    interval on every machine."""
    import random

    vals = [float(v) for v in values]
    if not vals:
        raise ValueError("bootstrap_interval needs at least one value")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    rng = random.Random(seed)
    n = len(vals)
    means = sorted(sum(vals[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    alpha = (1 - confidence) / 2
    lo = means[min(resamples - 1, int(alpha * resamples))]
    hi = means[max(0, min(resamples - 1, int((1 - alpha) * resamples) - 1))]
    return lo, hi


def paired_bootstrap_difference(a: Sequence[float], b: Sequence[float], confidence: float = 0.95,
                                resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(a) - mean(b) for two methods on the same problems
    (a[i] and b[i] belong to problem i): resampling problems keeps the pairs, so the interval
    reflects how the methods differ, not how hard the problems are."""
    if len(a) != len(b):
        raise ValueError(f"paired values need the same problems: {len(a)} vs {len(b)}")
    return bootstrap_interval([x - y for x, y in zip(a, b)], confidence, resamples, seed)
