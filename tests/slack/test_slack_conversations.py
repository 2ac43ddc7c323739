"""Conversations end to end, over HTTP against the fake Slack: follow-ups read in their thread's context, the bot
called into a thread, the assistant panel, "Find in notes" and the search modal.

The vault is three real notes of the shared corpus: "Applications of deep learning" (which touches on
healthcare in two sentences), "Healthcare as a right in America" (all about healthcare) and a cooking note.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from bot.slack.listeners.assistant import SEARCHING
from bot.slack.listeners.shortcuts import FIND_IN_NOTES, SEARCH_THE_NOTES
from bot.slack.messages import (
    OPEN_SEARCH_ACTION,
    SEARCH_BLOCK,
    SEARCH_INPUT,
    SEARCH_MODAL,
    SHARE_ACTION,
    THREAD_NEXT_ACTION,
)
from bot.storage import make_engine, thread_turns
from tests.engine.vaults import THREAD_VAULT
from tests.fake_slack import BOT_ID, BOT_USER_ID, FakeSlack
from tests.slack.conftest import CHANNEL, USER, RunningServer, bot_settings, start_bot
from tests.slack_sender import SlackSender
from tests.waiting import eventually

DEEP_LEARNING = "Applications of deep learning"
HEALTHCARE = "Healthcare as a right in America"
DM = "D0DIRECT1"
ASSISTANT_THREAD = "1700000100.000100"


@pytest.fixture
def bot_server(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[RunningServer]:
    with start_bot(bot_settings(fake_slack, tmp_path, notes_dir=THREAD_VAULT)) as server:
        yield server


def mention(slack: SlackSender, text: str, **fields: Any) -> dict[str, Any]:
    event = slack.message_event(f"<@{BOT_USER_ID}> {text}", type="app_mention") | fields
    assert slack.event(event).status_code == 200
    return event


def answered(fake_slack: FakeSlack, tmp_path: Path, count: int = 1) -> None:
    """Wait until `count` answers were posted and remembered (the bot remembers a question right after
    posting its answer: a follow-up sent the moment the answer shows could come before that)."""
    fake_slack.wait_for("chat.postMessage", count=count)
    engine = make_engine(bot_settings(fake_slack, tmp_path).database_url)
    try:
        assert eventually(lambda: _remembered(engine) >= count, within=10.0)
    finally:
        engine.dispose()


def _remembered(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(thread_turns)).scalar() or 0


def title_and_heading(post_body: dict[str, Any]) -> str:
    return post_body["blocks"][0]["text"]["text"]


def footer(post_body: dict[str, Any]) -> str:
    return post_body["blocks"][2]["elements"][0]["text"]


def buttons(body: dict[str, Any]) -> dict[str, str]:
    """The buttons of a message or view, by action id: their values."""
    found = {}
    for block in body.get("blocks", []):
        found |= {e["action_id"]: e.get("value", "") for e in block.get("elements", []) if e.get("type") == "button"}
    return found


# --- Follow-ups in threads ---------------------------------------------------------------------------


def test_a_follow_up_is_answered_from_the_note_of_its_thread_though_another_note_is_more_about_it(
    slack: SlackSender, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    first = mention(slack, "applications of deep learning")
    answered(fake_slack, tmp_path)
    mention(slack, "what about healthcare?")  # the same question outside the thread
    fake_slack.wait_for("chat.postMessage", count=2)
    mention(slack, "what about healthcare?", thread_ts=first["ts"])

    *_, alone, follow_up = (call.body for call in fake_slack.wait_for("chat.postMessage", count=3))
    assert HEALTHCARE in title_and_heading(alone)
    assert follow_up["thread_ts"] == first["ts"]
    assert DEEP_LEARNING in title_and_heading(follow_up)
    assert "healthcare" in follow_up["blocks"][1]["text"]["text"]
    assert "Best match for “what about healthcare?”" in footer(follow_up)


def test_a_follow_up_on_a_new_topic_is_answered_on_its_own_words(
    slack: SlackSender, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    first = mention(slack, "applications of deep learning")
    answered(fake_slack, tmp_path)
    mention(slack, "how do I sear chicken thighs?", thread_ts=first["ts"])

    follow_up = fake_slack.wait_for("chat.postMessage", count=2)[-1].body
    assert follow_up["thread_ts"] == first["ts"]
    assert "How to properly sear chicken thighs" in title_and_heading(follow_up)


def test_a_follow_up_reaching_another_replica_is_read_in_the_same_context(
    slack: SlackSender, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """Both processes share the database (the same SQLite file here): no Web API read of the thread."""
    first = mention(slack, "applications of deep learning")
    answered(fake_slack, tmp_path)
    with start_bot(bot_settings(fake_slack, tmp_path, notes_dir=THREAD_VAULT)) as second:
        other = SlackSender(second.url, fake_slack)
        follow = other.message_event(f"<@{BOT_USER_ID}> what about healthcare?", type="app_mention")
        other.event(follow | {"thread_ts": first["ts"]}, event_id="Ev0REPLICA02")  # its own id: a new event
        follow_up = fake_slack.wait_for("chat.postMessage", count=2)[-1].body
    assert DEEP_LEARNING in title_and_heading(follow_up)
    assert fake_slack.calls_to("conversations.replies") == []


def test_a_direct_message_follow_up_is_read_with_the_question_before_it(
    slack: SlackSender, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    for count, text in enumerate(("applications of deep learning", "what about healthcare?"), 1):
        slack.event(slack.message_event(text, type="message", channel=DM, channel_type="im"))
        answered(fake_slack, tmp_path, count)

    follow_up = fake_slack.calls_to("chat.postMessage")[-1].body
    assert follow_up["channel"] == DM and "thread_ts" not in follow_up
    assert DEEP_LEARNING in title_and_heading(follow_up)


# --- Called into a thread ---------------------------------------------------------------------------


def test_a_mention_without_a_question_in_someone_s_thread_answers_its_first_message_escaped(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    root_ts = "1699990000.000100"
    root = "Is healthcare a right? &lt;!channel&gt; <@U0SOMEONE> <https://evil.example|click>"
    fake_slack.add_thread(CHANNEL, root_ts, [{"user": "U0OTHER01", "text": root}, {"user": USER, "text": "hm"}])

    mention(slack, "", thread_ts=root_ts)

    [post] = fake_slack.wait_for("chat.postMessage")
    [read] = fake_slack.calls_to("conversations.replies")
    assert (read.body["channel"], read.body["ts"], read.body["limit"], read.body["inclusive"]) == (
        CHANNEL,
        root_ts,
        "1",
        "1",
    )
    assert post.body["thread_ts"] == root_ts
    assert HEALTHCARE in title_and_heading(post.body)
    assert "Best match for “Is healthcare a right? &lt;!channel&gt; click”" in footer(post.body)
    assert "<!channel>" not in json.dumps(post.body) and "<@U0SOMEONE>" not in json.dumps(post.body)


def test_a_mention_without_a_question_outside_a_thread_gets_the_help(slack: SlackSender, fake_slack: FakeSlack) -> None:
    mention(slack, "?")

    [post] = fake_slack.wait_for("chat.postMessage")
    assert "/notes computer vision" in post.body["blocks"][0]["text"]["text"]
    assert OPEN_SEARCH_ACTION in buttons(post.body)
    assert fake_slack.calls_to("conversations.replies") == []


def test_a_rate_limited_read_of_the_thread_is_retried(slack: SlackSender, fake_slack: FakeSlack) -> None:
    fake_slack.add_thread(CHANNEL, "1699990000.000200", [{"user": "U0OTHER01", "text": "healthcare costs"}])
    fake_slack.fail_next(1, status=429, retry_after=0, method="conversations.replies")

    mention(slack, "", thread_ts="1699990000.000200")

    [post] = fake_slack.wait_for("chat.postMessage")
    assert [c.status for c in fake_slack.calls_to("conversations.replies")] == [429, 200]
    assert "Cost and Access" in title_and_heading(post.body)


def test_a_thread_slack_keeps_refusing_to_give_is_said_to_the_asker_in_the_thread(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.add_thread(CHANNEL, "1699990000.000300", [{"user": "U0OTHER01", "text": "healthcare costs"}])
    fake_slack.fail_next(4, status=429, retry_after=0, method="conversations.replies")  # the try and 3 retries

    mention(slack, "", thread_ts="1699990000.000300")

    [told] = fake_slack.wait_for("chat.postEphemeral")
    assert [c.status for c in fake_slack.calls_to("conversations.replies")] == [429] * 4
    assert (told.body["user"], told.body["thread_ts"]) == (USER, "1699990000.000300")
    assert "could not read the first message of this thread" in told.body["text"]
    assert fake_slack.calls_to("chat.postMessage") == []


def test_in_a_thread_the_bot_answered_a_mention_without_a_question_needs_no_read_of_the_thread(
    slack: SlackSender, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    first = mention(slack, "medicare for all")
    answered(fake_slack, tmp_path)
    mention(slack, "", thread_ts=first["ts"])

    again = fake_slack.wait_for("chat.postMessage", count=2)[-1].body
    assert "Legislative Efforts and Political Will" in title_and_heading(again)
    assert fake_slack.calls_to("conversations.replies") == []


# --- The assistant panel ----------------------------------------------------------------------------


def test_a_new_assistant_thread_gets_a_greeting_and_prompts_each_answered_well(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    slack.assistant_thread_started(DM, ASSISTANT_THREAD)

    [prompts] = fake_slack.wait_for("assistant.threads.setSuggestedPrompts")
    [greeting] = fake_slack.calls_to("chat.postMessage")
    assert (greeting.body["channel"], greeting.body["thread_ts"]) == (DM, ASSISTANT_THREAD)
    assert greeting.body["text"].startswith("Hi!")
    offered = prompts.body["prompts"]
    assert (prompts.body["channel_id"], prompts.body["thread_ts"]) == (DM, ASSISTANT_THREAD)
    assert 1 <= len(offered) <= 4
    for number, prompt in enumerate(offered, 1):  # asking each answers with the section it names
        slack.assistant_message(prompt["message"])
        answer = fake_slack.wait_for("chat.postMessage", count=1 + number)[-1].body
        assert prompt["title"] in title_and_heading(answer)


def test_a_question_in_an_assistant_thread_gets_a_status_then_the_answer_in_the_thread_then_a_title(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    slack.assistant_message("applications of deep learning")
    fake_slack.wait_for("assistant.threads.setTitle")
    slack.assistant_message("what about healthcare?")
    fake_slack.wait_for("chat.postMessage", count=2)

    methods = [c.method for c in fake_slack.calls if c.method != "auth.test"]
    assert methods == [
        "assistant.threads.setStatus",
        "chat.postMessage",
        "assistant.threads.setTitle",
        "assistant.threads.setStatus",
        "chat.postMessage",
    ]  # one title: the first question's
    status, first, title, _, follow_up = (c.body for c in fake_slack.calls if c.method != "auth.test")
    assert (status["channel_id"], status["thread_ts"], status["status"]) == (DM, ASSISTANT_THREAD, SEARCHING)
    assert first["thread_ts"] == follow_up["thread_ts"] == ASSISTANT_THREAD
    assert "watch?v=s3MuSOl1Rog&t=" in footer(first)  # the video moment
    assert THREAD_NEXT_ACTION in buttons(first)
    assert title["title"] == "applications of deep learning"
    assert DEEP_LEARNING in title_and_heading(follow_up)  # read in the thread's context


def test_next_match_on_an_assistant_answer_shows_the_next_hit_of_the_follow_up_in_place(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    slack.assistant_message("applications of deep learning")
    fake_slack.wait_for("assistant.threads.setTitle")  # set once the answer was posted and remembered
    slack.assistant_message("what about healthcare?")
    answer = fake_slack.wait_for("chat.postMessage", count=2)[-1]
    answer_ts = answer.answer["ts"]
    container = {"type": "message", "message_ts": answer_ts, "channel_id": DM, "is_ephemeral": False}
    container |= {"thread_ts": ASSISTANT_THREAD}

    slack.action(THREAD_NEXT_ACTION, buttons(answer.body)[THREAD_NEXT_ACTION], container=container)

    [update] = fake_slack.wait_for("chat.update")
    assert (update.body["channel"], update.body["ts"]) == (DM, answer_ts)
    assert "Match 2 of" in footer(update.body)
    # The follow-up's second hit in its thread's context: the first of the answer's "Also" links.
    also = answer.body["blocks"][3]["text"]["text"]
    assert update.body["text"].split(" — ")[0] in also.split("\n")[1]
    assert DEEP_LEARNING in title_and_heading(answer.body) and HEALTHCARE in title_and_heading(update.body)
    assert THREAD_NEXT_ACTION in buttons(update.body)


def test_messages_in_an_assistant_thread_are_answered_once(slack: SlackSender, fake_slack: FakeSlack) -> None:
    """The Assistant middleware takes DMs in threads; the DM listener must not answer them too, and a
    re-delivery is answered once."""
    event = slack.message_event("medicare for all", type="message", channel=DM, channel_type="im")
    event |= {"thread_ts": ASSISTANT_THREAD}
    slack.event(event, event_id="Ev0ASSIST01")
    slack.event(event, event_id="Ev0ASSIST01", headers={"X-Slack-Retry-Num": "1"})
    slack.event(slack.message_event("zzqx", type="message", channel=DM, channel_type="im"))  # a later DM

    fake_slack.wait_for("chat.postMessage", count=2)
    fake_slack.wait_for("assistant.threads.setTitle")
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    assert len(fake_slack.calls_to("assistant.threads.setStatus")) == 1


def test_the_bot_s_own_message_in_an_assistant_thread_is_not_answered(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    own = {"user": BOT_USER_ID, "bot_id": BOT_ID}
    slack.assistant_message("applications of deep learning", **own)
    slack.assistant_message("medicare for all")  # answered: once it is, the first was not

    fake_slack.wait_for("assistant.threads.setTitle")
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


# --- Find in notes ------------------------------------------------------------------------------------


def test_find_in_notes_answers_privately_in_the_message_s_thread_and_share_posts_there(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    message = {"user": "U0OTHER01", "ts": "1699990000.000500", "thread_ts": "1699990000.000400"}
    message |= {"text": "anyone know about medicare for all &amp; drug prices? <@U0SOMEONE>"}

    assert slack.message_shortcut(FIND_IN_NOTES, message).status_code == 200

    [answer] = fake_slack.wait_for("chat.postEphemeral")
    assert (answer.body["channel"], answer.body["user"], answer.body["thread_ts"]) == (
        CHANNEL,
        USER,
        "1699990000.000400",
    )
    assert "Legislative Efforts and Political Will" in title_and_heading(answer.body)
    assert "“anyone know about medicare for all &amp; drug prices?”" in footer(answer.body)
    assert {SHARE_ACTION, "notes_next", "notes_dismiss"} <= set(buttons(answer.body))

    slack.action(SHARE_ACTION, buttons(answer.body)[SHARE_ACTION])

    [shared] = fake_slack.wait_for("chat.postMessage")
    assert (shared.body["channel"], shared.body["thread_ts"]) == (CHANNEL, "1699990000.000400")
    assert "Shared by <@U0ASKER01> from Find in notes" in shared.texts
    assert fake_slack.wait_for("response_url")[-1].body == {"delete_original": True}


# --- The search modal ---------------------------------------------------------------------------------


def test_the_search_shortcut_opens_the_modal_and_each_enter_updates_it_in_place(
    slack: SlackSender, fake_slack: FakeSlack
) -> None:
    slack.global_shortcut(SEARCH_THE_NOTES)
    [opened] = fake_slack.wait_for("views.open")
    view = opened.body["view"]
    assert opened.body["trigger_id"] and view["callback_id"] == SEARCH_MODAL
    [field] = [b for b in view["blocks"] if b["type"] == "input"]
    assert (field["block_id"], field["element"]["action_id"], field["dispatch_action"]) == (
        SEARCH_BLOCK,
        SEARCH_INPUT,
        True,
    )
    shown = opened.answer["view"]  # as Slack hands it back with the action: with its id and hash

    slack.view_enter(shown, SEARCH_BLOCK, SEARCH_INPUT, "healthcare")
    [update] = fake_slack.wait_for("views.update")
    assert (update.body["view_id"], update.body["hash"]) == (shown["id"], shown["hash"])
    results = update.body["view"]
    texts = json.dumps(results["blocks"])
    assert results["callback_id"] == SEARCH_MODAL
    assert 1 <= texts.count("Match ") <= 5 and HEALTHCARE in texts and "Watch from" in texts

    slack.view_enter(update.answer["view"], SEARCH_BLOCK, SEARCH_INPUT, "zzqx")
    nothing = fake_slack.wait_for("views.update", count=2)[-1].body["view"]
    assert "Nothing found for “zzqx”" in json.dumps(nothing["blocks"], ensure_ascii=False)
