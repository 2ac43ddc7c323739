"""What a shared link points at: the section covering a moment of a video (of the note covering it best), the
first section of a link without a moment, the section a published page's anchor names; and a section's anchor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.engine.links import LinkTarget
from bot.engine.search import Searcher
from bot.engine.site import NoteSite, PageRef
from bot.engine.youtube import VideoLink
from tests.engine.vaults import searcher_of, write

VIDEO = "vidAAAAAAAA"
SOLO = "vidBBBBBBBB"


def stamp(moment: str) -> str:
    return f'<a class="yt-timestamp" data-t="{moment}">[{moment}]</a>'


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    """Two notes on one video (a talk and its twin), and a note on another video whose first section has no stamp."""
    root = tmp_path_factory.mktemp("links")
    write(
        root,
        "talks/vision.md",
        f"---\ntitle: The talk\nvideoId: {VIDEO}\n---\nWhat the talk is about.\n\n"
        f"## Opening\n\nHello {stamp('00:00:10')}.\n\n"
        f"## Vision\n\nSeeing machines {stamp('00:05:00')}.\n\n"
        f"### Vision in detail\n\nStarts at the same moment {stamp('00:05:00')}.\n\n"
        f"### Segmentation\n\nPixels to objects {stamp('00:07:00')}.\n\n"
        "## Summary\n\nNo moment here.\n\n"
        f"## Vision\n\nVision again, later {stamp('00:20:00')}.\n",
    )
    write(
        root,
        "talks/vision_twin.md",
        f"---\ntitle: The talk, again\nvideoId: {VIDEO}\n---\n"
        f"## Early\n\nJust before the vision part {stamp('00:04:30')}.\n\n"
        f"## Later\n\nNear the end {stamp('00:19:00')}.\n",
    )
    write(
        root,
        "other/solo.md",
        f"---\ntitle: Solo\nvideoId: {SOLO}\n---\n## First\n\nNo stamp.\n\n## Second\n\nOne {stamp('00:02:00')}.\n",
    )
    return searcher_of(root)


def shown(searcher: Searcher, target: LinkTarget | None) -> tuple[str, str, list[str]] | None:
    """(note, heading, the other notes' titles) of a target."""
    if target is None:
        return None
    index = searcher.index
    note = index.note_paths[int(index.section_note[target.section])]
    return note, index.section_headings[target.section], [index.note_titles[n] for n in target.others]


@pytest.mark.parametrize(
    ("seconds", "note", "heading"),
    [
        (400, "talks/vision.md", "Vision"),  # 5:00 in the talk is closer before 6:40 than its twin's 4:30
        (285, "talks/vision_twin.md", "Early"),  # 4:30 in the twin is closer before 4:45 than the talk's 0:10
        (420, "talks/vision.md", "Segmentation"),  # a section starting at the very moment covers it
        (1200, "talks/vision.md", "Vision"),  # the second "Vision" (20:00), not the twin's 19:00
        (99_999, "talks/vision.md", "Vision"),  # past the end: the last section started
    ],
)
def test_a_moment_is_covered_by_the_latest_section_starting_at_or_before_it_in_the_note_closest(
    searcher: Searcher, seconds: int, note: str, heading: str
) -> None:
    found = shown(searcher, searcher.links.moment(VideoLink(VIDEO, seconds)))
    assert found is not None
    assert found[:2] == (note, heading)
    other = "The talk, again" if note == "talks/vision.md" else "The talk"
    assert found[2] == [other]


def test_of_sections_starting_together_the_first_in_the_note_covers_the_moment(searcher: Searcher) -> None:
    target = searcher.links.moment(VideoLink(VIDEO, 360))
    assert target is not None
    index = searcher.index
    assert (index.section_headings[target.section], index.section_headings[target.section + 1]) == (
        "Vision",
        "Vision in detail",
    )
    assert index.section_first_ts[target.section] == index.section_first_ts[target.section + 1] == 300


def test_the_second_of_two_headings_alike_is_the_one_at_its_moment(searcher: Searcher) -> None:
    target = searcher.links.moment(VideoLink(VIDEO, 1300))
    assert target is not None and searcher.index.section_first_ts[target.section] == 1200


def test_a_link_without_a_moment_shows_the_first_section_of_the_note_starting_earliest(searcher: Searcher) -> None:
    assert shown(searcher, searcher.links.moment(VideoLink(VIDEO, None))) == (
        "talks/vision.md",
        "Opening",  # its first heading, not the introduction before it
        ["The talk, again"],
    )


def test_a_moment_before_every_section_is_read_as_the_video_itself(searcher: Searcher) -> None:
    assert shown(searcher, searcher.links.moment(VideoLink(VIDEO, 5)))[:2] == ("talks/vision.md", "Opening")


def test_a_note_s_first_section_is_its_first_heading_even_without_a_moment(searcher: Searcher) -> None:
    assert shown(searcher, searcher.links.moment(VideoLink(SOLO, None))) == ("other/solo.md", "First", [])
    assert shown(searcher, searcher.links.moment(VideoLink(SOLO, 150))) == ("other/solo.md", "Second", [])


def test_a_video_no_note_is_on_points_at_nothing(searcher: Searcher) -> None:
    assert searcher.links.moment(VideoLink("zzzzzzzzzzz", 10)) is None


def test_notes_outside_the_scope_are_neither_chosen_nor_named(searcher: Searcher) -> None:
    paths = searcher.index.note_paths
    twin_only = np.array([path == "talks/vision_twin.md" for path in paths])
    assert shown(searcher, searcher.links.moment(VideoLink(VIDEO, 400), twin_only)) == (
        "talks/vision_twin.md",
        "Early",
        [],
    )
    solo_only = np.array([path == "other/solo.md" for path in paths])
    assert searcher.links.moment(VideoLink(VIDEO, 400), solo_only) is None


QUARTZ = NoteSite("https://notes.example.com")
OBSIDIAN = NoteSite("https://publish.obsidian.md/team", "obsidian")


@pytest.mark.parametrize(
    ("site", "ref", "heading", "line_rank"),
    [
        (QUARTZ, PageRef("talks/vision", "vision"), "Vision", 0),
        (QUARTZ, PageRef("talks/vision", "vision-1"), "Vision", 1),
        (QUARTZ, PageRef("talks/vision", "Segmentation"), "Segmentation", 0),  # ids are lower case: read so
        (QUARTZ, PageRef("talks/vision", ""), "Opening", 0),
        (QUARTZ, PageRef("talks/vision", "no-such-heading"), "Opening", 0),
        (OBSIDIAN, PageRef("talks/vision", "Vision in detail"), "Vision in detail", 0),
        (OBSIDIAN, PageRef("talks/vision", "vision in detail"), "Vision in detail", 0),
    ],
)
def test_a_page_link_points_at_the_section_its_anchor_names(
    searcher: Searcher, site: NoteSite, ref: PageRef, heading: str, line_rank: int
) -> None:
    target = searcher.links.page(site, ref)
    assert target is not None and target.others == ()
    index = searcher.index
    assert index.note_paths[int(index.section_note[target.section])] == "talks/vision.md"
    assert index.section_headings[target.section] == heading
    same = [i for i in range(index.section_count) if index.section_headings[i] == heading]
    assert target.section == same[line_rank]


def test_a_page_of_no_note_or_outside_the_scope_points_at_nothing(searcher: Searcher) -> None:
    assert searcher.links.page(QUARTZ, PageRef("talks/nothing", "")) is None
    solo_only = np.array([path == "other/solo.md" for path in searcher.index.note_paths])
    assert searcher.links.page(QUARTZ, PageRef("talks/vision", "vision"), solo_only) is None


def test_a_section_s_anchor_numbers_repeated_headings_as_the_page_does(searcher: Searcher) -> None:
    index = searcher.index
    anchors = {
        (index.note_paths[int(index.section_note[i])], index.section_headings[i], index.section_anchors[i])
        for i in range(index.section_count)
        if index.note_paths[int(index.section_note[i])] == "talks/vision.md"
    }
    assert anchors == {
        ("talks/vision.md", "", ""),  # the introduction has no heading
        ("talks/vision.md", "Opening", "opening"),
        ("talks/vision.md", "Vision", "vision"),
        ("talks/vision.md", "Vision in detail", "vision-in-detail"),
        ("talks/vision.md", "Segmentation", "segmentation"),
        ("talks/vision.md", "Summary", "summary"),
        ("talks/vision.md", "Vision", "vision-1"),
    }


def test_hits_carry_their_heading_s_anchor(searcher: Searcher) -> None:
    [hit] = searcher.search("vision again later", 1)
    assert (hit.note, hit.heading, hit.anchor) == ("talks/vision.md", "Vision", "vision-1")


def test_the_bundled_note_s_section_has_the_issue_s_example_url() -> None:
    bundled = searcher_of(Path(__file__).resolve().parents[2] / "notes")
    [hit] = bundled.search("computer vision and robotics", 1)
    url = NoteSite("https://notes.example.com").page_url(hit.note, hit.heading, hit.anchor)
    assert url == "https://notes.example.com/lexfridman/applications_of_deep_learning#computer-vision-and-robotics"
