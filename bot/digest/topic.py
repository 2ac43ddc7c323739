"""Topic of the day: choose a section worth reading for a channel, build the message, post it once.

Choosing is pure: the index and the notes a channel has already seen in, a section out, random but
reproducible from a seed. Posting is exactly once per (team, channel, local date) across processes:
a process first claims the day in `digest_claims` (its unique constraint decides between racing
processes), then posts, then records the message ts. A post whose outcome is unknown (a timeout, a
5xx) is never sent again blindly: the channel's history is checked for it first.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    ImageBlock,
    MarkdownTextObject,
    SectionBlock,
)
from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.config import Settings
from bot.engine.index import SearchIndex
from bot.engine.search import Hit, Searcher, section_hit
from bot.engine.vault import link_keys
from bot.slack.messages import (
    SECTION_LIMIT,
    Message,
    cut_at_word,
    escape_mrkdwn,
    excerpt_mrkdwn,
    location,
    moment_url,
    watch_link,
)
from bot.storage import digest_claims, digest_featured

log = logging.getLogger(__name__)

MIN_WORDS = 30  # a section shorter than this is a caption, not something to read over coffee
RELATED_LIMIT = 3
METADATA_TYPE = "notesbot_digest"  # message metadata that lets the history check recognise our post
HISTORY_PAGES = 5

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class DigestDay:
    """One channel's digest of one day, the unit that is posted exactly once."""

    team_id: str
    channel_id: str
    local_date: date

    def __str__(self) -> str:
        return f"{self.channel_id} on {self.local_date.isoformat()}"


@dataclass(frozen=True, slots=True)
class Topic:
    hit: Hit
    related: tuple[str, ...]  # titles of the notes its wikilinks lead to


@dataclass(frozen=True, slots=True)
class Featured:
    """What a channel has seen in its current cycle through the vault."""

    cycle: int
    notes: frozenset[str]


# --- Choosing the topic ----------------------------------------------------------------------------


def worth_reading(index: SearchIndex, section: int) -> bool:
    """A section with a timestamp, a video to link to and enough text to read."""
    note = int(index.section_note[section])
    return (
        index.section_first_ts[section] >= 0
        and moment_url(index.note_videos[note], 0) is not None
        and len(index.section_texts[section].split()) >= MIN_WORDS
    )


def sections_worth_reading(index: SearchIndex) -> dict[int, list[int]]:
    """The sections worth reading, by note id."""
    worth: dict[int, list[int]] = {}
    for i in np.flatnonzero(index.section_first_ts >= 0):
        if worth_reading(index, int(i)):
            worth.setdefault(int(index.section_note[i]), []).append(int(i))
    return worth


def choose_topic(index: SearchIndex, featured: Featured, seed: str, day: DigestDay) -> Topic | None:
    """A section from a note the channel has not seen in this cycle (any note once all were seen).

    The draw depends only on the seed and the day, so every process (and every retry) that chooses
    for the same channel and day chooses the same section.
    """
    worth = sections_worth_reading(index)
    notes = {index.note_paths[n]: n for n in worth}
    unseen = sorted(set(notes) - featured.notes) or sorted(notes)
    if not unseen:
        return None
    rng = random.Random(f"{seed}|{day.team_id}|{day.channel_id}|{day.local_date.isoformat()}")
    note = notes[rng.choice(unseen)]
    return topic_of(index, rng.choice(worth[note]))


def topic_of(index: SearchIndex, section: int) -> Topic:
    return Topic(section_hit(index, section), related_titles(index, int(index.section_note[section])))


def find_topic(index: SearchIndex, note_path: str, heading: str) -> Topic | None:
    """The section worth reading of `note_path` under `heading`, if the vault still has it."""
    try:
        note = index.note_paths.index(note_path)
    except ValueError:
        return None
    for section in np.flatnonzero(index.section_note == note):
        if index.section_headings[section] == heading and worth_reading(index, int(section)):
            return topic_of(index, int(section))
    return None


def related_titles(index: SearchIndex, note: int) -> tuple[str, ...]:
    """Titles of up to three other notes of the vault that the note's wikilinks name, in link order."""
    by_name: dict[str, int] = {}
    for other, path in enumerate(index.note_paths):
        for key in link_keys(path):
            by_name.setdefault(key, other)
    titles: list[str] = []
    for link in index.note_links[note]:
        keys = link_keys(link.target.strip().lstrip("/"))
        target = next((by_name[k] for k in keys if k in by_name), None)
        if target is not None and target != note and index.note_titles[target] not in titles:
            titles.append(index.note_titles[target])
    return tuple(titles[:RELATED_LIMIT])


