"""bot/slack/messages.py for conversations: the search modal, answers in assistant threads with "Next match",
buttons that carry a thread's context, the assistant's greeting, prompts and titles, all safe and within limits."""

from __future__ import annotations

import json

from bot.engine.follow_up import ThreadContext
from bot.slack.messages import (
    MAX_HOME_BLOCKS,
    MAX_VALUE_CHARS,
    OPEN_SEARCH_ACTION,
    SEARCH_BLOCK,
    SEARCH_INPUT,
    SEARCH_MODAL,
    SECTION_LIMIT,
    SHORT_EXCERPT_LIMIT,
    THREAD_NEXT_ACTION,
    answer_message,
    help_message,
    home_view,
    read_result_thread,
    read_result_value,
    result_value,
    search_modal,
    suggested_prompt,
    thread_answer,
    thread_title,
)
from tests.messages.test_messages import all_texts, make_hit, without_bot_links

HOSTILE = "<!channel> <@U0EVIL> <https://evil.example|click> & more"


def actions(payload: dict) -> dict[str, str]:
    """The buttons of a message or view, by action id: their values."""
    return {
        element["action_id"]: element.get("value", "")
        for block in payload["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }


def assert_safe(payload: dict) -> None:
    for text in all_texts(payload):
        rest = without_bot_links(text)
        assert "<" not in rest and ">" not in rest, text


class TestSearchModal:
    def test_opens_with_one_input_that_searches_on_enter(self):
        view = search_modal()
        assert (view["type"], view["callback_id"], view["title"]["text"]) == ("modal", SEARCH_MODAL, "Search the notes")
        assert view["submit"]["text"] == "Search"
        field = view["blocks"][0]
        assert (field["type"], field["block_id"], field["dispatch_action"]) == ("input", SEARCH_BLOCK, True)
        element = field["element"]
        assert (element["type"], element["action_id"]) == ("plain_text_input", SEARCH_INPUT)
        assert element["dispatch_action_config"] == {"trigger_actions_on": ["on_enter_pressed"]}
        assert "initial_value" not in element

    def test_shows_each_hit_with_where_it_is_a_short_excerpt_and_its_moment(self):
        hits = [make_hit(heading=f"Section {n}", text="word " * 500) for n in range(5)]
        view = search_modal("computer vision", hits)
        sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
        contexts = [b["elements"][0]["text"] for b in view["blocks"] if b["type"] == "context"]
        assert view["blocks"][0]["element"]["initial_value"] == "computer vision"
        assert "The best 5 for “computer vision”" in contexts[0]
        assert [s for s in sections if s.startswith("*")] == [
            f"*Applications of deep learning*\nSection {n}" for n in range(5)
        ]
        excerpts = [s for s in sections if not s.startswith("*")]
        assert len(excerpts) == 5 and all(len(e) <= SHORT_EXCERPT_LIMIT for e in excerpts)
        assert all("|Watch from 38:00>" in c and f"Match {n} of 5" in c for n, c in enumerate(contexts[1:], 1))

    def test_says_when_there_is_nothing_to_search_or_nothing_found(self):
        empty = json.dumps(search_modal("")["blocks"], ensure_ascii=False)
        assert "Nothing to search for" in empty
        nothing = search_modal("zzqx <!here>", [], {"zzqx": "zing"}, ["Close heading"])
        text = nothing["blocks"][1]["text"]["text"]
        assert text.startswith("Nothing found for “zzqx &lt;!here&gt;”.")
        assert "zzqx → *zing*" in text and "Close heading" in text

    def test_hostile_notes_and_queries_stay_safe_and_within_slack_s_limits(self):
        hits = [make_hit(title=HOSTILE * 200, heading=HOSTILE * 200, text=HOSTILE * 500) for _ in range(5)]
        view = search_modal(HOSTILE * 20, hits)
        assert len(view["blocks"]) <= MAX_HOME_BLOCKS  # a modal's limit, as a Home tab's
        assert all(len(b["text"]["text"]) <= SECTION_LIMIT for b in view["blocks"] if b["type"] == "section")
        assert_safe(view)


class TestAssistantAnswer:
    def test_a_next_match_button_shows_the_following_hit_in_the_answer_s_place(self):
        hits = [make_hit(heading=f"Section {n}", timestamp=60 * n) for n in range(4)]
        context = ThreadContext(("applications of deep learning",), ("lexfridman/applications_of_deep_learning.md",))
        first = thread_answer(
            hits, "what about healthcare?", None, 0, result_value("what about healthcare?", 0, context)
        )
        second = thread_answer(
            hits, "what about healthcare?", None, 3, result_value("what about healthcare?", 3, context)
        )

        assert "Best match for" in first["blocks"][2]["elements"][0]["text"]
        value = actions(first)[THREAD_NEXT_ACTION]
        assert read_result_value(value) == ("what about healthcare?", 0)
        assert read_result_thread(value) == (context, None)
        assert "Section 3" in second["blocks"][0]["text"]["text"]
        assert "Match 4 of 4" in second["blocks"][2]["elements"][0]["text"]
        assert "Section 0" in second["blocks"][3]["text"]["text"]  # the next ones, from the first again

    def test_a_single_hit_and_a_mention_s_answer_have_no_next_button(self):
        assert THREAD_NEXT_ACTION not in actions(thread_answer([make_hit()], "q", None, 0, result_value("q", 0)))
        assert actions(thread_answer([make_hit(), make_hit(heading="Other")], "q")) == {}


class TestButtonValues:
    def test_a_private_answer_s_buttons_carry_the_thread_s_context_and_the_thread_to_share_in(self):
        context = ThreadContext(("first question",), ("a.md", "b.md"))
        message = answer_message(make_hit(), "follow-up", 1, 3, None, context, "1700000000.000100")
        for value in actions(message).values():
            assert read_result_value(value) == ("follow-up", 1)
            assert read_result_thread(value) == (context, "1700000000.000100")

    def test_a_value_without_a_thread_reads_as_no_context(self):
        assert read_result_thread(result_value("q", 0)) == (ThreadContext(), None)
        assert read_result_thread("not json") == (ThreadContext(), None)
        assert read_result_thread('{"q": "x", "i": 0, "c": [1, "ok"], "n": "a.md", "th": 5}') == (
            ThreadContext(("ok",)),
            None,
        )

    def test_a_long_context_is_cut_to_slack_s_limit_oldest_questions_first(self):
        context = ThreadContext(tuple(f"question {n} " + "x" * 290 for n in range(6)), ("a.md",) * 20)
        value = result_value("q" * 300, 0, context, "1.2")
        assert len(value) <= MAX_VALUE_CHARS
        kept, thread = read_result_thread(value)
        assert thread == "1.2" and kept.queries == context.queries[-len(kept.queries) :]
        assert kept.queries[-1].startswith("question 5")


class TestAssistantTexts:
    def test_a_thread_title_is_one_escaped_line(self):
        title = thread_title(f"what   about\n{HOSTILE} " + "word " * 40)
        assert "\n" not in title and len(title) <= 60
        assert title.startswith("what about &lt;!channel&gt; &lt;@U0EVIL&gt;") and "<" not in title

    def test_a_suggested_prompt_is_a_short_title_and_its_question(self):
        prompt = suggested_prompt("Today's topic: " + "long heading " * 10, "What about long heading?")
        assert len(prompt["title"]) <= 60 and prompt["message"] == "What about long heading?"


def test_the_help_and_app_home_offer_the_search_modal():
    assert OPEN_SEARCH_ACTION in actions(help_message())
    assert OPEN_SEARCH_ACTION in actions(home_view(4, 20))
