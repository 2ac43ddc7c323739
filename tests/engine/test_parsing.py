"""Parsing a note: sections by heading, clean text, timestamps, links, and problems instead of failures."""

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine import parsing
from bot.engine.parsing import clean_inline_text, parse_note, replace_wikilinks, section_url
from bot.engine.timestamps import parse_timestamp, read_note_timestamps
from bot.engine.vault import list_notes, parse_files

VAULT = Path(__file__).parent.parent / "fixtures" / "vault"


def parsed(rel_path: str):
    return parse_note(rel_path, (VAULT / rel_path).read_bytes())


def sections_by_heading(rel_path: str):
    return {s.heading: s for s in parsed(rel_path).note.sections}


def test_note_has_title_video_and_links_from_front_matter_and_body() -> None:
    note = parsed("science/self_driving_cars.md").note
    assert note.title == "Self-driving cars and perception"
    assert note.video_id == "abcDEF12345"
    assert [link.target for link in note.links] == ["science", "reinforcement_learning"]
    assert note.links[1].line == 18


def test_every_heading_starts_a_section_with_its_parents_and_level() -> None:
    sections = parsed("science/self_driving_cars.md").note.sections
    assert [(s.heading, s.level, s.path) for s in sections] == [
        ("", 0, ()),
        ("Perception", 2, ()),
        ("Sensor Fusion", 3, ("Perception",)),
        ("Planning", 2, ()),
    ]
    assert [s.line for s in sections] == [6, 10, 15, 20]


def test_a_hash_inside_a_code_block_is_no_heading() -> None:
    planning = sections_by_heading("science/self_driving_cars.md")["Planning"]
    assert "# this is a comment, not a heading" in planning.text


def test_body_text_is_clean_with_bullets_emphasis_callouts_and_timestamp_labels() -> None:
    sections = sections_by_heading("science/self_driving_cars.md")
    assert "Handling **occlusion** is one" in sections["Perception"].text
    assert sections["Perception"].text.endswith("invisible to the camera [12:30].")
    assert "<a" not in sections["Perception"].text and "data-t" not in sections["Perception"].text
    assert "See also learning to drive." in sections["Sensor Fusion"].text
    assert "• The planner predicts" in sections["Planning"].text
    assert "Safety drivers" in sections["Planning"].text and "[!info]" not in sections["Planning"].text
    assert sections[""].text.startswith("From: science")


def test_timestamps_are_seconds_in_order_and_link_the_first_moment() -> None:
    note = parsed("science/self_driving_cars.md").note
    planning = next(s for s in note.sections if s.heading == "Planning")
    assert planning.timestamps == (1200, 1270)
    assert section_url(note, planning) == "https://www.youtube.com/watch?v=abcDEF12345&t=1200s"


def test_a_section_without_timestamp_links_to_the_video_start() -> None:
    note = parsed("science/self_driving_cars.md").note
    intro = note.sections[0]
    assert intro.timestamps == ()
    assert section_url(note, intro) == "https://www.youtube.com/watch?v=abcDEF12345"


def test_unreadable_timestamp_is_reported_with_its_line_and_skipped() -> None:
    result = parsed("cooking/sourdough.md")
    baking = next(s for s in result.note.sections if s.heading == "Baking")
    assert baking.timestamps == ()
    assert [(p.line, p.severity) for p in result.problems] == [(12, "warning")]
    assert "'N/A'" in result.problems[0].message


def test_heading_keeps_its_timestamp_as_written_and_gives_the_section_its_moment() -> None:
    anchor = b'<a class="yt-timestamp" data-t="00:08:00">[00:08:00]</a>'
    raw = b"---\ntitle: T\nvideoId: abcdefghijk\n---\n## Agents " + anchor + b"\nx\n"
    section = parse_note("a.md", raw).note.sections[0]
    assert section.heading == "Agents [00:08:00]"
    assert section.timestamps == (480,)


def test_note_without_front_matter_is_titled_by_its_file_name_and_has_no_link() -> None:
    result = parsed("cooking/untitled_note.md")
    assert result.note.title == "untitled note"
    assert result.note.video_id is None
    assert section_url(result.note, result.note.sections[0]) is None
    assert {p.message.split(":")[0] for p in result.problems} == {
        "no title in the front matter",
        "no videoId in the front matter",
    }


@pytest.mark.parametrize(
    ("written", "video_id"),
    [
        ("https://www.youtube.com/watch?v=s3MuSOl1Rog&t=2280s", "s3MuSOl1Rog"),
        ("https://youtu.be/s3MuSOl1Rog", "s3MuSOl1Rog"),
        ("'https://example.com/watch?v=s3MuSOl1Rog'", None),
        ("s3MuSOl1Rog was the talk", None),
    ],
)
def test_a_videoid_written_as_the_link_to_its_video_gives_the_video_s_id(written: str, video_id: str | None) -> None:
    result = parse_note("a.md", f"---\ntitle: T\nvideoId: {written}\n---\n## H\n\nText.\n".encode())
    assert result.note.video_id == video_id
    assert any("is not a YouTube video id" in p.message for p in result.problems) == (video_id is None)


