"""👍 / 👎 on an answer: recorded in the `feedback` table against the section it showed, for `notesbot report`."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.engine.follow_up import ThreadContext
from bot.engine.scope import Scope
from bot.engine.search import Hit, Searcher
from bot.slack.answers import NO_CONTEXT, shown
from bot.storage import dialect_insert, feedback

log = logging.getLogger(__name__)


def rated_hit(
    searcher: Searcher, query: str, position: int, context: ThreadContext = NO_CONTEXT, scope: Scope | None = None
) -> Hit | None:
    """The hit the rated answer showed (to `query` asked with a thread's `context`, in its channel's `scope`),
    as the vault has it now (None if it is gone)."""
    hits = shown(searcher, query, context, scope=scope).hits
    return hits[position] if 0 <= position < len(hits) else None


def record_feedback(
    engine: Engine,
    given_at: datetime,
    team_id: str | None,
    user_id: str | None,
    query: str,
    hit: Hit | None,
    helpful: bool,
    press_id: str | None,
) -> bool:
    """Keep one rating, once for its button press (`press_id`, Slack's trigger_id for it: the same press recorded
    again, its answer run again after its process stopped, is kept once); False (logged) when the database would not
    take it."""
    row = {
        "given_at": given_at,
        "team_id": team_id,
        "user_id": user_id,
        "query": query,
        "note_path": hit.note if hit else None,
        "heading": hit.heading if hit else None,
        "helpful": int(helpful),
        "press_id": press_id,
    }
    try:
        with engine.begin() as connection:
            connection.execute(dialect_insert(engine, feedback).values(row).on_conflict_do_nothing())
    except SQLAlchemyError as error:
        log.error("could not record feedback: %s", error.__class__.__name__)
        return False
    return True
