"""End to end over HTTP: the real app under uvicorn, signed Events API requests, the fake Slack Web API. A pasted
YouTube link with a moment is previewed with the section covering it and a link to the published note; a channel
scoped with `/notes scope` answers from its scope only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_slack import Call, FakeSlack
from tests.slack.conftest import RunningServer, bot_settings, start_bot
from tests.slack_sender import SlackSender

SITE = "https://notes.example.com"


@pytest.fixture
def slack(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[SlackSender]:
    server: RunningServer
    with start_bot(bot_settings(fake_slack, tmp_path, notes_site_url=SITE)) as server:
        yield SlackSender(server.url, fake_slack)


def test_a_shared_link_with_a_moment_is_previewed_with_the_section_covering_it(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    url = "https://www.youtube.com/watch?v=s3MuSOl1Rog&amp;t=41m40s"
    unknown = "https://youtu.be/zzzzzzzzzzz?t=10"
    event = fake_slack.links_shared([unknown, url])
    assert slack.event(event).status_code == 200

    [unfurl] = fake_slack.wait_for("chat.unfurl")
    assert (unfurl.body["channel"], unfurl.body["ts"]) == (event["channel"], event["message_ts"])
    assert list(unfurl.body["unfurls"]) == [url]  # the unknown video is left to Slack's own preview
    text = Call("api", "chat.unfurl", "", unfurl.body["unfurls"][url], {}, 200).texts
    assert "*Applications of deep learning*\nDeep Learning in Image Recognition" in text
    assert "Watch from 41:00" in text
    assert f"<{SITE}/lexfridman/applications_of_deep_learning#deep-learning-in-image-recognition|Read the note>" in text


def test_a_scoped_channel_answers_from_its_scope_and_another_channel_from_the_whole_vault(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    slack.command("scope long/")
    [scoped] = fake_slack.wait_for("response_url")
    assert "This channel now draws from `long/`" in scoped.texts

    slack.command("computer vision")
    fake_slack.wait_for("response_url", 2)
    slack.command("computer vision", channel_id="C0OTHER01")
    _, in_scope, elsewhere = (call.texts for call in fake_slack.wait_for("response_url", 3))
    assert "Nothing found" in in_scope and "Applications of deep learning" not in in_scope
    assert "Computer Vision and Robotics" in elsewhere
    assert f"<{SITE}/lexfridman/applications_of_deep_learning#computer-vision-and-robotics|Read the note>" in elsewhere
