"""Thread memory: what the bot answered in each thread, kept in the shared database (SQLite and PostgreSQL alike),
read back in order, kept apart per thread, and forgotten after a while."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from bot.engine.follow_up import Turn
from bot.engine.search import Hit
from bot.slack.thread_memory import CONVERSATION_GAP, THREAD_MEMORY, ThreadKey, recall, remember
from bot.storage import make_engine, thread_turns

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
THREAD = ThreadKey("T0000001", "C0GENERAL1", "1700000000.000100")
HIT = Hit("ai/deep_learning.md", "Applications of deep learning", "Healthcare", (), 1.0, None, None, None, "text", 1)


def hit(note: str, heading: str = "Healthcare") -> Hit:
    return HIT._replace(note=note, heading=heading)


def test_a_thread_s_questions_come_back_in_order_with_the_notes_their_answers_showed(engine: Engine) -> None:
    shown = [hit("ai/a.md"), hit("ai/a.md", "Other"), hit("ai/b.md")]
    assert remember(engine, THREAD, NOW, "applications of deep learning", shown, in_context=False)
    assert remember(engine, THREAD, NOW + timedelta(minutes=1), "what about healthcare?", [], in_context=True)

    assert recall(engine, THREAD, NOW + timedelta(minutes=2)) == [
        Turn("applications of deep learning", ("ai/a.md", "ai/b.md"), in_context=False),
        Turn("what about healthcare?", (), in_context=True),
    ]


def test_each_thread_of_each_channel_and_workspace_has_its_own_memory(engine: Engine) -> None:
    others = [
        replace(THREAD, team_id="T0OTHER01"),
        replace(THREAD, channel_id="C0OTHER01"),
        replace(THREAD, thread_ts="1.2"),
    ]
    for n, key in enumerate(others):
        remember(engine, key, NOW, f"question {n}", [HIT], in_context=False)

    assert recall(engine, THREAD, NOW) == []
    assert [turn.query for turn in recall(engine, others[1], NOW)] == ["question 1"]


def test_a_thread_is_forgotten_after_its_memory_runs_out_and_its_rows_are_dropped(engine: Engine) -> None:
    remember(engine, THREAD, NOW, "applications of deep learning", [HIT], in_context=False)
    later = NOW + THREAD_MEMORY + timedelta(seconds=1)

    assert len(recall(engine, THREAD, NOW + THREAD_MEMORY - timedelta(seconds=1))) == 1
    assert recall(engine, THREAD, later) == []
    remember(engine, replace(THREAD, thread_ts="1.2"), later, "another question", [HIT], in_context=False)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(thread_turns)).scalar() == 1


def test_outside_threads_a_direct_conversation_remembers_only_its_last_hour(engine: Engine) -> None:
    conversation = ThreadKey("T0000001", "D0DIRECT1", "")
    remember(engine, conversation, NOW, "applications of deep learning", [HIT], in_context=False)
    remember(engine, conversation, NOW + CONVERSATION_GAP, "medicare for all", [HIT], in_context=False)

    assert [t.query for t in recall(engine, conversation, NOW + CONVERSATION_GAP + timedelta(minutes=1))] == [
        "medicare for all"
    ]


def test_a_database_that_cannot_be_read_leaves_the_question_without_context(tmp_path: Path) -> None:
    unmigrated = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")  # no thread_turns table
    try:
        assert recall(unmigrated, THREAD, NOW) == []
        assert remember(unmigrated, THREAD, NOW, "question", [HIT], in_context=False) is False
    finally:
        unmigrated.dispose()
