"""A question whose process stopped as it posted the answer: the process taking it over looks in the conversation for
the reply (its metadata names the question) and answers only if it is not there, for mentions, direct messages and
assistant threads (a reply found has its question remembered in the thread, as the stopped process may not have),
for a new assistant thread's greeting (its metadata names the thread) and for a match shared with Share (its metadata
names the button press: found, the private answer it came from is deleted);
where Slack will not say, the reply is counted as posted, as before. A private answer (`/notes`), which nothing can
read back, is answered again; so is a link's preview, which a second chat.unfurl of its message replaces, and a
rating, recorded once for its button press and thanked privately."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, select

from bot.engine.search import Searcher
from bot.slack import pending
from bot.slack.conversations import ANSWER_METADATA_TYPE
from bot.slack.deps import ListenerDeps
from bot.slack.durable import ANSWER_WINDOW, DEAD_AFTER, DurableAnswers, workspace_clients
from bot.slack.listeners.events import direct_message_asked, mention_asked
from bot.slack.messages import HELPFUL_ACTION, SHARE_ACTION, result_value
from bot.slack.thread_memory import recall
from bot.storage import feedback, pending_answers, thread_turns
from tests.fake_slack import BOT_TOKEN, BOT_USER_ID, Call, FakeSlack
from tests.slack.dispatch import NOW, BoltDispatcher, InlineExecutor
from tests.slack_sender import CHANNEL

LATER = NOW + DEAD_AFTER + timedelta(seconds=1)  # when the stopped process has missed its heartbeats
DM = "D0DIRECT1"
ASKED_AT = {"ts": "1699999999.000200", "event_ts": "1699999999.000200"}  # before any message the fake Slack posts


def left_posting(engine: Engine, work: str, body: dict[str, Any]) -> None:
    """The row of a question whose process (`died`) attempted its post at NOW and stopped."""
    pending.heartbeat(engine, "died", NOW)
    delivery = body.get("event_id", body.get("trigger_id", "")) + "-again"
    answer_id = pending.record(engine, work, body, delivery, "died", NOW, NOW + ANSWER_WINDOW)
    assert answer_id is not None and pending.mark_posting(engine, answer_id, "died")


def take_over(engine: Engine, searcher: Searcher, fake_slack: FakeSlack) -> None:
    """Another process, once the first missed its heartbeats, settling and claiming what it left."""
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url)
    survivor = DurableAnswers(engine, InlineExecutor(), lambda: LATER, worker="survivor")
    deps = ListenerDeps(lambda: searcher, engine, lambda: LATER, InlineExecutor(), durable=survivor)
    survivor.replay_with(deps, workspace_clients(client, None))
    survivor.recover_once()


def statuses(engine: Engine) -> list[tuple[str, str]]:
    """Each row's status and owner: the first one the question as answered before, the last one the row left."""
    with engine.connect() as connection:
        found = connection.execute(select(pending_answers).order_by(pending_answers.c.id)).all()
    return [(r.status, r.owner) for r in found]


def event_body(slack: BoltDispatcher, event: dict[str, Any]) -> dict[str, Any]:
    return json.loads(slack.event_body(event))


def mention_body(slack: BoltDispatcher, text: str = "computer vision") -> dict[str, Any]:
    return event_body(slack, slack.message_event(f"<@{BOT_USER_ID}> {text}", type="app_mention", **ASKED_AT))


def dm_body(slack: BoltDispatcher, text: str = "computer vision") -> dict[str, Any]:
    return event_body(slack, slack.message_event(text, type="message", channel=DM, channel_type="im", **ASKED_AT))


def asked_again(slack: BoltDispatcher, body: dict[str, Any]) -> None:
    """The question answered by the app as it should be (its reply now in Slack)."""
    assert slack.post(json.dumps(body), "application/json").status == 200


