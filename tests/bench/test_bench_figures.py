"""Percentiles (bench/figures.py), one definition for every benchmark: the nearest rank."""

from __future__ import annotations

import random

import pytest

from bench.figures import percentile


def test_a_percentile_is_the_value_at_the_nearest_rank_above() -> None:
    values = list(range(1, 151))
    random.Random(5).shuffle(values)
    assert percentile(values, 99) == 149  # rank ceil(148.5)
    assert percentile(values, 50) == 75
    assert percentile(values, 100) == 150
    assert percentile(values, 0.1) == 1


def test_the_median_of_an_even_count_is_the_lower_middle_value_measured() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 51) == 3.0


def test_a_single_value_is_every_percentile_of_itself() -> None:
    assert percentile([7.5], 1) == percentile([7.5], 99) == 7.5


@pytest.mark.parametrize(("values", "q"), [([], 50), ([1.0], 0), ([1.0], 101), ([1.0], -5)])
def test_no_values_or_a_percent_out_of_range_is_an_error(values: list[float], q: float) -> None:
    with pytest.raises(ValueError, match="percentile"):
        percentile(values, q)
