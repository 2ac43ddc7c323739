"""Timestamps in `data-t` anchors: every unambiguous form is read, the rest is skipped, nothing raises."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.engine.timestamps import (
    AGREE_WINDOW_S,
    EVIDENCE_STAMPS,
    MAX_PLAUSIBLE_SECONDS,
    StampForm,
    VideoMoments,
    format_timestamp,
    minutes_first_by_video,
    minutes_first_text,
    parse_timestamp,
    read_note_timestamps,
    stamp_form,
)


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


# Reading a note's stamps together: what a stamp means is decided from the note's other stamps.
# The sequences are cut from notes of the shared corpus (named), shortened.


def test_a_note_that_never_writes_minutes_first_is_read_stamp_by_stamp() -> None:
    raws = ["00:00:13", "00:07:00", "02:12:24", "02:40:58", "N/A", "38:00"]
    assert read_note_timestamps(raws) == [parse_timestamp(raw) for raw in raws] == [13, 420, 7944, 9658, None, 2280]


@pytest.mark.parametrize(
    ("raws", "seconds"),
    [
        (["00:05:00", "00:12:30", "24:50:00", "31:10:00"], [300, 750, 1490, 1870]),
        (["13:40:00", "14:03:00", "14:07:00", "00:00:02", "01:14:00"], [820, 843, 847, 2, 74]),
    ],
    ids=[
        "a day or more: the stamps around it fit, in order, before 24:50",
        # asianometry/resolution_enhancement_techniques_rets.md, a 15-minute video
        "twelve hours or more: past the end of any YouTube video, so 14:07:00 is 14:07 and 01:14:00 is 1:14",
    ],
)
def test_a_stamp_whose_hours_would_run_past_any_video_is_minutes_and_seconds(
    raws: list[str], seconds: list[int]
) -> None:
    assert read_note_timestamps(raws) == seconds


def test_twelve_hours_is_the_latest_moment_a_stamp_alone_can_be() -> None:
    assert parse_timestamp("12:00:00") == MAX_PLAUSIBLE_SECONDS == 12 * 3600
    assert parse_timestamp("12:00:01") is None and parse_timestamp("14:07:00") is None


def minutes_first(raw: str) -> int:
    minutes, seconds, _ = raw.split(":")
    return int(minutes) * 60 + int(seconds)


@pytest.mark.parametrize(
    "raws",
    [
        ["02:04:00", "02:15:00", "02:12:00", "10:27:00", "23:51:00", "24:00:00", "24:20:00", "39:08:00"],
        ["02:30:46", "02:35:05", "02:37:92", "02:42:75", "02:47:76", "04:37:60", "04:47:35"],
        ["07:56:06", "08:14:81", "08:16:94", "08:20:94", "08:22:04", "08:23:44", "08:25:29"],
    ],
    ids=[
        # _drpreetisharma/differential_diagnosis_in_pathology.md
        "MM:SS:00 throughout, so 02:04:00 is 2:04 and not two hours in",
        # fireship/features_and_pricing_of_aws_amplify.md
        "hundredths: 02:37:92 sits between 2:37 and 2:42, so 04:37:60 is 4:37 and not 4:38",
        # mkbhd/realme_cocacola_collaboration_phone.md
        "after 8:22, 08:23:44 read as hours would run past the whole note",
    ],
)
def test_a_note_that_writes_minutes_first_throughout_is_read_minutes_first(raws: list[str]) -> None:
    assert read_note_timestamps(raws) == [minutes_first(raw) for raw in raws]


def test_hours_with_real_seconds_after_a_stretch_of_mm_ss_00_stay_hours() -> None:
    # inteligencialtda/pastor_antnio_juniors_spiritual_journey_and_transformation.md switches forms:
    # 05:17:00 is 5:17 (its hours would be past everything else), 01:08:20 is past 54:30
    raws = ["05:17:00", "07:29:00", "49:00:00", "54:30:00", "01:08:20", "01:12:15", "02:55:56", "02:48:00"]
    assert read_note_timestamps(raws) == [317, 449, 2940, 3270, 4100, 4335, 10556, 10080]


def test_placeholders_and_other_forms_keep_their_reading_in_a_minutes_first_note() -> None:
    raws = ["HH:MM:SS", "00:10", "24:50:00", "01:00:17:51", "12:75:00", "2241"]
    assert read_note_timestamps(raws) == [None, 10, 1490, 3617, None, 2241]


def test_a_lone_third_part_over_59_is_a_slip_and_stays_unreadable() -> None:
    # lexfridman/origins_of_covid19.md: one stamp in thirteen, in a three-hour podcast read hours first
    raws = [
        "00:00:13",
        "00:00:29",
        "00:01:45",
        "00:02:11",
        "00:04:25",
        "00:07:00",
        "02:12:24",
        "02:20:22",
        "02:27:10",
        "02:38:10",
        "02:40:58",
        "02:40:72",
        "02:39:28",
    ]
    seconds = read_note_timestamps(raws)
    assert seconds[11] is None
    assert seconds[:11] + seconds[12:] == [parse_timestamp(raw) for raw in raws[:11] + raws[12:]]


def test_a_note_without_stamps_reads_as_nothing() -> None:
    assert read_note_timestamps([]) == []


def hh_mm_ss(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


_HOUR_FIRST = st.integers(min_value=0, max_value=MAX_PLAUSIBLE_SECONDS).map(hh_mm_ss)


@given(st.lists(st.integers(min_value=0, max_value=MAX_PLAUSIBLE_SECONDS), max_size=40).map(sorted))
def test_a_well_formed_increasing_hh_mm_ss_note_is_read_unchanged(moments: list[int]) -> None:
    assert read_note_timestamps([hh_mm_ss(s) for s in moments]) == moments


@given(
    st.lists(st.integers(min_value=60, max_value=3599), min_size=1, max_size=40).map(
        lambda moments: sorted([*moments, 24 * 60])
    )
)
def test_writing_every_stamp_mm_ss_00_reads_like_00_mm_ss(moments: list[int]) -> None:
    """For a note that runs from its first minute on to past 24:00, under an hour: the range where a
    note's own stamps decide (`00:05:00`, `00:20:00`, `24:00:00` may be 5 and 20 minutes)."""
    minutes_written_first = [f"{s // 60:02d}:{s % 60:02d}:00" for s in moments]
    hours_written_first = [hh_mm_ss(s) for s in moments]
    assert read_note_timestamps(minutes_written_first) == read_note_timestamps(hours_written_first) == moments