def test_broken_yaml_is_an_error_with_its_line_and_no_note() -> None:
    result = parsed("cooking/broken_yaml.md")
    assert result.note is None
    assert [(p.severity, p.line) for p in result.problems] == [("error", 2)]
    assert "broken YAML" in result.problems[0].message


def test_bytes_that_are_not_utf8_are_reported_and_the_rest_is_served() -> None:
    result = parsed("cooking/latin1.md")
    assert result.note is not None and result.note.title == "Latin one"
    assert [(p.severity, p.line) for p in result.problems] == [("error", 6)]


def test_empty_file_is_reported_not_served() -> None:
    result = parsed("cooking/empty.md")
    assert result.note is None
    assert result.problems[0].message == "empty note"


def test_wikilinks_show_their_display_text() -> None:
    assert replace_wikilinks("see [[a_note | the note]] and [[other]] or [[x#part|y]]") == "see the note and other or y"


@given(st.text())
def test_text_cleaner_never_raises_and_leaves_no_wikilink_syntax(text: str) -> None:
    cleaned = clean_inline_text(text)
    assert "[[" not in replace_wikilinks(cleaned) or "]]" not in cleaned


# no deadline: a note that markdown-it.rs panics on is read a second time, and the panic alone can take a few
# hundred milliseconds where RUST_BACKTRACE asks Rust to print its backtrace
@settings(deadline=None)
@given(st.binary(max_size=2000))
def test_parser_never_raises_on_any_bytes(raw: bytes) -> None:
    result = parse_note("fuzz.md", raw)
    assert result.note is not None or result.problems


def test_a_note_wrapped_in_a_markdown_fence_is_read_as_markdown() -> None:
    raw = b"---\ntitle: T\nvideoId: abcdefghijk\n---\n```markdown\nIntro.\n\n## Inside\n\nText.\n```\n"
    sections = parse_note("a.md", raw).note.sections
    assert [(s.heading, s.line) for s in sections] == [("", 5), ("Inside", 8)]
    assert sections[1].text == "Text."


def body_note(body: str) -> bytes:
    return f"---\ntitle: T\nvideoId: abcdefghijk\n---\n{body}".encode()


def test_a_backtick_that_nothing_closes_inside_brackets_is_read_as_text() -> None:
    # markdown-it.rs 0.6.0 panics on this (a backtick run scanned twice, inside a link's text): the note is
    # read again without code spans, which the clean text shows between backticks all the same
    raw = body_note("## Bet\n\nThe [odds` sign] and `code` <a data-t='1:00'>[1:00]</a> [[odds | Odds]].\n")
    result = parse_note("a.md", raw)
    assert [(s.heading, s.text, s.timestamps) for s in result.note.sections] == [
        ("Bet", "The [odds` sign] and `code` [1:00] Odds.", (60,))
    ]
    assert [link.target for link in result.note.links] == ["odds"] and result.problems == []


class PanicException(BaseException):
    """What pyo3 raises when the Rust code of markdown-it-pyrs panics (its own class, named so)."""


class PanickingParser:
    def tree(self, body: str) -> None:
        raise PanicException("index out of bounds")


def test_a_note_the_markdown_parser_cannot_read_is_an_error_and_no_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "_MD", PanickingParser())
    monkeypatch.setattr(parsing, "_MD_WITHOUT_CODE_SPANS", PanickingParser())
    result = parse_note("a.md", body_note("## One\n\nText.\n"))
    assert result.note is None
    assert [(p.line, p.severity, p.message) for p in result.problems] == [
        (5, "error", "markdown the parser cannot read: index out of bounds")
    ]


def test_a_bold_phrase_over_two_lines_of_a_list_item_keeps_its_links_on_their_lines() -> None:
    raw = body_note("Intro [[first]].\n\n- **bold [[second]]\n  still bold** then [[third]]\n- plain\n")
    note = parse_note("a.md", raw).note
    assert [(link.target, link.line) for link in note.links] == [("first", 5), ("second", 7), ("third", 8)]
    assert note.sections[0].text == "Intro first.\n\n• **bold second still bold** then third\n• plain"


def test_an_autolink_shows_its_address_and_an_image_its_text_as_written() -> None:
    raw = body_note("See <https://example.com/a%20b> and ![the **chart** [2024]](chart.png).\n")
    assert parse_note("a.md", raw).note.sections[0].text == "See https://example.com/a b and the **chart** [2024]."


