"""When the digest is posted: one APScheduler 3 `BackgroundScheduler` per process.

APScheduler 3 must never share a job store between processes, so every replica schedules every
channel in its own memory, and the claims of `bot.digest.poster` make the post happen once. Each channel
gets a cron job in the channel's time zone (so daylight-saving changes neither skip nor double a
day); a refresh job re-reads the subscriptions from the database every minute (so a channel that
subscribes from Slack is picked up by every process without a restart) and gives every channel a
chance to catch up: a process that starts, or a day whose post failed, within the grace period
after the scheduled time still posts it once; later than that the day is skipped, with a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings
from bot.digest.choose import DigestDay
from bot.digest.ledger import Status, read_claim, read_subscriptions
from bot.digest.poster import DigestPoster, Result
from bot.engine.index import SearchIndex
from bot.engine.scope import Scope
from bot.storage import make_engine

log = logging.getLogger(__name__)

REFRESH_EVERY = timedelta(minutes=1)
MIN_GRACE = timedelta(minutes=1)
LOOKBACK = timedelta(days=8)  # far enough back to find the last occasion of a weekly schedule


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    """When one channel gets its digest: a time of day in a time zone, on some days of the week."""

    team_id: str
    channel_id: str
    time_of_day: str  # HH:MM, validated by bot.config.clock_time
    timezone: str  # IANA name
    days: str = "mon-sun"  # cron day_of_week: mon-fri, mon,wed,fri
    # A subscription made from Slack counts from when it was made: subscribing at 09:30 to 09:00
    # starts tomorrow rather than posting at once.
    since: datetime | None = None

    @property
    def job_id(self) -> str:
        return f"digest:{self.team_id}:{self.channel_id}"

    def trigger(self) -> CronTrigger:
        hour, minute = self.time_of_day.split(":")
        return CronTrigger(day_of_week=self.days, hour=int(hour), minute=int(minute), timezone=ZoneInfo(self.timezone))

    def day_of(self, moment: datetime) -> DigestDay:
        """The digest day that `moment` falls on in the channel's time zone."""
        return DigestDay(self.team_id, self.channel_id, moment.astimezone(ZoneInfo(self.timezone)).date())

    def describe(self) -> str:
        return f"{self.time_of_day} {self.timezone} ({self.days})"


def last_occasion(schedule: DigestSchedule, now: datetime) -> datetime | None:
    """The latest scheduled time at or before `now` (None within a week or since the subscription)."""
    trigger = schedule.trigger()
    start = now - LOOKBACK if schedule.since is None else max(now - LOOKBACK, schedule.since)
    latest = None
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire)
    return latest


def next_occasion(schedule: DigestSchedule, now: datetime) -> datetime | None:
    return schedule.trigger().get_next_fire_time(None, now)


def run_due(
    poster: DigestPoster, schedule: DigestSchedule, now: datetime, grace: timedelta, *, starting: bool = False
) -> Result | None:
    """Post the channel's latest scheduled digest if it is at most `grace` old (once: see DigestPoster).

    `starting`: the process has just started, so a day missed beyond the grace period is logged.
    """
    occasion = last_occasion(schedule, now)
    if occasion is None:
        return None
    day = schedule.day_of(occasion)
    late = now - occasion
    if late <= grace:
        return poster.post(day)
    if starting:
        claim = read_claim(poster.engine, day)
        if claim is None or claim.status != Status.POSTED:
            log.warning(
                "digest %s skipped: this process started %s after its time %s, beyond the grace period of %s",
                day,
                _rounded(late),
                occasion.isoformat(timespec="minutes"),
                grace,
            )
    return None


def _rounded(delta: timedelta) -> timedelta:
    return timedelta(seconds=round(delta.total_seconds()))


# --- Where schedules come from -----------------------------------------------------------------


def settings_schedules(settings: Settings) -> list[DigestSchedule]:
    """The channels of DIGEST_CHANNEL, at DIGEST_TIME in DIGEST_TIMEZONE on DIGEST_DAYS."""
    return [
        DigestSchedule("", channel, settings.digest_time, settings.digest_timezone, settings.digest_days)
        for channel in settings.digest_channels
    ]


def subscribed_schedules(engine: Engine) -> list[DigestSchedule]:
    """The channels that subscribed from Slack with `/notes digest on ...`."""
    return [
        DigestSchedule(s.team_id, s.channel_id, s.time_of_day, s.timezone, s.days, s.since)
        for s in read_subscriptions(engine)
    ]


def load_schedules(engine: Engine, settings: Settings) -> list[DigestSchedule]:
    """Every channel's schedule; a channel's own subscription wins over the settings."""
    merged = {s.channel_id: s for s in settings_schedules(settings)}
    merged |= {s.channel_id: s for s in subscribed_schedules(engine)}
    return list(merged.values())


# --- The scheduler -----------------------------------------------------------------------------


