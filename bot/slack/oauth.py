"""Installing the bot in many workspaces: Slack's OAuth flow, with installations and states in the shared database.

Enabled by SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET. `/slack/install` sends a person to
Slack's consent page and `/slack/oauth_redirect` finishes the install; any replica can finish an install
another began, since the state and the installation live in DATABASE_URL (slack_sdk's SQLAlchemy stores,
on the tables of migration 0002). Each request is then answered with its own workspace's bot token, and
`app_uninstalled` / `tokens_revoked` delete that workspace's tokens.

States are signed with SLACK_STATE_SECRET on top of being stored: a forged or guessed state is refused
without a database lookup, and another deployment sharing the database cannot complete this one's installs.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine

from bot.config import Settings

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# The bot scopes of deploy/slack-app-manifest.yml (a test keeps the two equal).
BOT_SCOPES = (
    "app_mentions:read",
    "assistant:write",
    "channels:history",
    "chat:write",
    "chat:write.public",
    "commands",
    "groups:history",
    "im:history",
    "links:read",
    "links:write",
    "mpim:history",
)
STATE_LIFETIME_SECONDS = 600


class SignedStateStore(OAuthStateStore):
    """An OAuth state store whose states carry an HMAC of SLACK_STATE_SECRET."""

    def __init__(self, inner: OAuthStateStore, secret: str) -> None:
        self._inner = inner
        self._key = secret.encode()

    @property
    def logger(self) -> logging.Logger:
        return log

    def issue(self, *args: object, **kwargs: object) -> str:
        state = self._inner.issue(*args, **kwargs)
        return f"{state}.{self._signature(state)}"

    def consume(self, state: str) -> bool:
        inner, _, signature = state.rpartition(".")
        if not inner or not hmac.compare_digest(signature, self._signature(inner)):
            log.warning("refused an OAuth state without a valid signature")
            return False
        return self._inner.consume(inner)

    def _signature(self, state: str) -> str:
        return hmac.new(self._key, state.encode(), hashlib.sha256).hexdigest()[:32]


def oauth_settings(settings: Settings, engine: Engine) -> OAuthSettings | None:
    """Bolt's OAuth settings on the shared database, or None in single-workspace mode (SLACK_BOT_TOKEN)."""
    if not settings.oauth_enabled:
        return None
    settings.require_slack()  # names SLACK_STATE_SECRET if it is missing
    assert settings.slack_client_id and settings.slack_client_secret and settings.slack_state_secret
    states = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_LIFETIME_SECONDS, engine=engine)
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine),
        # Only the bot's token is used; no user tokens are asked for or kept.
        installation_store_bot_only=True,
        state_store=SignedStateStore(states, settings.slack_state_secret.get_secret_value()),
        state_expiration_seconds=STATE_LIFETIME_SECONDS,
    )
