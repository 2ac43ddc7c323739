"""The assistant panel in process: a new thread greeted with prompts from the vault, each question answered in the
thread after a status, the first one titling it; the context changes ignored; each event answered once."""

from __future__ import annotations

from typing import Any

from bot.engine.search import Hit, Searcher
from bot.slack.listeners.assistant import PROMPTS_TITLE, SEARCHING
from bot.slack.messages import THREAD_NEXT_ACTION
from tests.fake_slack import FakeSlack
from tests.slack.dispatch import BoltDispatcher
from tests.slack.listeners.conftest import MakeSlack
from tests.slack_sender import USER

DM, THREAD = "D0DIRECT1", "1700000100.000100"


def started(slack: BoltDispatcher, event_id: str | None = None) -> None:
    thread = {"user_id": USER, "context": {"channel_id": "C0GENERAL1"}, "channel_id": DM, "thread_ts": THREAD}
    assert slack.event({"type": "assistant_thread_started", "assistant_thread": thread}, event_id).status == 200


def said(slack: BoltDispatcher, text: str, **fields: Any) -> None:
    event = slack.message_event(text, type="message", channel=DM, channel_type="im", thread_ts=THREAD) | fields
    assert slack.event(event).status == 200


def methods(fake_slack: FakeSlack) -> list[str]:
    return [call.method for call in fake_slack.calls if call.method != "auth.test"]


def test_a_new_thread_is_greeted_with_today_s_topic_first_among_its_prompts(
    make_slack: MakeSlack, fake_slack: FakeSlack, searcher: Searcher
) -> None:
    topic: Hit = searcher.search("origami crane", 1)[0]

    started(make_slack(today_topic=lambda: topic))

    assert methods(fake_slack) == ["chat.postMessage", "assistant.threads.setSuggestedPrompts"]
    greeting, prompts = (call.body for call in fake_slack.calls if call.method != "auth.test")
    assert (greeting["channel"], greeting["thread_ts"]) == (DM, THREAD)
    assert prompts["title"] == PROMPTS_TITLE and 1 <= len(prompts["prompts"]) <= 4
    assert prompts["prompts"][0] == {
        "title": f"Today's topic: {topic.heading}",
        "message": f"What about {topic.heading}?",
    }
    for prompt in prompts["prompts"]:  # each a question whose first hit is the section it names
        heading = prompt["message"].removeprefix("What about ").removesuffix("?")
        assert searcher.search(prompt["message"], 1)[0].heading == heading


def test_a_redelivered_thread_start_is_greeted_once(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    started(slack, "Ev0STARTED01")
    started(slack, "Ev0STARTED01")

    assert methods(fake_slack).count("chat.postMessage") == 1


def test_the_channel_the_person_views_changing_calls_nothing(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    thread = {"user_id": USER, "context": {"channel_id": "C0OTHER01"}, "channel_id": DM, "thread_ts": THREAD}

    assert slack.event({"type": "assistant_thread_context_changed", "assistant_thread": thread}).status == 200

    assert methods(fake_slack) == []  # not even Bolt's default, which rewrites the bot's first message


def test_a_question_gets_the_status_then_the_answer_with_next_match_then_the_title(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    said(slack, "computer vision")
    said(slack, "what about occlusion?")

    assert methods(fake_slack) == [
        "assistant.threads.setStatus",
        "chat.postMessage",
        "assistant.threads.setTitle",
        "assistant.threads.setStatus",
        "chat.postMessage",
    ]
    status, answer, title = (call.body for call in fake_slack.calls[1:4])
    assert status["status"] == SEARCHING
    assert (answer["channel"], answer["thread_ts"]) == (DM, THREAD)
    assert "Computer Vision and Robotics" in answer["blocks"][0]["text"]["text"]
    assert answer["blocks"][-1]["elements"][0]["action_id"] == THREAD_NEXT_ACTION
    assert title["title"] == "computer vision"


def test_an_answer_slack_refuses_clears_the_status_and_is_apologised_for(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next(1, error="channel_not_found", method="chat.postMessage")

    said(slack, "computer vision")

    assert methods(fake_slack) == [
        "assistant.threads.setStatus",
        "chat.postMessage",
        "chat.postEphemeral",
        "assistant.threads.setStatus",
    ]
    apology, cleared = fake_slack.calls[-2].body, fake_slack.calls[-1].body
    assert apology["text"].startswith("Sorry") and apology["thread_ts"] == THREAD
    assert cleared["status"] == ""


def test_without_the_assistant_feature_a_dm_in_a_thread_is_still_answered(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    """A workspace without the panel refuses its methods; the answer comes all the same."""
    fake_slack.fail_next(1, error="not_allowed_token_type", method="assistant.threads.setStatus")
    fake_slack.fail_next(1, error="not_allowed_token_type", method="assistant.threads.setTitle")

    said(slack, "origami crane")

    [answer] = fake_slack.calls_to("chat.postMessage")
    assert "Origami crane folds" in answer.body["blocks"][0]["text"]["text"]


def test_a_message_without_a_question_gets_the_help_and_no_status(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    said(slack, "?")

    assert methods(fake_slack) == ["chat.postMessage"]
    assert "/notes computer vision" in fake_slack.calls_to("chat.postMessage")[0].body["blocks"][0]["text"]["text"]


def test_edits_and_the_bot_s_own_messages_in_an_assistant_thread_are_not_answered(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    edited = {"type": "message", "text": "computer vision", "thread_ts": THREAD, "ts": "1700000100.000300"}
    said(slack, "", subtype="message_changed", message=edited, previous_message=edited)
    said(slack, "computer vision", bot_id="B0OTHER1")

    assert methods(fake_slack) == []
