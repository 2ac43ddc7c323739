"""Posting to Slack: the Web API client and its retries, `response_url` posts, apologies, Slack's reasons.

slack_sdk retries connection errors, rate limits (honouring Retry-After) and server errors. A post that
still fails is logged with Slack's reason (never the request, whose headers carry the token) and
reported to the caller, which apologises to the user instead of leaving them in silence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot.config import Settings
from bot.slack.messages import Message, apology_message
from bot.slack.post_watch import detail_of, outcome_of_error, outcome_of_status, watch_for, watched_copy

log = logging.getLogger("notesbot.slack")

# An answer carries its own excerpt and watch link: Slack's previews of its links would only add clutter.
POST_OPTIONS = {"unfurl_links": False, "unfurl_media": False}

Reply = Callable[[Message], None]


def retry_handlers() -> list[RetryHandler]:
    """Retry connection errors, rate limits (honouring Retry-After) and server errors."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
    ]


def without_blind_retries(client: WebClient) -> WebClient:
    """`client` for a post that must not show twice: a server error may come after Slack took the message, so it
    is not retried blindly (the caller looks for the message first). Posts stay watched (bot.slack.post_watch)."""
    copy = watched_copy(client)
    copy.retry_handlers = [h for h in copy.retry_handlers if not isinstance(h, ServerErrorRetryHandler)]
    return copy


def make_web_client(settings: Settings) -> WebClient:
    """The bot's Web API client, talking to SLACK_API_URL."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return WebClient(token=token, base_url=settings.slack_api_url, retry_handlers=retry_handlers())


def slack_reason(error: Exception) -> str:
    """Why a call to Slack failed, such as `HTTP 200 not_in_channel`, without the request (whose headers
    carry the token)."""
    if isinstance(error, SlackApiError):
        code = error.response.get("error") if isinstance(error.response.data, dict) else None
        return f"HTTP {error.response.status_code}" + (f" {code}" if code else "")
    return f"{type(error).__name__}: {error}"


def post_to_response_url(response_url: str | None, message: Message) -> bool:
    """Post to a response_url with retries; log Slack's reason and return False when it fails. The post is reported
    to the current post watch (bot.slack.post_watch) before and after."""
    if not response_url:
        log.warning("no response_url to answer on")
        return False
    webhook = WebhookClient(response_url, retry_handlers=retry_handlers())
    watch = watch_for(answering=True)
    watch.before("response_url")  # as late as can be: a crash between the mark and the post loses the answer
    try:
        response = webhook.send_dict(message)
    except (SlackClientError, OSError) as error:
        watch.after("response_url", outcome_of_error(error), detail_of(error))
        log.warning("response_url post failed: %s", slack_reason(error))
        return False
    watch.after("response_url", outcome_of_status(response.status_code), f"HTTP {response.status_code}")
    if response.status_code != 200:
        log.warning("response_url post refused: HTTP %s %s", response.status_code, (response.body or "")[:200])
        return False
    return True


def call(method: Callable[..., Any], **kwargs: Any) -> bool:
    """Call a Web API method; log Slack's reason and return False when it fails after the retries."""
    try:
        method(**kwargs)
    except (SlackApiError, SlackClientError, OSError) as error:
        log.warning("Slack API %s failed: %s", getattr(method, "__name__", "call"), slack_reason(error))
        return False
    return True


@contextmanager
def apology_on_failure(reply: Reply, what: str) -> Iterator[None]:
    """Whatever goes wrong while answering `what` is logged, and the user hears a short apology."""
    try:
        yield
    except Exception:
        log.exception("answering %s failed", what)
        reply(apology_message())


def private_reply(response_url: str | None, client: WebClient, context: dict[str, Any]) -> Reply:
    """Answer the user privately through `response_url`; on failure, apologise there, or else as an
    ephemeral message to the `channel_id` and `user_id` of `context`."""

    def reply(message: Message) -> None:
        private = {"response_type": "ephemeral"} | message
        if post_to_response_url(response_url, private):
            return
        if post_to_response_url(response_url, apology_message()):
            return
        channel, user = context.get("channel_id"), context.get("user_id")
        if channel and user:
            call(client.chat_postEphemeral, channel=channel, user=user, **apology_message())

    return reply
