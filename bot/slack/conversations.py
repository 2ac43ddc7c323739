"""Answering in a conversation: a question asked in a thread (a mention, a direct message, an assistant thread)
read with what the thread asked before, posted in the thread, and remembered for the next question there.

A mention with no question in a thread someone else started is answered with the thread's first message
as its question: the bot's own threads from its memory, other threads by reading that message
(`conversations.replies`). What the bot cannot read, or cannot post, it says to the asker alone.

Each reply carries message metadata naming the message it answers (`answer_metadata`), so that a process taking
over a question whose first owner stopped right after attempting its post can look in the conversation for the
answer (`answer_posted`) before answering again, rather than guess: Slack's posts have no idempotency key. A reply
found there has its question (a summoning mention's: the thread's first) remembered in the thread (`remember_found`),
as the stopped process may not have.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.engine.follow_up import ThreadContext, Turn
from bot.slack.answers import Search, shown_in_thread, thread_reply
from bot.slack.delivery import POST_OPTIONS, apology_on_failure, call, slack_reason, without_blind_retries
from bot.slack.deps import ListenerDeps
from bot.slack.messages import Message, apology_message, help_message, thread_unreadable_message
from bot.slack.payloads import asks_nothing, from_a_bot, limit_query, query_from_slack_text
from bot.slack.post_watch import Outcome, outcome_of_error
from bot.slack.thread_memory import ThreadKey, recall, remember

log = logging.getLogger("notesbot.slack")


@dataclass(frozen=True, slots=True)
class Asked:
    """Where a question was asked: the thread it is remembered under, where its answer goes, and who asked."""

    key: ThreadKey
    channel: str
    thread_ts: str | None  # the thread to answer in; None: the conversation itself (a direct message's)
    user: str | None
    question_ts: str | None = None  # the message asking, which the reply's metadata names


def answer_in_thread(
    deps: ListenerDeps, client: WebClient, asked: Asked, question: str, with_next: bool = False
) -> list[Turn] | None:
    """Answer `question` (as read from Slack) in its thread, in the context of what the thread asked before,
    and remember it there. The earlier turns (empty for the thread's first question), or None when the
    answer could not be posted (the asker was told)."""
    earlier = recall(deps.engine, asked.key, deps.clock())
    with apology_on_failure(lambda message: tell_asker(client, asked, message), "a question in a thread"):
        message, found = _thread_answer(deps, asked, question, earlier, with_next)
        if not reply(client, asked, message):
            return None
        _keep(deps, asked, question, found)
        return earlier
    return None  # the asker was told


def remember_found(deps: ListenerDeps, asked: Asked, question: str) -> None:
    """Remember a question whose reply was found in its thread after the process posting it stopped (`answer_posted`),
    unless that process did: it may have stopped between posting and remembering, and the thread's next question is
    read with this one."""
    earlier = recall(deps.engine, asked.key, deps.clock())
    if earlier and earlier[-1].query == limit_query(question):
        return
    _, found = _thread_answer(deps, asked, question, earlier)
    _keep(deps, asked, question, found)


def _thread_answer(
    deps: ListenerDeps, asked: Asked, question: str, earlier: list[Turn], with_next: bool = False
) -> tuple[Message, Search]:
    scope = deps.scope_for(asked.key.team_id, asked.channel)
    context = ThreadContext.of(earlier)
    return thread_reply(deps.searcher_source(), question, context, with_next=with_next, scope=scope, site=deps.site)


def _keep(deps: ListenerDeps, asked: Asked, question: str, found: Search) -> None:
    shown = shown_in_thread(found) if found.hits else []
    remember(deps.engine, asked.key, deps.clock(), limit_query(question), shown, found.in_context)


def summon(deps: ListenerDeps, client: WebClient, asked: Asked) -> None:
    """Answer the first message of the thread a mention without a question was written in (`summoned_question`);
    a thread started by a bot, or by a message without words, gets the help."""
    earlier = recall(deps.engine, asked.key, deps.clock())
    root = None if earlier else thread_root(client, asked)
    if not earlier and root is None:
        tell_asker(client, asked, thread_unreadable_message())
        return
    question = summoned_question(earlier, root)
    if question is None:
        reply(client, asked, help_message())
    else:
        answer_in_thread(deps, client, asked, question)


def summoned_question(earlier: list[Turn], root: dict[str, Any] | None) -> str | None:
    """What a mention without a question asks of its thread: in a thread the bot answered before (`earlier`), its
    first question; in another, its first message (`root`) as Slack gives it (escaped like any query when quoted).
    None for a thread started by a bot or by a message without words, or one Slack would not show."""
    if earlier:
        return earlier[0].query
    question = query_from_slack_text((root or {}).get("text") or "")
    return None if root is None or from_a_bot(root) or asks_nothing(question) else question


def thread_root(client: WebClient, asked: Asked) -> dict[str, Any] | None:
    """The first message of the thread (`conversations.replies`, limit 1, inclusive; a rate limit is retried
    by the client's handler); None when Slack would not give it."""
    try:
        response = client.conversations_replies(channel=asked.channel, ts=asked.thread_ts, limit=1, inclusive=True)
    except (SlackApiError, SlackClientError, OSError) as error:
        log.warning("could not read a thread's first message: %s", slack_reason(error))
        return None
    messages = response.get("messages") or []
    return messages[0] if messages and isinstance(messages[0], dict) else None


ANSWER_METADATA_TYPE = "notesbot_answer"  # message metadata by which `answer_posted` recognises a reply
REPLY_TRIES = 3  # sends of a reply whose outcome stays unknown, each after looking for it: as many as before (1 + 2)
# Messages read to find a reply: it follows its question closely, so a page of them is a conversation's last word
# on it; in a busier conversation than that `answer_posted` cannot tell (None).
LOOK_AHEAD = 200


def answer_metadata(asked: Asked) -> dict[str, Any] | None:
    """The reply's message metadata: which message it answers (none for a question without its ts)."""
    if not asked.question_ts:
        return None
    return {"event_type": ANSWER_METADATA_TYPE, "event_payload": {"question_ts": asked.question_ts}}


def named_after(asked: Asked) -> dict[str, Any]:
    """The `metadata` argument of a post answering `asked` (a reply, a greeting, a shared match), by which
    `answer_posted` finds it; {} where there is nothing to name."""
    metadata = answer_metadata(asked)
    return {"metadata": metadata} if metadata else {}


def answer_posted(client: WebClient, asked: Asked) -> bool | None:
    """Whether the conversation holds a reply to `asked` already (for a post whose outcome was lost): True or
    False, or None when Slack will not say or the question has no ts to look for."""
    if not asked.question_ts:
        return None
    where = {"channel": asked.channel, "oldest": asked.question_ts, "limit": LOOK_AHEAD, "include_all_metadata": True}
    try:
        if asked.thread_ts:
            page = client.conversations_replies(ts=asked.thread_ts, **where)
        else:
            page = client.conversations_history(**where)
    except (SlackApiError, SlackClientError, OSError) as error:
        log.warning("could not look for an earlier reply: %s", slack_reason(error))
        return None
    expected = answer_metadata(asked)
    if any(message.get("metadata") == expected for message in page.get("messages") or []):
        return True
    return None if page.get("has_more") else False


def found_and_remembered(
    deps: ListenerDeps, body: dict[str, Any], client: WebClient, asked: Asked, summons: bool = False
) -> bool | None:
    """Whether the conversation holds the reply to `asked` already; the question of a reply found is remembered in the
    thread: the message's own, or, for a mention without a question in a thread (`summons`), the thread's first
    question that it answered (`summoned_question`); none where the reply was the help."""
    found = answer_posted(client, asked)
    if not found:
        return found
    question = query_from_slack_text((body.get("event") or {}).get("text") or "")
    if asks_nothing(question) and summons:
        earlier = recall(deps.engine, asked.key, deps.clock())
        question = summoned_question(earlier, None if earlier else thread_root(client, asked)) or ""
    if not asks_nothing(question):
        remember_found(deps, asked, question)
    return found


def reply(client: WebClient, asked: Asked, message: Message) -> bool:
    """Post `message` in the thread of the question (or its conversation), naming the question in its metadata;
    where Slack will not take it, apologise to the asker alone and return False.

    A post whose outcome is unknown (a server error, a timeout) may have arrived: it is looked for in the
    conversation before it is sent again (up to REPLY_TRIES sends), never resent blindly."""
    named = named_after(asked)
    post = without_blind_retries(client).chat_postMessage
    for _ in range(REPLY_TRIES):
        try:
            post(channel=asked.channel, thread_ts=asked.thread_ts, **message, **named, **POST_OPTIONS)
            return True
        except (SlackApiError, SlackClientError, OSError) as error:
            log.warning("reply not posted: %s", slack_reason(error))
            if outcome_of_error(error) is not Outcome.UNKNOWN:
                break
        found = answer_posted(client, asked)
        if found:
            return True
        if found is None:
            break
    tell_asker(client, asked, apology_message())
    return False


def tell_asker(client: WebClient, asked: Asked, message: Message) -> None:
    """Say `message` to the asker alone, in the thread of their question."""
    if asked.user:
        call(client.chat_postEphemeral, channel=asked.channel, user=asked.user, thread_ts=asked.thread_ts, **message)
