"""The assistant panel (Slack's "Agents & AI apps"), through Bolt's `Assistant` middleware.

- `assistant_thread_started`: a greeting and up to four suggested prompts drawn from the vault
  (bot.slack.prompts); the greeting names the thread's first message in its metadata, as a reply names its
  question, so that a process taking over a thread start whose process stopped as it greeted looks for it first;
- a person's message in an assistant thread: the status "is searching the notes…", then the answer in the
  thread (with "Next match"), read with what the thread asked before; the thread's first question becomes its
  title;
- `assistant_thread_context_changed`: the channel the person is viewing does not change the answers, so it is
  not kept (Bolt's default would write it into the bot's first message of the thread).

The middleware takes every direct message in a thread (and the edits in such threads) before the `message`
listener of bot.slack.listeners.events sees it, so no message is answered twice. In a workspace without the
assistant feature none of these events come, and a direct message in a thread is answered here the same way
(a status or title Slack refuses there is only logged).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_bolt.middleware.assistant import Assistant
from slack_sdk import WebClient

from bot.slack.conversations import (
    Asked,
    answer_in_thread,
    answer_posted,
    found_and_remembered,
    named_after,
    reply,
)
from bot.slack.delivery import POST_OPTIONS, call
from bot.slack.deps import ListenerDeps
from bot.slack.durable import deferred
from bot.slack.listeners.events import today_topic
from bot.slack.messages import assistant_greeting, help_message, thread_title
from bot.slack.payloads import asks_nothing, from_a_bot, query_from_slack_text, team_of
from bot.slack.prompts import suggested_prompts
from bot.slack.thread_memory import ThreadKey

SEARCHING = "is searching the notes…"
PROMPTS_TITLE = "Try asking"


def register(app: App, deps: ListenerDeps) -> None:
    assistant = Assistant()

    @assistant.thread_started
    def thread_started(body: dict[str, Any], client: WebClient) -> None:
        deps.later(greet, deps, body, client)

    @assistant.user_message
    def user_message(body: dict[str, Any], client: WebClient) -> None:
        deps.later(answer_assistant_message, deps, body, client)

    @assistant.thread_context_changed
    def thread_context_changed() -> None:
        """Nothing to keep: the answers come from the vault, whatever channel the person is viewing."""

    app.assistant(assistant)


def thread_start(body: dict[str, Any]) -> Asked:
    """Where a new assistant thread is greeted: in it, the greeting naming the thread's first message in its metadata
    (as a reply names its question)."""
    thread = (body.get("event") or {}).get("assistant_thread") or {}
    channel, thread_ts = thread.get("channel_id") or "", thread.get("thread_ts") or ""
    return Asked(ThreadKey(team_of(body), channel, thread_ts), channel, thread_ts, thread.get("user_id"), thread_ts)


def greeted(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> bool | None:
    """Whether the new thread holds its greeting already (its post's outcome was lost); found, its prompts are
    suggested again (a later suggestion replaces an earlier one), as the stopped process may not have."""
    asked = thread_start(body)
    if not asked.channel or not asked.thread_ts:
        return False  # nothing to greet: `greet` does nothing
    found = answer_posted(client, asked)
    if found:
        suggest_prompts(deps, client, asked)
    return found


@deferred("assistant_thread_started", answered=greeted)
def greet(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
    """Greet a new assistant thread and suggest prompts: today's topic, well-covered headings."""
    asked = thread_start(body)
    if not asked.channel or not asked.thread_ts:
        return
    where = {"channel": asked.channel, "thread_ts": asked.thread_ts} | named_after(asked)
    call(client.chat_postMessage, **where, **assistant_greeting(), **POST_OPTIONS)
    suggest_prompts(deps, client, asked)


def suggest_prompts(deps: ListenerDeps, client: WebClient, asked: Asked) -> None:
    prompts = suggested_prompts(deps.searcher_source(), today_topic(deps))
    if prompts:
        setting = {
            "channel_id": asked.channel,
            "thread_ts": asked.thread_ts,
            "prompts": prompts,
            "title": PROMPTS_TITLE,
        }
        call(client.assistant_threads_setSuggestedPrompts, **setting)


def assistant_asked(body: dict[str, Any]) -> Asked:
    """Where a message in an assistant thread asks: that thread."""
    event = body.get("event") or {}
    channel, thread_ts = event.get("channel") or "", event.get("thread_ts") or ""
    return Asked(ThreadKey(team_of(body), channel, thread_ts), channel, thread_ts, event.get("user"), event.get("ts"))


def assistant_answered(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> bool | None:
    """Whether the assistant thread holds the message's reply already (its post's outcome was lost)."""
    return found_and_remembered(deps, body, client, assistant_asked(body))


@deferred("assistant_message", answered=assistant_answered)
def answer_assistant_message(deps: ListenerDeps, body: dict[str, Any], client: WebClient) -> None:
    """Answer a message in an assistant thread, in the thread's context; its first question titles it."""
    event = body.get("event") or {}
    asked = assistant_asked(body)
    channel, thread_ts = asked.channel, asked.thread_ts or ""
    if from_a_bot(event) or not channel or not thread_ts:
        return
    question = query_from_slack_text(event.get("text") or "")
    if asks_nothing(question):
        reply(client, asked, help_message())
        return
    status = {"channel_id": channel, "thread_ts": thread_ts}
    call(client.assistant_threads_setStatus, **status, status=SEARCHING)
    earlier = answer_in_thread(deps, client, asked, question, with_next=True)
    if earlier is None:
        call(client.assistant_threads_setStatus, **status, status="")  # no answer came to clear it
    elif not earlier:
        call(client.assistant_threads_setTitle, **status, title=thread_title(question))
