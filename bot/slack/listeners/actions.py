"""The buttons of a `/notes` answer: Share to channel, Next match, Dismiss, and 👍 / 👎.

Each is acknowledged at once, then worked out on the answer pool and answered through the payload's
`response_url`; a rating is recorded (bot.slack.feedback) and thanked privately.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.answers import private_answer, shown_hits
from bot.slack.delivery import apology_on_failure, post_to_response_url, private_reply
from bot.slack.deps import ListenerDeps
from bot.slack.durable import deferred
from bot.slack.feedback import rated_hit, record_feedback
from bot.slack.messages import (
    DISMISS_ACTION,
    HELPFUL_ACTION,
    NEXT_ACTION,
    SHARE_ACTION,
    UNHELPFUL_ACTION,
    apology_message,
    feedback_thanks_message,
    read_result_value,
    shared_message,
)
from bot.slack.payloads import action_context, button_value, pressed

log = logging.getLogger("notesbot.slack")

Ack = Callable[..., None]


def register(app: App, deps: ListenerDeps) -> None:
    @app.action(SHARE_ACTION)
    def share_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.later(share, deps, body, client)

    @app.action(NEXT_ACTION)
    def next_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.later(next_match, deps, body, client)

    @app.action(DISMISS_ACTION)
    def dismiss_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.later(dismiss, deps, body, client)

    def rating_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.later(rate, deps, body, client)

    app.action(HELPFUL_ACTION)(rating_button)
    app.action(UNHELPFUL_ACTION)(rating_button)


@deferred("share_button")
def share(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
    """Post the match in the channel, saying who shared it, and delete the private answer."""
    reply = private_reply(body.get("response_url"), client, action_context(body))
    with apology_on_failure(reply, "a share button"):
        query, position = button_value(body)
        searcher = deps.searcher_source()
        hits = shown_hits(searcher, query)
        if position >= len(hits):
            reply(private_answer(searcher, query))  # the vault changed since: show what it holds now
            return
        user_id = (body.get("user") or {}).get("id", "")
        shared = shared_message(hits[position], user_id) | {"response_type": "in_channel"}
        if post_to_response_url(body.get("response_url"), shared):
            post_to_response_url(body.get("response_url"), {"delete_original": True})
        else:
            reply(apology_message())


@deferred("next_button")
def next_match(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
    """Replace the answer with the query's next hit (after the last, the first again)."""
    reply = private_reply(body.get("response_url"), client, action_context(body))
    with apology_on_failure(reply, "a next-match button"):
        query, position = button_value(body)
        reply(private_answer(deps.searcher_source(), query, position + 1) | {"replace_original": True})


@deferred("dismiss_button")
def dismiss(_deps: ListenerDeps, body: dict[str, Any], _client: WebClient) -> None:
    """Delete the private answer."""
    if not post_to_response_url(body.get("response_url"), {"delete_original": True}):
        log.warning("could not dismiss a result message")


@deferred("rating_button")
def rate(deps: ListenerDeps, body: dict[str, Any], _client: WebClient) -> None:
    """Record a 👍 or 👎 against the section the answer showed, and thank the user privately."""
    action = pressed(body)
    try:
        query, position = read_result_value(action.get("value") or "")
    except ValueError:
        log.warning("ignored a feedback button whose value is not an answer's")
        return
    helpful = action.get("action_id") == HELPFUL_ACTION
    hit = rated_hit(deps.searcher_source(), query, position)
    user = body.get("user") or {}
    team = (body.get("team") or {}).get("id") or user.get("team_id")
    if record_feedback(deps.engine, deps.clock(), team, user.get("id"), query, hit, helpful):
        thanks = feedback_thanks_message(helpful) | {"response_type": "ephemeral", "replace_original": False}
        post_to_response_url(body.get("response_url"), thanks)
