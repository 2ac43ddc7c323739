"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.migrate import create_schema
from bot.storage import make_engine
from tests.fake_slack import FakeSlack
from tests.postgres import fresh_database


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fake Slack Web API on loopback (see tests/fake_slack.py); fails the test on any payload Slack
    would refuse or that could ping people."""
    with FakeSlack() as fake:
        yield fake
    assert not fake.violations, f"the bot sent what Slack refuses: {fake.violations}"


@pytest.fixture(scope="module")
def module_fake_slack() -> Iterator[FakeSlack]:
    """One fake Slack Web API for all the tests of a module (those that share one served bot); fails the module
    on any payload Slack would refuse."""
    with FakeSlack() as fake:
        yield fake
    assert not fake.violations, f"the bot sent what Slack refuses: {fake.violations}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using it runs on a fresh SQLite file and on a fresh PostgreSQL database (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'notesbot.sqlite3'}"
    else:
        with fresh_database() as url:
            yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The bot's tables, migrated to head, on a fresh SQLite file and on a fresh PostgreSQL database."""
    yield from _migrated(database_url)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """The bot's tables, migrated to head, on a fresh SQLite file only."""
    yield from _migrated(f"sqlite:///{tmp_path / 'notesbot.sqlite3'}")


def _migrated(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    create_schema(engine)
    yield engine
    engine.dispose()
