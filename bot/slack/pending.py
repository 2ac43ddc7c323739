"""The SQL of pending answers: an acknowledged question recorded, its post attempted, done; heartbeats; claims.

A row's life (`status`): `pending` from the ack until a post that answers is attempted, then `posting`
until the work is done (`done`); back to `pending` only when that post is known to have failed. A row is changed by
its `owner` only (compare and swap on owner and status), so that two processes never both post it. Rows whose owner
stopped heartbeating are claimed by another process (`pending`, and `posting` where the work can look for its
answer in Slack: the claimer looks before answering), settled as `unknown` (other `posting` rows: the post may
have arrived, so it is not repeated), or `expired` past their time. The same statements run on SQLite and
PostgreSQL (bot.storage); on PostgreSQL, claims skip the rows another process is claiming (FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, bindparam, delete, func, or_, select, update

from bot.storage import answer_workers, dialect_insert, pending_answers

rows = pending_answers.c


class Status(StrEnum):
    PENDING = "pending"  # nothing that answers was posted yet (or it is known to have failed)
    POSTING = "posting"  # a post was attempted: it arrived, or may have
    DONE = "done"
    UNKNOWN = "unknown"  # its owner died after attempting a post that nothing could find: counted as posted
    EXPIRED = "expired"  # not answered in time (response_url lives 30 minutes)
    DROPPED = "dropped"  # cannot be run here: its work is not registered, or its workspace has no installation


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    work: str
    body: dict[str, Any]
    attempts: int
    attempted: bool = False  # claimed `posting`: its stopped owner had attempted a post, which may have arrived


@dataclass(frozen=True, slots=True)
class Settled:
    """A row given up on by `settle_orphans`, for the log."""

    id: int
    work: str
    status: Status
    attempts: int


def record(
    engine: Engine,
    work: str,
    body: dict[str, Any],
    delivery_id: str | None,
    owner: str,
    now: datetime,
    expires: datetime,
) -> int | None:
    """Record the question; its row id, or None when this delivery was recorded before (for the same work)."""
    values = {
        "b_work": work,
        "b_delivery_id": delivery_id[:128] if delivery_id else None,
        "b_body": json.dumps(body, separators=(",", ":")),
        "b_owner": owner,
        "b_taken_at": now,
        "b_expires_at": expires,
    }
    with _writing(engine, urgent=True) as connection:
        return connection.execute(_record_statement(engine), values).scalar()


def _record_statement(engine: Engine) -> Any:
    """The INSERT of `record`, built once per database kind: it runs before every ack, where building it each time
    took as long as running it."""
    dialect = engine.dialect.name
    if dialect not in _RECORDS:
        _RECORDS[dialect] = (
            dialect_insert(engine, pending_answers)
            .values({name: bindparam(f"b_{name}") for name in _RECORDED} | {"status": Status.PENDING, "attempts": 0})
            .on_conflict_do_nothing(index_elements=["work", "delivery_id"])
            .returning(rows.id)  # a row back only when this insert happened
        )
    return _RECORDS[dialect]


_RECORDS: dict[str, Any] = {}
_RECORDED = ("work", "delivery_id", "body", "owner", "taken_at", "expires_at")
# The owner's own changes of a row (compare and swap on its owner and status), built once: they run for every answer.
# (Bound names other than the columns': SQLAlchemy keeps those for the VALUES and SET clauses.)
_MARK_POSTING = (
    update(pending_answers)
    .where(rows.id == bindparam("answer_id"), rows.owner == bindparam("b_owner"), rows.status == Status.PENDING)
    .values(status=Status.POSTING, attempts=rows.attempts + 1)
)
_POST_FAILED = (
    update(pending_answers)
    .where(rows.id == bindparam("answer_id"), rows.owner == bindparam("b_owner"), rows.status == Status.POSTING)
    .values(status=Status.PENDING)
)
_FINISH = (
    update(pending_answers)
    .where(
        rows.id == bindparam("answer_id"),
        rows.owner == bindparam("b_owner"),
        rows.status.in_([Status.PENDING, Status.POSTING]),
    )
    .values(status=bindparam("b_status"), finished_at=bindparam("b_now"))
)


def mark_posting(engine: Engine, answer_id: int, owner: str) -> bool:
    """Note that a post is about to be attempted; False when the row is no longer this owner's to post."""
    return _changed(engine, _MARK_POSTING, answer_id=answer_id, b_owner=owner)


def mark_post_failed(engine: Engine, answer_id: int, owner: str) -> bool:
    """The attempted post is known not to have arrived: answering again after a crash will not show it twice."""
    return _changed(engine, _POST_FAILED, answer_id=answer_id, b_owner=owner)


def finish(engine: Engine, answer_id: int, owner: str, status: Status, now: datetime) -> bool:
    """End the row (`done`, or `dropped`); False when it was no longer this owner's."""
    return _changed(engine, _FINISH, answer_id=answer_id, b_owner=owner, b_status=status.value, b_now=now)


def _changed(engine: Engine, statement: Any, **values: Any) -> bool:
    with _writing(engine) as connection:
        return connection.execute(statement, values).rowcount == 1


# --- Processes ---------------------------------------------------------------------------------------------------


def heartbeat(engine: Engine, worker: str, now: datetime) -> None:
    """Stamp `worker` alive (registering it the first time)."""
    statement = dialect_insert(engine, answer_workers).values(worker_id=worker, started_at=now, heartbeat_at=now)
    statement = statement.on_conflict_do_update(index_elements=["worker_id"], set_={"heartbeat_at": now})
    with _writing(engine) as connection:
        connection.execute(statement)