# --- The message -------------------------------------------------------------------------------


def thumbnail_url(video_id: str | None) -> str | None:
    """The video's thumbnail, only for a real YouTube id (it goes into a URL)."""
    return f"https://i.ytimg.com/vi/{video_id}/hqdefault.jpg" if moment_url(video_id, None) else None


def digest_message(topic: Topic) -> Message:
    """The post: header, title and heading, excerpt, thumbnail, watch link and related notes."""
    hit = topic.hit
    where = " › ".join(escape_mrkdwn(" ".join(p.split())) for p in (*hit.heading_path, hit.heading) if p.strip())
    title = f"*{escape_mrkdwn(' '.join(hit.title.split()))}*" + (f"\n{where}" if where else "")
    link = watch_link(hit.video_id, hit.timestamp)
    blocks: list[Block] = [
        HeaderBlock(text="Topic of the day"),
        SectionBlock(text=MarkdownTextObject(text=cut_at_word(title, SECTION_LIMIT))),
        SectionBlock(text=MarkdownTextObject(text=excerpt_mrkdwn(hit.text, hit.video_id))),
    ]
    thumbnail = thumbnail_url(hit.video_id)
    if thumbnail:
        # Alt text is plain text where escaping does not apply: it carries nothing from the note.
        blocks.append(ImageBlock(image_url=thumbnail, alt_text="Video thumbnail"))
    if link:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f":arrow_forward: {link}")))
    if topic.related:
        related = " · ".join(escape_mrkdwn(t) for t in topic.related)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=cut_at_word(f"Related: {related}", 2000))]))
    text = f"Topic of the day: {location(hit)}" + (f" — {link}" if link else "")
    return {"text": text, "blocks": [block.to_dict() for block in blocks]}


# --- The ledger: claims and featured notes ------------------------------------------------------


class Status(StrEnum):
    CLAIMED = "claimed"  # someone is posting, or crashed, or does not know whether the post arrived
    POSTED = "posted"
    RELEASED = "released"  # the post failed for now; anyone may claim the day again
    FAILED = "failed"  # Slack refused for good (say, channel_not_found); only `digest --now` retries


@dataclass(frozen=True, slots=True)
class Claim:
    id: int
    owner: str
    status: str
    claimed_at: datetime
    note_path: str | None
    heading: str | None
    message_ts: str | None


def new_owner() -> str:
    """A name for one attempt to post: unique, and telling which process made it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _day_key(day: DigestDay) -> dict[str, str]:
    return {"team_id": day.team_id, "channel_id": day.channel_id, "local_date": day.local_date.isoformat()}


def dialect_insert(engine: Engine, table: Any) -> Any:
    """An INSERT with the ON CONFLICT clauses of the engine's database (PostgreSQL or SQLite)."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def insert_claim(engine: Engine, day: DigestDay, owner: str, now: datetime) -> bool:
    """Claim the day; False if another process (or an earlier run) already has a claim on it."""
    statement = (
        dialect_insert(engine, digest_claims)
        .on_conflict_do_nothing()
        .values(**_day_key(day), claimed_by=owner, claimed_at=now, attempts=0, status=Status.CLAIMED)
        .returning(digest_claims.c.id)  # a row back means ours: rowcount is -1 with RETURNING on PostgreSQL
    )
    with engine.begin() as connection:
        return connection.execute(statement).first() is not None


def read_claim(engine: Engine, day: DigestDay) -> Claim | None:
    key = _day_key(day)
    statement = select(digest_claims).where(*(digest_claims.c[k] == v for k, v in key.items()))
    with engine.connect() as connection:
        row = connection.execute(statement).mappings().first()
    if row is None:
        return None
    claimed_at = row["claimed_at"]
    return Claim(
        id=row["id"],
        owner=row["claimed_by"],
        status=row["status"],
        # SQLite hands back naive datetimes: they were written in UTC
        claimed_at=claimed_at if claimed_at.tzinfo else claimed_at.replace(tzinfo=UTC),
        note_path=row["note_path"],
        heading=row["heading"],
        message_ts=row["message_ts"],
    )


