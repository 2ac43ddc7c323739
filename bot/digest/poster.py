"""Posting a channel's topic of the day exactly once, across processes.

A process first claims the day in the ledger (bot.digest.ledger: its unique constraint decides between
racing processes), then posts, then records the message ts. A post whose outcome is unknown (a
timeout, a 5xx) is never sent again blindly: the channel's history is checked for it first. A claim
left without a post for longer than its lease (a crash) is taken over, and checked the same way.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.digest.choose import DigestDay, Topic, choose_topic, find_topic
from bot.digest.ledger import (
    Claim,
    Status,
    insert_claim,
    read_claim,
    read_featured,
    record_posted,
    take_over,
    update_own,
)
from bot.digest.message import digest_message, digest_metadata, is_digest_of
from bot.engine.index import SearchIndex
from bot.engine.scope import NoteSets, Scope
from bot.engine.site import NoteSite
from bot.slack.delivery import POST_OPTIONS, slack_reason
from bot.slack.messages import Message

log = logging.getLogger(__name__)

HISTORY_PAGES = 5  # of 200 messages: the day's digest is looked for among its channel's first 1,000 of that date

Clock = Callable[[], datetime]


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
    # What a (team, channel) draws from (`/notes scope`: bot.slack.channel_scopes); None: the whole vault.
    scope_for: Callable[[str, str], Scope | None] = field(default=lambda _team, _channel: None)
    site: NoteSite | None = None  # the published vault, for "Read the note"

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
        return digest_message(topic, self.site) if topic else None

    def _topic(self, claim: Claim | None, day: DigestDay) -> Topic | None:
        """The topic the claim chose before (if the vault still has it), else a fresh choice."""
        index = self.index()
        if claim is not None and claim.note_path is not None:
            kept = find_topic(index, claim.note_path, claim.heading or "")
            if kept is not None:
                return kept
        featured = read_featured(self.engine, day.team_id, day.channel_id)
        scope = self.scope_for(day.team_id, day.channel_id)
        within = NoteSets(index).mask(scope) if scope is not None else None
        return choose_topic(index, featured, self.seed, day, within)

    def _post_claimed(
        self, client: WebClient, claim: Claim, owner: str, day: DigestDay, *, unsure: bool = False, repost: bool = False
    ) -> Result:
        topic = self._topic(claim, day)
        if topic is None:
            update_own(self.engine, claim.id, owner, status=Status.RELEASED)
            log.warning("digest %s: the vault has no section worth reading", day)
            return Result(Outcome.EMPTY)
        # Kept with the claim so that whoever finishes this day posts the same topic.
        update_own(self.engine, claim.id, owner, note_path=topic.hit.note, heading=topic.hit.heading)
        attempt = _Attempt(claim.id, owner, day, topic, digest_message(topic, self.site), not repost, unsure)
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
                    last_error = f"cannot check the channel's history: {slack_reason(error)}"
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
                    metadata=digest_metadata(attempt.day, attempt.topic),
                    **POST_OPTIONS,
                )
            except SlackApiError as error:
                last_error = slack_reason(error)
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
                last_error = slack_reason(error)
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
            if not record_posted(
                self.engine, attempt.claim_id, attempt.owner, attempt.day, attempt.topic.hit.note, ts, attempt.tries
            ):
                # Only when this attempt outlived its lease and another process took the claim over: that
                # one checks the channel's history before posting, so it will find this post.
                log.warning("digest claim %s of %s was taken over while posting", attempt.claim_id, attempt.day)
        else:
            update_own(self.engine, attempt.claim_id, attempt.owner, status=Status.POSTED, message_ts=ts)

    def _give_up(self, attempt: _Attempt, status: Status, reason: str) -> Result:
        update_own(self.engine, attempt.claim_id, attempt.owner, status=status, attempts=attempt.tries)
        log.error("digest %s: not posted after %d tries: %s", attempt.day, attempt.tries, reason)
        return Result(Outcome.FAILED, detail=reason)


def new_owner() -> str:
    """A name for one attempt to post: unique, and telling which process made it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


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
            if is_digest_of(posted, day, message):
                return str(posted["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not page.get("has_more") or not cursor:
            return None
    return None
