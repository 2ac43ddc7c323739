"""bot/slack/messages.py: hits become safe Slack messages, inside Slack's limits, linking to the moment."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.engine.search import Hit
from bot.slack.messages import (
    DISMISS_ACTION,
    MAX_BLOCKS,
    NEXT_ACTION,
    SECTION_LIMIT,
    SHARE_ACTION,
    answer_message,
    cut_at_word,
    escape_mrkdwn,
    excerpt_mrkdwn,
    help_message,
    home_view,
    nothing_found_message,
    read_result_value,
    result_value,
    shared_message,
    thread_answer,
    watch_link,
)

VIDEO = "s3MuSOl1Rog"
# The only links a message may hold: the ones the bot builds to a moment of a YouTube video.
BOT_LINK = re.compile(r"<https://www\.youtube\.com/watch\?v=[A-Za-z0-9_-]{11}(?:&t=\d+s)?\|[^<>|]*>")
USER_MENTION = re.compile(r"<@U[A-Z0-9]+>")


def make_hit(**fields: object) -> Hit:
    base = Hit(
        note="lexfridman/applications_of_deep_learning.md",
        title="Applications of deep learning",
        heading="Computer Vision and Robotics",
        heading_path=(),
        score=2.5,
        url=f"https://www.youtube.com/watch?v={VIDEO}&t=2280s",
        timestamp=2280,
        video_id=VIDEO,
        text="Deep learning is employed in **computer vision** for self-driving cars [38:00].",
        line=30,
    )
    return base._replace(**fields)


def all_texts(payload: object) -> list[str]:
    """Every `text` string anywhere in a message or view."""
    if isinstance(payload, dict):
        found = [v for k, v in payload.items() if k == "text" and isinstance(v, str)]
        return found + [t for v in payload.values() for t in all_texts(v)]
    if isinstance(payload, list):
        return [t for v in payload for t in all_texts(v)]
    return []


def without_bot_links(text: str) -> str:
    return USER_MENTION.sub("", BOT_LINK.sub("", text))


def assert_within_limits(message: dict) -> None:
    assert message["text"].strip()
    assert len(message["blocks"]) <= MAX_BLOCKS
    for block in message["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_LIMIT


class TestEscaping:
    def test_escapes_exactly_ampersand_and_angle_brackets(self):
        assert escape_mrkdwn("a & b < c > d") == "a &amp; b &lt; c &gt; d"

    def test_leaves_everything_else_alone(self):
        text = "\"quotes\" 'single' *stars* _under_ ~tilde~ `code` é 漢字 🙂"
        assert escape_mrkdwn(text) == text

    @pytest.mark.parametrize("smuggled", ["<!channel>", "<!here>", "<@U123ABC>", "<https://evil|click>"])
    def test_mentions_and_links_in_a_note_are_defused(self, smuggled):
        hit = make_hit(title=f"T {smuggled}", heading=f"H {smuggled}", text=f"Body {smuggled} [38:00]")
        message = answer_message(hit, f"query {smuggled}", 0, 2)
        for text in all_texts(message):
            assert "<" not in without_bot_links(text), text
            assert ">" not in without_bot_links(text), text

    def test_a_video_id_that_is_not_a_youtube_id_gets_no_link(self):
        hit = make_hit(video_id="x>|<!here>", text="at [38:00]")
        assert watch_link(hit.video_id, 10) is None
        assert excerpt_mrkdwn(hit.text, hit.video_id) == "at [38:00]"
        assert all("<" not in t for t in all_texts(answer_message(hit, "q")))

    @given(st.text(max_size=400), st.integers(min_value=20, max_value=SECTION_LIMIT))
    def test_any_note_text_yields_safe_mrkdwn_within_the_limit(self, text, limit):
        out = excerpt_mrkdwn(text, VIDEO, limit)
        assert len(out) <= limit
        rest = without_bot_links(out)
        assert "<" not in rest and ">" not in rest
        assert re.sub(r"&(amp|lt|gt);", "", rest).count("&") == 0


class TestExcerpt:
    def test_strong_emphasis_becomes_slack_bold(self):
        assert excerpt_mrkdwn("a **key idea** here", None) == "a *key idea* here"

    def test_bullets_and_nesting_are_kept(self):
        text = "Points:\n• first\n  • nested\n• second"
        assert excerpt_mrkdwn(text, None) == text

    def test_timestamp_labels_link_to_that_moment(self):
        out = excerpt_mrkdwn("see [38:00] and [1:02:03]", VIDEO)
        assert f"<https://www.youtube.com/watch?v={VIDEO}&t=2280s|38:00>" in out
        assert f"<https://www.youtube.com/watch?v={VIDEO}&t=3723s|1:02:03>" in out

    def test_timestamp_labels_stay_text_without_a_video(self):
        assert excerpt_mrkdwn("see [38:00]", None) == "see [38:00]"

    def test_a_long_text_is_cut_at_a_word_with_an_ellipsis(self):
        text = " ".join(f"word{i}" for i in range(1000))
        out = excerpt_mrkdwn(text, None, 200)
        assert len(out) <= 200 and out.endswith("…")
        assert text.startswith(out[:-1]) and text[len(out) - 1] == " "

    def test_a_cut_never_splits_a_link_or_an_entity(self):
        text = "".join("[38:00]&<" for _ in range(400))  # no spaces at all
        for limit in range(40, 120):
            out = excerpt_mrkdwn(text, VIDEO, limit)
            assert len(out) <= limit
            rest = without_bot_links(out)
            assert "<" not in rest and ">" not in rest
            assert re.sub(r"&(amp|lt|gt);", "", rest).count("&") == 0

    def test_bold_cut_in_the_middle_is_closed_again(self):
        out = excerpt_mrkdwn("start **" + "very " * 100 + "bold** end", None, 80)
        assert out.startswith("start *very") and out.endswith("…*")
        assert out.count("*") == 2

    def test_cut_at_word_keeps_short_text(self):
        assert cut_at_word("short", 10) == "short"


class TestAnswer:
    def test_shows_title_heading_path_excerpt_and_watch_link(self):
        hit = make_hit(heading="Challenges", heading_path=("Computer Vision and Robotics",))
        message = answer_message(hit, "computer vision", 0, 3)
        blocks = message["blocks"]
        assert blocks[0]["text"]["text"] == "*Applications of deep learning*\nComputer Vision and Robotics › Challenges"
        assert "*computer vision*" in blocks[1]["text"]["text"]
        context = blocks[2]["elements"][0]["text"]
        assert f"<https://www.youtube.com/watch?v={VIDEO}&t=2280s|Watch from 38:00>" in context
        assert "Match 1 of 3" in context
        assert "Applications of deep learning" in message["text"]
        assert_within_limits(message)

    def test_says_how_misspelt_words_were_read_escaped(self):
        message = answer_message(make_hit(), "computr <!here>", 0, 2, {"computr": "computer", "x<y": "x"})
        context = message["blocks"][2]["elements"][0]["text"]
        assert "Match 1 of 2 for “computr &lt;!here&gt;” (read as computr → *computer*, x&lt;y → *x*)" in context
        assert "read as" not in answer_message(make_hit(), "computer", 0, 2, {})["blocks"][2]["elements"][0]["text"]

    def test_buttons_share_next_and_dismiss_carry_the_query_and_position(self):
        message = answer_message(make_hit(), "computer vision", 1, 3)
        buttons = message["blocks"][-1]["elements"]
        assert [b["action_id"] for b in buttons] == [SHARE_ACTION, NEXT_ACTION, DISMISS_ACTION]
        assert {read_result_value(b["value"]) for b in buttons} == {("computer vision", 1)}

    def test_a_single_match_has_no_next_button(self):
        buttons = answer_message(make_hit(), "q", 0, 1)["blocks"][-1]["elements"]
        assert NEXT_ACTION not in [b["action_id"] for b in buttons]

    def test_a_note_without_video_has_no_watch_link(self):
        message = answer_message(make_hit(video_id=None, url=None), "q")
        assert all("youtube" not in t for t in all_texts(message))

    def test_a_huge_section_stays_within_limits(self):
        message = answer_message(make_hit(text="**word** [38:00] & <x> " * 2000, title="T" * 5000), "q " * 900)
        assert_within_limits(message)

    def test_names_the_other_notes_saying_the_same_at_that_moment_escaped(self):
        twins = (
            make_hit(note="a.md", title="Deep learning <!channel> recap"),
            make_hit(note="b.md", title="Robots & vision"),
            make_hit(heading="Same note, same heading"),  # a twin in the hit's own note names no other note
            make_hit(note="a.md", title="Deep learning, later", heading="Again"),  # a note is named once
        )
        message = answer_message(make_hit(twins=twins), "computer vision", 0, 3)
        context = message["blocks"][2]["elements"][0]["text"]
        assert context.endswith("\nAlso in Deep learning &lt;!channel&gt; recap · Robots &amp; vision")
        assert "Also in" not in answer_message(make_hit(), "computer vision")["blocks"][2]["elements"][0]["text"]

    def test_shared_answer_says_who_shared_and_has_no_buttons(self):
        message = shared_message(make_hit(), "U123ABC")
        assert "<@U123ABC>" in message["text"]
        assert "Shared by <@U123ABC>" in message["blocks"][-1]["elements"][0]["text"]
        assert all(b["type"] != "actions" for b in message["blocks"])

    def test_result_value_round_trips_and_rejects_garbage(self):
        assert read_result_value(result_value("ä <!here>", 4)) == ("ä <!here>", 4)
        for bad in ("[]", '{"q": 1, "i": 0}', "{}"):
            with pytest.raises(ValueError):
                read_result_value(bad)


class TestThreadAnswer:
    def test_top_hit_in_full_and_the_next_two_as_short_links(self):
        hits = [make_hit(heading=f"Section {i}", timestamp=60 * i) for i in range(1, 5)]
        message = thread_answer(hits, "q")
        texts = "\n".join(all_texts(message))
        assert "Section 1" in message["blocks"][0]["text"]["text"]
        assert f"v={VIDEO}&t=120s|Applications of deep learning › Section 2>" in texts
        assert f"v={VIDEO}&t=180s|Applications of deep learning › Section 3>" in texts
        assert "Section 4" not in texts
        assert all(b["type"] != "actions" for b in message["blocks"])
        assert_within_limits(message)

    def test_says_how_misspelt_words_were_read(self):
        message = thread_answer([make_hit()], "computr vison", {"computr": "computer", "vison": "vision"})
        context = message["blocks"][2]["elements"][0]["text"]
        assert "Best match for “computr vison” (read as computr → *computer*, vison → *vision*)" in context


class TestOtherReplies:
    def test_nothing_found_quotes_the_escaped_query_with_suggestions(self):
        message = nothing_found_message("robotcs <!channel>", ["Computer Vision and Robotics"], {"robotcs": "robots"})
        text = message["blocks"][0]["text"]["text"]
        assert "Nothing found for “robotcs &lt;!channel&gt;”" in text
        assert "robotcs → *robots*" in text
        assert "• Computer Vision and Robotics" in text
        assert "<!channel>" not in message["text"]

    def test_nothing_found_without_suggestions_gives_an_example(self):
        text = nothing_found_message("🙂🙂", [], {})["blocks"][0]["text"]["text"]
        assert "`/notes computer vision`" in text

    def test_a_huge_query_is_quoted_short(self):
        message = nothing_found_message("x" * 2000 + " y", [], {})
        assert len(message["text"]) < 200
        assert_within_limits(message)

    def test_help_shows_examples(self):
        message = help_message()
        assert "/notes computer vision" in message["blocks"][0]["text"]["text"]
        assert "<" not in message["text"]
        assert_within_limits(message)

    def test_home_view_shows_vault_size_and_todays_topic(self):
        view = home_view(21273, 178847, make_hit())
        texts = "\n".join(all_texts(view))
        assert view["type"] == "home"
        assert "21,273 notes in 178,847 sections" in texts
        assert "Today's topic" in texts and "Computer Vision and Robotics" in texts
        assert "Today's topic" not in "\n".join(all_texts(home_view(1, 2)))
