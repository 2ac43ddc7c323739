"""`/notes`: help, answers with a link to the moment, nothing found, odd queries, limits and failures."""

from __future__ import annotations

import re

BOT_LINK = re.compile(r"<https://www\.youtube\.com/watch\?v=[A-Za-z0-9_-]{11}(?:&t=\d+s)?\|[^<>|]*>")


def only_bot_links(text: str) -> bool:
    rest = BOT_LINK.sub("", text)
    return "<" not in rest and ">" not in rest


def test_acknowledges_at_once_with_an_empty_200(slack):
    response = slack.command("computer vision")
    assert response.status_code == 200
    assert response.text == ""


def test_no_text_shows_help(slack, fake_slack):
    slack.command("")
    [call] = fake_slack.wait_for("response_url")
    assert call.body["response_type"] == "ephemeral"
    assert "/notes computer vision" in call.texts


def test_help_shows_help(slack, fake_slack):
    slack.command("help")
    assert "/notes computer vision" in fake_slack.wait_for("response_url")[0].texts


def test_a_hit_answers_with_the_section_and_a_link_to_its_moment(slack, fake_slack):
    slack.command("computer vision")
    [call] = fake_slack.wait_for("response_url")
    body = call.body
    assert body["response_type"] == "ephemeral"
    assert body["blocks"][0]["text"]["text"].startswith("*Applications of deep learning*\nComputer Vision and Robotics")
    assert "<https://www.youtube.com/watch?v=s3MuSOl1Rog&t=2280s|Watch from 38:00>" in call.texts
    buttons = [e["action_id"] for e in body["blocks"][-1]["elements"]]
    assert buttons == ["notes_share", "notes_next", "notes_dismiss"]
    assert [c.method for c in fake_slack.calls] == ["auth.test", "response_url"]


def test_nothing_found_says_so_with_suggestions(slack, fake_slack):
    slack.command("obotics")  # a slip on the first letter is past correcting, not past suggesting
    text = fake_slack.wait_for("response_url")[0].texts
    assert "Nothing found for “obotics”" in text
    assert "• Computer Vision and Robotics" in text


def test_an_answer_says_how_misspelt_words_were_read(slack, fake_slack):
    slack.command("computr robotcs")
    text = fake_slack.wait_for("response_url")[0].texts
    assert "Computer Vision and Robotics" in text
    assert "for “computr robotcs” (read as computr → *computer*, robotcs → *robotics*)" in text


def test_channel_ping_in_a_query_is_escaped(slack, fake_slack):
    # typed literally, Slack sends them encoded; "@here" picked from the menu comes as Slack's own ping
    slack.command("&lt;!channel&gt; &lt;https://evil.example|click&gt; <!here> zzqx")
    text = fake_slack.wait_for("response_url")[0].texts
    assert "for “&lt;!channel&gt; &lt;https://evil.example|click&gt; zzqx”" in text
    assert "<!here>" not in text
    assert only_bot_links(text)


def test_a_query_is_read_as_typed_not_as_slack_encodes_it(slack, fake_slack):
    slack.command("zzqx R&amp;D")
    text = fake_slack.wait_for("response_url")[0].texts
    assert "Nothing found for “zzqx R&amp;D”" in text  # "R&D", escaped once for mrkdwn


def test_pings_and_links_inside_a_note_are_escaped(slack, fake_slack):
    slack.command("quasar announcements")
    text = fake_slack.wait_for("response_url")[0].texts
    assert "Quasar pranks &lt;!here&gt;" in text
    assert "&lt;@U0EVIL1&gt; &amp; friends" in text
    assert "`&lt;!channel&gt;`" in text
    assert "<!here>" not in text and "<@U0EVIL1>" not in text
    assert only_bot_links(text)


def test_a_very_long_section_is_cut_within_slack_limits(slack, fake_slack):
    slack.command("zeppelin")
    [call] = fake_slack.wait_for("response_url")
    excerpt = call.body["blocks"][1]["text"]["text"]
    assert "zeppelin" in excerpt and excerpt.endswith("…")
    assert len(excerpt) <= 3000
    assert only_bot_links(call.texts)


def test_a_note_without_video_has_no_watch_link(slack, fake_slack):
    slack.command("origami crane")
    text = fake_slack.wait_for("response_url")[0].texts
    assert "Origami crane folds" in text
    assert "youtube.com" not in text and "Watch from" not in text


def test_odd_queries_get_an_answer_or_nothing_found(slack, fake_slack):
    queries = ["vision " * 290, "🤖🚗👀", "computer vision 計算機視覺 компьютерное зрение", "&amp; <> &&& \"'"]
    for query in queries:
        slack.command(query)
    calls = fake_slack.wait_for("response_url", count=len(queries))
    for call in calls:
        text = call.texts
        assert "Nothing found for" in text or "Watch from" in text
        assert "Sorry" not in text


def test_rate_limited_then_delivered_once(slack, fake_slack):
    fake_slack.fail_next(1, status=429, retry_after=0, method="response_url")
    slack.command("computer vision")
    fake_slack.wait_for("response_url")
    assert [c.status for c in fake_slack.calls_to("response_url")] == [429, 200]


def test_a_server_error_is_retried(slack, fake_slack):
    fake_slack.fail_next(1, status=500, method="response_url")
    slack.command("computer vision")
    fake_slack.wait_for("response_url")
    assert [c.status for c in fake_slack.calls_to("response_url")] == [500, 200]


def test_an_answer_slack_refuses_is_followed_by_an_apology(slack, fake_slack):
    fake_slack.fail_next(1, error="invalid_blocks", method="response_url")
    slack.command("computer vision")
    [apology] = fake_slack.wait_for("response_url")
    assert "Sorry" in apology.body["text"]


def test_when_the_response_url_is_gone_the_apology_comes_as_an_ephemeral(slack, fake_slack):
    fake_slack.fail_next(20, status=404, retry_after=None, method="response_url")
    slack.command("computer vision")
    [apology] = fake_slack.wait_for("chat.postEphemeral")
    assert apology.body["user"] == "U0ASKER01" and apology.body["channel"] == "C0GENERAL1"
    assert "Sorry" in apology.body["text"]
