"""Link previews in process: a YouTube link to a video of the notes is unfurled with the section covering its
moment (chat.unfurl keyed by the URL as shared, checked by the fake Slack as Slack checks it); links the notes
know nothing of get no call at all; a channel's scope holds for previews too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.engine.index_cache import load_vault
from bot.engine.scope import Scope
from bot.engine.search import Searcher
from bot.engine.site import NoteSite
from bot.slack.app import create_app
from bot.slack.channel_scopes import ChannelScopes
from bot.slack.delivery import make_web_client
from bot.slack.deps import ListenerDeps
from tests.fake_slack import TEAM_ID, Call, FakeSlack
from tests.slack.conftest import bot_settings
from tests.slack.dispatch import NOW, BoltDispatcher, InlineExecutor
from tests.slack.listeners.conftest import MakeSlack
from tests.slack_sender import CHANNEL

BUNDLED = Path(__file__).resolve().parents[3] / "notes"
SITE = NoteSite("https://notes.example.com")
VIDEO = "s3MuSOl1Rog"  # "Applications of deep learning"


def share(slack: BoltDispatcher, urls: list[str], event_id: str | None = None, **where: Any) -> dict[str, Any]:
    event = slack.fake.links_shared(urls, **where)
    assert slack.event(event, event_id).status == 200
    return event


def previews(fake_slack: FakeSlack) -> dict[str, str]:
    """The one chat.unfurl made: each URL and the text of its preview's blocks."""
    [unfurl] = fake_slack.calls_to("chat.unfurl", answered_ok=True)
    return {url: preview_text(preview) for url, preview in unfurl.body["unfurls"].items()}


def preview_text(preview: dict[str, Any]) -> str:
    return Call("api", "chat.unfurl", "", preview, {}, 200).texts


