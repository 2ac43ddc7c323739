"""A note whose every moment reads hours first or minutes first alike (`04:06:00`), or with a frames field
(`04:06:17`), is read as the other notes on its video say (bot/engine/timestamps.py, rules 5 and 6): its links, the
labels in its text and its twins follow."""

from pathlib import Path

import pytest

from bot.engine.search import Searcher
from tests.engine.vaults import searcher_of, write

VIDEO = "tidesvideo1"


def anchor(stamp: str) -> str:
    return f'<a class="yt-timestamp" data-t="{stamp}">[{stamp}]</a>'


def note(name: str, stamps: list[str]) -> str:
    """A note on VIDEO with a section a stamp, the first on the tides."""
    tides = f"## Tides\n\nThe moon pulls the oceans into tides {anchor(stamps[0])}.\n"
    parts = [f"## Part {i}\n\nPart {i} of the talk {anchor(stamp)}.\n" for i, stamp in enumerate(stamps[1:], 2)]
    return f"---\ntitle: {name}\nvideoId: {VIDEO}\n---\n" + tides + "".join(parts)


def vault(root: Path, *notes: tuple[str, list[str]]) -> Searcher:
    for name, stamps in notes:
        write(root, f"{name}.md", note(name, stamps))
    return searcher_of(root)


MINUTES_AS_HOURS = ["04:06:00", "09:36:00", "11:24:00"]  # an 11-minute talk, every stamp ending in :00


@pytest.mark.parametrize(
    ("stamps", "written"),
    [
        pytest.param(MINUTES_AS_HOURS, "4:06:00", id="every-stamp-ending-in-00"),
        pytest.param(["04:06:17", "09:36:00", "11:24:00"], "4:06:17", id="with-a-frames-field"),
    ],
)
def test_a_note_of_three_part_stamps_links_to_minutes_when_another_note_on_its_video_ends_there(
    tmp_path: Path, stamps: list[str], written: str
) -> None:
    searcher = vault(tmp_path, ("hours", stamps), ("plain", ["4:06", "9:40", "11:30"]))
    hit = searcher.search("moon tides", limit=1)[0]
    tides = [hit, *hit.twins]
    assert sorted((h.note, h.timestamp) for h in tides) == [("hours.md", 246), ("plain.md", 246)]
    shown = next(h for h in tides if h.note == "hours.md")
    assert shown.url == f"https://www.youtube.com/watch?v={VIDEO}&t=246s"
    assert "[4:06]" in shown.text and written not in shown.text


def test_alone_on_its_video_a_note_reading_both_ways_is_read_hours_first_as_written(tmp_path: Path) -> None:
    hit = vault(tmp_path, ("hours", MINUTES_AS_HOURS)).search("moon tides", limit=1)[0]
    assert hit.timestamp == 4 * 3600 + 6 * 60
    assert "[4:06:00]" in hit.text


@pytest.mark.parametrize(
    ("stamps", "first"),
    [
        pytest.param(["00:41:00", "01:23:00", "02:10:00"], 2460, id="every-stamp-ending-in-00"),
        pytest.param(["00:41:17", "01:23:00", "02:10:00"], 2477, id="with-real-seconds"),
    ],
)
def test_a_note_of_three_part_stamps_stays_hours_first_when_another_note_reaches_its_hours(
    tmp_path: Path, stamps: list[str], first: int
) -> None:
    searcher = vault(tmp_path, ("hours", stamps), ("plain", ["0:41:10", "1:30:05", "2:31:40"]))
    hit = searcher.search("moon tides", limit=1)[0]
    assert sorted((h.note, h.timestamp) for h in [hit, *hit.twins]) == [("hours.md", first), ("plain.md", 2470)]
