"""Installing in many workspaces: the OAuth flow stores each workspace's token in the shared database, every
request is answered with its workspace's token, any replica can finish an install and serve the workspace,
and uninstalling deletes the token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import select

from bot.slack import pending
from bot.slack.oauth import BOT_SCOPES
from bot.storage import pending_answers
from tests.fake_slack import FakeSlack
from tests.oauth_flow import (
    CLIENT_ID,
    GOOD_CODE,
    INSTALLED_TEAM,
    InstallingFakeSlack,
    finish_install,
    oauth_settings,
    start_install,
)
from tests.operations.conftest import ServedBot, serving
from tests.slack_sender import APP_ID
from tests.waiting import eventually

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack-app-manifest.yml"
WINDOW = timedelta(minutes=30)  # a recorded question's time to be answered


@pytest.fixture
def fake_slack() -> Iterator[InstallingFakeSlack]:
    with InstallingFakeSlack() as fake:
        yield fake
    assert not fake.violations


@pytest.fixture
def oauth_bot(fake_slack: InstallingFakeSlack, tmp_path: Path, vault: Path) -> Iterator[ServedBot]:
    with serving(oauth_settings(fake_slack, tmp_path, vault), fake_slack) as served:
        yield served


@pytest.fixture
def recovering_oauth_bot(fake_slack: InstallingFakeSlack, tmp_path: Path, vault: Path) -> Iterator[ServedBot]:
    with serving(oauth_settings(fake_slack, tmp_path, vault), fake_slack, recover=True) as served:
        yield served


def installed_token(bot: ServedBot, team_id: str) -> str | None:
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=bot.ops.engine)
    found = store.find_bot(enterprise_id=None, team_id=team_id)
    return found.bot_token if found else None


def ask(bot: ServedBot, team_id: str, text: str = "computer vision") -> httpx.Response:
    return bot.slack.command(text, team_id=team_id)


def event_from(bot: ServedBot, team_id: str, event: dict[str, Any]) -> httpx.Response:
    body = {
        "token": "deprecated",
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{event['type']}{team_id}",
        "event_time": 1_700_000_000,
    }
    return bot.slack.post(json.dumps(body), "application/json")


def test_the_bot_scopes_asked_are_those_of_the_app_manifest() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)


def test_an_install_stores_the_workspace_token_and_its_requests_are_answered(
    oauth_bot: ServedBot, fake_slack: InstallingFakeSlack
) -> None:
    response = finish_install(oauth_bot.url, start_install(oauth_bot.url))

    assert response.status_code == 200
    assert installed_token(oauth_bot, INSTALLED_TEAM) == fake_slack.token
    [exchange] = fake_slack.calls_to("oauth.v2.access")
    assert exchange.body["code"] == GOOD_CODE
    ask(oauth_bot, INSTALLED_TEAM)
    [answer] = fake_slack.wait_for("response_url")
    assert "Computer Vision and Robotics" in json.dumps(answer.body)


def asked_to_reinstall(fake_slack: FakeSlack) -> bool:
    """Bolt's own reply to a workspace without an installation: no answer, a request to install."""
    [reply] = fake_slack.wait_for("response_url")
    return "reinstall" in reply.body["text"] and "Computer Vision" not in json.dumps(reply.body)


def test_a_workspace_that_never_installed_is_asked_to_install(
    oauth_bot: ServedBot, fake_slack: InstallingFakeSlack
) -> None:
    assert ask(oauth_bot, "T0STRANGER").status_code == 200

    assert asked_to_reinstall(fake_slack)


def test_a_forged_state_installs_nothing(oauth_bot: ServedBot, fake_slack: InstallingFakeSlack) -> None:
    state = start_install(oauth_bot.url)
    forged = state.rsplit(".", 1)[0] + ".0123456789abcdef0123456789abcdef"

    response = finish_install(oauth_bot.url, forged)

    assert response.status_code >= 400
    assert fake_slack.calls_to("oauth.v2.access") == []
    assert installed_token(oauth_bot, INSTALLED_TEAM) is None


def test_a_state_is_good_for_one_install_only(oauth_bot: ServedBot, fake_slack: InstallingFakeSlack) -> None:
    state = start_install(oauth_bot.url)
    assert finish_install(oauth_bot.url, state).status_code == 200

    assert finish_install(oauth_bot.url, state).status_code >= 400
    assert len(fake_slack.calls_to("oauth.v2.access")) == 1


