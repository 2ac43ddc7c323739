"""Channel scopes: the part of the vault each channel draws from, kept in the shared database.

`/notes scope lexfridman/ tag:ml` saves the channel's folders and tags in `channel_scopes` (all of the
feature's SQL is here); the channel's `/notes`, mentions, link previews and digest then draw from those
notes only, on every replica. `ChannelScopes.scope_for(team, channel)` is the one function that says
what a channel draws from (None: the whole vault).

The database is the truth. Each process keeps what it read for CACHE_SECONDS, so a question does not
cost a query, and a change made through another replica is seen here within that time (at once through
this one). If the database cannot be read, the last value read is used, however old; a channel never
read is answered from the whole vault meanwhile (logged), rather than not at all: a scope narrows what
is relevant, it guards nothing secret.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import SQLAlchemyError

from bot.engine.scope import Scope
from bot.storage import channel_scopes, dialect_insert

log = logging.getLogger(__name__)

CACHE_SECONDS = 10.0  # how stale a replica's idea of a channel's scope may be after another replica changed it


def read_scope(engine: Engine, team_id: str, channel_id: str) -> Scope | None:
    """The channel's scope, or None when it draws from the whole vault. A team id of "" (a channel named
    in the settings, DIGEST_CHANNEL, whose team is not known) matches the channel in any team."""
    table = channel_scopes
    statement = select(table.c.folders, table.c.tags).where(table.c.channel_id == channel_id)
    if team_id:
        statement = statement.where(table.c.team_id == team_id)
    with engine.connect() as connection:
        row = connection.execute(statement.order_by(table.c.updated_at.desc()).limit(1)).first()
    if row is None:
        return None
    return Scope(folders=tuple(json.loads(row.folders)), tags=tuple(json.loads(row.tags)))


def save_scope(engine: Engine, team_id: str, channel_id: str, scope: Scope, set_by: str, now: datetime) -> None:
    """Set the channel's scope (replacing any it had)."""
    values = {"folders": json.dumps(list(scope.folders)), "tags": json.dumps(list(scope.tags))}
    values |= {"set_by": set_by[:32], "updated_at": now}
    statement = (
        dialect_insert(engine, channel_scopes)
        .values(team_id=team_id, channel_id=channel_id, **values)
        .on_conflict_do_update(index_elements=["team_id", "channel_id"], set_=values)
    )
    with engine.begin() as connection:
        connection.execute(statement)


def delete_scope(engine: Engine, team_id: str, channel_id: str) -> bool:
    """Let the channel draw from the whole vault again; False if it already did."""
    table = channel_scopes
    statement = delete(table).where(table.c.team_id == team_id, table.c.channel_id == channel_id)
    with engine.begin() as connection:
        return connection.execute(statement).rowcount > 0


class ChannelScopes:
    """Every channel's scope, read from the shared database and kept for CACHE_SECONDS."""

    def __init__(
        self, engine: Engine, clock: Callable[[], float] = time.monotonic, cache_seconds: float = CACHE_SECONDS
    ) -> None:
        self.engine = engine
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._read: dict[tuple[str, str], tuple[Scope | None, float]] = {}  # (scope, when it was read)

    def scope_for(self, team_id: str | None, channel_id: str | None) -> Scope | None:
        """What the channel draws from: its scope, or None for the whole vault (and for no channel)."""
        if not channel_id:
            return None
        key = (team_id or "", channel_id)
        with self._lock:
            cached = self._read.get(key)
        if cached is not None and self._clock() - cached[1] < self._cache_seconds:
            return cached[0]
        try:
            scope = read_scope(self.engine, *key)
        except SQLAlchemyError as error:
            log.error("could not read the scope of channel %s: %s", channel_id, error.__class__.__name__)
            return cached[0] if cached is not None else None
        self._remember(key, scope)
        return scope

    def save(self, team_id: str, channel_id: str, scope: Scope, set_by: str, now: datetime) -> None:
        save_scope(self.engine, team_id, channel_id, scope, set_by, now)
        self._remember((team_id, channel_id), scope)

    def clear(self, team_id: str, channel_id: str) -> bool:
        cleared = delete_scope(self.engine, team_id, channel_id)
        self._remember((team_id, channel_id), None)
        return cleared

    def _remember(self, key: tuple[str, str], scope: Scope | None) -> None:
        with self._lock:
            self._read[key] = (scope, self._clock())
