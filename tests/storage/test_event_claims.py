"""Each Slack event id is claimed once in the shared database (SQLite and PostgreSQL), by one process, until it
expires."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from bot.storage import EVENT_MEMORY, claim_event

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_the_first_claim_wins_and_repeats_lose(engine):
    assert claim_event(engine, "Ev1", NOW) is True
    assert claim_event(engine, "Ev1", NOW + timedelta(minutes=5)) is False
    assert claim_event(engine, "Ev2", NOW) is True


def test_concurrent_claims_of_one_event_have_exactly_one_winner(engine):
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: claim_event(engine, "EvRACE", NOW), range(16)))
    assert results.count(True) == 1


def test_an_expired_claim_is_forgotten(engine):
    assert claim_event(engine, "EvOLD", NOW) is True
    assert claim_event(engine, "EvOLD", NOW + EVENT_MEMORY + timedelta(seconds=1)) is True