def take_over(engine: Engine, claim: Claim, owner: str, now: datetime) -> bool:
    """Make the claim ours, unless someone changed it since we read it (compare and swap)."""
    statement = (
        update(digest_claims)
        .where(
            digest_claims.c.id == claim.id,
            digest_claims.c.claimed_by == claim.owner,
            digest_claims.c.status == claim.status,
        )
        .values(claimed_by=owner, claimed_at=now, status=Status.CLAIMED)
    )
    with engine.begin() as connection:
        return connection.execute(statement).rowcount == 1


def _update_own(engine: Engine, claim_id: int, owner: str, **values: Any) -> bool:
    statement = (
        update(digest_claims)
        .where(digest_claims.c.id == claim_id, digest_claims.c.claimed_by == owner)
        .values(**values)
    )
    with engine.begin() as connection:
        return connection.execute(statement).rowcount == 1


def read_featured(engine: Engine, team_id: str, channel_id: str) -> Featured:
    where = (digest_featured.c.team_id == team_id, digest_featured.c.channel_id == channel_id)
    with engine.connect() as connection:
        cycle = connection.execute(select(func.max(digest_featured.c.cycle)).where(*where)).scalar() or 0
        notes = connection.execute(
            select(digest_featured.c.note_path).where(*where, digest_featured.c.cycle == cycle)
        ).scalars()
        return Featured(cycle, frozenset(notes))


def record_posted(
    engine: Engine, claim_id: int, owner: str, day: DigestDay, note_path: str, ts: str, attempts: int
) -> None:
    """Mark the day posted and the note featured, in one transaction.

    The note joins the channel's current cycle, or opens the next one when the current cycle has it
    already (which is how choosing among all notes again starts a new round).
    """
    featured = read_featured(engine, day.team_id, day.channel_id)
    cycle = featured.cycle + 1 if note_path in featured.notes else featured.cycle
    with engine.begin() as connection:
        done = connection.execute(
            update(digest_claims)
            .where(digest_claims.c.id == claim_id, digest_claims.c.claimed_by == owner)
            .values(status=Status.POSTED, message_ts=ts, attempts=attempts)
        ).rowcount
        if not done:
            # Only when this attempt outlived its lease and another process took the claim over: that
            # one checks the channel's history before posting, so it will find this post.
            log.warning("digest claim %s of %s was taken over while posting", claim_id, day)
            return
        connection.execute(
            dialect_insert(engine, digest_featured)
            .on_conflict_do_nothing()
            .values(
                team_id=day.team_id,
                channel_id=day.channel_id,
                note_path=note_path,
                cycle=cycle,
                featured_on=day.local_date.isoformat(),
            )
        )


# --- Posting exactly once ----------------------------------------------------------------------


class Outcome(StrEnum):
    POSTED = "posted"
    FOUND = "found already posted in the channel"
    ALREADY = "already posted today"
    BUSY = "being posted by another process"
    EMPTY = "no section worth reading in the vault"
    FAILED = "failed"
    UNKNOWN = "outcome unknown; the channel is checked before any new attempt"


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    ts: str | None = None
    detail: str = ""

    @property
    def posted(self) -> bool:
        """The day's digest is in the channel because of this attempt (posted or found posted)."""
        return self.outcome in (Outcome.POSTED, Outcome.FOUND)

    @property
    def failed(self) -> bool:
        return self.outcome in (Outcome.FAILED, Outcome.UNKNOWN)


@dataclass(slots=True)
class _Attempt:
    """The state of one process's attempt at one day's digest, once it holds the claim."""

    claim_id: int
    owner: str
    day: DigestDay
    topic: Topic
    message: Message
    record_featured: bool = True
    unsure: bool = False  # a post may have reached Slack without us knowing: look before posting
    tries: int = 0