def test_a_link_with_a_moment_unfurls_the_section_covering_it(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    url = f"https://www.youtube.com/watch?v={VIDEO}&t=2500s"  # 41:40: the section starting at 41:00
    event = share(slack, [url])

    [unfurl] = fake_slack.calls_to("chat.unfurl")
    assert (unfurl.body["channel"], unfurl.body["ts"]) == (CHANNEL, event["message_ts"])
    text = previews(fake_slack)[url]
    assert "*Applications of deep learning*\nDeep Learning in Image Recognition" in text
    assert "One of the most prominent applications of deep learning" in text
    assert f"<https://www.youtube.com/watch?v={VIDEO}&t=2460s|Watch from 41:00>" in text
    assert "Read the note" not in text  # no site set


def test_a_moment_between_sections_is_covered_by_the_one_started_last(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    url = f"https://youtu.be/{VIDEO}?t=25m45s"  # 1545 s: "Gaming" starts at 25:31, "Toward General ..." at 26:00
    share(slack, [url])

    assert "Gaming and Entertainment" in previews(fake_slack)[url]


def test_a_link_without_a_moment_unfurls_the_note_s_first_section(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    url = f"https://youtu.be/{VIDEO}"
    share(slack, [url])

    text = previews(fake_slack)[url]
    assert "Deep Learning in Image Recognition" in text and "Watch from 41:00" in text


def test_links_to_videos_not_in_the_notes_and_malformed_links_get_no_unfurl_call(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    share(
        slack,
        [
            "https://www.youtube.com/watch?v=zzzzzzzzzzz&t=10",
            "https://youtu.be/",
            "https://www.youtube.com/watch?v=<!channel>",
            "https://m.youtube.com/playlist?list=PL0",
            "not even a link",
        ],
    )

    assert fake_slack.calls_to("chat.unfurl") == []


def test_only_the_links_the_notes_know_are_previewed_each_keyed_exactly_as_shared(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    known = [f"https://www.youtube.com/watch?v={VIDEO}&amp;t=1545", f"https://m.youtube.com/shorts/{VIDEO}"]
    share(slack, [known[0], "https://youtu.be/zzzzzzzzzzz", known[1], known[0]])

    shown = previews(fake_slack)
    assert list(shown) == known  # Slack's `&amp;` kept in the key, read as `&`
    assert "Gaming and Entertainment" in shown[known[0]]


def test_an_event_carrying_an_unfurl_id_is_unfurled_by_it(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    url = f"https://youtu.be/{VIDEO}?t=2500"
    share(slack, [url], unfurl_id="C0GENERAL1.1700000000.000300.abcdef", source="conversations_history")

    [unfurl] = fake_slack.calls_to("chat.unfurl", answered_ok=True)
    assert (unfurl.body["unfurl_id"], unfurl.body["source"]) == (
        "C0GENERAL1.1700000000.000300.abcdef",
        "conversations_history",
    )
    assert "channel" not in unfurl.body and "ts" not in unfurl.body


def test_a_link_still_in_the_composer_waits_until_it_is_posted_in_a_channel(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    share(slack, [f"https://youtu.be/{VIDEO}"], channel="COMPOSER", unfurl_id="U0ASKER01-909b5454", source="composer")

    assert fake_slack.calls_to("chat.unfurl") == []


def test_a_redelivered_link_shared_event_is_previewed_once(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    event = fake_slack.links_shared([f"https://youtu.be/{VIDEO}"])
    slack.event(event, event_id="Ev0LINKS001")
    slack.event(event, event_id="Ev0LINKS001", headers={"x-slack-retry-num": "1"})

    assert len(fake_slack.calls_to("chat.unfurl")) == 1


def test_a_preview_escapes_everything_taken_from_the_note(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    url = "https://youtu.be/dQw4w9WgXcQ?t=70"  # the hostile note's video
    share(slack, [url])

    text = previews(fake_slack)[url]
    assert "Quasar announcements" in text
    for planted in ("<!here>", "<!channel>", "<https://evil.example", "<@U0EVIL1>"):
        assert planted not in text
    assert "&lt;!here&gt;" in text


def test_a_preview_links_to_the_published_note_when_a_site_is_set(make_slack: MakeSlack, fake_slack: FakeSlack) -> None:
    url = f"https://youtu.be/{VIDEO}?t=2500"
    share(make_slack(site=SITE), [url])

    page = "https://notes.example.com/lexfridman/applications_of_deep_learning"
    read = f"<{page}#deep-learning-in-image-recognition|Read the note>"
    assert read in previews(fake_slack)[url]


def test_a_link_into_the_published_notes_unfurls_the_section_its_anchor_names(
    make_slack: MakeSlack, fake_slack: FakeSlack
) -> None:
    page = "https://notes.example.com/lexfridman/applications_of_deep_learning"
    urls = [f"{page}#gaming-and-entertainment", page, "https://notes.example.com/lexfridman/no_such_note#x"]
    share(make_slack(site=SITE), urls)

    shown = previews(fake_slack)
    assert list(shown) == urls[:2]
    assert "Gaming and Entertainment" in shown[urls[0]] and "Watch from 25:31" in shown[urls[0]]
    assert "Deep Learning in Image Recognition" in shown[urls[1]]


def test_a_scoped_channel_previews_only_the_notes_of_its_scope(
    make_slack: MakeSlack, fake_slack: FakeSlack, sqlite_engine: Engine
) -> None:
    scopes = ChannelScopes(sqlite_engine)
    scopes.save(TEAM_ID, CHANNEL, Scope(folders=("long",)), "U0ADMIN01", NOW)
    slack = make_slack(channel_scopes=scopes)

    share(slack, [f"https://youtu.be/{VIDEO}"])  # a lexfridman note: outside the channel's scope
    assert fake_slack.calls_to("chat.unfurl") == []

    share(slack, [f"https://youtu.be/{VIDEO}"], channel="C0OTHER01")
    assert len(fake_slack.calls_to("chat.unfurl", answered_ok=True)) == 1


@pytest.fixture(scope="module")
def bundled() -> Searcher:
    """The bundled vault, where ten videos have two or three notes each."""
    return Searcher(load_vault(BUNDLED, None).index)


def test_of_several_notes_on_a_video_the_one_covering_the_moment_best_is_shown_and_the_others_named(
    bundled: Searcher, fake_slack: FakeSlack, tmp_path: Path, sqlite_engine: Engine
) -> None:
    settings = bot_settings(fake_slack, tmp_path, notes_dir=BUNDLED)
    deps = ListenerDeps(lambda: bundled, sqlite_engine, lambda: NOW, InlineExecutor())
    slack = BoltDispatcher(create_app(settings, make_web_client(settings), deps), fake_slack)
    url = f"https://youtu.be/{VIDEO}?t=2500"
    share(slack, [url])

    text = previews(fake_slack)[url]
    on_video = [bundled.index.note_titles[n] for n, v in enumerate(bundled.index.note_videos) if v == VIDEO]
    shown_title = next(title for title in on_video if f"*{title}*" in text)
    others = [title for title in on_video if title != shown_title]
    assert len(on_video) == 3 and len(others) == 2
    assert f"Also in {others[0]} · {others[1]}" in text or f"Also in {others[1]} · {others[0]}" in text
