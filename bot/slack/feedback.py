"""👍 / 👎 on an answer: recorded in the `feedback` table, read back by `notesbot report`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import App
from sqlalchemy import Engine, insert
from sqlalchemy.exc import SQLAlchemyError

from bot.engine.search import Hit, Searcher
from bot.slack.app import RESULTS, limit_query
from bot.slack.messages import HELPFUL_ACTION, UNHELPFUL_ACTION, feedback_thanks_message, read_result_value
from bot.storage import feedback

log = logging.getLogger(__name__)


class FeedbackRecorder:
    def __init__(self, engine: Engine, searcher_source: Callable[[], Searcher], clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.searcher_source = searcher_source
        self.clock = clock

    def register(self, app: App) -> None:
        app.action(HELPFUL_ACTION)(self.on_feedback)
        app.action(UNHELPFUL_ACTION)(self.on_feedback)

    def on_feedback(self, ack: Callable[..., None], body: dict[str, Any], respond: Callable[..., Any]) -> None:
        ack()
        action = (body.get("actions") or [{}])[0]
        try:
            query, position = read_result_value(action.get("value") or "")
        except ValueError:
            log.warning("ignored a feedback button whose value is not an answer's")
            return
        helpful = action.get("action_id") == HELPFUL_ACTION
        hit = self._answer(query, position)
        user = body.get("user") or {}
        team = (body.get("team") or {}).get("id") or user.get("team_id")
        if self.record(team, user.get("id"), query, hit, helpful):
            respond(**feedback_thanks_message(helpful), response_type="ephemeral", replace_original=False)

    def _answer(self, query: str, position: int) -> Hit | None:
        """The hit the rated answer showed, as the vault has it now (None if it is gone)."""
        hits = self.searcher_source().search(limit_query(query), RESULTS)
        return hits[position] if 0 <= position < len(hits) else None

    def record(self, team_id: str | None, user_id: str | None, query: str, hit: Hit | None, helpful: bool) -> bool:
        row = {
            "given_at": self.clock(),
            "team_id": team_id,
            "user_id": user_id,
            "query": query,
            "note_path": hit.note if hit else None,
            "heading": hit.heading if hit else None,
            "helpful": int(helpful),
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(feedback).values(row))
        except SQLAlchemyError as error:
            log.error("could not record feedback: %s", error.__class__.__name__)
            return False
        return True
