"""Thread memory: the questions the bot answered in each thread and the hits it showed, in the shared database.

A follow-up in a thread is read with what was asked there before (bot.engine.follow_up). Whichever
process of the bot receives it reads that from the `thread_turns` table, so no Web API read of the
bot's own threads is needed. A thread is (team, channel, thread ts); a direct conversation's messages
outside any thread share the thread ts "", and there only the turns of the last CONVERSATION_GAP count.
Rows expire after THREAD_MEMORY. All the SQL of thread memory is here; the same statements run on SQLite
and PostgreSQL (bot.storage).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from bot.engine.follow_up import Turn
from bot.engine.search import Hit
from bot.storage import thread_turns

log = logging.getLogger(__name__)

# A thread is picked up again days later ("what about ...?" under last week's answer); a month covers
# that, and keeps the table small.
THREAD_MEMORY = timedelta(days=30)
# Outside threads, a direct conversation runs for months: only questions of the last hour are context.
CONVERSATION_GAP = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ThreadKey:
    team_id: str
    channel_id: str
    thread_ts: str  # "" for a direct conversation's messages outside any thread


def recall(engine: Engine, key: ThreadKey, now: datetime) -> list[Turn]:
    """The turns of the thread, oldest first (unexpired; outside threads, of the last CONVERSATION_GAP).
    Empty when the database cannot be read: the question is then answered on its own words."""
    table = thread_turns
    statement = (
        select(table.c.query, table.c.hits, table.c.in_context)
        .where(
            table.c.team_id == key.team_id,
            table.c.channel_id == key.channel_id,
            table.c.thread_ts == key.thread_ts,
            table.c.expires_at > now,
        )
        .order_by(table.c.id)
    )
    if not key.thread_ts:
        statement = statement.where(table.c.asked_at > now - CONVERSATION_GAP)
    try:
        with engine.connect() as connection:
            rows = connection.execute(statement).all()
    except SQLAlchemyError as error:
        log.error("could not read a thread's memory: %s", error.__class__.__name__)
        return []
    return [Turn(row.query, _notes(row.hits), bool(row.in_context)) for row in rows]


def remember(engine: Engine, key: ThreadKey, now: datetime, query: str, hits: Sequence[Hit], in_context: bool) -> bool:
    """Keep a question answered in the thread and the hits its answer showed; expired rows are dropped first.
    False (logged) when the database would not take it: the answer was posted all the same."""
    row = {
        "team_id": key.team_id,
        "channel_id": key.channel_id,
        "thread_ts": key.thread_ts,
        "asked_at": now,
        "expires_at": now + THREAD_MEMORY,
        "query": query,
        "in_context": int(in_context),
        "hits": json.dumps([{"note": hit.note, "heading": hit.heading} for hit in hits], ensure_ascii=False),
    }
    try:
        with engine.begin() as connection:
            connection.execute(delete(thread_turns).where(thread_turns.c.expires_at <= now))
            connection.execute(insert(thread_turns).values(row))
    except SQLAlchemyError as error:
        log.error("could not remember a thread's question: %s", error.__class__.__name__)
        return False
    return True


def _notes(hits_json: str) -> tuple[str, ...]:
    """The notes of the hits shown, best first, each once."""
    try:
        hits = json.loads(hits_json)
    except ValueError:
        return ()
    return tuple(
        dict.fromkeys(hit["note"] for hit in hits if isinstance(hit, dict) and isinstance(hit.get("note"), str))
    )
