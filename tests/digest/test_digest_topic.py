"""Choosing the topic of the day: a section worth reading, from a note the channel has not seen in
this cycle, random but reproducible, following the vault as notes come and go."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine

from bot.digest.choose import DigestDay, Featured, choose_topic, related_titles
from bot.digest.ledger import read_featured
from bot.digest.poster import Outcome
from tests.digest.conftest import (
    FakeChannel,
    SimClock,
    anchor,
    good_section,
    index_of,
    make_poster,
    note_text,
    write_note,
    write_topics_vault,
)

START = date(2026, 11, 2)


def day(n: int, channel: str = "C1") -> DigestDay:
    return DigestDay("T1", channel, START + timedelta(days=n))


def post_days(engine: Engine, vault: Path, days: range, clock: SimClock, channel: str = "C1") -> list[str]:
    """Post the digest of each day (the index reloaded each day, as notes change) and return the notes."""
    slack = FakeChannel()
    chosen = []
    for n in days:
        poster = make_poster(engine, slack, index_of(vault), clock)
        result = poster.post(day(n, channel))
        assert result.outcome == Outcome.POSTED
        chosen.append(slack.messages[-1]["metadata"]["event_payload"]["note"])
    return chosen


def test_only_sections_with_a_timestamp_enough_text_and_a_video_are_chosen(tmp_path: Path) -> None:
    write_topics_vault(tmp_path, 3)
    write_note(tmp_path, "no_video", note_text("No video", None, [good_section("Would be good")]))
    index = index_of(tmp_path)
    headings = {choose_topic(index, Featured(0, frozenset()), seed, day(0)).hit.heading for seed in map(str, range(60))}
    assert headings == {"Main idea 0", "Main idea 1", "Main idea 2"}


def test_an_empty_vault_has_no_topic(tmp_path: Path) -> None:
    write_note(tmp_path, "stub", note_text("Stub", "vid00000001", [("Short", f"Hi {anchor('00:00:10')}")]))
    assert choose_topic(index_of(tmp_path), Featured(0, frozenset()), "s", day(0)) is None


def test_the_choice_is_reproducible_from_the_seed_and_the_day(tmp_path: Path) -> None:
    write_topics_vault(tmp_path, 20)
    index = index_of(tmp_path)
    seen = Featured(0, frozenset())

    def notes(seed: str) -> list[str]:
        return [choose_topic(index, seen, seed, day(n)).hit.note for n in range(10)]

    assert notes("alpha") == notes("alpha")
    assert notes("alpha") != notes("beta")  # 20 notes, 10 days: equal sequences would be a broken seed


def test_notes_already_featured_in_the_cycle_are_not_chosen(tmp_path: Path) -> None:
    paths = write_topics_vault(tmp_path, 4)
    index = index_of(tmp_path)
    featured = Featured(3, frozenset(paths[:3]))
    assert {choose_topic(index, featured, str(s), day(0)).hit.note for s in range(20)} == {paths[3]}


def test_the_whole_vault_is_featured_before_any_note_repeats_then_a_new_cycle_starts(
    tmp_path: Path, sqlite_engine: Engine, clock: SimClock
) -> None:
    vault = tmp_path / "vault"
    paths = write_topics_vault(vault, 5)
    chosen = post_days(sqlite_engine, vault, range(12), clock)
    assert sorted(chosen[:5]) == paths
    assert sorted(chosen[5:10]) == paths
    assert len(set(chosen[10:12])) == 2
    assert read_featured(sqlite_engine, "T1", "C1").cycle == 2


def test_each_channel_walks_the_vault_on_its_own(tmp_path: Path, sqlite_engine: Engine, clock: SimClock) -> None:
    vault = tmp_path / "vault"
    paths = write_topics_vault(vault, 4)
    first = post_days(sqlite_engine, vault, range(4), clock, channel="C1")
    second = post_days(sqlite_engine, vault, range(4), clock, channel="C2")
    assert sorted(first) == sorted(second) == paths


def test_a_note_added_to_the_vault_joins_the_current_cycle(
    tmp_path: Path, sqlite_engine: Engine, clock: SimClock
) -> None:
    vault = tmp_path / "vault"
    paths = write_topics_vault(vault, 3)
    before = post_days(sqlite_engine, vault, range(2), clock)
    write_note(vault, "new_talk", note_text("New talk", "vidnew00001", [good_section("Fresh")]))
    after = post_days(sqlite_engine, vault, range(2, 4), clock)
    assert sorted(before + after) == sorted([*paths, "new_talk.md"])


def test_a_deleted_note_leaves_the_rotation(tmp_path: Path, sqlite_engine: Engine, clock: SimClock) -> None:
    vault = tmp_path / "vault"
    paths = write_topics_vault(vault, 4)
    first = post_days(sqlite_engine, vault, range(1), clock)
    featured_gone, unseen_gone = first[0], next(p for p in paths if p != first[0])
    (vault / featured_gone).unlink()
    (vault / unseen_gone).unlink()
    rest = post_days(sqlite_engine, vault, range(1, 7), clock)
    remaining = sorted(set(paths) - {featured_gone, unseen_gone})
    assert unseen_gone not in rest and featured_gone not in rest
    # The cycle ends once the notes still in the vault were shown; then they come round again.
    assert sorted(rest[:2]) == remaining
    assert sorted(rest[2:4]) == remaining


def test_related_notes_are_up_to_three_wikilinks_that_name_notes_of_the_vault(tmp_path: Path) -> None:
    for name in ("alpha", "beta", "gamma", "delta"):
        write_note(tmp_path, f"topics/{name}", note_text(name.title(), f"vid{name:0>8}", [good_section("Body")]))
    links = ["missing_note", "main", "topics/beta", "Alpha", "gamma|Gamma shown", "delta"]
    write_note(tmp_path, "main", note_text("Main", "vidmain0001", [good_section("Body")], links))
    index = index_of(tmp_path)
    main = index.note_paths.index("main.md")
    # Not the note itself, not a link to nothing; case-insensitive like Obsidian; at most three.
    assert related_titles(index, main) == ("Beta", "Alpha", "Gamma")