def test_tables_quotes_and_loose_lists_keep_their_text_in_order() -> None:
    raw = body_note("| a | b |\n|---|---|\n| 1 |\n\n> quoted *text*\n\n1. one\n\n2. two\n   - inner\n")
    text = parse_note("a.md", raw).note.sections[0].text
    assert text == "a | b | 1 |  | quoted text\n\n• one\n• two\n  • inner"


# A note's timestamps are read together (bot/engine/timestamps.py `read_note_timestamps`), after the
# section walk: what a stamp means can depend on the note's other stamps.

MOMENTS = Path(__file__).parent.parent / "fixtures" / "timestamps"
NAPOLEON = "officialflagrant/napoleons_historical_impact_and_legacy.md"  # from the shared corpus, verbatim


def napoleon():
    return parse_note(NAPOLEON, (MOMENTS / NAPOLEON).read_bytes())


def test_a_section_whose_every_stamp_read_hours_first_runs_past_any_video_links_to_its_moment() -> None:
    result = napoleon()
    total_war = next(s for s in result.note.sections if s.heading == 'Concept of "Total War"')
    assert total_war.timestamps == (3247, 3255, 3266, 3278, 3281)  # 54:07:00 is 54:07
    assert section_url(result.note, total_war) == "https://www.youtube.com/watch?v=_-KASW3lX5w&t=3247s"
    assert not [p for p in result.problems if "timestamp" in p.message]


def test_a_minutes_first_note_reads_its_ambiguous_stamps_minutes_first_too() -> None:
    sections = {s.heading: s for s in napoleon().note.sections}
    assert sections["Views on History"].timestamps == (640, 638)  # 10:40:00 is 10:40, not ten hours in
    assert sections[""].timestamps == (257, 3191)


def test_labels_in_the_text_are_written_from_the_seconds_the_note_is_read_with() -> None:
    history = next(s for s in napoleon().note.sections if s.heading == "Views on History")
    assert 'agreed upon" [10:40].' in history.text and '"boring stuff" [10:38].' in history.text
    assert [parse_timestamp(label) for label in LABEL.findall(history.text)] == list(history.timestamps)


LABEL = re.compile(r"\[(\d+:\d\d(?::\d\d)?)\]")
ANCHOR = '<a class="yt-timestamp" data-t="{0}">[{0}]</a>'


def note_bytes(sections: list[tuple[str, list[str]]]) -> bytes:
    body = "".join(
        f"## {heading}\n\nSaid here {' and '.join(ANCHOR.format(raw) for raw in raws)}.\n\n"
        for heading, raws in sections
    )
    return f"---\ntitle: T\nvideoId: abcdefghijk\n---\n{body}".encode()


def test_a_stamp_that_stays_unreadable_is_reported_on_its_line_and_leaves_no_label() -> None:
    raw = note_bytes([("One", ["02:10:00"]), ("Two", ["HH:MM:SS", "31:10:00"])])
    result = parse_note("a.md", raw)
    assert [s.timestamps for s in result.note.sections] == [(130,), (1870,)]
    assert [(p.line, p.message) for p in result.problems] == [(11, "unreadable timestamp 'HH:MM:SS': skipped")]
    assert result.note.sections[1].text == "Said here and [31:10]."


_STAMP = st.tuples(st.integers(0, 70), st.integers(0, 59), st.integers(0, 99)).map(
    lambda parts: "{:02d}:{:02d}:{:02d}".format(*parts)
)


@given(st.lists(st.lists(_STAMP, min_size=1, max_size=4), min_size=1, max_size=8))
def test_each_section_keeps_its_own_stamps_in_order_read_as_the_whole_note_reads_them(
    stamps_by_section: list[list[str]],
) -> None:
    sections = [(f"Part {n}", raws) for n, raws in enumerate(stamps_by_section)]
    parsed = parse_note("a.md", note_bytes(sections)).note.sections
    seconds = iter(read_note_timestamps([raw for _, raws in sections for raw in raws]))
    assert [s.heading for s in parsed] == [heading for heading, _ in sections]
    for section, (_, raws) in zip(parsed, sections, strict=True):
        expected = tuple(s for s in (next(seconds) for _ in raws) if s is not None)
        assert section.timestamps == expected
        assert tuple(parse_timestamp(label) for label in LABEL.findall(section.text)) == expected


def test_a_note_is_read_the_same_whatever_other_notes_the_vault_holds(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    (vault / "a").mkdir(parents=True)
    (vault / "a" / "hours.md").write_bytes(note_bytes([("One", ["00:05:00", "00:20:00"])]))
    alone = [f.note for batch in parse_files(vault, list_notes(vault)) for f in batch]
    (vault / "a" / "minutes.md").write_bytes(note_bytes([("One", ["00:05:00", "00:20:00", "24:50:00"])]))
    together = {f.path: f.note for batch in parse_files(vault, list_notes(vault)) for f in batch}
    assert together["a/hours.md"] == alone[0]
    assert [s.timestamps for s in alone[0].sections] == [(300, 1200)]
