"""Timestamps as they appear in notes' `data-t` anchors, read into seconds.

Real vaults are messy: `HH:MM:SS`, `MM:SS`, `H:MM:SS`, a fourth frame field (`01:00:17:51`),
a trailing `]` or `:`, fractional seconds, placeholders (`HH:MM:SS`, `N/A`) and even URLs.
`parse_timestamp` reads one stamp alone: every unambiguous form, anything else is `None`, never an
exception.

Many notes also write a moment as `MM:SS:00` or `MM:SS:FF` (minutes, seconds, then a frame or
hundredths field) where `HH:MM:SS` belongs: `24:50:00` for 24:50, `02:37:92` for 2:37. Such a stamp
alone is ambiguous (`02:10:00` can be either), so `read_note_timestamps` reads all of a note's stamps
together, by these rules:

1. A note writes minutes first only if some stamp cannot be read hours first: read so it is past the
   end of any YouTube video, twelve hours (`14:07:00`, `24:50:00`), or its third part is not a second
   (`04:37:60`) and that is common enough in the note to be a hundredths field rather than a slip
   (`HUNDREDTHS_SHARE`). Any other note is read stamp by stamp, as `parse_timestamp` reads it.
2. In a note that writes minutes first, a stamp that cannot be hours is read as minutes and seconds,
   the third part dropped (`04:37:60` is 4:37, as `02:37:92` is 2:37: the third part is a fraction
   of a second, not a 60th second to carry).
3. Every other three-part stamp of such a note may be either. Consecutive ones form a run, read as a
   whole, since writers switch forms in stretches. A run takes the reading that steps back in time
   least from the stamp before it and to the next certain stamp after it (a note's stamps mostly
   run forward), plus how far it would reach past the note's latest certain moment (a note's stamps
   fit one video). A tie is read as written, hours first.
4. In a note whose minutes-first stamps all end in `:00`, a stamp with real seconds is not written in
   that form: it makes a run of its own, which the note's range does not bend (its stamps may well
   run past the minutes-first ones, as an hour-long video's `01:08:20` after `54:30:00`).

A note whose every stamp reads both ways (`04:06:00` … `11:24:00`: each under twelve hours ending in
`:00`, `reads_both_ways`) is read hours first by these rules, and may still be minutes first. The note
alone cannot tell; other notes on the same video can, when the index is built (`minutes_first_by_video`):

5. Such a note is read minutes first when the video's other notes that read one way only reach no more
   than half its latest moment read hours first (`OVERREACH`), and its latest moment read minutes first fits them
   (`FITS_SHARE` of their latest, give or take `FITS_SLACK_S`). Its moments are then a 60th, and so are
   the labels its text shows (`minutes_first_text`).
6. A note whose every stamp is an `a:b:c` time of day, some not ending in `:00` (`00:15:17`, `00:55:00`, `02:33:00`
   … `09:40:00` for a ten-minute video: minutes, seconds and a frames field), is read hours first by rules 1 to 4
   and also by its video's other notes, as it is one of them (`StampForm.THREE_PART`, most notes written
   `00:02:45`). It is read minutes first (the third part dropped, as rule 2 drops it) when, against the other
   notes on its video that tell: read hours first it reaches past `OVERREACH` times their latest moment; read
   minutes first it ends within their range (at least a `COVERS`th of their latest, at most rule 5's fit), the two
   readings being 60 times apart; and read hours first, few of its sections start where theirs do
   (`AGREE_AT_MOST` within `AGREE_WINDOW_S`), as they would in a note written hours first with a few `MM:SS:00` slips.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

import numpy as np

# YouTube takes uploads of at most 12 hours and keeps at most 12 hours of a live stream: a moment past that is
# no moment of the video but a slip in the note, most often MM:SS:00 (`14:07:00` in a 15-minute video).
MAX_PLAUSIBLE_SECONDS = 12 * 3600

# A third part of 60 or more is not a second. Where it is a hundredths field, as in `02:37:92`, about
# four stamps in ten have one; where it turns up in fewer than one in ten of a note's stamps, it is more
# likely a slip in a seconds field (`02:40:72` among `02:40:58`, `02:39:28` of a three-hour podcast) and
# says nothing about the note's other stamps. In the shared corpus, other notes on the same video bear
# out minutes first for 37 of the 40 notes at or above this share that they can judge, and for 7 of
# 13 below it: no better than a guess, so those notes are read as written.
HUNDREDTHS_SHARE = 0.1

# Rule 5: how well a note's moments read minutes first must fit its video's other notes: within half as
# much again as their latest moment, plus two minutes (notes on one video end at different points of it)
FITS_SHARE = 1.5
FITS_SLACK_S = 120
# ... and read hours first, they must end well past the video as its other notes know it: past twice their latest
# moment (a note may cover a part of its video that its twins do not, but not as much again as all they cover)
OVERREACH = 2
EVIDENCE_STAMPS = 3  # a note with fewer moments says too little about how long its video is
# Rule 6: read minutes first, a note must end past a third of what its video's other notes cover: one that would end
# well before them is more likely the later part of a long video, read right as written (a three-hour podcast's
# `02:51:00` … `02:54:52`, whose other notes stop at 80 minutes) ...
COVERS = 3
# ... and read hours first, at most a quarter of its sections may start within 10 s of one of theirs: a note written
# `00:02:45` that its twins bear out, with a few `MM:SS:00` slips past the end, is read as written (rules 1 to 4)
AGREE_WINDOW_S = 10
AGREE_AT_MOST = 0.25

_CLOCK = re.compile(r"(\d{1,3})(?::(\d{1,2}))?(?::(\d{1,2}))?(?::(\d{1,2}))?(?:[.,]\d+Z?)?", re.ASCII)


# Stamps repeat across a vault's notes (`00:00:00`, `00:01:30`): each form is read once per process.
_READ_CACHE = 100_000


@lru_cache(maxsize=_READ_CACHE)
def parse_timestamp(raw: str) -> int | None:
    """Seconds for a timestamp such as `1:02:03`, `38:00` or `01:00:17:51`; `None` if unreadable."""
    text = _strip(raw)
    if text.isascii() and text.isdigit():
        # A bare number is a count of seconds, as YouTube's own `t=` parameter.
        seconds = int(text)
        return seconds if seconds <= MAX_PLAUSIBLE_SECONDS else None
    parts = _clock_parts(text)
    if parts is None:
        return None
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


def read_note_timestamps(raws: Sequence[str]) -> list[int | None]:
    """Seconds for each of one note's stamps, given all of them in the order the note has them;
    `None` where a stamp cannot be read. See the module's docstring for the rules."""
    seconds = [parse_timestamp(raw) for raw in raws]
    stamps = [_three_part(raw) for raw in raws]
    clocks = [stamp for stamp in stamps if stamp is not None]
    if not _writes_minutes_first(clocks):
        return seconds
    undecided: dict[int, _Undecided] = {}
    for i, stamp in enumerate(stamps):
        if stamp is None:
            continue
        if stamp.hours is None:
            seconds[i] = stamp.minutes  # rule 2
        else:
            undecided[i] = _Undecided(stamp.hours, stamp.minutes, stamp.third != 0)
    latest = max(s for i, s in enumerate(seconds) if s is not None and i not in undecided)
    minutes_end_in_00 = all(stamp.third == 0 for stamp in clocks if stamp.hours is None)
    readable = [i for i, s in enumerate(seconds) if s is not None or i in undecided]
    for start, end in _runs(readable, undecided, split_on_seconds=minutes_end_in_00):
        run = [undecided[i] for i in readable[start:end]]
        before = seconds[readable[start - 1]] if start > 0 else None
        after = next((seconds[i] for i in readable[end:] if i not in undecided), None)
        bent_by_range = not (minutes_end_in_00 and run[0].real_seconds)  # rule 4
        reading = _reading(run, before, after, latest if bent_by_range else None)
        for i, stamp in zip(readable[start:end], run, strict=True):
            seconds[i] = reading(stamp)
    return seconds