def test_a_reply_names_the_message_it_answers_in_its_metadata(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    body = mention_body(slack)
    asked_again(slack, body)

    [post] = fake_slack.calls_to("chat.postMessage")
    assert post.body["metadata"] == {
        "event_type": ANSWER_METADATA_TYPE,
        "event_payload": {"question_ts": body["event"]["ts"]},
    }


@pytest.mark.parametrize("ask", [mention_body, dm_body], ids=["a mention", "a direct message"])
def test_a_reply_that_arrived_before_its_process_stopped_is_found_and_not_posted_again(
    slack: BoltDispatcher, fake_slack: FakeSlack, searcher: Searcher, sqlite_engine: Engine, ask: Any
) -> None:
    body = ask(slack)
    asked_again(slack, body)  # the reply is in the conversation
    left_posting(sqlite_engine, "app_mention" if ask is mention_body else "direct_message", body)

    take_over(sqlite_engine, searcher, fake_slack)

    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert statuses(sqlite_engine)[-1] == ("done", "survivor")


@pytest.mark.parametrize("ask", [mention_body, dm_body], ids=["a mention", "a direct message"])
@pytest.mark.parametrize("remembered", [False, True], ids=["stopped before remembering it", "stopped after"])
def test_the_question_of_a_reply_found_is_remembered_in_its_thread_once(
    slack: BoltDispatcher,
    fake_slack: FakeSlack,
    searcher: Searcher,
    sqlite_engine: Engine,
    ask: Any,
    remembered: bool,
) -> None:
    body = ask(slack, "computer vision")
    asked_again(slack, body)  # the reply is in the conversation, and its question in the thread's memory
    if not remembered:
        with sqlite_engine.begin() as connection:
            connection.execute(thread_turns.delete())
    left_posting(sqlite_engine, "app_mention" if ask is mention_body else "direct_message", body)

    take_over(sqlite_engine, searcher, fake_slack)

    key = (mention_asked if ask is mention_body else direct_message_asked)(body).key
    assert [turn.query for turn in recall(sqlite_engine, key, LATER)] == ["computer vision"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize("ask", [mention_body, dm_body], ids=["a mention", "a direct message"])
def test_a_reply_lost_as_its_process_stopped_is_posted_by_the_process_taking_over(
    slack: BoltDispatcher, fake_slack: FakeSlack, searcher: Searcher, sqlite_engine: Engine, ask: Any
) -> None:
    body = ask(slack)
    if ask is mention_body:  # the mention itself starts the thread its reply goes in
        fake_slack.add_thread(CHANNEL, body["event"]["ts"], [{"text": body["event"]["text"], "user": "U0ASKER01"}])
    left_posting(sqlite_engine, "app_mention" if ask is mention_body else "direct_message", body)

    take_over(sqlite_engine, searcher, fake_slack)

    [post] = fake_slack.calls_to("chat.postMessage", answered_ok=True)
    assert "computer vision" in post.texts
    assert post.body["metadata"]["event_payload"] == {"question_ts": body["event"]["ts"]}
    assert statuses(sqlite_engine) == [("done", "survivor")]


def test_an_assistant_thread_s_lost_reply_is_looked_for_in_that_thread(
    slack: BoltDispatcher, fake_slack: FakeSlack, searcher: Searcher, sqlite_engine: Engine
) -> None:
    thread = "1700000100.000100"
    event = slack.message_event("computer vision", type="message", channel=DM, channel_type="im", thread_ts=thread)
    body = event_body(slack, event)
    fake_slack.add_thread(DM, thread, [{"text": "Hi! Ask me about the notes.", "bot_id": "BBOT0001"}])
    left_posting(sqlite_engine, "assistant_message", body)

    take_over(sqlite_engine, searcher, fake_slack)

    [read] = fake_slack.calls_to("conversations.replies")
    assert (read.body["channel"], read.body["ts"]) == (DM, thread)
    [post] = fake_slack.calls_to("chat.postMessage")
    assert post.body["thread_ts"] == thread
    assert statuses(sqlite_engine) == [("done", "survivor")]


def test_a_reply_slack_will_not_look_for_is_counted_as_posted_and_not_posted_again(
    slack: BoltDispatcher,
    fake_slack: FakeSlack,
    searcher: Searcher,
    sqlite_engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = dm_body(slack)
    left_posting(sqlite_engine, "direct_message", body)
    fake_slack.fail_next(1, error="missing_scope", method="conversations.history")

    take_over(sqlite_engine, searcher, fake_slack)

    assert fake_slack.calls_to("chat.postMessage") == []
    assert statuses(sqlite_engine) == [("unknown", "survivor")]
    assert "not posted again, since it may have arrived" in caplog.text


def test_a_private_answer_to_notes_whose_process_stopped_as_it_posted_is_answered_again(
    slack: BoltDispatcher, fake_slack: FakeSlack, searcher: Searcher, sqlite_engine: Engine
) -> None:
    command = dict(parse_qsl(slack.command_body("computer vision")))
    left_posting(sqlite_engine, "slash_command", command)

    take_over(sqlite_engine, searcher, fake_slack)

    [answer] = fake_slack.calls_to("response_url", answered_ok=True)
    assert command["response_url"].endswith(answer.path)
    assert answer.body["response_type"] == "ephemeral"
    assert "Computer Vision" in answer.texts
    assert statuses(sqlite_engine) == [("done", "survivor")]


@pytest.mark.parametrize("arrived", [False, True], ids=["its preview lost", "its preview arrived"])
def test_a_link_whose_process_stopped_as_it_previewed_it_shows_one_preview(
    slack: BoltDispatcher, fake_slack: FakeSlack, searcher: Searcher, sqlite_engine: Engine, arrived: bool
) -> None:
    url = "https://www.youtube.com/watch?v=s3MuSOl1Rog&t=2500s"
    event = fake_slack.links_shared([url], channel=CHANNEL)
    body = event_body(slack, event)
    if arrived:
        asked_again(slack, body)
    left_posting(sqlite_engine, "link_shared", body)

    take_over(sqlite_engine, searcher, fake_slack)

    assert len(fake_slack.calls_to("chat.unfurl", answered_ok=True)) == 1 + arrived
    [preview] = fake_slack.previews_of(CHANNEL, event["message_ts"]).values()
    assert "Deep Learning in Image Recognition" in Call("api", "chat.unfurl", "", preview, {}, 200).texts
    assert statuses(sqlite_engine)[-1] == ("done", "survivor")


@pytest.mark.parametrize("thanked", [False, True], ids=["stopped before recording it", "stopped as it thanked"])
def test_a_rating_whose_process_stopped_is_recorded_once_and_thanked(
    slack: BoltDispatcher, fake_slack: FakeSlack, searcher: Searcher, sqlite_engine: Engine, thanked: bool
) -> None:
    form = slack.action_body(HELPFUL_ACTION, result_value("computer vision", 0), fake_slack.response_url())
    body = json.loads(dict(parse_qsl(form))["payload"])
    if thanked:  # the press recorded and thanked by the process that then stopped
        assert slack.post(form, "application/x-www-form-urlencoded").status == 200
    left_posting(sqlite_engine, "rating_button", body)

    take_over(sqlite_engine, searcher, fake_slack)

    with sqlite_engine.connect() as connection:
        rated = connection.execute(select(feedback.c.heading, feedback.c.helpful)).all()
    assert [tuple(row) for row in rated] == [("Computer Vision and Robotics", 1)]
    thanks = fake_slack.calls_to("response_url", answered_ok=True)
    assert len(thanks) == 1 + thanked and all(t.body["text"].startswith("Thanks") for t in thanks)
    assert statuses(sqlite_engine)[-1] == ("done", "survivor")


@pytest.mark.parametrize("arrived", [False, True], ids=["its greeting lost", "its greeting arrived"])
def test_an_assistant_thread_whose_process_stopped_as_it_greeted_it_is_greeted_once(
    slack: BoltDispatcher, fake_slack: FakeSlack, searcher: Searcher, sqlite_engine: Engine, arrived: bool
) -> None:
    thread = "1700000100.000100"
    start = {"user_id": "U0ASKER01", "context": {"channel_id": CHANNEL}, "channel_id": DM, "thread_ts": thread}
    body = event_body(slack, {"type": "assistant_thread_started", "assistant_thread": start})
    fake_slack.add_thread(DM, thread, [{"text": "", "bot_id": "BBOT0001"}])  # the thread Slack opened
    if arrived:
        asked_again(slack, body)
    left_posting(sqlite_engine, "assistant_thread_started", body)

    take_over(sqlite_engine, searcher, fake_slack)

    [greeting] = fake_slack.calls_to("chat.postMessage", answered_ok=True)
    assert greeting.body["metadata"]["event_payload"] == {"question_ts": thread}
    assert len(fake_slack.calls_to("assistant.threads.setSuggestedPrompts", answered_ok=True)) == 1 + arrived
    assert statuses(sqlite_engine)[-1] == ("done", "survivor")


@pytest.mark.parametrize("remembered", [False, True], ids=["stopped before remembering it", "stopped after"])
def test_a_summoning_mention_s_reply_found_has_the_thread_s_first_question_remembered_once(
    slack: BoltDispatcher, fake_slack: FakeSlack, searcher: Searcher, sqlite_engine: Engine, remembered: bool
) -> None:
    root = "1699999999.000100"
    fake_slack.add_thread(CHANNEL, root, [{"text": "computer vision", "user": "U0ASKER01"}])
    mention = slack.message_event(f"<@{BOT_USER_ID}>", type="app_mention", thread_ts=root, **ASKED_AT)
    body = event_body(slack, mention)
    asked_again(slack, body)  # the thread's first message answered, and remembered as its question
    if not remembered:
        with sqlite_engine.begin() as connection:
            connection.execute(thread_turns.delete())
    left_posting(sqlite_engine, "app_mention", body)

    take_over(sqlite_engine, searcher, fake_slack)

    assert [turn.query for turn in recall(sqlite_engine, mention_asked(body).key, LATER)] == ["computer vision"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert statuses(sqlite_engine)[-1] == ("done", "survivor")


def share_body(
    slack: BoltDispatcher, fake_slack: FakeSlack, thread_ts: str | None = None
) -> tuple[str, dict[str, Any]]:
    """A press of Share on the second match for "computer vision" (on an answer to "Find in notes" in `thread_ts`):
    the form Slack sends, and the body it is recorded as."""
    value = result_value("computer vision", 1, thread_ts=thread_ts)
    body = json.loads(
        dict(parse_qsl(slack.action_body(SHARE_ACTION, value, fake_slack.response_url(CHANNEL))))["payload"]
    )
    body["actions"][0]["action_ts"] = "1699999999.000300"  # before any message the fake posts, as in Slack
    return urlencode({"payload": json.dumps(body)}), body


def shares(fake_slack: FakeSlack, thread_ts: str | None) -> list[Any]:
    """The matches shared: posted in the channel through the response_url, or in the thread."""
    if thread_ts is None:
        return [
            c
            for c in fake_slack.calls_to("response_url", answered_ok=True)
            if c.body.get("response_type") == "in_channel"
        ]
    return fake_slack.calls_to("chat.postMessage", answered_ok=True)


@pytest.mark.parametrize("thread_ts", [None, "1699999999.000100"], ids=["into the channel", "into a thread"])
@pytest.mark.parametrize("arrived", [False, True], ids=["its share lost", "its share arrived"])
def test_a_match_whose_process_stopped_as_it_shared_it_is_shared_once_and_its_private_answer_deleted(
    slack: BoltDispatcher,
    fake_slack: FakeSlack,
    searcher: Searcher,
    sqlite_engine: Engine,
    thread_ts: str | None,
    arrived: bool,
) -> None:
    if thread_ts is not None:
        fake_slack.add_thread(CHANNEL, thread_ts, [{"text": "what about computer vision?", "user": "U0ASKER01"}])
    form, body = share_body(slack, fake_slack, thread_ts)
    if arrived:
        assert slack.post(form, "application/x-www-form-urlencoded").status == 200
        with sqlite_engine.begin() as connection:  # stopped before remembering it in the thread
            connection.execute(thread_turns.delete())
    left_posting(sqlite_engine, "share_button", body)

    take_over(sqlite_engine, searcher, fake_slack)

    [shared] = shares(fake_slack, thread_ts)
    assert "Challenges in Real-World Applications" in shared.texts
    assert shared.body["metadata"]["event_payload"] == {"question_ts": body["actions"][0]["action_ts"]}
    deletions = [c for c in fake_slack.calls_to("response_url") if c.body == {"delete_original": True}]
    assert len(deletions) == 1 + arrived
    if thread_ts is not None:
        key = mention_asked(event_body(slack, slack.message_event("x", thread_ts=thread_ts, type="app_mention"))).key
        assert [turn.query for turn in recall(sqlite_engine, key, LATER)] == ["computer vision"]
    assert statuses(sqlite_engine)[-1] == ("done", "survivor")
