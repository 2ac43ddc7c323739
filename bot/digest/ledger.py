"""The digest's SQL: claims on a channel's day, the notes a channel has seen, and the channels subscribed.

A process claims (team, channel, local date) in `digest_claims` before it posts: the table's unique
constraint decides between racing processes, and a claim is taken over only by compare and swap on
its owner and status. `digest_featured` keeps each channel's cycle through the vault;
`digest_subscriptions` the channels that subscribed from Slack. The same statements run on SQLite and
PostgreSQL (bot.storage).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, delete, func, select, update

from bot.digest.choose import DigestDay, Featured
from bot.storage import dialect_insert, digest_claims, digest_featured, digest_subscriptions


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


@dataclass(frozen=True, slots=True)
class Subscription:
    """A channel's own schedule, as `/notes digest on` saved it."""

    team_id: str
    channel_id: str
    time_of_day: str  # HH:MM
    timezone: str  # IANA name
    days: str  # cron day_of_week
    since: datetime  # when it was saved


# --- Claims on a day -----------------------------------------------------------------------------


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
    return Claim(
        id=row["id"],
        owner=row["claimed_by"],
        status=row["status"],
        claimed_at=_aware(row["claimed_at"]),
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


def update_own(engine: Engine, claim_id: int, owner: str, **values: Any) -> bool:
    """Change the claim while it is still `owner`'s; False once another process took it over."""
    statement = (
        update(digest_claims)
        .where(digest_claims.c.id == claim_id, digest_claims.c.claimed_by == owner)
        .values(**values)
    )
    with engine.begin() as connection:
        return connection.execute(statement).rowcount == 1


def record_posted(
    engine: Engine, claim_id: int, owner: str, day: DigestDay, note_path: str, ts: str, attempts: int
) -> bool:
    """Mark the day posted and the note featured, in one transaction; False (and nothing recorded) when
    another process took the claim over meanwhile.

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
            return False
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
    return True


def latest_posted(engine: Engine, since: str) -> tuple[str, str] | None:
    """The note and heading of the most recent digest posted on or after the local date `since`."""
    statement = (
        select(digest_claims.c.note_path, digest_claims.c.heading)
        .where(digest_claims.c.status == Status.POSTED, digest_claims.c.local_date >= since)
        .order_by(digest_claims.c.local_date.desc(), digest_claims.c.id.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(statement).first()
    return (row.note_path, row.heading or "") if row and row.note_path else None


def _day_key(day: DigestDay) -> dict[str, str]:
    return {"team_id": day.team_id, "channel_id": day.channel_id, "local_date": day.local_date.isoformat()}


# --- Notes a channel has seen ----------------------------------------------------------------------


def read_featured(engine: Engine, team_id: str, channel_id: str) -> Featured:
    where = (digest_featured.c.team_id == team_id, digest_featured.c.channel_id == channel_id)
    with engine.connect() as connection:
        cycle = connection.execute(select(func.max(digest_featured.c.cycle)).where(*where)).scalar() or 0
        notes = connection.execute(
            select(digest_featured.c.note_path).where(*where, digest_featured.c.cycle == cycle)
        ).scalars()
        return Featured(cycle, frozenset(notes))


# --- Channels subscribed from Slack ----------------------------------------------------------------


def save_subscription(engine: Engine, subscription: Subscription, created_by: str) -> None:
    """Subscribe the channel, or change its schedule if it has one."""
    values = {
        "time_of_day": subscription.time_of_day,
        "timezone": subscription.timezone,
        "days": subscription.days,
        "created_by": created_by,
        "updated_at": subscription.since,
    }
    statement = dialect_insert(engine, digest_subscriptions).values(
        team_id=subscription.team_id, channel_id=subscription.channel_id, **values
    )
    statement = statement.on_conflict_do_update(index_elements=["team_id", "channel_id"], set_=values)
    with engine.begin() as connection:
        connection.execute(statement)


def delete_subscription(engine: Engine, team_id: str, channel_id: str) -> bool:
    """End the channel's subscription; False if it had none."""
    statement = delete(digest_subscriptions).where(
        digest_subscriptions.c.team_id == team_id, digest_subscriptions.c.channel_id == channel_id
    )
    with engine.begin() as connection:
        return connection.execute(statement).rowcount > 0


def read_subscriptions(engine: Engine) -> list[Subscription]:
    with engine.connect() as connection:
        rows = connection.execute(select(digest_subscriptions)).mappings().all()
    return [
        Subscription(r["team_id"], r["channel_id"], r["time_of_day"], r["timezone"], r["days"], _aware(r["updated_at"]))
        for r in rows
    ]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back UTC as naive datetimes