def retire(engine: Engine, worker: str) -> int:
    """A worker stopping: its pending rows are released for any process to take at once, and it is forgotten.
    The number of rows released."""
    with _writing(engine) as connection:
        released = connection.execute(
            update(pending_answers).where(rows.owner == worker, rows.status == Status.PENDING).values(owner=None)
        ).rowcount
        connection.execute(delete(answer_workers).where(answer_workers.c.worker_id == worker))
    return released


# --- Claims ------------------------------------------------------------------------------------------------------


def claim_orphans(
    engine: Engine,
    worker: str,
    now: datetime,
    stale: timedelta,
    dead_after: timedelta,
    limit: int,
    checkable: Sequence[str] = (),
) -> list[Pending]:
    """Take up to `limit` rows that no live process holds: pending ones released, or held for longer than `stale` by
    an owner whose last heartbeat is older than `dead_after`; and, of the works named `checkable`, rows such an owner
    left `posting` (claimed as they are: `attempted`). Each row goes to one claimer."""
    dead_owner = (rows.taken_at < now - stale) & rows.owner.not_in(_alive(now, dead_after))
    pending_orphan = (rows.status == Status.PENDING) & or_(rows.owner.is_(None), dead_owner)
    orphaned = (
        rows.expires_at > now,
        (
            or_(pending_orphan, (rows.status == Status.POSTING) & rows.work.in_(checkable) & dead_owner)
            if checkable
            else pending_orphan
        ),
    )
    candidates = (
        select(rows.id)
        .where(*orphaned)
        .order_by(rows.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL: rows another claimer is taking are skipped, not waited for
    )
    with _writing(engine) as connection:
        ids = connection.execute(candidates).scalars().all()
        if not ids:
            return []
        claimed = connection.execute(  # still orphaned: SQLite has no row locks, the claim is compare and swap
            update(pending_answers)
            .where(rows.id.in_(ids), *orphaned)
            .values(owner=worker, taken_at=now)
            .returning(rows.id, rows.work, rows.body, rows.attempts, rows.status)
        ).all()
    found = (Pending(r.id, r.work, json.loads(r.body), r.attempts, r.status == Status.POSTING) for r in claimed)
    return sorted(found, key=lambda p: p.id)


def settle_orphans(
    engine: Engine, now: datetime, dead_after: timedelta, checkable: Sequence[str] = ()
) -> list[Settled]:
    """Give up on what cannot be answered safely: rows whose dead owner had attempted a post (`unknown`: it may
    have arrived), but for the works named `checkable` (`claim_orphans` takes those), and rows past their time
    (`expired`). What was settled, for the log."""
    dead_posting = (rows.status == Status.POSTING) & rows.owner.not_in(_alive(now, dead_after))
    if checkable:
        dead_posting &= rows.work.not_in(checkable)
    too_late = rows.status.in_([Status.PENDING, Status.POSTING]) & (rows.expires_at <= now)
    settled: list[Settled] = []
    with _writing(engine) as connection:
        for where, status in ((too_late, Status.EXPIRED), (dead_posting, Status.UNKNOWN)):
            changed = connection.execute(
                update(pending_answers)
                .where(where)
                .values(status=status, finished_at=now)
                .returning(rows.id, rows.work, rows.attempts)
            ).all()
            settled += [Settled(r.id, r.work, status, r.attempts) for r in changed]
    return settled


def forget(engine: Engine, before: datetime) -> None:
    """Delete rows finished before `before` (an event's row must outlive Slack's last retry) and workers silent
    since then."""
    with _writing(engine) as connection:
        connection.execute(delete(pending_answers).where(rows.finished_at < before))
        connection.execute(delete(answer_workers).where(answer_workers.c.heartbeat_at < before))


def counts(engine: Engine) -> dict[str, int]:
    """How many questions the table holds, by status: those still open and those finished within the last hour
    (`forget` deletes older ones). What /metrics shows, so that an operator sees answers given up or lost."""
    with engine.connect() as connection:
        found = connection.execute(select(rows.status, func.count()).group_by(rows.status)).all()
    return {str(status): int(count) for status, count in found}


def _alive(now: datetime, dead_after: timedelta) -> Any:
    return select(answer_workers.c.worker_id).where(answer_workers.c.heartbeat_at > now - dead_after)


class _Turns:
    """SQLite's one writer at a time, taken in turn in this process, the acks' records first.

    SQLite lets one transaction write at a time; a writer that finds it taken sleeps in SQLite's busy handler, up to
    100 ms between tries, while later comers may get in first. Under a burst, an ack's record could wait behind the
    answers' marks for hundreds of milliseconds. Here writers wait on a condition instead, woken as soon as the
    writer before them is done, and the records (which an ack waits for) go before the marks (which only an answer
    waits for). PostgreSQL locks rows, not the database: no turns there."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._writing = False
        self._urgent_waiting = 0

    @contextmanager
    def turn(self, urgent: bool) -> Iterator[None]:
        with self._changed:
            self._urgent_waiting += urgent
            self._changed.wait_for(lambda: not self._writing and (urgent or not self._urgent_waiting))
            self._urgent_waiting -= urgent
            self._writing = True
        try:
            yield
        finally:
            with self._changed:
                self._writing = False
                self._changed.notify_all()


_turns: WeakKeyDictionary[Engine, _Turns] = WeakKeyDictionary()
_turns_lock = threading.Lock()


@contextmanager
def _writing(engine: Engine, urgent: bool = False) -> Iterator[Connection]:
    """A write transaction on `engine`; on SQLite, in this process's turn (`_Turns`)."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            yield connection
        return
    with _turns_lock:
        turns = _turns.setdefault(engine, _Turns())
    with turns.turn(urgent), engine.begin() as connection:
        yield connection
