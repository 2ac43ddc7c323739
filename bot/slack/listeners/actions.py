"""The buttons of an answer: Share to channel, Next match, Dismiss, and 👍 / 👎 on a private answer (`/notes`,
"Find in notes"); Next match on an answer in an assistant thread.

Each is acknowledged at once, then worked out on the answer pool (bot.slack.durable) and answered through
the payload's `response_url` (Next match in a thread: in place, with chat.update); a rating is recorded
(bot.slack.feedback) and thanked privately. A follow-up's buttons carry its thread's context, and search it the
same way; an answer to "Find in notes" carries the thread of its message, where Share posts it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.engine.scope import Scope
from bot.slack.answers import private_answer, shown, thread_reply
from bot.slack.conversations import Asked, answer_posted, named_after
from bot.slack.delivery import POST_OPTIONS, apology_on_failure, call, post_to_response_url, private_reply
from bot.slack.deps import ListenerDeps
from bot.slack.durable import deferred
from bot.slack.feedback import rated_hit, record_feedback
from bot.slack.messages import (
    DISMISS_ACTION,
    HELPFUL_ACTION,
    NEXT_ACTION,
    SHARE_ACTION,
    THREAD_NEXT_ACTION,
    UNHELPFUL_ACTION,
    Message,
    apology_message,
    feedback_thanks_message,
    read_result_thread,
    read_result_value,
    shared_message,
)
from bot.slack.payloads import action_context, button_thread, button_value, pressed, team_of
from bot.slack.thread_memory import ThreadKey, recall, remember

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

    @app.action(THREAD_NEXT_ACTION)
    def thread_next_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.later(next_in_thread, deps, body, client)

    def rating_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.later(rate, deps, body, client)

    app.action(HELPFUL_ACTION)(rating_button)
    app.action(UNHELPFUL_ACTION)(rating_button)


def shared_where(body: dict[str, Any]) -> Asked:
    """Where a Share button posts its match (the channel, or the thread of the message "Find in notes" answered),
    and the press that shared it: its action_ts, which the shared message names in its metadata as a reply names
    its question, so that it can be looked for."""
    _, thread_ts = button_thread(body)
    channel = action_context(body)["channel_id"] or ""
    key = ThreadKey(team_of(body), channel, thread_ts or "")
    return Asked(key, channel, thread_ts, (body.get("user") or {}).get("id"), pressed(body).get("action_ts"))


def share_found(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> bool | None:
    """Whether the match is shared already (its process stopped as it shared it): looked for in the channel or thread
    by the press its metadata names. Found, the rest of the share is done, as the stopped process may not have: the
    private answer deleted and a match shared in a thread remembered there."""
    where = shared_where(body)
    found = answer_posted(client, where)
    if not found:
        return found
    if where.thread_ts is not None:
        remember_share(deps, body, where)
    post_to_response_url(body.get("response_url"), {"delete_original": True})
    return found


@deferred("share_button", answered=share_found)
def share(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
    """Post the match in the channel (an answer to "Find in notes": in its message's thread), saying who
    shared it, and delete the private answer."""
    reply = private_reply(body.get("response_url"), client, action_context(body))
    with apology_on_failure(reply, "a share button"):
        query, position = button_value(body)
        context, _ = button_thread(body)
        where = shared_where(body)
        searcher = deps.searcher_source()
        scope = channel_scope(deps, body)
        found = shown(searcher, query, context, scope=scope)
        if position >= len(found.hits):
            # the vault changed since: show what it holds now
            reply(private_answer(searcher, query, 0, context, where.thread_ts, scope=scope, site=deps.site))
            return
        hit, named = found.hits[position], named_after(where)
        if where.thread_ts is None:
            shared = shared_message(hit, where.user or "", site=deps.site) | {"response_type": "in_channel"}
            posted = post_to_response_url(body.get("response_url"), shared | named)
        else:
            message = shared_message(hit, where.user or "", "Find in notes", site=deps.site) | named
            posted = call(
                client.chat_postMessage, channel=where.channel, thread_ts=where.thread_ts, **message, **POST_OPTIONS
            )
            if posted:  # a mention in that thread then follows up on it
                remember(deps.engine, where.key, deps.clock(), query, [hit], found.in_context)
        if posted:
            post_to_response_url(body.get("response_url"), {"delete_original": True})
        else:
            reply(apology_message())


def remember_share(deps: ListenerDeps, body: dict[str, Any], where: Asked) -> None:
    """Remember a match shared in a thread, found there after its process stopped, unless that process did."""
    query, position = button_value(body)
    earlier = recall(deps.engine, where.key, deps.clock())
    if earlier and earlier[-1].query == query:
        return
    context, _ = button_thread(body)
    found = shown(deps.searcher_source(), query, context, scope=channel_scope(deps, body))
    if position < len(found.hits):
        remember(deps.engine, where.key, deps.clock(), query, [found.hits[position]], found.in_context)


@deferred("next_button", repeatable=True)
def next_match(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
    """Replace the answer with the query's next hit (after the last, the first again)."""
    reply = private_reply(body.get("response_url"), client, action_context(body))
    with apology_on_failure(reply, "a next-match button"):
        query, position = button_value(body)
        context, thread_ts = button_thread(body)
        answer = private_answer(
            deps.searcher_source(),
            query,
            position + 1,
            context,
            thread_ts,
            scope=channel_scope(deps, body),
            site=deps.site,
        )
        reply(answer | {"replace_original": True})


def channel_scope(deps: ListenerDeps, body: dict[str, Any]) -> Scope | None:
    """The scope of the channel a button was pressed in (its answer was searched within it)."""
    return deps.scope_for(team_of(body), action_context(body)["channel_id"])


@deferred("thread_next_button", repeatable=True)
def next_in_thread(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
    """Show the answer's next hit in its place, in the assistant thread (the person's own conversation with
    the bot, so changing the message in place changes it for them alone)."""
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    user = (body.get("user") or {}).get("id")

    def apologise(message: Message) -> None:
        thread = container.get("thread_ts")
        call(client.chat_postEphemeral, channel=channel, user=user, thread_ts=thread, **message)

    with apology_on_failure(apologise, "a next-match button in a thread"):
        query, position = button_value(body)
        context, _ = button_thread(body)
        scope = deps.scope_for(team_of(body), channel)
        message, _found = thread_reply(
            deps.searcher_source(), query, context, position + 1, with_next=True, scope=scope, site=deps.site
        )
        if not call(client.chat_update, channel=channel, ts=ts, **message):
            apologise(apology_message())


@deferred("dismiss_button", repeatable=True)
def dismiss(_deps: ListenerDeps, body: dict[str, Any], _client: WebClient) -> None:
    """Delete the private answer."""
    if not post_to_response_url(body.get("response_url"), {"delete_original": True}):
        log.warning("could not dismiss a result message")


@deferred("rating_button", repeatable=True)
def rate(deps: ListenerDeps, body: dict[str, Any], _client: WebClient) -> None:
    """Record a 👍 or 👎 against the section the answer showed (once for the press), and thank the user privately."""
    action = pressed(body)
    try:
        query, position = read_result_value(action.get("value") or "")
    except ValueError:
        log.warning("ignored a feedback button whose value is not an answer's")
        return
    helpful = action.get("action_id") == HELPFUL_ACTION
    context, _ = read_result_thread(action.get("value") or "")
    user = body.get("user") or {}
    hit = rated_hit(deps.searcher_source(), query, position, context, channel_scope(deps, body))
    press = body.get("trigger_id")
    if record_feedback(deps.engine, deps.clock(), team_of(body), user.get("id"), query, hit, helpful, press):
        thanks = feedback_thanks_message(helpful) | {"response_type": "ephemeral", "replace_original": False}
        post_to_response_url(body.get("response_url"), thanks)
