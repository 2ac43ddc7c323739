"""When the digest is posted, in simulated time: every scheduled day exactly once, across daylight-saving
changes, only on the days asked for, and after a restart only within the grace period."""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert

from bot.config import load_settings
from bot.digest.choose import DigestDay
from bot.digest.commands import handle_digest_command
from bot.digest.poster import Result
from bot.digest.scheduler import (
    DigestSchedule,
    DigestScheduler,
    last_occasion,
    load_schedules,
    run_due,
    start_digest_scheduler,
)
from bot.migrate import create_schema
from bot.storage import digest_claims, make_engine
from tests.digest.conftest import FakeChannel, SimClock, index_of, make_poster, write_topics_vault
from tests.fake_slack import BOT_TOKEN, FakeSlack

BERLIN = ZoneInfo("Europe/Berlin")
GRACE = timedelta(hours=1)


def simulate(
    schedule: DigestSchedule, engine: Engine, vault: Path, start: datetime, days: int, tick: timedelta
) -> FakeChannel:
    """Run the schedule for `days` days as a process would: each cron firing (taken from the schedule's own
    APScheduler trigger) runs the channel's job, and a refresh every `tick` runs the catch-up."""
    slack = FakeChannel()
    clock = SimClock(start)
    poster = make_poster(engine, slack, index_of(vault), clock)
    trigger = schedule.trigger()
    end = start + timedelta(days=days)
    firings = []
    fire = trigger.get_next_fire_time(None, start)
    while fire < end:
        firings.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    moments = sorted(
        [(f, "cron") for f in firings] + [(start + tick * i, "tick") for i in range(int((end - start) / tick))]
    )
    for moment, kind in moments:
        clock.now = moment + timedelta(seconds=1)  # jobs start a moment after their time
        run_due(poster, schedule, clock(), GRACE, starting=kind == "tick" and moment == start)
    return slack


def local_post_dates(slack: FakeChannel) -> list[str]:
    return [m["metadata"]["event_payload"]["local_date"] for m in slack.messages]


@pytest.mark.parametrize(
    ("start", "time_of_day"),
    [
        (datetime(2027, 3, 15, tzinfo=BERLIN), "09:00"),  # spring forward on 28 March
        (datetime(2026, 10, 10, tzinfo=BERLIN), "09:00"),  # fall back on 25 October
        (datetime(2027, 3, 15, tzinfo=BERLIN), "02:30"),  # a time that does not exist on 28 March
        (datetime(2026, 10, 10, tzinfo=BERLIN), "02:30"),  # a time that happens twice on 25 October
    ],
)
def test_thirty_days_across_a_daylight_saving_change_give_thirty_posts(
    tmp_path: Path, sqlite_engine: Engine, start: datetime, time_of_day: str
) -> None:
    paths = write_topics_vault(tmp_path, 12)
    schedule = DigestSchedule("T1", "C1", time_of_day, "Europe/Berlin")
    slack = simulate(schedule, sqlite_engine, tmp_path, start.astimezone(UTC), 30, timedelta(minutes=20))
    dates = local_post_dates(slack)
    assert dates == [(start.date() + timedelta(days=n)).isoformat() for n in range(30)]
    notes = [m["metadata"]["event_payload"]["note"] for m in slack.messages]
    for cycle_start in range(0, 30, len(paths)):  # no note repeats until all 12 were shown
        window = notes[cycle_start : cycle_start + len(paths)]
        assert len(set(window)) == len(window)
    assert sorted(notes[:12]) == sorted(paths)


def test_posts_happen_at_the_local_time_on_both_sides_of_the_change(tmp_path: Path, sqlite_engine: Engine) -> None:
    write_topics_vault(tmp_path, 3)
    schedule = DigestSchedule("T1", "C1", "09:00", "Europe/Berlin")
    start = datetime(2027, 3, 26, tzinfo=BERLIN).astimezone(UTC)
    clock_times = []
    slack = FakeChannel()
    clock = SimClock(start)
    poster = make_poster(sqlite_engine, slack, index_of(tmp_path), clock)
    fire = schedule.trigger().get_next_fire_time(None, start)
    for _ in range(4):
        clock.now = fire
        run_due(poster, schedule, clock(), GRACE)
        clock_times.append(fire.astimezone(BERLIN).strftime("%d %H:%M %Z"))
        fire = schedule.trigger().get_next_fire_time(fire, fire)
    assert clock_times == ["26 09:00 CET", "27 09:00 CET", "28 09:00 CEST", "29 09:00 CEST"]
    assert len(slack.messages) == 4


