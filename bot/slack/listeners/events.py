"""Events: @mentions answered in their thread, direct messages in their conversation, App Home, uninstalls.

Bolt acknowledges events by itself; the listeners hand them on to the answer pool. Slack re-delivers
an event it thinks was not acknowledged, possibly to another process of the bot, and in Socket Mode
without retry headers: `deps.later` records each event's work under its `event_id` in the shared database
(bot.slack.durable), and a re-delivery that finds it recorded is not answered again.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.engine.search import Hit
from bot.slack.answers import conversation_answer
from bot.slack.delivery import POST_OPTIONS, apology_on_failure, call
from bot.slack.deps import ListenerDeps
from bot.slack.durable import deferred
from bot.slack.messages import Message, apology_message, home_view
from bot.slack.payloads import from_a_bot

log = logging.getLogger("notesbot.slack")

# Message subtypes that are a person writing to the bot (edits, joins, deletions are not).
ASKING_SUBTYPES = {None, "file_share", "thread_broadcast"}


def register(app: App, deps: ListenerDeps) -> None:
    @app.event("app_mention")
    def mention(body: dict[str, Any], client: WebClient) -> None:
        deps.later(answer_mention, deps, body, client)

    @app.event("message")
    def message(body: dict[str, Any], client: WebClient) -> None:
        deps.later(answer_direct_message, deps, body, client)

    @app.event("app_home_opened")
    def home_opened(body: dict[str, Any], client: WebClient) -> None:
        deps.later(publish_home, deps, body, client)

    if app.installation_store is not None:  # OAuth mode: an uninstall deletes the workspace's tokens
        app.enable_token_revocation_listeners()


@deferred("app_mention")
def answer_mention(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
    """Answer in the thread of the mention (or of the message it replies to)."""
    event = body["event"]
    if from_a_bot(event):
        return
    thread_ts = event.get("thread_ts") or event.get("ts")
    answer_in_conversation(deps, client, event, thread_ts)


@deferred("direct_message")
def answer_direct_message(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
    """Answer a person's direct message to the bot; other messages the bot sees are not its to answer."""
    event = body["event"]
    if event.get("channel_type") != "im" or event.get("subtype") not in ASKING_SUBTYPES or from_a_bot(event):
        return
    # In a DM the answer follows the question, in its thread only if the question was in one.
    answer_in_conversation(deps, client, event, event.get("thread_ts"))


@deferred("app_home_opened")
def publish_home(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
    """Publish App Home: what the bot does, how to ask, the vault's size and today's topic."""
    event = body["event"]
    if event.get("tab", "home") != "home":
        return
    index = deps.searcher_source().index
    view = home_view(index.note_count, index.section_count, _today_topic(deps))
    call(client.views_publish, user_id=event["user"], view=view)


def answer_in_conversation(deps: ListenerDeps, client: WebClient, event: dict[str, Any], thread_ts: str | None) -> None:
    """Post the answer to the event's text in its channel; if that fails, apologise to the asker alone."""
    channel, user = event.get("channel"), event.get("user")

    def apologise(message: Message) -> None:
        if user:
            call(client.chat_postEphemeral, channel=channel, user=user, thread_ts=thread_ts, **message)

    with apology_on_failure(apologise, "a message to the bot"):
        message = conversation_answer(deps.searcher_source(), event.get("text") or "")
        if not call(client.chat_postMessage, channel=channel, thread_ts=thread_ts, **message, **POST_OPTIONS):
            apologise(apology_message())


def _today_topic(deps: ListenerDeps) -> Hit | None:
    if deps.today_topic is None:
        return None
    try:
        return deps.today_topic()
    except Exception:  # the Home tab is still useful without today's topic
        log.exception("could not read today's topic for App Home")
        return None
