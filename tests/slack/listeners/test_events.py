"""Events in process: mentions answered in their thread, direct messages in their conversation, each event once;
App Home with today's topic; uninstalls handled only in OAuth mode."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import Engine

from bot.engine.search import Hit, Searcher
from bot.slack import oauth
from tests.fake_slack import BOT_TOKEN, BOT_USER_ID, TEAM_ID, FakeSlack
from tests.oauth_flow import oauth_settings
from tests.slack.conftest import VAULT
from tests.slack.dispatch import BoltDispatcher
from tests.slack.listeners.conftest import MakeSlack
from tests.slack_sender import APP_ID, CHANNEL, USER


def mention(slack: BoltDispatcher, text: str, **fields: Any) -> dict[str, Any]:
    event = slack.message_event(f"<@{BOT_USER_ID}> {text}", type="app_mention") | fields
    assert slack.event(event).status == 200
    return event


def direct_message(slack: BoltDispatcher, text: str, **fields: Any) -> dict[str, Any]:
    event = slack.message_event(text, type="message", channel="D0DIRECT1", channel_type="im") | fields
    assert slack.event(event).status == 200
    return event


def home_opened(slack: BoltDispatcher, tab: str = "home") -> None:
    slack.event({"type": "app_home_opened", "user": USER, "channel": "D0DIRECT1", "tab": tab})


def home_texts(fake_slack: FakeSlack) -> str:
    [publish] = fake_slack.calls_to("views.publish")
    assert publish.body["user_id"] == USER
    return str(publish.body["view"]["blocks"])


def test_a_mention_is_answered_in_its_thread_without_the_mention_in_the_query(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    event = mention(slack, "computer vision")

    [post] = fake_slack.calls_to("chat.postMessage")
    assert (post.body["channel"], post.body["thread_ts"]) == (CHANNEL, event["ts"])
    assert "Best match for “computer vision”" in post.texts
    assert (post.body["unfurl_links"], post.body["unfurl_media"]) == (False, False)


def test_a_mention_of_a_link_to_a_moment_of_a_video_is_answered_with_the_section_covering_it(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    mention(slack, "<https://www.youtube.com/watch?v=s3MuSOl1Rog&amp;t=2280s>")

    [post] = fake_slack.calls_to("chat.postMessage")
    assert "Language Translation and Text Generation" in post.texts
    assert "https://www.youtube.com/watch?v=s3MuSOl1Rog&t=2280s" in str(post.body["blocks"])


def test_a_mention_with_a_link_to_a_video_searches_only_the_notes_on_that_video(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    mention(slack, "machines")  # the deep-learning note has them
    mention(slack, "what does <https://youtu.be/aBcDeFgHiJk> say about machines?")  # the zeppelin note has not

    found, narrowed = fake_slack.calls_to("chat.postMessage")
    assert "Applications in Natural Language Processing" in found.texts
    assert "Nothing found" in narrowed.texts and "Natural Language" not in narrowed.texts


def test_a_link_to_a_video_the_notes_lack_leaves_a_question_to_the_whole_vault_and_alone_is_named_back(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    mention(slack, "<https://youtu.be/nOtInVaUlT1> machines")
    mention(slack, "<https://youtu.be/nOtInVaUlT1>")

    beside, alone = fake_slack.calls_to("chat.postMessage")
    assert "Applications in Natural Language Processing" in beside.texts
    assert "The notes have no video `nOtInVaUlT1`." in alone.texts


def test_a_direct_message_is_answered_in_the_conversation_and_in_its_thread_if_it_has_one(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    direct_message(slack, "computer vision")
    direct_message(slack, "origami crane", thread_ts="1699999999.000200")

    unthreaded, threaded = (call.body for call in fake_slack.calls_to("chat.postMessage"))
    assert unthreaded["channel"] == "D0DIRECT1" and "thread_ts" not in unthreaded
    assert threaded["thread_ts"] == "1699999999.000200"


def test_messages_that_are_not_a_person_asking_the_bot_are_not_answered(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    slack.event(slack.message_event("computer vision", type="message", channel_type="channel"))
    direct_message(slack, "computer vision", subtype="message_changed")
    direct_message(slack, "computer vision", bot_id="B0OTHER1")
    direct_message(slack, "computer vision", subtype="bot_message")
    mention(slack, "computer vision", bot_profile={"id": "B0OTHER1"})

    assert fake_slack.calls_to("chat.postMessage") == []


def test_a_redelivered_event_is_answered_once(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    event = slack.message_event(f"<@{BOT_USER_ID}> computer vision", type="app_mention")

    slack.event(event, event_id="Ev0REDELIVERED")
    slack.event(event, event_id="Ev0REDELIVERED", headers={"x-slack-retry-num": "1"})

    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_an_answer_slack_refuses_becomes_an_apology_to_the_asker_alone(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next(1, error="not_in_channel", method="chat.postMessage")

    event = mention(slack, "computer vision")

    [apology] = fake_slack.calls_to("chat.postEphemeral")
    assert (apology.body["user"], apology.body["thread_ts"]) == (USER, event["ts"])
    assert apology.body["text"].startswith("Sorry")


def test_an_answer_slack_kept_before_a_server_error_is_found_in_its_thread_and_not_sent_again(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next(1, status=500, method="chat.postMessage", after_keeping=True)

    event = mention(slack, "computer vision")

    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [500]  # not resent blindly
    [look] = fake_slack.calls_to("conversations.replies")
    assert (look.body["channel"], look.body["ts"]) == (CHANNEL, event["ts"])
    assert fake_slack.calls_to("chat.postEphemeral") == []  # no apology for an answer that arrived


def test_an_answer_lost_to_a_server_error_is_sent_again_once_its_thread_shows_it_missing(
    slack: BoltDispatcher, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next(1, status=500, method="chat.postMessage")
    event = slack.message_event(f"<@{BOT_USER_ID}> computer vision", type="app_mention")
    fake_slack.add_thread(CHANNEL, event["ts"], [{"user": USER, "text": event["text"]}])

    slack.event(event)

    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [500, 200]
    assert len(fake_slack.calls_to("conversations.replies")) == 1
    assert fake_slack.calls_to("chat.postEphemeral") == []


def test_app_home_shows_the_vault_size_and_today_s_topic(
    make_slack: MakeSlack, fake_slack: FakeSlack, searcher: Searcher
) -> None:
    topic: Hit = searcher.search("origami crane", 1)[0]

    home_opened(make_slack(today_topic=lambda: topic))

    texts = home_texts(fake_slack)
    assert "The vault holds 4 notes" in texts
    assert "Today's topic" in texts and "Origami crane folds" in texts


def test_app_home_is_published_without_a_topic_when_today_s_topic_cannot_be_read(
    make_slack: MakeSlack, fake_slack: FakeSlack
) -> None:
    def unreadable() -> Hit | None:
        raise RuntimeError("the database is away")

    home_opened(make_slack(today_topic=unreadable))

    texts = home_texts(fake_slack)
    assert "The vault holds 4 notes" in texts and "Today's topic" not in texts


def test_app_home_s_other_tabs_publish_nothing(slack: BoltDispatcher, fake_slack: FakeSlack) -> None:
    home_opened(slack, tab="messages")

    assert fake_slack.calls_to("views.publish") == []


def test_with_a_bot_token_there_is_no_uninstall_listener(slack: BoltDispatcher) -> None:
    response = slack.event({"type": "app_uninstalled"})

    assert response.status == 404  # Bolt's answer when no listener matches


def test_in_oauth_mode_an_uninstall_deletes_the_workspace_installation(
    make_slack: MakeSlack, fake_slack: FakeSlack, sqlite_engine: Engine, tmp_path
) -> None:
    settings = oauth_settings(fake_slack, tmp_path, VAULT)
    installs = oauth.oauth_settings(settings, sqlite_engine)
    assert installs is not None
    store = installs.installation_store
    store.save(Installation(app_id=APP_ID, team_id=TEAM_ID, user_id=USER, bot_token=BOT_TOKEN, bot_id="B1"))
    slack = make_slack(client=WebClient(base_url=fake_slack.base_url), oauth_settings=installs)

    assert slack.event({"type": "app_uninstalled"}).status == 200

    assert store.find_bot(enterprise_id=None, team_id=TEAM_ID) is None
