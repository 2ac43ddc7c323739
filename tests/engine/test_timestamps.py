"""Timestamps in `data-t` anchors: every unambiguous form is read, the rest is skipped, nothing raises."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.engine.timestamps import MAX_PLAUSIBLE_SECONDS, format_timestamp, parse_timestamp


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("00:38:00", 2280),
        ("38:00", 2280),
        ("1:02:03", 3723),
        ("01:00:17:51", 3617),  # HH:MM:SS:FF: the frame field is dropped
        ("00:41:00]", 2460),
        ("01:03:07:", 3787),
        ("[00:12:30]", 750),
        ("001:00:23", 3623),
        ("1:23:45.678Z", 5025),
        ("2241", 2241),
        (" 7:05 ", 425),
    ],
)
def test_reads_every_unambiguous_form(raw: str, seconds: int) -> None:
    assert parse_timestamp(raw) == seconds


@pytest.mark.parametrize(
    "raw",
    ["HH:MM:SS", "HH:00:20", "N/A", "https://youtu.be/XYZ", "", "04:27:819", "12:75", "99:99:99", "024:45:00", "a:b"],
)
def test_skips_placeholders_urls_and_impossible_values(raw: str) -> None:
    assert parse_timestamp(raw) is None


def test_formats_like_youtube() -> None:
    assert format_timestamp(2280) == "38:00"
    assert format_timestamp(5) == "0:05"
    assert format_timestamp(3723) == "1:02:03"


@given(st.text())
def test_never_raises_on_any_text(raw: str) -> None:
    result = parse_timestamp(raw)
    assert result is None or 0 <= result <= MAX_PLAUSIBLE_SECONDS


@given(st.integers(min_value=0, max_value=MAX_PLAUSIBLE_SECONDS))
def test_round_trips_seconds(seconds: int) -> None:
    assert parse_timestamp(format_timestamp(seconds)) == seconds
    hours, rest = divmod(seconds, 3600)
    assert parse_timestamp(f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}") == seconds
