"""The topic of the day of a scoped channel: drawn only from the notes of its scope (`/notes scope`), day after day,
while an unscoped channel draws from the whole vault; the post links to the published note when a site is set."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from bot.digest.choose import DigestDay
from bot.engine.scope import Scope
from bot.engine.site import NoteSite
from bot.slack.channel_scopes import ChannelScopes
from tests.digest.conftest import FakeChannel, SimClock, good_section, index_of, make_poster, note_text, write_note


def write_two_folder_vault(root: Path) -> None:
    for n in range(4):
        write_note(root, f"health/talk_{n}", note_text(f"Health {n}", f"hea{n:08d}", [good_section(f"Sleep {n}")]))
        write_note(root, f"ai/talk_{n}", note_text(f"AI {n}", f"ai0{n:08d}", [good_section(f"Robots {n}")]))


def test_a_scoped_channel_s_topics_come_from_its_scope_only_and_another_channel_s_from_everywhere(
    tmp_path: Path, sqlite_engine: Engine, clock: SimClock
) -> None:
    write_two_folder_vault(tmp_path)
    index = index_of(tmp_path)
    scopes = ChannelScopes(sqlite_engine)
    scopes.save("T1", "C0SCOPED1", Scope(folders=("health",)), "U1", clock())
    channel = FakeChannel()
    poster = make_poster(sqlite_engine, channel, index, clock, scope_for=scopes.scope_for)

    for day in range(8):  # two cycles through the scope's four notes
        date = (clock() + timedelta(days=day)).date()
        assert poster.post(DigestDay("T1", "C0SCOPED1", date)).posted
        assert poster.post(DigestDay("T1", "C0OPEN001", date)).posted

    scoped = {post["text"] for post in channel.posts_to("C0SCOPED1")}
    anywhere = {post["text"] for post in channel.posts_to("C0OPEN001")}
    assert all("Health" in text for text in scoped) and len(scoped) == 4
    assert any("AI" in text for text in anywhere) and any("Health" in text for text in anywhere)


def test_the_topic_of_the_day_links_to_the_published_note(
    tmp_path: Path, sqlite_engine: Engine, clock: SimClock
) -> None:
    write_two_folder_vault(tmp_path)
    channel = FakeChannel()
    site = NoteSite("https://notes.example.com")
    poster = make_poster(sqlite_engine, channel, index_of(tmp_path), clock, site=site)

    assert poster.post(DigestDay("T1", "C1", clock().date())).posted

    [post] = channel.posts_to("C1")
    assert "<https://notes.example.com/" in str(post["blocks"]) and "|Read the note>" in str(post["blocks"])