_CLOCKLIKE = st.one_of(
    st.from_regex(r"\A\[?\d{1,3}:\d{1,2}:\d{1,3}(\.\d{1,3})?\]?\Z"),
    st.from_regex(r"\A\d{1,2}:\d{1,2}\Z"),
    _HOUR_FIRST,
    st.text(max_size=12),
)


@given(st.lists(_CLOCKLIKE, max_size=30))
def test_reading_a_note_never_raises_and_never_goes_past_a_day(raws: list[str]) -> None:
    seconds = read_note_timestamps(raws)
    assert len(seconds) == len(raws)
    assert all(s is None or 0 <= s <= MAX_PLAUSIBLE_SECONDS for s in seconds)


_THREE_PARTS = st.tuples(st.integers(0, 120), st.integers(0, 59), st.integers(0, 99))


@given(st.lists(_THREE_PARTS, max_size=40))
def test_a_three_part_stamp_reads_hours_first_or_minutes_first_never_anything_else(
    stamps: list[tuple[int, int, int]],
) -> None:
    raws = [f"{a:02d}:{b:02d}:{c:02d}" for a, b, c in stamps]
    for raw, (a, b, _), seconds in zip(raws, stamps, read_note_timestamps(raws), strict=True):
        assert seconds in (parse_timestamp(raw), a * 60 + b, None)
        assert seconds is not None or parse_timestamp(raw) is None  # only what cannot be hours is lost


# Rules 5 and 6: a note whose every stamp reads both ways, or is a three-part time of day, is read as the other notes
# on its video say.

ALL_ZERO, THREE_PART, OTHER = StampForm.ALL_ZERO, StampForm.THREE_PART, StampForm.OTHER


@pytest.mark.parametrize(
    ("raws", "form"),
    [
        (["04:06:00", "09:36:00", "11:24:00"], ALL_ZERO),
        (["00:05:00", "N/A", "01:23:00"], ALL_ZERO),  # an unreadable stamp says nothing either way
        (["04:06:00", "00:05:30"], THREE_PART),  # real seconds (or a frames field) in one
        (["00:15:17", "00:55:00", "02:33:00"], THREE_PART),
        (["04:06:00", "14:07:00"], OTHER),  # past any video hours first: minutes first by rule 1
        (["04:06:00", "9:36"], OTHER),  # minutes and seconds, written so
        (["00:04:37:60"], OTHER),
        ([], OTHER),
        (["N/A"], OTHER),
    ],
)
def test_a_note_s_stamps_are_all_zero_or_three_part_only_when_every_readable_one_is_a_time_of_day(
    raws: list[str], form: StampForm
) -> None:
    assert stamp_form(raws) is form


Notes = tuple[int, StampForm, int, int]  # (video, form, latest moment, moments) of a note


def decided(*notes: Notes, starts: tuple[list[int], ...] = ()) -> list[bool]:
    """`minutes_first_by_video` of `notes`, the sections of each (in order) starting at its `starts` (none given:
    a section at each note's latest moment)."""
    videos, forms, latest, moments = (np.array(column) for column in zip(*notes, strict=True))
    starts = starts or tuple([end] for end in latest.tolist())
    section_note = np.array([note for note, moments_of in enumerate(starts) for _ in moments_of], dtype=np.int32)
    section_moment = np.array([moment for moments_of in starts for moment in moments_of], dtype=np.int32)
    return minutes_first_by_video(videos, forms, latest, moments, VideoMoments(section_note, section_moment)).tolist()