class DigestScheduler:
    """This process's scheduler: a cron job per channel, and a refresh job that re-reads them."""

    def __init__(
        self,
        poster: DigestPoster,
        schedules: Callable[[], list[DigestSchedule]],
        grace: timedelta,
        refresh_every: timedelta = REFRESH_EVERY,
        on_result: Callable[[Result], None] = lambda _result: None,
    ) -> None:
        self.poster = poster
        # A job starts a moment after its time: with no grace at all every day would be skipped.
        self.grace = max(grace, MIN_GRACE)
        self.on_result = on_result  # for metrics: every attempt's result
        self._schedules = schedules
        self._refresh_every = refresh_every
        self._jobs: dict[str, DigestSchedule] = {}
        self._started_up = False
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={
                # APScheduler's default of 1 s would silently drop a job that starts a little late.
                "misfire_grace_time": int(self.grace.total_seconds()),
                "coalesce": True,
                "max_instances": 1,
            },
        )

    def start(self) -> None:
        """Start in the background; the first refresh (and catch-up) runs at once."""
        # APScheduler logs every run of every job at INFO: two lines a minute for the refresh alone.
        # Its warnings (a run missed beyond the grace period, say) still come through.
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        self.scheduler.add_job(
            self.refresh,
            IntervalTrigger(seconds=self._refresh_every.total_seconds(), timezone=UTC),
            id="digest:refresh",
            next_run_time=datetime.now(UTC),
        )
        self.scheduler.start()

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)

    @property
    def schedules(self) -> list[DigestSchedule]:
        return list(self._jobs.values())

    def refresh(self) -> None:
        """Re-read the schedules, update the cron jobs, and post what is due and not yet posted."""
        try:
            schedules = self._schedules()
        except SQLAlchemyError as error:
            log.error("digest: cannot read the subscriptions, keeping the current ones: %s", error)
            schedules = self.schedules
        self._reconcile(schedules)
        starting, self._started_up = not self._started_up, True
        for schedule in schedules:
            self._run(schedule, starting=starting)

    def fire(self, schedule: DigestSchedule) -> None:
        """A channel's cron job."""
        self._run(schedule)

    def _run(self, schedule: DigestSchedule, *, starting: bool = False) -> None:
        try:
            result = run_due(self.poster, schedule, self.poster.clock(), self.grace, starting=starting)
        except Exception:  # one channel's trouble (the database away) must not stop the others
            log.exception("digest for %s failed", schedule.channel_id)
            return
        if result is not None:
            log.debug("digest for %s: %s", schedule.channel_id, result.outcome)
            self.on_result(result)

    def _reconcile(self, schedules: list[DigestSchedule]) -> None:
        wanted = {s.job_id: s for s in schedules}
        for job_id in set(self._jobs) - set(wanted):
            self.scheduler.remove_job(job_id)
            log.info("digest: %s no longer scheduled", self._jobs.pop(job_id).channel_id)
        for job_id, schedule in wanted.items():
            if self._jobs.get(job_id) == schedule:
                continue
            self.scheduler.add_job(
                self.fire, schedule.trigger(), args=[schedule], id=job_id, name=job_id, replace_existing=True
            )
            self._jobs[job_id] = schedule
            log.info("digest: %s scheduled at %s", schedule.channel_id, schedule.describe())


def digest_client(settings: Settings) -> WebClient | None:
    """The Web API client for digest posts, None without a bot token.

    Only rate limits are retried by slack_sdk: a 429 means the post was not taken. slack_sdk's default
    retry of a reset connection could post twice; the poster retries those itself, after checking
    the channel.
    """
    if settings.slack_bot_token is None:
        return None
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )


def start_digest_scheduler(
    settings: Settings,
    index: Callable[[], SearchIndex],
    engine: Engine | None = None,
    client_for: Callable[[str], WebClient] | None = None,
    on_result: Callable[[Result], None] = lambda _result: None,
    scope_for: Callable[[str, str], Scope | None] | None = None,
) -> DigestScheduler | None:
    """Start this process's digest scheduler (for `notesbot serve`); None when it cannot post.

    `index` returns the vault's current index; `client_for(team_id)` the client of a workspace
    (default: one client with SLACK_BOT_TOKEN for every team); `on_result` sees every attempt's
    result (`result.posted`, `result.failed`), for metrics; `scope_for(team, channel)` what a channel
    draws from (default: every channel the whole vault). Posts link to NOTES_SITE_URL when it is set.
    """
    if client_for is None:
        client = digest_client(settings)
        if client is None:
            log.warning("digest: not scheduled, it needs SLACK_BOT_TOKEN (or a client per workspace)")
            return None
        client_for = lambda _team: client  # noqa: E731
    engine = engine or make_engine(settings.database_url)
    poster = DigestPoster(engine, client_for, index, clock=lambda: datetime.now(UTC), site=settings.note_site)
    if scope_for is not None:
        poster.scope_for = scope_for
    scheduler = DigestScheduler(
        poster,
        lambda: load_schedules(engine, settings),
        timedelta(minutes=settings.digest_grace_minutes),
        on_result=on_result,
    )
    scheduler.start()
    return scheduler
