"""The schema comes from the migrations, the same on SQLite and PostgreSQL, and upgrading is safe to repeat."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, func, insert, inspect, select

from bot import storage
from bot.cli import main
from bot.migrate import (
    VERSION_TABLE,
    alembic_config,
    create_schema,
    current_revision,
    expected_metadata,
    head_revision,
    upgrade_database,
    upgrade_engine,
)


@pytest.fixture
def engine(database_url: str):
    engine = storage.make_engine(database_url)
    yield engine
    engine.dispose()


def _schema_differences(engine: Engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return compare_metadata(context, expected_metadata())


def _record_query(engine: Engine, text: str) -> None:
    with engine.begin() as connection:
        connection.execute(insert(storage.queries).values(asked_at=datetime.now(UTC), kind="slash", query=text, hits=0))


def test_a_new_database_is_migrated_to_exactly_the_tables_the_code_uses(engine: Engine) -> None:
    assert current_revision(engine) is None

    upgrade_engine(engine)

    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(storage.metadata.tables) <= tables
    assert {"slack_installations", "slack_bots", "slack_oauth_states"} <= tables
    # No column, type, index or constraint of bot/storage.py or of slack_sdk's stores is missing or extra.
    assert _schema_differences(engine) == []


def test_upgrading_again_changes_nothing_and_keeps_the_data(engine: Engine) -> None:
    upgrade_engine(engine)
    _record_query(engine, "computer vision")

    upgrade_engine(engine)

    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        assert connection.execute(select(storage.queries.c.query)).scalars().all() == ["computer vision"]


def test_a_database_at_the_first_revision_is_upgraded_in_place(engine: Engine) -> None:
    upgrade_engine(engine, "0001_notesbot_tables")
    _record_query(engine, "robotics")
    assert "slack_installations" not in inspect(engine).get_table_names()

    upgrade_engine(engine)

    assert _schema_differences(engine) == []
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(storage.queries)).scalar_one() == 1


def test_every_revision_can_be_undone(engine: Engine) -> None:
    upgrade_engine(engine)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")

    assert not set(inspect(engine).get_table_names()) & set(expected_metadata().tables)
    upgrade_engine(engine)
    assert _schema_differences(engine) == []


def test_create_schema_runs_the_migrations(engine: Engine) -> None:
    create_schema(engine)

    assert current_revision(engine) == head_revision()


def test_the_slack_oauth_stores_work_on_the_migrated_tables(engine: Engine) -> None:
    upgrade_engine(engine)
    installations = SQLAlchemyInstallationStore(client_id="111.222", engine=engine)
    states = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)

    installations.save(
        Installation(app_id="A1", team_id="T1", user_id="U1", bot_token="xoxb-team-one", bot_id="B1", bot_user_id="UB1")
    )
    state = states.issue()

    bot = installations.find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_token == "xoxb-team-one"
    assert states.consume(state) is True
    assert states.consume(state) is False  # a state is good for one install only


def test_upgrade_database_takes_a_url_as_the_server_has_it(database_url: str) -> None:
    upgrade_database(database_url)

    engine = storage.make_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_replicas_starting_together_on_postgresql_migrate_once_without_errors(postgres_url: str) -> None:
    errors: list[BaseException] = []

    def start_replica() -> None:
        try:
            upgrade_database(postgres_url)
        except BaseException as error:  # collected: the assertion below names it
            errors.append(error)

    replicas = [threading.Thread(target=start_replica) for _ in range(4)]
    for replica in replicas:
        replica.start()
    for replica in replicas:
        replica.join()

    assert errors == []
    engine = storage.make_engine(postgres_url)
    try:
        assert _schema_differences(engine) == []
    finally:
        engine.dispose()


def test_notesbot_db_upgrade_migrates_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)

    assert main(["db", "upgrade"]) == 0
    assert head_revision() in capsys.readouterr().out

    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out.startswith(head_revision())


def test_notesbot_db_current_never_prints_the_password(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with_password = postgres_url.replace("postgres@", "postgres:s3cret-pw@")
    monkeypatch.setenv("DATABASE_URL", with_password)

    assert main(["db", "current"]) == 0  # trust auth: the password is accepted and ignored

    assert "s3cret-pw" not in capsys.readouterr().out
