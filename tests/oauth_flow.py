"""Slack's side of an OAuth install, for tests: oauth.v2.access on the fake Web API, and the browser's
round trip through `/slack/install` and `/slack/oauth_redirect` of a running bot."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from bot.config import Settings
from bot.slack.oauth import BOT_SCOPES
from tests.fake_slack import FakeSlack
from tests.slack.conftest import bot_settings
from tests.slack_sender import APP_ID

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret-0123"
STATE_SECRET = "oauth-state-secret-4567"
INSTALLED_TEAM = "T0INSTALL1"
GOOD_CODE = "code-from-slack"


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


def start_install(base_url: str) -> str:
    """Open /slack/install as a browser would; the state Slack will send back."""
    page = httpx.get(f"{base_url}/slack/install", timeout=5)
    assert page.status_code == 200
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page.text)
    assert link, page.text
    query = parse_qs(urlparse(link.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"][0].split(",") == list(BOT_SCOPES)
    assert f"slack-app-oauth-state={query['state'][0]}" in page.headers["set-cookie"]
    return query["state"][0]


def finish_install(base_url: str, state: str, code: str = GOOD_CODE) -> httpx.Response:
    """Slack sends the browser back with a code and the state (the browser still has its state cookie)."""
    return httpx.get(
        f"{base_url}/slack/oauth_redirect",
        params={"code": code, "state": state},
        headers={"Cookie": f"slack-app-oauth-state={state}"},
        timeout=10,
    )


def oauth_settings(fake: FakeSlack, tmp_path: Path, vault: Path, database_url: str | None = None) -> Settings:
    """Settings of a bot in OAuth mode (many workspaces), against the fake Web API."""
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
