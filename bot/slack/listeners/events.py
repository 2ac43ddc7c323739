"""Events: @mentions answered in their thread, direct messages in their conversation, App Home, uninstalls,
and links to videos (or pages) of the vault previewed where they are shared (`link_shared`).

A question in a thread the bot answered before is read in that thread's context (bot.slack.conversations);
a mention with no question in someone else's thread answers the thread's first message. Direct messages in
a thread are the assistant's (bot.slack.listeners.assistant), whose middleware takes them before these
listeners see them.

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
from bot.slack.conversations import Asked, answer_in_thread, found_and_remembered, reply, summon
from bot.slack.delivery import call
from bot.slack.deps import ListenerDeps
from bot.slack.durable import deferred
from bot.slack.messages import help_message, home_view
from bot.slack.payloads import asks_nothing, from_a_bot, query_from_slack_text, team_of, thread_of
from bot.slack.thread_memory import ThreadKey
from bot.slack.unfurls import link_previews, shared_urls, unfurl_target

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

    @app.event("link_shared")
    def link_shared(body: dict[str, Any], client: WebClient) -> None:
        deps.later(unfurl_links, deps, body, client)

    @app.event("app_home_opened")
    def home_opened(body: dict[str, Any], client: WebClient) -> None:
        deps.later(publish_home, deps, body, client)

    if app.installation_store is not None:  # OAuth mode: an uninstall deletes the workspace's tokens
        app.enable_token_revocation_listeners()


def mention_asked(body: dict[str, Any]) -> Asked:
    """Where a mention asks: the thread it is in, or the one its answer starts under it."""
    event = body.get("event") or {}
    channel = event.get("channel") or ""
    thread_ts = thread_of(event) or event.get("ts") or ""
    return Asked(ThreadKey(team_of(body), channel, thread_ts), channel, thread_ts, event.get("user"), event.get("ts"))


def mention_answered(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> bool | None:
    """Whether the mention's thread holds its reply already (the outcome of a post was lost with its process); one
    found is remembered in the thread as a reply posted there is (a mention without a question in a thread: as the
    thread's first question, which it summoned)."""
    summons = thread_of(body.get("event") or {}) is not None
    return found_and_remembered(deps, body, client, mention_asked(body), summons)


@deferred("app_mention", answered=mention_answered)
def answer_mention(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
    """Answer in the thread of the mention (or of the message it replies to), in that thread's context; a
    mention without a question answers the thread's first message, or gets the help outside threads."""
    event = body.get("event") or {}
    if from_a_bot(event):
        return
    asked = mention_asked(body)
    question = query_from_slack_text(event.get("text") or "")
    if not asks_nothing(question):
        answer_in_thread(deps, client, asked, question)
    elif thread_of(event):
        summon(deps, client, asked)
    else:
        reply(client, asked, help_message())


def direct_message_asked(body: dict[str, Any]) -> Asked:
    """Where a direct message asks. In a DM the answer follows the question, in its thread only if the question
    was in one; outside threads the conversation is the thread (bot.slack.thread_memory keeps only its last
    hour)."""
    event = body.get("event") or {}
    channel, thread_ts = event.get("channel") or "", event.get("thread_ts")
    key = ThreadKey(team_of(body), channel, thread_ts or "")
    return Asked(key, channel, thread_ts, event.get("user"), event.get("ts"))


def direct_message_answered(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> bool | None:
    """Whether the conversation holds the direct message's reply already (its post's outcome was lost)."""
    return found_and_remembered(deps, body, client, direct_message_asked(body))


@deferred("direct_message", answered=direct_message_answered)
def answer_direct_message(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
    """Answer a person's direct message to the bot, read with what they asked just before; other messages
    the bot sees are not its to answer."""
    event = body.get("event") or {}
    if event.get("channel_type") != "im" or event.get("subtype") not in ASKING_SUBTYPES or from_a_bot(event):
        return
    asked = direct_message_asked(body)
    question = query_from_slack_text(event.get("text") or "")
    if asks_nothing(question):
        reply(client, asked, help_message())
    else:
        answer_in_thread(deps, client, asked, question)


@deferred("link_shared", repeatable=True)
def unfurl_links(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
    """Preview the shared links whose videos (or published pages) the channel's notes have: one chat.unfurl
    with every preview, keyed by the URLs as shared; none at all when the notes have none of them."""
    event = body.get("event") or {}
    target = unfurl_target(event)
    urls = shared_urls(event)
    if target is None or not urls:
        return
    scope = deps.scope_for(team_of(body), event.get("channel"))
    previews = link_previews(deps.searcher_source(), urls, scope, deps.site)
    if previews:
        call(client.chat_unfurl, **target, unfurls=previews)


@deferred("app_home_opened", repeatable=True)
def publish_home(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
    """Publish App Home: what the bot does, how to ask, the vault's size and today's topic."""
    event = body.get("event") or {}
    if event.get("tab", "home") != "home":
        return
    index = deps.searcher_source().index
    view = home_view(index.note_count, index.section_count, today_topic(deps), deps.site)
    call(client.views_publish, user_id=event["user"], view=view)


def today_topic(deps: ListenerDeps) -> Hit | None:
    """Today's digest topic, or None when there is none (or it cannot be read)."""
    if deps.today_topic is None:
        return None
    try:
        return deps.today_topic()
    except Exception:  # App Home and the assistant's prompts are still useful without today's topic
        log.exception("could not read today's topic")
        return None