@dataclass(frozen=True, slots=True)
class _ThreePart:
    """An `a:b:c` stamp read both ways."""

    hours: int | None  # HH:MM:SS; None when it cannot be (past any video's end, or a third part over 59)
    minutes: int  # MM:SS, the third part a fraction of a second
    third: int

    @property
    def past_any_video(self) -> bool:
        """Read hours first it is later than any video runs (`MAX_PLAUSIBLE_SECONDS`)."""
        return self.minutes * 60 + self.third > MAX_PLAUSIBLE_SECONDS


@dataclass(frozen=True, slots=True)
class _Undecided:
    """A three-part stamp of a minutes-first note that reads either way."""

    hours: int
    minutes: int
    real_seconds: bool  # its third part is not 00


def _strip(raw: str) -> str:
    text = raw.strip().rstrip("]:").strip()
    return text[1:] if text.startswith("[") else text


def _clock_parts(text: str) -> list[int] | None:
    match = _CLOCK.fullmatch(text)
    return None if match is None else [int(p) for p in match.groups() if p is not None]


@lru_cache(maxsize=_READ_CACHE)
def _three_part(raw: str) -> _ThreePart | None:
    """The readings of an `a:b:c` stamp, or None for any other form (and for a `b` over 59)."""
    parts = _clock_parts(_strip(raw))
    if parts is None or len(parts) != 3 or parts[1] >= 60:
        return None
    first, second, third = parts
    return _ThreePart(parse_timestamp(raw), first * 60 + second, third)


