"""Questions read out of Slack's text: mentions and emoji dropped, links reduced to labels, length limited."""

from __future__ import annotations

from bot.slack.payloads import MAX_QUERY_CHARS, limit_query, query_from_slack_text


def test_mentions_and_special_mentions_are_dropped():
    assert query_from_slack_text("<@UBOT0001> what is <!here> occlusion <@U123|bob>?") == "what is occlusion ?"


def test_emoji_are_dropped_and_times_are_kept():
    text = ":wave: how do robots see past <https://x.example|occlusion :eyes:>? :thinking_face: :+1::skin-tone-2:"
    text += " at 12:30:45"
    assert query_from_slack_text(text) == "how do robots see past occlusion ? at 12:30:45"


def test_links_and_channels_become_their_labels_and_entities_are_decoded():
    text = "see <https://example.com|this page> and <#C123|general> or <http://x.example|x.example> &lt;b&gt; &amp;"
    assert query_from_slack_text(text) == "see this page and general or x.example <b> &"


def test_a_link_pasted_whole_is_no_words_of_the_question():
    assert query_from_slack_text("what does <https://example.com/a/b?c=d> say") == "what does say"


def test_a_link_to_a_youtube_video_is_read_as_its_video_word():
    text = "what does <https://www.youtube.com/watch?v=s3MuSOl1Rog&amp;t=2280s> say about <https://youtu.be/aBcDeFgHiJk|it>"
    assert query_from_slack_text(text) == "what does video:s3MuSOl1Rog@2280 say about video:aBcDeFgHiJk"


def test_a_long_query_is_cut_at_a_word():
    query = limit_query("occlusion " * 300)
    assert len(query) <= MAX_QUERY_CHARS and query.endswith("occlusion")


def test_a_long_query_without_spaces_is_cut_at_the_limit():
    assert limit_query("x" * 2000) == "x" * MAX_QUERY_CHARS


def test_a_short_query_only_loses_extra_whitespace():
    assert limit_query("  computer \n vision ") == "computer vision"
