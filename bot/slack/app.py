"""The Bolt app: request verification, each workspace's token (OAuth mode), and every listener registered.

The listeners live in bot.slack.listeners, one module per payload type; what they are given in
bot.slack.deps; how they post in bot.slack.delivery.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from bot.config import Settings
from bot.slack.deps import ListenerDeps
from bot.slack.listeners import register_listeners

log = logging.getLogger("notesbot.slack")


def create_app(
    settings: Settings, client: WebClient, deps: ListenerDeps, oauth_settings: OAuthSettings | None = None
) -> App:
    """The Bolt app with every listener registered, calling Slack through `client`. With `oauth_settings`
    (bot.slack.oauth), each workspace's token comes from the installation store."""
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    # The request verification middleware refuses unsigned, badly signed and stale (> 5 min) requests.
    # process_before_response: the ack (the HTTP response, or the envelope's ack in Socket Mode) leaves only once the
    # listener has returned, wherever it calls ack() and for events too (which Bolt otherwise acks before the
    # listener runs), so that the question its `deps.later` recorded is on disk before Slack hears it was received.
    # Listeners only ack and hand on (bot.slack.durable), which keeps this within milliseconds.
    app = App(
        client=client,
        signing_secret=secret,
        request_verification_enabled=True,
        oauth_settings=oauth_settings,
        process_before_response=True,
    )
    register_listeners(app, deps)
    app.error(_log_bolt_error)
    return app


def _log_bolt_error(error: Exception) -> None:
    """Bolt caught an exception outside our listeners' own handling: log it, and nothing else.

    It may come from a request that failed verification, whose response_url must not be called.
    """
    log.error("request failed in Bolt: %r", error)
