"""Mentions answered in threads, DMs, App Home, bots ignored, and each event answered once."""

from __future__ import annotations

from tests.slack.conftest import CHANNEL, SlackSender, bot_settings, start_bot


def mention(slack: SlackSender, text: str, **fields) -> dict:
    event = slack.message_event(f"<@UBOT0001> {text}", type="app_mention") | fields
    assert slack.event(event).status_code == 200
    return event


def direct_message(slack: SlackSender, text: str, **fields) -> dict:
    event = slack.message_event(text, type="message", channel="D0DIRECT1", channel_type="im") | fields
    assert slack.event(event).status_code == 200
    return event


def test_a_mention_is_answered_in_a_thread_on_the_message(slack, fake_slack):
    event = mention(slack, "how do self-driving cars handle occlusion?")
    [post] = fake_slack.wait_for("chat.postMessage")
    assert post.body["channel"] == CHANNEL
    assert post.body["thread_ts"] == event["ts"]
    assert "Applications of deep learning" in post.body["blocks"][0]["text"]["text"]
    footer = post.body["blocks"][2]["elements"][0]["text"]
    assert "Best match for “how do self-driving cars handle occlusion?”" in footer  # the mention is stripped


def test_a_mention_with_a_typo_says_how_it_was_read(slack, fake_slack):
    mention(slack, "what about robotcs?")
    [post] = fake_slack.wait_for("chat.postMessage")
    footer = post.body["blocks"][2]["elements"][0]["text"]
    assert "Best match for “what about robotcs?” (read as robotcs → *robotics*)" in footer


def test_a_mention_answers_with_the_top_hit_and_the_next_two_as_links(slack, fake_slack):
    mention(slack, "deep learning")
    [post] = fake_slack.wait_for("chat.postMessage")
    also = post.body["blocks"][-1]["text"]["text"]
    assert also.startswith("*Also:*")
    assert also.count("<https://www.youtube.com/watch?v=s3MuSOl1Rog&t=") == 2


def test_a_mention_inside_a_thread_is_answered_in_that_thread(slack, fake_slack):
    mention(slack, "computer vision", thread_ts="1699999999.000100")
    assert fake_slack.wait_for("chat.postMessage")[0].body["thread_ts"] == "1699999999.000100"


def test_a_mention_without_a_question_gets_help(slack, fake_slack):
    mention(slack, "")
    assert "/notes computer vision" in fake_slack.wait_for("chat.postMessage")[0].body["blocks"][0]["text"]["text"]


def test_a_mention_quoting_slack_markup_searches_the_words_and_escapes_them(slack, fake_slack):
    mention(slack, "<!channel> zzqx &lt;b&gt; <https://evil.example|click>")
    text = fake_slack.wait_for("chat.postMessage")[0].body["blocks"][0]["text"]["text"]
    assert "Nothing found for “zzqx &lt;b&gt; click”" in text


def test_a_direct_message_is_answered_in_the_conversation(slack, fake_slack):
    direct_message(slack, "computer vision")
    [post] = fake_slack.wait_for("chat.postMessage")
    assert post.body["channel"] == "D0DIRECT1"
    assert "thread_ts" not in post.body
    assert "Computer Vision and Robotics" in post.body["blocks"][0]["text"]["text"]


def test_a_direct_message_in_a_thread_is_answered_in_that_thread(slack, fake_slack):
    direct_message(slack, "computer vision", thread_ts="1699999999.000200")
    assert fake_slack.wait_for("chat.postMessage")[0].body["thread_ts"] == "1699999999.000200"


def test_own_and_other_bots_messages_and_edits_are_ignored(slack, fake_slack):
    direct_message(slack, "computer vision", user="UBOT0001", bot_id="BBOT0001")
    direct_message(slack, "computer vision", user="U0OTHERBOT", bot_id="B0OTHER1")
    direct_message(slack, "computer vision", subtype="bot_message", bot_id="B0OTHER1")
    direct_message(slack, "computer vision", subtype="message_changed")
    mention(slack, "computer vision", bot_id="B0OTHER1")
    direct_message(slack, "origami crane")  # the one to answer: once it is answered, the others were not
    [post] = fake_slack.wait_for("chat.postMessage")
    assert "Origami crane folds" in post.body["blocks"][0]["text"]["text"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_a_retried_event_is_answered_once(slack, fake_slack):
    event = slack.message_event("<@UBOT0001> computer vision", type="app_mention")
    slack.event(event, event_id="Ev0RETRIED1")
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert slack.event(event, event_id="Ev0RETRIED1", headers=retry).status_code == 200
    direct_message(slack, "origami crane")
    posts = fake_slack.wait_for("chat.postMessage", count=2)
    fake_slack.wait_until(lambda: len(fake_slack.calls_to("chat.postMessage")) >= 2)
    assert sorted("Origami" in p.body["text"] for p in posts) == [False, True]


def test_a_retry_that_reaches_another_process_is_answered_once(slack, fake_slack, tmp_path):
    """Two processes of the bot share the database: whichever gets the event first answers it."""
    with start_bot(bot_settings(fake_slack, tmp_path)) as second:
        other = SlackSender(second.url, fake_slack)
        event = slack.message_event("<@UBOT0001> computer vision", type="app_mention")
        slack.event(event, event_id="Ev0SHARED01")
        other.event(event, event_id="Ev0SHARED01", headers={"X-Slack-Retry-Num": "1"})
        direct_message(other, "origami crane")
        fake_slack.wait_for("chat.postMessage", count=2)
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


def test_a_failed_thread_answer_becomes_an_apology_to_the_asker(slack, fake_slack):
    fake_slack.fail_next(1, error="not_in_channel", method="chat.postMessage")
    event = mention(slack, "computer vision")
    [apology] = fake_slack.wait_for("chat.postEphemeral")
    assert apology.body["user"] == event["user"] and apology.body["thread_ts"] == event["ts"]
    assert "Sorry" in apology.body["text"]


def test_a_rate_limited_thread_answer_is_posted_once(slack, fake_slack):
    fake_slack.fail_next(1, status=429, retry_after=0, method="chat.postMessage")
    mention(slack, "computer vision")
    fake_slack.wait_for("chat.postMessage")
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [429, 200]


def test_app_home_shows_how_to_ask_and_the_vault_size(slack, fake_slack):
    slack.event(
        {
            "type": "app_home_opened",
            "user": "U0ASKER01",
            "channel": "D0DIRECT1",
            "tab": "home",
            "event_ts": "1700000000.000900",
        }
    )
    [publish] = fake_slack.wait_for("views.publish")
    assert publish.body["user_id"] == "U0ASKER01"
    view = publish.body["view"]
    assert view["type"] == "home"
    texts = "\n".join(
        b["elements"][0]["text"] if b["type"] == "context" else str(b.get("text", "")) for b in view["blocks"]
    )
    assert "4 notes" in texts and "/notes computer vision" in texts
    assert "Today's topic" not in texts