@dataclass
class DigestPoster:
    """Posts a channel's digest of a day, at most once, whichever process gets there first."""

    engine: Engine
    # The Web API client for a team; LookupError when the bot has none there (not installed).
    client_for: Callable[[str], WebClient]
    index: Callable[[], SearchIndex]  # the vault as it is now (notes come and go)
    clock: Clock
    seed: str = "notesbot"
    sleep: Callable[[float], None] = time.sleep
    retry_delays: tuple[float, ...] = (2.0, 10.0, 30.0)
    # A claim older than this without a posted ts is from a process that crashed or lost track.
    lease: timedelta = timedelta(minutes=10)

    def post(self, day: DigestDay, *, force: bool = False, retry_failed: bool = False) -> Result:
        """Post `day`'s digest unless it was posted; `force` posts again anyway; `retry_failed` also
        retries a day Slack refused before (after a fix, from the command line)."""
        try:
            client = self.client_for(day.team_id)
        except LookupError as error:  # before claiming: nothing to release
            log.error("digest %s: %s", day, error)
            return Result(Outcome.FAILED, detail=str(error))
        owner = new_owner()
        now = self.clock()
        if insert_claim(self.engine, day, owner, now):
            claim = read_claim(self.engine, day)
            assert claim is not None  # we just inserted it
            return self._post_claimed(client, claim, owner, day)
        claim = read_claim(self.engine, day)
        if claim is None:  # deleted between our insert and read: try again from the start
            return self.post(day, force=force, retry_failed=retry_failed)
        if claim.status == Status.POSTED and not force:
            return Result(Outcome.ALREADY, claim.message_ts)
        stale = claim.status == Status.CLAIMED and now - claim.claimed_at >= self.lease
        free = claim.status == Status.RELEASED or (
            claim.status in (Status.FAILED, Status.POSTED) and (retry_failed or force)
        )
        if not (stale or free) or not take_over(self.engine, claim, owner, now):
            return Result(Outcome.BUSY)
        if stale:
            log.warning("digest %s: taking over a claim left without a post by %s", day, claim.owner)
        return self._post_claimed(client, claim, owner, day, unsure=stale, repost=claim.status == Status.POSTED)

    def preview(self, day: DigestDay) -> Message | None:
        """The message `post` would send for `day`, without claiming or posting anything."""
        topic = self._topic(read_claim(self.engine, day), day)
        return digest_message(topic) if topic else None

    def _topic(self, claim: Claim | None, day: DigestDay) -> Topic | None:
        """The topic the claim chose before (if the vault still has it), else a fresh choice."""
        index = self.index()
        if claim is not None and claim.note_path is not None:
            kept = find_topic(index, claim.note_path, claim.heading or "")
            if kept is not None:
                return kept
        return choose_topic(index, read_featured(self.engine, day.team_id, day.channel_id), self.seed, day)

    def _post_claimed(
        self, client: WebClient, claim: Claim, owner: str, day: DigestDay, *, unsure: bool = False, repost: bool = False
    ) -> Result:
        topic = self._topic(claim, day)
        if topic is None:
            _update_own(self.engine, claim.id, owner, status=Status.RELEASED)
            log.warning("digest %s: the vault has no section worth reading", day)
            return Result(Outcome.EMPTY)
        # Kept with the claim so that whoever finishes this day posts the same topic.
        _update_own(self.engine, claim.id, owner, note_path=topic.hit.note, heading=topic.hit.heading)
        attempt = _Attempt(claim.id, owner, day, topic, digest_message(topic), not repost, unsure)
        return self._deliver(client, attempt)

    def _deliver(self, client: WebClient, attempt: _Attempt) -> Result:
        waits = [0.0, *self.retry_delays]
        last_error = ""
        for number, planned in enumerate(waits):
            if number:
                self.sleep(planned)
            if attempt.unsure:
                try:
                    ts = find_posted(client, attempt.day, attempt.message)
                except (SlackApiError, OSError) as error:
                    last_error = f"cannot check the channel's history: {_reason(error)}"
                    log.warning("digest %s: %s", attempt.day, last_error)
                    continue
                if ts is not None:
                    self._record(attempt, ts)
                    return Result(Outcome.FOUND, ts)
            attempt.tries += 1
            try:
                response = client.chat_postMessage(
                    channel=attempt.day.channel_id,
                    **attempt.message,
                    metadata=_metadata(attempt),
                    unfurl_links=False,
                    unfurl_media=False,
                )
            except SlackApiError as error:
                last_error = _reason(error)
                status = error.response.status_code
                attempt.unsure = status >= 500  # a 5xx may come after Slack took the message
                if status < 500 and status != 429:
                    return self._give_up(attempt, Status.FAILED, last_error)
                log.warning("digest %s: post failed (%s), retrying", attempt.day, last_error)
                if status == 429 and number + 1 < len(waits):
                    waits[number + 1] = max(waits[number + 1], _retry_after(error))
                continue
            except OSError as error:  # timeouts and broken connections: the post may have arrived
                attempt.unsure = True
                last_error = _reason(error)
                log.warning("digest %s: post outcome unknown (%s), will check", attempt.day, last_error)
                continue
            ts = str(response["ts"])
            self._record(attempt, ts)
            log.info(
                "digest %s posted: %s › %s (ts %s)", attempt.day, attempt.topic.hit.note, attempt.topic.hit.heading, ts
            )
            return Result(Outcome.POSTED, ts)
        if attempt.unsure:
            # Leave the claim: after its lease, the next run checks the channel before posting.
            log.error("digest %s: outcome unknown after %d tries (%s)", attempt.day, attempt.tries, last_error)
            return Result(Outcome.UNKNOWN, detail=last_error)
        return self._give_up(attempt, Status.RELEASED, last_error)

    def _record(self, attempt: _Attempt, ts: str) -> None:
        if attempt.record_featured:
            record_posted(
                self.engine, attempt.claim_id, attempt.owner, attempt.day, attempt.topic.hit.note, ts, attempt.tries
            )
        else:
            _update_own(self.engine, attempt.claim_id, attempt.owner, status=Status.POSTED, message_ts=ts)

    def _give_up(self, attempt: _Attempt, status: Status, reason: str) -> Result:
        _update_own(self.engine, attempt.claim_id, attempt.owner, status=status, attempts=attempt.tries)
        log.error("digest %s: not posted after %d tries: %s", attempt.day, attempt.tries, reason)
        return Result(Outcome.FAILED, detail=reason)


