"""Installing in many workspaces: the OAuth flow stores each workspace's token in the shared database, every
request is answered with its workspace's token, any replica can finish an install and serve the workspace,
and uninstalling deletes the token."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import yaml
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

from bot.config import Settings
from bot.oauth import BOT_SCOPES
from tests.fake_slack import FakeSlack
from tests.operations.conftest import ServedBot, serving
from tests.slack.conftest import bot_settings
from tests.slack_sender import APP_ID

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret-0123"
STATE_SECRET = "oauth-state-secret-4567"
INSTALLED_TEAM = "T0INSTALL1"
GOOD_CODE = "code-from-slack"
MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack-app-manifest.yml"


@dataclass
class InstallingFakeSlack(FakeSlack):
    """The fake Web API, plus oauth.v2.access as Slack answers it for a consented install."""

    def _decide(self, kind: str, method: str, body: dict, headers: dict) -> tuple[int, dict, Any]:
        if method != "oauth.v2.access":
            return super()._decide(kind, method, body, headers)
        if body.get("code") != GOOD_CODE:
            return 200, {}, {"ok": False, "error": "invalid_code"}
        return (
            200,
            {},
            {
                "ok": True,
                "app_id": APP_ID,
                "authed_user": {"id": "U0INSTALLR"},
                "scope": ",".join(BOT_SCOPES),
                "token_type": "bot",
                "access_token": self.token,
                "bot_user_id": self.bot_user_id,
                "team": {"id": INSTALLED_TEAM, "name": "Installed Team"},
                "enterprise": None,
                "is_enterprise_install": False,
            },
        )


@pytest.fixture
def fake_slack() -> Iterator[InstallingFakeSlack]:
    with InstallingFakeSlack() as fake:
        yield fake
    assert not fake.violations


def oauth_settings(fake: FakeSlack, tmp_path: Path, vault: Path, database_url: str | None = None) -> Settings:
    return bot_settings(
        fake,
        tmp_path,
        notes_dir=vault,
        slack_bot_token=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_state_secret=STATE_SECRET,
        **({"database_url": database_url} if database_url else {}),
    )


@pytest.fixture
def oauth_bot(fake_slack: InstallingFakeSlack, tmp_path: Path, vault: Path) -> Iterator[ServedBot]:
    with serving(oauth_settings(fake_slack, tmp_path, vault), fake_slack) as served:
        yield served


def start_install(bot: ServedBot) -> str:
    """Open /slack/install as a browser would; the state Slack will send back."""
    page = httpx.get(f"{bot.url}/slack/install", timeout=5)
    assert page.status_code == 200
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page.text)
    assert link, page.text
    query = parse_qs(urlparse(link.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"][0].split(",") == list(BOT_SCOPES)
    assert f"slack-app-oauth-state={query['state'][0]}" in page.headers["set-cookie"]
    return query["state"][0]


def finish_install(bot: ServedBot, state: str, code: str = GOOD_CODE) -> httpx.Response:
    """Slack sends the browser back with a code and the state (the browser still has its state cookie)."""
    return httpx.get(
        f"{bot.url}/slack/oauth_redirect",
        params={"code": code, "state": state},
        headers={"Cookie": f"slack-app-oauth-state={state}"},
        timeout=10,
    )


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
    response = finish_install(oauth_bot, start_install(oauth_bot))

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
    state = start_install(oauth_bot)
    forged = state.rsplit(".", 1)[0] + ".0123456789abcdef0123456789abcdef"

    response = finish_install(oauth_bot, forged)

    assert response.status_code >= 400
    assert fake_slack.calls_to("oauth.v2.access") == []
    assert installed_token(oauth_bot, INSTALLED_TEAM) is None


def test_a_state_is_good_for_one_install_only(oauth_bot: ServedBot, fake_slack: InstallingFakeSlack) -> None:
    state = start_install(oauth_bot)
    assert finish_install(oauth_bot, state).status_code == 200

    assert finish_install(oauth_bot, state).status_code >= 400
    assert len(fake_slack.calls_to("oauth.v2.access")) == 1


def test_uninstalling_deletes_the_workspace_token(oauth_bot: ServedBot, fake_slack: InstallingFakeSlack) -> None:
    finish_install(oauth_bot, start_install(oauth_bot))

    event_from(oauth_bot, INSTALLED_TEAM, {"type": "app_uninstalled", "event_ts": "1700000000.000100"})

    fake_slack.wait_until(lambda: installed_token(oauth_bot, INSTALLED_TEAM) is None, timeout=5)
    ask(oauth_bot, INSTALLED_TEAM)
    assert asked_to_reinstall(fake_slack)


def test_revoked_bot_tokens_are_deleted(oauth_bot: ServedBot, fake_slack: InstallingFakeSlack) -> None:
    finish_install(oauth_bot, start_install(oauth_bot))

    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [fake_slack.bot_user_id]}}
    event_from(oauth_bot, INSTALLED_TEAM, revoked | {"event_ts": "1700000000.000200"})

    fake_slack.wait_until(lambda: installed_token(oauth_bot, INSTALLED_TEAM) is None, timeout=5)


def test_an_install_begun_on_one_replica_finishes_on_another_and_both_serve_it(
    fake_slack: InstallingFakeSlack, tmp_path: Path, vault: Path, postgres_url: str
) -> None:
    first_settings = oauth_settings(fake_slack, tmp_path / "a", vault, postgres_url)
    second_settings = oauth_settings(fake_slack, tmp_path / "b", vault, postgres_url)
    with serving(first_settings, fake_slack) as first, serving(second_settings, fake_slack) as second:
        state = start_install(first)
        assert finish_install(second, state).status_code == 200

        ask(first, INSTALLED_TEAM)
        ask(second, INSTALLED_TEAM, "deep learning")

        assert len(fake_slack.wait_for("response_url", count=2)) == 2
