"""The digest message: "Topic of the day", title and heading, escaped excerpt, the watch link at the
section's moment, the thumbnail and related notes, checked as the fake Slack Web API received it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.digest.choose import DigestDay, Featured, choose_topic
from bot.digest.message import digest_message
from tests.digest.conftest import FILLER, SimClock, anchor, index_of, make_poster, note_text, write_note
from tests.fake_slack import BOT_TOKEN, FakeSlack

VIDEO = "s3MuSOl1Rog"
DAY = DigestDay("T1", "C1", date(2026, 11, 24))


def write_tricky_vault(root: Path) -> None:
    """One note worth reading whose text tries to ping the channel and smuggle a link, with related notes."""
    text = (
        f"<!channel> look: **deep learning** at <https://evil.example|click here> & more. {FILLER} "
        f"{anchor('00:38:00')} and later {anchor('01:02:03')}"
    )
    links = ["perception", "Planning", "nowhere", "control", "ethics"]
    write_note(root, "vision", note_text("Cars & Robots <!here>", VIDEO, [("Computer Vision", text)], links))
    for name in ("perception", "planning", "control", "ethics"):
        write_note(root, name, note_text(f"{name.title()} & Co", None, [("Intro", "Short.")]))


def blocks_of(message: dict, kind: str) -> list[dict]:
    return [b for b in message["blocks"] if b["type"] == kind]


def test_the_message_has_title_heading_excerpt_link_thumbnail_and_related_notes(tmp_path: Path) -> None:
    write_tricky_vault(tmp_path)
    topic = choose_topic(index_of(tmp_path), Featured(0, frozenset()), "seed", DAY)
    message = digest_message(topic)
    header, *_ = blocks_of(message, "header")
    assert header["text"]["text"] == "Topic of the day"
    title, excerpt, link = (b["text"]["text"] for b in blocks_of(message, "section"))
    assert title == "*Cars &amp; Robots &lt;!here&gt;*\nComputer Vision"
    assert excerpt.startswith("&lt;!channel&gt; look: *deep learning* at &amp; more.")
    assert f"<https://www.youtube.com/watch?v={VIDEO}&t=2280s|" in excerpt  # timestamps in the text link too
    assert link == f":arrow_forward: <https://www.youtube.com/watch?v={VIDEO}&t=2280s|Watch from 38:00>"
    (image,) = blocks_of(message, "image")
    assert image["image_url"] == f"https://i.ytimg.com/vi/{VIDEO}/hqdefault.jpg"
    (related,) = blocks_of(message, "context")
    assert related["elements"][0]["text"] == "Related: Perception &amp; Co · Planning &amp; Co · Control &amp; Co"
    assert message["text"] == (
        "Topic of the day: Cars &amp; Robots &lt;!here&gt; › Computer Vision — "
        f"<https://www.youtube.com/watch?v={VIDEO}&t=2280s|Watch from 38:00>"
    )


def test_a_note_without_links_to_the_vault_has_no_related_block(tmp_path: Path) -> None:
    write_note(tmp_path, "alone", note_text("Alone", VIDEO, [("Body", f"{FILLER} {anchor('00:00:07')}")], ["gone"]))
    message = digest_message(choose_topic(index_of(tmp_path), Featured(0, frozenset()), "s", DAY))
    assert blocks_of(message, "context") == []
    assert "&t=7s|Watch from 0:07>" in message["text"]


def test_the_posted_message_reaches_slack_escaped_with_its_link_and_thumbnail(
    tmp_path: Path, sqlite_engine: Engine, clock: SimClock, fake_slack: FakeSlack
) -> None:
    write_tricky_vault(tmp_path)
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url)
    make_poster(sqlite_engine, client, index_of(tmp_path), clock).post(DAY)
    (call,) = fake_slack.calls_to("chat.postMessage", answered_ok=True)
    body = call.body
    assert body["channel"] == "C1"
    sent = json.dumps(body["blocks"], ensure_ascii=False) + body["text"]
    assert "Cars &amp; Robots &lt;!here&gt;" in sent
    assert f"https://www.youtube.com/watch?v={VIDEO}&t=2280s" in sent
    assert {"type": "image", "image_url": f"https://i.ytimg.com/vi/{VIDEO}/hqdefault.jpg"}.items() <= next(
        b for b in body["blocks"] if b["type"] == "image"
    ).items()
    # Nothing from the note can ping or link: only the bot's own YouTube links are real links.
    assert "<!channel>" not in sent and "<!here>" not in sent and "<https://evil" not in sent
    assert "&lt;!channel&gt;" in sent
    assert body["unfurl_links"] is False and "link_names" not in body
    assert body["metadata"]["event_type"] == "notesbot_digest"
    assert body["metadata"]["event_payload"] == {"local_date": "2026-11-24", "note": "vision.md"}