def _metadata(attempt: _Attempt) -> dict[str, Any]:
    payload = {"local_date": attempt.day.local_date.isoformat(), "note": attempt.topic.hit.note}
    return {"event_type": METADATA_TYPE, "event_payload": payload}


def _reason(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        code = error.response.get("error") if isinstance(error.response.data, dict) else None
        return f"HTTP {error.response.status_code}" + (f" {code}" if code else "")
    return f"{type(error).__name__}: {error}"


def _retry_after(error: SlackApiError) -> float:
    headers = {k.lower(): v for k, v in (error.response.headers or {}).items()}
    value = headers.get("retry-after")
    value = value[0] if isinstance(value, list) else value
    try:
        return float(value) if value is not None else 0.0
    except ValueError:
        return 0.0


def find_posted(client: WebClient, day: DigestDay, message: Message) -> str | None:
    """The ts of `day`'s digest if the channel already has it (a post whose answer we never got)."""
    # The earliest instant of that local date in any time zone (UTC+14).
    midnight = datetime(day.local_date.year, day.local_date.month, day.local_date.day, tzinfo=UTC)
    oldest = f"{(midnight - timedelta(hours=14)).timestamp():.6f}"
    cursor = None
    for _ in range(HISTORY_PAGES):
        page = client.conversations_history(
            channel=day.channel_id, oldest=oldest, limit=200, include_all_metadata=True, cursor=cursor
        )
        for posted in page.get("messages") or []:
            if _is_digest_of(posted, day, message):
                return str(posted["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not page.get("has_more") or not cursor:
            return None
    return None


def _is_digest_of(posted: dict[str, Any], day: DigestDay, message: Message) -> bool:
    metadata = posted.get("metadata") or {}
    if metadata.get("event_type") == METADATA_TYPE:
        return (metadata.get("event_payload") or {}).get("local_date") == day.local_date.isoformat()
    # Without metadata (stripped, or an older client), the same fallback text is the same topic.
    return bool(posted.get("bot_id")) and posted.get("text") == message["text"]


# --- For the Slack app ---------------------------------------------------------------------------


def latest_topic(engine: Engine, index: SearchIndex, clock: Clock) -> Hit | None:
    """The section posted by the most recent digest of the last day, for App Home; None if none."""
    since = (clock() - timedelta(days=1)).date().isoformat()
    statement = (
        select(digest_claims.c.note_path, digest_claims.c.heading)
        .where(digest_claims.c.status == Status.POSTED, digest_claims.c.local_date >= since)
        .order_by(digest_claims.c.local_date.desc(), digest_claims.c.id.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(statement).first()
    topic = find_topic(index, row.note_path, row.heading or "") if row and row.note_path else None
    return topic.hit if topic else None


def slack_hooks(
    settings: Settings, engine: Engine, client: WebClient, searcher_source: Callable[[], Searcher], clock: Clock
) -> tuple[Callable[[str, dict[str, Any], Callable[[Message], None]], None], Callable[[], Hit | None]]:
    """What bot.slack.server hands the Slack app: the `/notes digest` command and App Home's topic."""
    from bot.digest.commands import digest_command  # it builds on this module, so not at the top

    return digest_command(engine, clock, settings), lambda: latest_topic(engine, searcher_source().index, clock)
