"""Events: @mentions answered in their thread, direct messages in their conversation, App Home, uninstalls,
and links to videos (or pages) of the vault previewed where they are shared (`link_shared`).

Bolt acknowledges events by itself; the listeners hand them on to the answer pool. Slack re-delivers
an event it thinks was not acknowledged, possibly to another process of the bot, and in Socket Mode
without retry headers: each `event_id` is claimed once in the shared database before it is answered.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.engine.search import Hit
from bot.slack.answers import conversation_answer
from bot.slack.delivery import POST_OPTIONS, apology_on_failure, call
from bot.slack.deps import ListenerDeps
from bot.slack.messages import Message, apology_message, home_view
from bot.slack.payloads import from_a_bot
from bot.slack.unfurls import link_previews, shared_urls, unfurl_target
from bot.storage import claim_event

log = logging.getLogger("notesbot.slack")

# Message subtypes that are a person writing to the bot (edits, joins, deletions are not).
ASKING_SUBTYPES = {None, "file_share", "thread_broadcast"}


def register(app: App, deps: ListenerDeps) -> None:
    @app.event("app_mention")
    def mention(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        deps.later(answer_mention, deps, event, body, client)

    @app.event("message")
    def message(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        deps.later(answer_direct_message, deps, event, body, client)

    @app.event("link_shared")
    def link_shared(body: dict[str, Any], client: WebClient) -> None:
        deps.later(unfurl_links, deps, body, client)

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        deps.later(publish_home, deps, event, body, client)

    if app.installation_store is not None:  # OAuth mode: an uninstall deletes the workspace's tokens
        app.enable_token_revocation_listeners()


def answer_mention(deps: ListenerDeps, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
    """Answer in the thread of the mention (or of the message it replies to)."""
    if from_a_bot(event) or not first_delivery(deps, body):
        return
    thread_ts = event.get("thread_ts") or event.get("ts")
    answer_in_conversation(deps, client, event, thread_ts)


def answer_direct_message(deps: ListenerDeps, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
    """Answer a person's direct message to the bot; other messages the bot sees are not its to answer."""
    if event.get("channel_type") != "im" or event.get("subtype") not in ASKING_SUBTYPES:
        return
    if from_a_bot(event) or not first_delivery(deps, body):
        return
    # In a DM the answer follows the question, in its thread only if the question was in one.
    answer_in_conversation(deps, client, event, event.get("thread_ts"))


def unfurl_links(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
    """Preview the shared links whose videos (or published pages) the channel's notes have: one chat.unfurl
    with every preview, keyed by the URLs as shared; none at all when the notes have none of them."""
    event = body.get("event") or {}
    target = unfurl_target(event)
    urls = shared_urls(event)
    if target is None or not urls or not first_delivery(deps, body):
        return
    scope = deps.scope_for(body.get("team_id") or event.get("team"), event.get("channel"))
    previews = link_previews(deps.searcher_source(), urls, scope, deps.site)
    if previews:
        call(client.chat_unfurl, **target, unfurls=previews)


def publish_home(deps: ListenerDeps, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
    """Publish App Home: what the bot does, how to ask, the vault's size and today's topic."""
    if event.get("tab", "home") != "home" or not first_delivery(deps, body):
        return
    index = deps.searcher_source().index
    view = home_view(index.note_count, index.section_count, _today_topic(deps), deps.site)
    call(client.views_publish, user_id=event["user"], view=view)


def answer_in_conversation(
    deps: ListenerDeps, client: WebClient, event: dict[str, Any], thread_ts: str | None
) -> None:
    """Post the answer to the event's text in its channel; if that fails, apologise to the asker alone."""
    channel, user = event.get("channel"), event.get("user")

    def apologise(message: Message) -> None:
        if user:
            call(client.chat_postEphemeral, channel=channel, user=user, thread_ts=thread_ts, **message)

    with apology_on_failure(apologise, "a message to the bot"):
        scope = deps.scope_for(event.get("team"), channel)
        message = conversation_answer(deps.searcher_source(), event.get("text") or "", scope=scope, site=deps.site)
        if not call(client.chat_postMessage, channel=channel, thread_ts=thread_ts, **message, **POST_OPTIONS):
            apologise(apology_message())


def first_delivery(deps: ListenerDeps, body: dict[str, Any]) -> bool:
    """Claim the event's id; False if another delivery (or process) already has it."""
    event_id = body.get("event_id")
    if not event_id:
        return True
    try:
        return claim_event(deps.engine, event_id, deps.clock())
    except SQLAlchemyError as error:
        # Better a rare double answer than silence while the database is away.
        log.error("could not record event %s as handled: %s", event_id, error.__class__.__name__)
        return True


def _today_topic(deps: ListenerDeps) -> Hit | None:
    if deps.today_topic is None:
        return None
    try:
        return deps.today_topic()
    except Exception:  # the Home tab is still useful without today's topic
        log.exception("could not read today's topic for App Home")
        return None