def _writes_minutes_first(stamps: list[_ThreePart]) -> bool:
    """Rule 1: some stamp cannot be hours first, and not as a lone slip in a seconds field."""
    if any(stamp.past_any_video for stamp in stamps):
        return True
    not_a_second = sum(stamp.hours is None for stamp in stamps)
    return not_a_second > 0 and not_a_second >= HUNDREDTHS_SHARE * len(stamps)


def _runs(readable: list[int], undecided: dict[int, _Undecided], split_on_seconds: bool) -> list[tuple[int, int]]:
    """Where the runs of consecutive undecided stamps start and end among the readable ones; rule 4
    splits them where real seconds start or stop."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for at, i in enumerate(readable):
        stamp = undecided.get(i)
        starts_anew = stamp is None or (
            start is not None and split_on_seconds and undecided[readable[at - 1]].real_seconds != stamp.real_seconds
        )
        if start is not None and starts_anew:
            runs.append((start, at))
            start = None
        if stamp is not None and start is None:
            start = at
    if start is not None:
        runs.append((start, len(readable)))
    return runs


_Reading = Callable[[_Undecided], int]


def _reading(run: list[_Undecided], before: int | None, after: int | None, latest: int | None) -> _Reading:
    """Rule 3: hours or minutes for a whole run, whichever steps back and overreaches least; hours
    first (as written) on a tie. `latest` is None where the note's range does not bend the run."""

    def cost(reading: _Reading) -> int:
        values = [reading(stamp) for stamp in run]
        back = max(0, before - values[0]) if before is not None else 0
        back += max(0, values[-1] - after) if after is not None else 0
        beyond = max(0, max(values) - latest) if latest is not None else 0
        return back + beyond

    return _minutes if cost(_minutes) < cost(_hours) else _hours


def _hours(stamp: _Undecided) -> int:
    return stamp.hours


def _minutes(stamp: _Undecided) -> int:
    return stamp.minutes


class StampForm(IntEnum):
    """How a note writes its moments, as rules 5 and 6 ask."""

    OTHER = 0  # some stamp reads one way only, or none can be read
    ALL_ZERO = 1  # every stamp `a:b:00`, a time of day: it reads hours first or minutes first alike (rule 5)
    THREE_PART = 2  # every stamp `a:b:c`, a time of day, some not `:00`: read hours first, unless rule 6 says


def stamp_form(raws: Sequence[str]) -> StampForm:
    """The form of a note's stamps (at least one readable, an unreadable one saying nothing either way)."""
    readable = [(raw, _three_part(raw)) for raw in raws]
    stamps = [stamp for raw, stamp in readable if stamp is not None or parse_timestamp(raw) is not None]
    if not stamps or not all(stamp is not None and stamp.hours is not None for stamp in stamps):
        return StampForm.OTHER
    return StampForm.ALL_ZERO if all(stamp.third == 0 for stamp in stamps) else StampForm.THREE_PART