ELEVEN_HOURS, ELEVEN_MINUTES = 11 * 3600 + 24 * 60, 11 * 60 + 30


def test_a_note_reading_both_ways_is_minutes_first_when_its_video_s_other_notes_end_near_its_minutes() -> None:
    assert decided((0, ALL_ZERO, ELEVEN_HOURS, 9), (0, OTHER, ELEVEN_MINUTES, 5)) == [True, False]


def test_a_note_reading_both_ways_stays_hours_first_when_its_video_s_other_notes_reach_its_hours() -> None:
    two_hours, long_talk = 2 * 3600 + 10 * 60, 2 * 3600 + 35 * 60 + 12
    assert decided((0, ALL_ZERO, two_hours, 9), (0, OTHER, long_talk, 5)) == [False, False]


@pytest.mark.parametrize(
    "other",
    [
        (1, OTHER, ELEVEN_MINUTES, 5),  # another video's
        (0, OTHER, ELEVEN_MINUTES, EVIDENCE_STAMPS - 1),  # too few moments to say how long the video is
        (0, ALL_ZERO, ELEVEN_MINUTES, 5),  # a note that reads both ways itself
        (0, OTHER, 3 * 60, 5),  # ending well before even its minutes reading
    ],
)
@pytest.mark.parametrize("form", [ALL_ZERO, THREE_PART])
def test_without_a_telling_note_on_its_video_a_note_stays_hours_first(other: Notes, form: StampForm) -> None:
    assert decided((0, form, ELEVEN_HOURS, 9), other)[0] is False


def test_a_note_without_a_video_stays_as_parsed() -> None:
    assert decided((-1, ALL_ZERO, 11 * 3600, 9), (-1, OTHER, 11 * 60, 5)) == [False, False]


def test_a_three_part_note_is_minutes_first_when_its_hours_overreach_its_video_and_its_minutes_fit() -> None:
    """`00:15:17`, `00:55:00`, `02:33:00` … `09:40:00` beside twins writing `00:00:15` … `00:09:40`."""
    hours = [917, 3300, 9180, 34800]
    twins = [15, 55, 153, 580]
    notes = ((0, THREE_PART, 34800, 4), (0, THREE_PART, 580, 4), (0, OTHER, 575, 4))
    assert decided(*notes, starts=(hours, twins, [s + 3 for s in twins])) == [True, False, False]


def test_a_three_part_note_whose_minutes_would_end_long_before_its_video_s_other_notes_stays_hours_first() -> None:
    """A three-hour podcast's `02:51:00` … `02:54:52`, beside notes that stop at 80 minutes: read minutes first it
    would end at 2:54, before a third of what they cover."""
    assert decided((0, THREE_PART, 10492, 6), (0, OTHER, 4791, 20))[0] is False


def test_a_three_part_note_its_twins_bear_out_hours_first_keeps_its_reading_despite_slips_past_the_end() -> None:
    """`00:00:17` … `00:00:49` as its twins write them, then `01:08:00`-like slips for 1:08: hours first it mostly
    starts where they do, so its slips do not turn the whole note."""
    own = [17, 22, 35, 49, 4080]
    twins = [17 + AGREE_WINDOW_S, 22, 35, 49, 68, 90]
    assert decided((0, THREE_PART, 4080, 5), (0, OTHER, 90, 6), starts=(own, twins))[0] is False


def test_a_three_part_note_longest_on_its_video_is_judged_against_the_others_not_itself() -> None:
    """Rule 6's note is a telling note too: the extent it is held to is its twins', without its own latest."""
    notes = ((0, THREE_PART, 34800, 4), (0, OTHER, 575, 4), (0, THREE_PART, 560, 4))
    assert decided(*notes, starts=([917, 3300, 9180, 34800], [20, 60, 160, 575], [9, 45, 140, 560]))[0] is True


@given(st.integers(min_value=0, max_value=MAX_PLAUSIBLE_SECONDS // 60))
def test_read_minutes_first_a_label_shows_a_60th_of_its_moment(minutes: int) -> None:
    seconds = minutes * 60
    text = f"Tides rise [{format_timestamp(seconds)}], then fall."
    assert minutes_first_text(text) == f"Tides rise [{format_timestamp(minutes)}], then fall."


def test_read_minutes_first_a_text_without_labels_is_unchanged() -> None:
    assert (
        minutes_first_text("A note [with brackets] and 12:30 unlabelled.")
        == "A note [with brackets] and 12:30 unlabelled."
    )
