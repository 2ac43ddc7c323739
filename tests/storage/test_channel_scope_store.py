"""Channel scopes in the shared database (SQLite and PostgreSQL): saved, read, replaced and lifted per team and
channel; every replica agrees once its short cache has expired; a database away leaves the last scope read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine

from bot.engine.scope import Scope
from bot.slack.channel_scopes import CACHE_SECONDS, ChannelScopes, delete_scope, read_scope, save_scope

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LEX = Scope(folders=("lexfridman",), tags=("ml",))


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_scope_is_saved_read_replaced_and_lifted_per_team_and_channel(engine: Engine) -> None:
    assert read_scope(engine, "T1", "C1") is None
    save_scope(engine, "T1", "C1", LEX, "U1", NOW)
    save_scope(engine, "T2", "C1", Scope(folders=("allin",)), "U2", NOW)
    assert read_scope(engine, "T1", "C1") == LEX
    assert read_scope(engine, "T2", "C1") == Scope(folders=("allin",))
    assert read_scope(engine, "T1", "C2") is None

    save_scope(engine, "T1", "C1", Scope(tags=("health",)), "U1", NOW)
    assert read_scope(engine, "T1", "C1") == Scope(tags=("health",))

    assert delete_scope(engine, "T1", "C1") is True
    assert delete_scope(engine, "T1", "C1") is False
    assert read_scope(engine, "T1", "C1") is None
    assert read_scope(engine, "T2", "C1") == Scope(folders=("allin",))


def test_a_channel_named_without_its_team_finds_its_scope_in_any_team(engine: Engine) -> None:
    save_scope(engine, "T1", "C9", LEX, "U1", NOW)
    assert read_scope(engine, "", "C9") == LEX  # DIGEST_CHANNEL names channels without their team


def test_two_replicas_agree_once_the_cache_has_expired_and_the_one_that_changed_it_at_once(engine: Engine) -> None:
    ticks = Ticks()
    here, there = ChannelScopes(engine, ticks), ChannelScopes(engine, ticks)
    assert there.scope_for("T1", "C1") is None  # read, and kept

    here.save("T1", "C1", LEX, "U1", NOW)
    assert here.scope_for("T1", "C1") == LEX
    assert there.scope_for("T1", "C1") is None  # still its cached reading
    ticks.now += CACHE_SECONDS
    assert there.scope_for("T1", "C1") == LEX

    there.clear("T1", "C1")
    assert there.scope_for("T1", "C1") is None
    ticks.now += CACHE_SECONDS
    assert here.scope_for("T1", "C1") is None


def test_no_channel_draws_from_the_whole_vault(engine: Engine) -> None:
    assert ChannelScopes(engine).scope_for("T1", None) is None


def test_a_database_that_cannot_be_read_leaves_the_last_scope_read(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    ticks = Ticks()
    scopes = ChannelScopes(engine, ticks)
    scopes.save("T1", "C1", LEX, "U1", NOW)
    scopes.engine = create_engine("sqlite:////nonexistent-folder/notesbot.sqlite3")  # the database goes away
    ticks.now += CACHE_SECONDS * 10

    assert scopes.scope_for("T1", "C1") == LEX
    assert scopes.scope_for("T1", "C2") is None  # never read: the whole vault meanwhile
    assert "could not read the scope of channel C2" in caplog.text
