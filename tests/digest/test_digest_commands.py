"""`/notes digest on|off` and status in Slack, and `notesbot digest --now [--channel] [--dry-run] [--force]`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from bot.cli import main
from bot.config import Settings, load_settings
from bot.digest.commands import digest_command, handle_digest_command
from bot.digest.scheduler import subscribed_schedules
from bot.storage import digest_claims, make_engine
from tests.digest.conftest import SimClock, write_topics_vault
from tests.fake_slack import BOT_TOKEN, FakeSlack

CHANNEL, TEAM, USER = "C0DIGEST1", "T0000001", "U0ALICE01"


@pytest.fixture
def settings() -> Settings:
    return load_settings(digest_channel="CENV1", digest_time="08:00", digest_timezone="UTC", _env_file=None)


def say(text: str, engine: Engine, clock: SimClock, settings: Settings, channel: str = CHANNEL) -> str:
    reply = handle_digest_command(
        text, channel_id=channel, team_id=TEAM, user_id=USER, engine=engine, clock=clock, settings=settings
    )
    return reply["text"]


# --- /notes digest -------------------------------------------------------------------------------


def test_digest_on_subscribes_the_channel_at_that_time_and_zone(
    sqlite_engine: Engine, clock: SimClock, settings: Settings
) -> None:
    reply = say("on 09:00 Europe/Berlin", sqlite_engine, clock, settings)
    assert "on for this channel: every day at 09:00 (Europe/Berlin)" in reply
    assert "The first one comes Wed 25 Nov at 09:00" in reply  # it is 09:00:05 in Berlin: today's time has passed
    (schedule,) = subscribed_schedules(sqlite_engine)
    assert (schedule.team_id, schedule.channel_id, schedule.time_of_day, schedule.timezone, schedule.days) == (
        TEAM,
        CHANNEL,
        "09:00",
        "Europe/Berlin",
        "mon-sun",
    )


def test_digest_on_takes_days_in_any_order_and_a_later_call_replaces_the_schedule(
    sqlite_engine: Engine, clock: SimClock, settings: Settings
) -> None:
    say("on 09:00 Europe/Berlin", sqlite_engine, clock, settings)
    reply = say("on Mon-Fri America/New_York 7:30", sqlite_engine, clock, settings)
    assert "on mon-fri at 07:30 (America/New_York)" in reply
    (schedule,) = subscribed_schedules(sqlite_engine)
    assert (schedule.time_of_day, schedule.timezone, schedule.days) == ("07:30", "America/New_York", "mon-fri")


def test_digest_on_alone_uses_the_configured_time_and_zone(
    sqlite_engine: Engine, clock: SimClock, settings: Settings
) -> None:
    assert "every day at 08:00 (UTC)" in say("on", sqlite_engine, clock, settings)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("on 25:00 Europe/Berlin", "`25:00` is neither a time"),
        ("on 09:00 Mars/Olympus", "`Mars/Olympus` is neither a time"),
        ("on 09:00 10:00", "`10:00` is a second time"),
        ("on 09:00 <!channel>", "`&lt;!channel&gt;` is neither"),
    ],
)
def test_bad_input_says_what_is_expected_and_changes_nothing(
    sqlite_engine: Engine, clock: SimClock, settings: Settings, words: str, expected: str
) -> None:
    say("on 10:00 UTC", sqlite_engine, clock, settings)
    reply = say(words, sqlite_engine, clock, settings)
    assert expected in reply and "Nothing changed." in reply and "<!channel>" not in reply
    (schedule,) = subscribed_schedules(sqlite_engine)
    assert (schedule.time_of_day, schedule.timezone) == ("10:00", "UTC")


def test_an_unknown_subcommand_gets_the_usage_escaped(
    sqlite_engine: Engine, clock: SimClock, settings: Settings
) -> None:
    reply = say("sometimes <@U123>", sqlite_engine, clock, settings)
    assert "I did not understand `sometimes &lt;@U123&gt;`" in reply and "/notes digest off" in reply


def test_digest_off_ends_the_subscription(sqlite_engine: Engine, clock: SimClock, settings: Settings) -> None:
    say("on 09:00 Europe/Berlin", sqlite_engine, clock, settings)
    assert say("off", sqlite_engine, clock, settings) == "Topic of the day is off for this channel."
    assert subscribed_schedules(sqlite_engine) == []
    assert "nothing changed" in say("off", sqlite_engine, clock, settings)


def test_status_tells_what_is_set_and_whether_today_is_posted(
    sqlite_engine: Engine, clock: SimClock, settings: Settings
) -> None:
    assert "does not get the topic of the day" in say("", sqlite_engine, clock, settings)
    say("digest on 09:00 Europe/Berlin mon-fri", sqlite_engine, clock, settings)
    status = say("digest", sqlite_engine, clock, settings)
    assert (
        status
        == "Topic of the day is on for this channel: on mon-fri at 09:00 (Europe/Berlin). Next: Wed 25 Nov at 09:00."
    )


def test_a_channel_configured_on_the_server_says_so(sqlite_engine: Engine, clock: SimClock, settings: Settings) -> None:
    status = say("", sqlite_engine, clock, settings, channel="CENV1")
    assert "(from the server's settings): every day at 08:00 (UTC)" in status
    assert "still post here" in say("off", sqlite_engine, clock, settings, channel="CENV1")


def test_the_slack_hook_answers_privately_with_the_reply(
    sqlite_engine: Engine, clock: SimClock, settings: Settings
) -> None:
    replies = []
    hook = digest_command(sqlite_engine, clock, settings)
    hook("on 09:00 Europe/Berlin", {"channel_id": CHANNEL, "team_id": TEAM, "user_id": USER}, replies.append)
    assert "every day at 09:00 (Europe/Berlin)" in replies[0]["text"]
    assert [(s.team_id, s.channel_id) for s in subscribed_schedules(sqlite_engine)] == [(TEAM, CHANNEL)]


# --- notesbot digest -----------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack) -> Path:
    """A vault, a SQLite database and the fake Slack, configured as the environment would."""
    write_topics_vault(tmp_path / "vault", 4)
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name, value in {
        "NOTES_DIR": str(tmp_path / "vault"),
        "NOTESBOT_CACHE_DIR": str(tmp_path / "cache"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": fake_slack.base_url,
        "DIGEST_CHANNEL": "C1,C2",
    }.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def test_digest_now_posts_today_once_per_channel_and_force_posts_again(
    cli_env: Path, fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    today = datetime.now(UTC).date().isoformat()  # DIGEST_TIMEZONE is UTC here
    assert main(["digest", "--now"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"C1 {today}: posted", f"C2 {today}: posted"]
    assert main(["digest", "--now"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"C1 {today}: already posted today",
        f"C2 {today}: already posted today",
    ]
    assert main(["digest", "--now", "--channel", "C2", "--force"]) == 0
    assert capsys.readouterr().out == f"C2 {today}: posted\n"
    posted = [c.body["channel"] for c in fake_slack.calls_to("chat.postMessage", answered_ok=True)]
    assert posted == ["C1", "C2", "C2"]


def test_digest_dry_run_prints_the_message_and_posts_nothing(
    cli_env: Path, fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["digest", "--now", "--dry-run", "--channel", "C9"]) == 0
    out = capsys.readouterr().out
    header, body = out.split("\n", 1)
    assert header.startswith("# C9 ")
    message = json.loads(body)
    assert message["blocks"][0]["text"]["text"] == "Topic of the day"
    assert fake_slack.calls == []
    engine = make_engine(f"sqlite:///{cli_env / 'bot.sqlite3'}")
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(digest_claims)).scalar() == 0
    engine.dispose()


def test_digest_without_now_lists_the_schedules(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["C1", "C2"]
    assert "every day at 09:00 (UTC), next" in lines[0]


def test_digest_now_without_a_token_is_a_clear_error_that_claims_nothing(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    assert main(["digest", "--now"]) == 2
    assert "SLACK_BOT_TOKEN is needed to post" in capsys.readouterr().err
    assert main(["digest", "--now", "--dry-run"]) == 0  # nothing was left claimed: a preview still works


def test_digest_now_when_slack_refuses_exits_with_an_error(
    cli_env: Path, fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_slack.fail_next(1, error="not_in_channel", method="chat.postMessage")
    assert main(["digest", "--now", "--channel", "C1"]) == 1
    assert capsys.readouterr().out.endswith(": failed (HTTP 200 not_in_channel)\n")
    # Once the bot is in the channel, running it again posts the day.
    assert main(["digest", "--now", "--channel", "C1"]) == 0
    assert capsys.readouterr().out.endswith(": posted\n")
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
