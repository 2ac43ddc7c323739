"""What every benchmark reports alike: percentiles of a sample, by one definition."""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(values: Iterable[float], q: float) -> float:
    """The nearest-rank `q`th percentile (0 < q <= 100): the smallest of the values such that at least q%
    of them are at most it, so always one of the values measured (p50 of an even count is the lower of
    the middle two; p100 the largest).

    Raises ValueError for no values or a `q` out of range: a figure of nothing is no figure.
    """
    ordered = sorted(values)
    if not ordered:
        raise ValueError("a percentile of no values")
    if not 0 < q <= 100:
        raise ValueError(f"a percentile is over 0 and at most 100, not {q}")
    # 1-based; for a whole q, q * n / 100 is either whole or at least 1/100 off one: its ceiling is exact
    rank = math.ceil(q * len(ordered) / 100)
    return ordered[rank - 1]