def test_a_weekday_schedule_skips_weekends(tmp_path: Path, sqlite_engine: Engine) -> None:
    write_topics_vault(tmp_path, 20)
    schedule = DigestSchedule("T1", "C1", "08:30", "Europe/Berlin", "mon-fri")
    start = datetime(2026, 11, 2, tzinfo=BERLIN).astimezone(UTC)  # a Monday
    slack = simulate(schedule, sqlite_engine, tmp_path, start, 21, timedelta(minutes=30))
    weekdays = Counter(datetime.fromisoformat(d).strftime("%a") for d in local_post_dates(slack))
    assert weekdays == {"Mon": 3, "Tue": 3, "Wed": 3, "Thu": 3, "Fri": 3}


def test_the_last_occasion_is_the_latest_scheduled_time_not_after_now() -> None:
    schedule = DigestSchedule("T1", "C1", "09:00", "Europe/Berlin", "mon-fri")
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=BERLIN)
    assert last_occasion(schedule, saturday) == datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN)
    subscribed = DigestSchedule("T1", "C1", "09:00", "Europe/Berlin", since=saturday - timedelta(hours=1))
    assert last_occasion(subscribed, saturday) is None  # subscribed after today's time: starts tomorrow


# --- Restarts ------------------------------------------------------------------------------------


def scheduler_at(engine: Engine, vault: Path, now: datetime, schedules: list[DigestSchedule]) -> tuple:
    slack = FakeChannel()
    clock = SimClock(now)
    poster = make_poster(engine, slack, index_of(vault), clock)
    return DigestScheduler(poster, lambda: schedules, GRACE), slack, clock