def minutes_first_by_video(
    videos: np.ndarray, forms: np.ndarray, latest: np.ndarray, moments: np.ndarray, sections: VideoMoments
) -> np.ndarray:
    """Rules 5 and 6, over every note of a vault at once: which notes are read minutes first by what their video's
    other notes say. Per note: `videos` a number for its video (-1 for none), `forms` its `StampForm`, `latest` its
    latest moment as parsed (-1 for none), `moments` how many it has; `sections` where its sections start."""
    telling = (videos >= 0) & (forms != StampForm.ALL_ZERO) & (moments >= EVIDENCE_STAMPS)
    return _rule_5(videos, forms, latest, telling) | _rule_6(videos, forms, latest, telling, sections)


@dataclass(frozen=True, slots=True)
class VideoMoments:
    """Where each section of a vault starts as parsed (-1 for none), and its note."""

    note: np.ndarray
    moment: np.ndarray


def _rule_5(videos: np.ndarray, forms: np.ndarray, latest: np.ndarray, telling: np.ndarray) -> np.ndarray:
    """Rule 5: the notes reading both ways that their video's telling notes say are minutes first."""
    extent = np.full(int(videos.max(initial=-1)) + 1, -1, dtype=np.int64)
    np.maximum.at(extent, videos[telling], latest[telling])  # each video's latest moment its telling notes know
    known = np.full(len(videos), -1, dtype=np.int64)
    on_video = videos >= 0
    known[on_video] = extent[videos[on_video]]
    return (forms == StampForm.ALL_ZERO) & (known > 0) & _minutes_fit(latest, known)


def _minutes_fit(latest: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Read hours first a note reaches far past `known`, and read minutes first it fits it (rules 5 and 6)."""
    return (latest > OVERREACH * known) & (latest // 60 <= FITS_SHARE * known + FITS_SLACK_S)


def _rule_6(
    videos: np.ndarray, forms: np.ndarray, latest: np.ndarray, telling: np.ndarray, sections: VideoMoments
) -> np.ndarray:
    """Rule 6: the three-part notes that their video's other telling notes say are minutes first."""
    known = _others_extent(videos, telling, latest)
    decided = (forms == StampForm.THREE_PART) & telling & (known > 0) & _minutes_fit(latest, known)
    decided &= COVERS * (latest // 60) >= known
    for note in np.flatnonzero(decided):
        decided[note] = _agreement(note, videos, telling, sections) <= AGREE_AT_MOST
    return decided


def _others_extent(videos: np.ndarray, telling: np.ndarray, latest: np.ndarray) -> np.ndarray:
    """For each note, the latest moment of the telling notes on its video other than itself (-1 for none): in
    rule 6 the note is one of them."""
    count = int(videos.max(initial=-1)) + 1
    last, last_note, runner_up = (np.full(count, -1, dtype=np.int64) for _ in range(3))
    for note in np.flatnonzero(telling).tolist():  # each video's telling note ending last, and the latest of the rest
        video, end = videos[note], latest[note]
        if end > last[video]:
            runner_up[video], last[video], last_note[video] = last[video], end, note
        else:
            runner_up[video] = max(runner_up[video], end)
    known = np.full(len(videos), -1, dtype=np.int64)
    on_video = videos >= 0
    known[on_video] = last[videos[on_video]]
    has_last = last_note >= 0
    known[last_note[has_last]] = runner_up[has_last]
    return known


def _agreement(note: int, videos: np.ndarray, telling: np.ndarray, sections: VideoMoments) -> float:
    """The share of `note`'s sections (with a moment) starting within AGREE_WINDOW_S of a section of another
    telling note on its video, both read as parsed."""
    others = telling & (videos == videos[note])
    others[note] = False
    started = sections.moment >= 0
    own = sections.moment[started & (sections.note == note)]
    theirs = np.sort(sections.moment[started & others[sections.note]])
    if not len(own) or not len(theirs):
        return 0.0
    at = np.searchsorted(theirs, own)
    before, after = theirs[np.maximum(at - 1, 0)], theirs[np.minimum(at, len(theirs) - 1)]
    return float(np.mean(np.minimum(np.abs(own - before), np.abs(after - own)) <= AGREE_WINDOW_S))


LABEL = re.compile(r"\[(\d{1,3}(?::\d{2}){1,2})\]")  # a moment's label as parsing writes it into text: [38:00]


def minutes_first_text(text: str) -> str:
    """A section's text with its moments' labels read minutes first: each a 60th of the moment it shows."""
    return LABEL.sub(lambda label: f"[{format_timestamp((parse_timestamp(label.group(1)) or 0) // 60)}]", text)
