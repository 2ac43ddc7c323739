"""Timestamps as they appear in notes' `data-t` anchors, read into seconds.

Real vaults are messy: `HH:MM:SS`, `MM:SS`, `H:MM:SS`, a fourth frame field (`01:00:17:51`),
a trailing `]` or `:`, fractional seconds, placeholders (`HH:MM:SS`, `N/A`) and even URLs.
Every unambiguous form is read; anything else is `None`, never an exception.
"""

from __future__ import annotations

import re

# No video in any vault we have seen is a day long: past that it is a typo in the note (often MM:SS:FF).
MAX_PLAUSIBLE_SECONDS = 24 * 3600 - 1

_CLOCK = re.compile(r"(\d{1,3})(?::(\d{1,2}))?(?::(\d{1,2}))?(?::(\d{1,2}))?(?:[.,]\d+Z?)?", re.ASCII)


def parse_timestamp(raw: str) -> int | None:
    """Seconds for a timestamp such as `1:02:03`, `38:00` or `01:00:17:51`; `None` if unreadable."""
    text = raw.strip().rstrip("]:").strip()
    if text.startswith("["):
        text = text[1:]
    if text.isascii() and text.isdigit():
        # A bare number is a count of seconds, as YouTube's own `t=` parameter.
        seconds = int(text)
        return seconds if seconds <= MAX_PLAUSIBLE_SECONDS else None
    match = _CLOCK.fullmatch(text)
    if match is None:
        return None
    parts = [int(p) for p in match.groups() if p is not None]
    if len(parts) == 1:
        seconds = parts[0]
    else:
        if len(parts) == 4:
            # HH:MM:SS:FF carries a frame (or centisecond) field that YouTube links cannot use.
            parts = parts[:3]
        if any(p >= 60 for p in parts[1:]):
            return None
        seconds = 0
        for part in parts:
            seconds = seconds * 60 + part
    return seconds if seconds <= MAX_PLAUSIBLE_SECONDS else None


def format_timestamp(seconds: int) -> str:
    """`38:00` under an hour, `1:02:03` from an hour on: the way YouTube shows positions."""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"
