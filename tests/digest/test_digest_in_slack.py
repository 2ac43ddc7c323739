"""The digest inside the running Slack app: `/notes digest ...` answered privately through the real app,
and App Home showing the topic posted today."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from slack_sdk import WebClient

from bot.digest.choose import DigestDay
from bot.digest.poster import DigestPoster, Outcome
from bot.digest.scheduler import subscribed_schedules
from bot.engine.index_cache import load_vault
from bot.storage import make_engine
from tests.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack
from tests.slack.conftest import VAULT, bot_settings, start_bot
from tests.slack_sender import CHANNEL, USER, SlackSender


def test_digest_commands_are_answered_privately_by_the_running_app(fake_slack: FakeSlack, tmp_path: Path) -> None:
    settings = bot_settings(fake_slack, tmp_path)
    with start_bot(settings) as server:
        slack = SlackSender(server.url, fake_slack)
        assert slack.command("digest on 09:00 Europe/Berlin mon-fri").status_code == 200
        (reply,) = fake_slack.wait_for("response_url")
        assert "on for this channel: on mon-fri at 09:00 (Europe/Berlin)" in reply.body["text"]
        slack.command("digest")
        status = fake_slack.wait_for("response_url", 2)[1]
        assert status.body["text"].startswith("Topic of the day is on for this channel: on mon-fri")
    engine = make_engine(settings.database_url)
    assert [(s.team_id, s.channel_id) for s in subscribed_schedules(engine)] == [(TEAM_ID, CHANNEL)]
    engine.dispose()


def test_app_home_shows_the_topic_posted_today(fake_slack: FakeSlack, tmp_path: Path) -> None:
    settings = bot_settings(fake_slack, tmp_path)
    with start_bot(settings) as server:  # the app creates the database
        engine = make_engine(settings.database_url)
        index = load_vault(VAULT, None).index
        client = WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url)
        now = datetime.now(UTC)
        poster = DigestPoster(engine, lambda _team: client, lambda: index, clock=lambda: now)
        assert poster.post(DigestDay(TEAM_ID, CHANNEL, date.today())).outcome == Outcome.POSTED
        posted = fake_slack.calls_to("chat.postMessage")[0].body["metadata"]["event_payload"]["note"]
        slack = SlackSender(server.url, fake_slack)
        slack.event({"type": "app_home_opened", "user": USER, "channel": "D0HOME", "tab": "home"})
        (publish,) = fake_slack.wait_for("views.publish")
        engine.dispose()
    home = str(publish.body["view"]["blocks"])
    assert "Today's topic" in home
    title = index.note_titles[index.note_paths.index(posted)]
    assert title.split()[0] in home
