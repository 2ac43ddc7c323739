"""Commands around the digest: `/notes digest on|off` and App Home's topic in Slack, `notesbot digest` on the CLI.

`/notes digest on 09:00 Europe/Berlin [mon-fri]` subscribes the channel it is typed in, `/notes digest
off` ends that, `/notes digest` says what is set. Subscriptions live in the database, where every
process's scheduler reads them again each minute. Bad input gets a reply that says what is
expected, and changes nothing. `slack_hooks` hands the Slack app the command and today's topic; no
other module of the digest imports this one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.config import ConfigError, Settings, clock_time, day_spec, time_zone
from bot.digest.choose import find_topic
from bot.digest.ledger import (
    Status,
    Subscription,
    delete_subscription,
    latest_posted,
    read_claim,
    save_subscription,
)
from bot.digest.poster import Clock, DigestPoster
from bot.digest.scheduler import (
    DigestSchedule,
    digest_client,
    load_schedules,
    next_occasion,
    settings_schedules,
    subscribed_schedules,
)
from bot.engine.index import SearchIndex
from bot.engine.index_cache import load_vault
from bot.engine.search import Hit, Searcher
from bot.migrate import create_schema
from bot.slack.channel_scopes import ChannelScopes
from bot.slack.delivery import Reply
from bot.slack.deps import DigestCommand, TodayTopic
from bot.slack.messages import Message, escape_mrkdwn
from bot.storage import make_engine

EVERY_DAY = "mon-sun"
USAGE = (
    "*Topic of the day* posts one section of the notes to a channel every day.\n"
    "• `/notes digest on 09:00 Europe/Berlin` in a channel: every day at 09:00, Berlin time\n"
    "• `/notes digest on 08:30 America/New_York mon-fri`: on weekdays only\n"
    "• `/notes digest off`: no more digest here\n"
    "• `/notes digest`: what is set for this channel"
)


# --- /notes digest -------------------------------------------------------------------------------


def handle_digest_command(
    text: str,
    *,
    channel_id: str,
    team_id: str,
    user_id: str,
    engine: Engine,
    clock: Clock,
    settings: Settings,
) -> Message:
    """The reply to `/notes digest <text>` typed in `channel_id`; subscribes or unsubscribes it."""
    words = text.split()
    if words and words[0].lower() == "digest":  # accept the command's text with or without its keyword
        words = words[1:]
    action = words[0].lower() if words else "status"
    if action == "on":
        return _subscribe(words[1:], channel_id, team_id, user_id, engine, clock, settings)
    if action == "off" and len(words) == 1:
        return _unsubscribe(channel_id, team_id, engine, settings)
    if action == "status":
        return _status(channel_id, team_id, engine, clock, settings)
    return _reply(f"I did not understand `{escape_mrkdwn(' '.join(words))}`.\n{USAGE}")


def read_schedule_words(words: list[str], settings: Settings) -> tuple[str, str, str]:
    """(time, zone, days) from words such as `09:00 Europe/Berlin mon-fri`, in any order, each
    optional (the settings' time and zone, every day); ValueError naming a word it cannot read."""
    found: dict[str, str] = {}
    for word in words:
        kind, value = _schedule_word(word)
        if kind in found:
            raise ValueError(f"`{word}` is a second {kind}: give one {kind}")
        found[kind] = value
    return (
        found.get("time", settings.digest_time),
        found.get("time zone", settings.digest_timezone),
        found.get("days", EVERY_DAY),
    )


def _schedule_word(word: str) -> tuple[str, str]:
    for kind, read in (("time", clock_time), ("days", day_spec), ("time zone", time_zone)):
        try:
            return kind, read(word)
        except ValueError:
            continue
    raise ValueError(
        f"`{word}` is neither a time (such as 09:00), a time zone (such as Europe/Berlin) nor days (such as mon-fri)"
    )


def _subscribe(
    words: list[str],
    channel_id: str,
    team_id: str,
    user_id: str,
    engine: Engine,
    clock: Clock,
    settings: Settings,
) -> Message:
    try:
        time_of_day, zone, days = read_schedule_words(words, settings)
    except ValueError as error:
        return _reply(f"{escape_mrkdwn(str(error))}. Nothing changed.\n{USAGE}")
    now = clock()
    save_subscription(engine, Subscription(team_id, channel_id, time_of_day, zone, days, now), created_by=user_id)
    schedule = DigestSchedule(team_id, channel_id, time_of_day, zone, days, now)
    return _reply(
        f"Topic of the day is on for this channel: {_when(schedule)}. The first one comes {_next(schedule, now)}.\n"
        "I need to be a member of the channel to post here (`/invite` me if I am not)."
    )


def _unsubscribe(channel_id: str, team_id: str, engine: Engine, settings: Settings) -> Message:
    removed = delete_subscription(engine, team_id, channel_id)
    configured = _configured(channel_id, settings)
    if configured is not None:
        return _reply(
            ("Your subscription is off, but" if removed else "This channel has no subscription of its own, but")
            + f" the server's settings (DIGEST_CHANNEL) still post here: {_when(configured)}. "
            "Ask whoever runs notesbot to take it out."
        )
    if removed:
        return _reply("Topic of the day is off for this channel.")
    return _reply("This channel did not get the topic of the day; nothing changed.")


def _status(channel_id: str, team_id: str, engine: Engine, clock: Clock, settings: Settings) -> Message:
    now = clock()
    own = next((s for s in subscribed_schedules(engine) if (s.team_id, s.channel_id) == (team_id, channel_id)), None)
    schedule = own or _configured(channel_id, settings)
    if schedule is None:
        return _reply(f"This channel does not get the topic of the day.\n{USAGE}")
    source = "" if own else " (from the server's settings)"
    today = read_claim(engine, schedule.day_of(now))
    posted = " Today's is posted." if today is not None and today.status == Status.POSTED else ""
    return _reply(
        f"Topic of the day is on for this channel{source}: {_when(schedule)}. Next: {_next(schedule, now)}.{posted}"
    )


def _configured(channel_id: str, settings: Settings) -> DigestSchedule | None:
    return next((s for s in settings_schedules(settings) if s.channel_id == channel_id), None)


def _when(schedule: DigestSchedule) -> str:
    days = "every day" if schedule.days == EVERY_DAY else f"on {schedule.days}"
    return f"{days} at {schedule.time_of_day} ({schedule.timezone})"


def _next(schedule: DigestSchedule, now: datetime) -> str:
    upcoming = next_occasion(schedule, now)
    return upcoming.strftime("%a %d %b at %H:%M") if upcoming else "never"


def _reply(text: str) -> Message:
    return {"text": text}


def digest_command(engine: Engine, clock: Clock, settings: Settings) -> DigestCommand:
    """The `digest_command` of the Slack listeners (bot.slack.deps.ListenerDeps): answers privately with the reply."""

    def command(text: str, payload: dict[str, Any], reply: Reply) -> None:
        reply(
            handle_digest_command(
                text,
                channel_id=payload.get("channel_id", ""),
                team_id=payload.get("team_id", ""),
                user_id=payload.get("user_id", ""),
                engine=engine,
                clock=clock,
                settings=settings,
            )
        )

    return command


# --- App Home ------------------------------------------------------------------------------------


def latest_topic(engine: Engine, index: SearchIndex, clock: Clock) -> Hit | None:
    """The section posted by the most recent digest of the last day, for App Home; None if none."""
    posted = latest_posted(engine, since=(clock() - timedelta(days=1)).date().isoformat())
    topic = find_topic(index, *posted) if posted else None
    return topic.hit if topic else None


def slack_hooks(
    settings: Settings, engine: Engine, searcher_source: Callable[[], Searcher], clock: Clock
) -> tuple[DigestCommand, TodayTopic]:
    """What bot.slack.server hands the Slack listeners: the `/notes digest` command and App Home's topic."""
    return digest_command(engine, clock, settings), lambda: latest_topic(engine, searcher_source().index, clock)


# --- notesbot digest -----------------------------------------------------------------------------


def add_digest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--now", action="store_true", help="post today's digest now")
    parser.add_argument("--channel", help="only this channel id (default: every configured channel)")
    parser.add_argument("--dry-run", action="store_true", help="print the message instead of posting it")
    parser.add_argument("--force", action="store_true", help="post even where today's digest was posted")


def run_digest_cli(args: argparse.Namespace, settings: Settings) -> int:
    """`notesbot digest`: list the schedules; with --now post (or print) today's digest."""
    engine = make_engine(settings.database_url)
    create_schema(engine)
    schedules = load_schedules(engine, settings)
    if args.channel:
        fallback = DigestSchedule(
            "", args.channel, settings.digest_time, settings.digest_timezone, settings.digest_days
        )
        schedules = [s for s in schedules if s.channel_id == args.channel] or [fallback]
    now = datetime.now(UTC)
    if not args.now:
        for schedule in schedules:
            print(f"{schedule.channel_id}: {_when(schedule)}, next {_next(schedule, now)}")
        if not schedules:
            print("No digest channel: set DIGEST_CHANNEL or subscribe one with /notes digest on.")
        return 0
    if not schedules:
        raise ConfigError("no digest channel: set DIGEST_CHANNEL, subscribe one from Slack, or pass --channel")
    if not settings.notes_dir.is_dir():
        raise ConfigError(f"NOTES_DIR: no folder at {settings.notes_dir}")
    index = load_vault(settings.notes_dir, settings.cache_dir, progress=sys.stderr.isatty()).index
    client = digest_client(settings)
    if args.dry_run:
        client_for: Callable[[str], WebClient] = _no_posting
    elif client is None:
        raise ConfigError("SLACK_BOT_TOKEN is needed to post (or use --dry-run)")
    else:
        client_for = lambda _team: client  # noqa: E731
    poster = DigestPoster(
        engine,
        client_for,
        lambda: index,
        clock=lambda: datetime.now(UTC),
        scope_for=ChannelScopes(engine).scope_for,
        site=settings.note_site,
    )
    failed = 0
    for schedule in schedules:
        day = schedule.day_of(now)
        if args.dry_run:
            message = poster.preview(day)
            print(f"# {schedule.channel_id} {day.local_date}")
            print(json.dumps(message, ensure_ascii=False, indent=2) if message else "(no section worth reading)")
            continue
        result = poster.post(day, force=args.force, retry_failed=True)
        failed += result.failed
        detail = f" ({result.detail})" if result.detail else ""
        print(f"{schedule.channel_id} {day.local_date}: {result.outcome}{detail}")
    return 1 if failed else 0


def _no_posting(_team: str) -> WebClient:
    raise RuntimeError("a dry run posts nothing")
