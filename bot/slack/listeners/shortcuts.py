"""Shortcuts: "Find in notes" on a message, and "Search the notes" from anywhere.

`notes_find_message` (a message shortcut) is acknowledged at once; then the message's text, read as Slack
sends it, is searched (in its thread's context when the bot answered in that thread) and answered privately
to the person who used it, beside the message (in its thread when it is in one), with the usual buttons;
Share posts the answer in the message's thread. `notes_search` (a global shortcut) opens the search modal
(bot.slack.listeners.views) at once, its trigger being valid for 3 seconds only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.engine.follow_up import ThreadContext
from bot.slack.answers import private_answer
from bot.slack.delivery import apology_on_failure, call, post_to_response_url
from bot.slack.deps import ListenerDeps
from bot.slack.durable import deferred
from bot.slack.listeners.views import open_search_modal
from bot.slack.messages import Message, nothing_to_search_message
from bot.slack.payloads import asks_nothing, limit_query, query_from_slack_text, team_of
from bot.slack.thread_memory import ThreadKey, recall

# As declared in deploy/slack-app-manifest.yml.
FIND_IN_NOTES = "notes_find_message"
SEARCH_THE_NOTES = "notes_search"

Ack = Callable[..., None]


def register(app: App, deps: ListenerDeps) -> None:
    @app.shortcut(FIND_IN_NOTES)
    def find_in_notes(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.later(answer_message_shortcut, deps, body, client)

    @app.shortcut(SEARCH_THE_NOTES)
    def search_the_notes(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        open_search_modal(client, body)


@deferred("find_in_notes", repeatable=True)
def answer_message_shortcut(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
    """Search the message's text and answer the person privately beside the message."""
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or ""
    thread_ts = message.get("thread_ts")  # the answer goes in the message's thread when it is in one
    reply = private_reply_beside(client, body, channel, thread_ts)
    with apology_on_failure(reply, "a Find in notes shortcut"):
        question = limit_query(query_from_slack_text(message.get("text") or ""))
        if asks_nothing(question):
            reply(nothing_to_search_message())
            return
        context = ThreadContext()
        if thread_ts:
            context = ThreadContext.of(recall(deps.engine, ThreadKey(team_of(body), channel, thread_ts), deps.clock()))
        share_in = thread_ts or message.get("ts") or body.get("message_ts")
        scope = deps.scope_for(team_of(body), channel)
        reply(private_answer(deps.searcher_source(), question, 0, context, share_in, scope=scope, site=deps.site))


def private_reply_beside(
    client: WebClient, body: dict[str, Any], channel: str, thread_ts: str | None
) -> Callable[[Message], None]:
    """Answer the person privately in the message's channel and thread (chat.postEphemeral); where Slack
    will not take that (a private channel without the bot, say), through the shortcut's response_url."""
    user = (body.get("user") or {}).get("id")

    def reply(message: Message) -> None:
        if call(client.chat_postEphemeral, channel=channel, user=user, thread_ts=thread_ts, **message):
            return
        post_to_response_url(body.get("response_url"), {"response_type": "ephemeral"} | message)

    return reply
