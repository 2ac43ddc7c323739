"""Shortcuts in process: "Find in notes" answers privately beside the message (in its thread, read in the thread's
context when the bot answered there), "Search the notes" opens the search modal at once."""

from __future__ import annotations

from typing import Any

from bot.slack.listeners.shortcuts import FIND_IN_NOTES, SEARCH_THE_NOTES
from bot.slack.messages import NEXT_ACTION, SEARCH_MODAL, SHARE_ACTION, read_result_thread, read_result_value
from tests.fake_slack import BOT_USER_ID, FakeSlack
from tests.slack.dispatch import BoltDispatcher
from tests.slack_sender import CHANNEL, USER


def buttons(body: dict[str, Any]) -> dict[str, str]:
    return {e["action_id"]: e["value"] for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]}


def test_find_in_notes_answers_the_person_privately_beside_a_message_outside_threads(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    response = slack.message_shortcut(FIND_IN_NOTES, {"user": "U0OTHER01", "ts": "1.5", "text": "computer vision"})

    assert (response.status, response.body) == (200, "")
    [answer] = fake_slack.calls_to("chat.postEphemeral")
    assert (answer.body["channel"], answer.body["user"]) == (CHANNEL, USER)
    assert "thread_ts" not in answer.body
    assert "Computer Vision and Robotics" in answer.body["blocks"][0]["text"]["text"]
    share = buttons(answer.body)[SHARE_ACTION]
    assert read_result_value(share) == ("computer vision", 0)
    assert read_result_thread(share)[1] == "1.5"  # Share starts a thread on the message
    assert NEXT_ACTION in buttons(answer.body)


def test_in_a_thread_the_bot_answered_the_message_is_read_in_the_thread_s_context(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    root = slack.message_event(f"<@{BOT_USER_ID}> applications of deep learning", type="app_mention")
    slack.event(root)
    message = {"user": "U0OTHER01", "ts": "1.6", "thread_ts": root["ts"], "text": "and occlusion?"}

    slack.message_shortcut(FIND_IN_NOTES, message)

    [answer] = fake_slack.calls_to("chat.postEphemeral")
    assert answer.body["thread_ts"] == root["ts"]
    context, share_in = read_result_thread(buttons(answer.body)[SHARE_ACTION])
    assert context.queries == ("applications of deep learning",) and share_in == root["ts"]
    assert context.notes == ("lexfridman/applications_of_deep_learning.md",)


def test_a_message_without_words_gets_a_private_word_of_explanation(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    slack.message_shortcut(FIND_IN_NOTES, {"user": "U0OTHER01", "ts": "1.7", "text": "<@U0SOMEONE> ?!"})

    [answer] = fake_slack.calls_to("chat.postEphemeral")
    assert answer.body["text"] == "That message has no words I could search the notes for."


def test_where_slack_refuses_a_private_message_the_answer_goes_through_the_response_url(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next(1, error="channel_not_found", method="chat.postEphemeral")

    slack.message_shortcut(FIND_IN_NOTES, {"user": "U0OTHER01", "ts": "1.8", "text": "origami crane"})

    [answer] = fake_slack.calls_to("response_url")
    assert answer.body["response_type"] == "ephemeral"
    assert "Origami crane folds" in answer.body["blocks"][0]["text"]["text"]


def test_the_search_shortcut_opens_the_modal_with_its_trigger(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    assert slack.global_shortcut(SEARCH_THE_NOTES).status == 200

    [opened] = fake_slack.calls_to("views.open")
    assert opened.body["trigger_id"].endswith(".1234.abcdef")
    assert opened.body["view"]["callback_id"] == SEARCH_MODAL