def test_uninstalling_deletes_the_workspace_token(oauth_bot: ServedBot, fake_slack: InstallingFakeSlack) -> None:
    finish_install(oauth_bot.url, start_install(oauth_bot.url))

    event_from(oauth_bot, INSTALLED_TEAM, {"type": "app_uninstalled", "event_ts": "1700000000.000100"})

    fake_slack.wait_until(lambda: installed_token(oauth_bot, INSTALLED_TEAM) is None, timeout=5)
    ask(oauth_bot, INSTALLED_TEAM)
    assert asked_to_reinstall(fake_slack)


def test_revoked_bot_tokens_are_deleted(oauth_bot: ServedBot, fake_slack: InstallingFakeSlack) -> None:
    finish_install(oauth_bot.url, start_install(oauth_bot.url))
    assert installed_token(oauth_bot, INSTALLED_TEAM) is not None

    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [fake_slack.bot_user_id]}}
    event_from(oauth_bot, INSTALLED_TEAM, revoked | {"event_ts": "1700000000.000200"})

    assert eventually(lambda: installed_token(oauth_bot, INSTALLED_TEAM) is None)


def test_an_install_begun_on_one_replica_finishes_on_another_and_both_serve_it(
    fake_slack: InstallingFakeSlack, tmp_path: Path, vault: Path, postgres_url: str
) -> None:
    first_settings = oauth_settings(fake_slack, tmp_path / "a", vault, postgres_url)
    second_settings = oauth_settings(fake_slack, tmp_path / "b", vault, postgres_url)
    with serving(first_settings, fake_slack) as first, serving(second_settings, fake_slack) as second:
        state = start_install(first.url)
        assert finish_install(second.url, state).status_code == 200

        ask(first, INSTALLED_TEAM)
        ask(second, INSTALLED_TEAM, "deep learning")

        assert len(fake_slack.wait_for("response_url", count=2)) == 2


def left_by_a_crashed_process(bot: ServedBot, team_id: str, event_id: str) -> int | None:
    """A mention acknowledged by a process that died before answering it (and never heartbeats again)."""
    now = datetime.now(UTC)
    body = {
        "type": "event_callback",
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event_id": event_id,
        "event": {
            "type": "app_mention",
            "channel": "C0CRASHED",
            "user": "U0ASKER",
            "ts": "1700000000.000300",
            "text": "<@UBOT0001> computer vision",
        },
    }
    recorded_at = now - timedelta(seconds=30)  # long enough ago for its owner to count as stopped
    return pending.record(bot.ops.engine, "app_mention", body, event_id, "crashed:1:0", recorded_at, now + WINDOW)


def status_of(bot: ServedBot, answer_id: int | None) -> str:
    with bot.ops.engine.connect() as connection:
        return connection.execute(
            select(pending_answers.c.status).where(pending_answers.c.id == answer_id)
        ).scalar_one()


def test_a_question_left_by_a_crashed_process_is_answered_with_its_workspace_s_token(
    recovering_oauth_bot: ServedBot, fake_slack: InstallingFakeSlack
) -> None:
    bot = recovering_oauth_bot
    finish_install(bot.url, start_install(bot.url))

    answer_id = left_by_a_crashed_process(bot, INSTALLED_TEAM, "EvCrashedInstalled")

    [answer] = fake_slack.wait_for("chat.postMessage", timeout=15)
    assert answer.headers["authorization"] == f"Bearer {installed_token(bot, INSTALLED_TEAM)}"
    assert answer.body["channel"] == "C0CRASHED" and "Computer Vision and Robotics" in json.dumps(answer.body)
    assert eventually(lambda: status_of(bot, answer_id) == "done")


def test_a_question_left_by_a_crashed_process_for_a_workspace_without_an_installation_is_dropped(
    recovering_oauth_bot: ServedBot, fake_slack: InstallingFakeSlack
) -> None:
    answer_id = left_by_a_crashed_process(recovering_oauth_bot, "T0STRANGER", "EvCrashedStranger")

    assert eventually(lambda: status_of(recovering_oauth_bot, answer_id) == "dropped", within=15)
    assert fake_slack.calls_to("chat.postMessage") == []