def test_a_process_starting_within_the_grace_period_posts_the_missed_digest_once(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    write_topics_vault(tmp_path, 3)
    schedule = DigestSchedule("", "C1", "09:00", "Europe/Berlin")
    started = datetime(2026, 11, 24, 9, 40, tzinfo=BERLIN)
    scheduler, slack, clock = scheduler_at(sqlite_engine, tmp_path, started, [schedule])
    scheduler.refresh()  # the first refresh runs as the process starts
    clock.advance(60)
    scheduler.refresh()
    scheduler.fire(schedule)
    assert local_post_dates(slack) == ["2026-11-24"]


def test_a_process_starting_after_the_grace_period_skips_the_day_with_a_log_line(
    tmp_path: Path, sqlite_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    write_topics_vault(tmp_path, 3)
    schedule = DigestSchedule("", "C1", "09:00", "Europe/Berlin")
    scheduler, slack, clock = scheduler_at(
        sqlite_engine, tmp_path, datetime(2026, 11, 24, 10, 30, tzinfo=BERLIN), [schedule]
    )
    with caplog.at_level(logging.WARNING, logger="bot.digest.scheduler"):
        scheduler.refresh()
        clock.advance(60)
        scheduler.refresh()
    assert slack.messages == []
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 1 and "2026-11-24" in skipped[0] and "1:30:00" in skipped[0]
    # The next day is posted as usual.
    clock.now = datetime(2026, 11, 25, 9, 0, 1, tzinfo=BERLIN)
    scheduler.fire(schedule)
    assert local_post_dates(slack) == ["2026-11-25"]


def test_a_late_start_says_nothing_when_another_process_posted_the_day(
    tmp_path: Path, sqlite_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    write_topics_vault(tmp_path, 3)
    schedule = DigestSchedule("", "C1", "09:00", "Europe/Berlin")
    now = datetime(2026, 11, 24, 11, 0, tzinfo=BERLIN)
    with sqlite_engine.begin() as connection:
        connection.execute(
            insert(digest_claims).values(
                team_id="",
                channel_id="C1",
                local_date="2026-11-24",
                claimed_by="peer",
                claimed_at=now,
                status="posted",
                message_ts="1.2",
                attempts=1,
            )
        )
    scheduler, slack, _ = scheduler_at(sqlite_engine, tmp_path, now, [schedule])
    with caplog.at_level(logging.INFO, logger="bot.digest.scheduler"):
        scheduler.refresh()
    assert slack.messages == [] and not [r for r in caplog.records if "skipped" in r.getMessage()]


def test_a_failed_post_is_retried_by_the_next_refresh_within_the_grace_period(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    write_topics_vault(tmp_path, 3)
    schedule = DigestSchedule("", "C1", "09:00", "Europe/Berlin")
    scheduler, slack, clock = scheduler_at(
        sqlite_engine, tmp_path, datetime(2026, 11, 24, 9, 0, 1, tzinfo=BERLIN), [schedule]
    )
    slack.script = ["429"] * 4  # rate limited on every try of the first run: nothing was posted
    scheduler.fire(schedule)
    assert slack.messages == []
    clock.advance(60)
    scheduler.refresh()
    assert local_post_dates(slack) == ["2026-11-24"]


# --- The real APScheduler --------------------------------------------------------------------------


def test_each_channel_gets_a_cron_job_in_its_time_zone_with_a_grace_period_and_coalescing(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    write_topics_vault(tmp_path, 3)
    schedules = [
        DigestSchedule("", "C1", "09:00", "Europe/Berlin", "mon-fri"),
        DigestSchedule("T1", "C2", "07:15", "America/New_York"),
    ]
    scheduler, _, _ = scheduler_at(sqlite_engine, tmp_path, datetime(2026, 11, 24, 6, 0, tzinfo=UTC), schedules)
    scheduler.scheduler.start(paused=True)  # jobs get the scheduler's defaults when they reach its store
    try:
        scheduler.refresh()
        job = scheduler.scheduler.get_job("digest::C1")
        other = scheduler.scheduler.get_job("digest:T1:C2")
    finally:
        scheduler.shutdown()
    assert str(job.trigger.timezone) == "Europe/Berlin"
    assert {f.name: str(f) for f in job.trigger.fields}["day_of_week"] == "mon-fri"
    assert job.misfire_grace_time == 3600 and job.coalesce is True
    assert str(other.trigger.timezone) == "America/New_York"


def test_subscriptions_are_picked_up_and_dropped_by_the_refresh_without_a_restart(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    write_topics_vault(tmp_path, 3)
    settings = load_settings(digest_channel="CENV", _env_file=None)
    clock = SimClock(datetime(2026, 11, 24, 6, 0, tzinfo=UTC))
    poster = make_poster(sqlite_engine, FakeChannel(), index_of(tmp_path), clock)
    scheduler = DigestScheduler(poster, lambda: load_schedules(sqlite_engine, settings), GRACE)
    scheduler.refresh()
    assert [s.channel_id for s in scheduler.schedules] == ["CENV"]

    def command(text: str) -> None:
        handle_digest_command(
            text, channel_id="C9", team_id="T1", user_id="U1", engine=sqlite_engine, clock=clock, settings=settings
        )

    command("on 07:45 Asia/Tokyo")
    scheduler.refresh()
    job = scheduler.scheduler.get_job("digest:T1:C9")
    assert job is not None and str(job.trigger.timezone) == "Asia/Tokyo"
    command("off")
    scheduler.refresh()
    assert scheduler.scheduler.get_job("digest:T1:C9") is None
    assert [s.channel_id for s in scheduler.schedules] == ["CENV"]


def test_a_started_scheduler_catches_up_in_the_background(tmp_path: Path, sqlite_engine: Engine) -> None:
    write_topics_vault(tmp_path, 3)
    schedule = DigestSchedule("", "C1", "09:00", "Europe/Berlin")
    scheduler, slack, _ = scheduler_at(sqlite_engine, tmp_path, datetime(2026, 11, 24, 9, 5, tzinfo=BERLIN), [schedule])
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while not slack.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown()
    assert local_post_dates(slack) == ["2026-11-24"]


def test_a_day_is_identified_by_the_local_date_of_the_channel() -> None:
    schedule = DigestSchedule("T1", "C1", "00:30", "Asia/Tokyo")
    moment = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)  # 00:30 on the 25th in Tokyo
    assert schedule.day_of(moment) == DigestDay("T1", "C1", datetime(2026, 11, 25).date())


def test_serve_starts_a_scheduler_that_posts_a_digest_missed_minutes_ago(tmp_path: Path, fake_slack: FakeSlack) -> None:
    write_topics_vault(tmp_path / "vault", 3)
    two_minutes_ago = (datetime.now(UTC) - timedelta(minutes=2)).strftime("%H:%M")
    settings = load_settings(
        _env_file=None,
        slack_bot_token=BOT_TOKEN,
        slack_api_url=fake_slack.base_url,
        database_url=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        digest_channel="C1",
        digest_time=two_minutes_ago,
        digest_timezone="UTC",
    )
    engine = make_engine(settings.database_url)
    create_schema(engine)
    index = index_of(tmp_path / "vault")
    results: list[Result] = []
    scheduler = start_digest_scheduler(settings, lambda: index, engine, on_result=results.append)
    try:
        deadline = time.monotonic() + 15
        while not results and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown()
        engine.dispose()
    assert [r.posted for r in results] == [True]
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_without_a_bot_token_no_scheduler_is_started(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(_env_file=None, digest_channel="C1", database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with caplog.at_level(logging.WARNING, logger="bot.digest.scheduler"):
        assert start_digest_scheduler(settings, lambda: None) is None
    assert "needs SLACK_BOT_TOKEN" in caplog.text


def test_a_grace_period_of_zero_still_posts_a_job_that_starts_a_moment_late(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    write_topics_vault(tmp_path, 3)
    schedule = DigestSchedule("", "C1", "09:00", "Europe/Berlin")
    slack = FakeChannel()
    clock = SimClock(datetime(2026, 11, 24, 9, 0, 2, tzinfo=BERLIN))
    scheduler = DigestScheduler(make_poster(sqlite_engine, slack, index_of(tmp_path), clock), lambda: [], timedelta(0))
    scheduler.fire(schedule)
    assert local_post_dates(slack) == ["2026-11-24"]
