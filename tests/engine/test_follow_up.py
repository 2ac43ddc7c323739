"""Follow-ups in a thread: read in the thread's context (its last answer's notes preferred; its earlier questions
for a follow-up without words of its own), unless they stand alone.

Most cases use three real notes of the shared corpus (tests/fixtures/thread_vault): "Applications of deep
learning" touches on healthcare in two sentences, "Healthcare as a right in America" is all about it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.follow_up import (
    CONTEXT_TURNS,
    ThreadContext,
    Turn,
    own_words_held,
    read_in_context,
    search_follow_up,
)
from bot.engine.scope import Preference, Scope
from bot.engine.search import Searcher
from tests.engine.vaults import THREAD_VAULT, searcher_of, write, write_moment

DEEP_LEARNING = "lexfridman/applications_of_deep_learning.md"
HEALTHCARE = "officialflagrant/healthcare_as_a_right_in_america.md"
CHICKEN = "aragusea/how_to_properly_sear_chicken_thighs.md"


@pytest.fixture(scope="module")
def searcher() -> Searcher:
    return searcher_of(THREAD_VAULT)


def thread_after(searcher: Searcher, question: str) -> ThreadContext:
    """The context of a thread whose first question was `question`, answered with three hits."""
    shown = tuple(dict.fromkeys(hit.note for hit in searcher.search(question, 3)))
    return ThreadContext.of([Turn(question, shown, in_context=False)])


def first(searcher: Searcher, query: str, context: ThreadContext) -> tuple[str, str, bool]:
    found = search_follow_up(searcher, query, context, 3)
    return found.hits[0].note, found.hits[0].heading, found.in_context


def test_a_follow_up_answers_from_the_thread_s_note_though_another_note_is_more_about_it(searcher: Searcher) -> None:
    context = thread_after(searcher, "applications of deep learning")

    assert searcher.search("what about healthcare?", 1)[0].note == HEALTHCARE
    assert first(searcher, "what about healthcare?", context) == (
        DEEP_LEARNING,
        "Image Segmentation and Object Detection",  # "... in fields like healthcare ..."
        True,
    )


def test_a_follow_up_on_a_new_topic_is_answered_on_its_own_words_and_starts_a_new_line(searcher: Searcher) -> None:
    context = thread_after(searcher, "applications of deep learning")

    note, heading, in_context = first(searcher, "how do I sear chicken thighs?", context)

    assert (note, in_context) == (CHICKEN, False)
    assert heading == searcher.search("how do I sear chicken thighs?", 1)[0].heading


def test_a_follow_up_without_words_of_its_own_is_read_with_the_thread_s_questions(searcher: Searcher) -> None:
    context = thread_after(searcher, "medicare for all")

    found = search_follow_up(searcher, "tell me more", context, 3)

    assert searcher.search("tell me more", 3) == []
    assert (found.hits[0].note, found.hits[0].heading) == (HEALTHCARE, "Legislative Efforts and Political Will")
    assert found.in_context and found.reading.context == ("medicare for all",)


def test_outside_a_thread_a_question_is_searched_as_it_is(searcher: Searcher) -> None:
    found = search_follow_up(searcher, "what about healthcare?", ThreadContext(), 3)

    assert found.hits == searcher.search("what about healthcare?", 3)
    assert not found.in_context and found.reading.context == ()


def test_the_preferred_answer_gives_way_when_it_holds_fewer_of_the_follow_up_s_words(tmp_path: Path) -> None:
    """Even a preference strong enough to lift a section holding one word of the follow-up over one holding
    them all yields to the follow-up's own words."""
    write_moment(tmp_path, "ai/learning.md", "Machine learning", "learning001", "Training", "Training data for models")
    write_moment(tmp_path, "food/bread.md", "Bread", "breadvideo1", "Baking bread", "Baking bread needs training")
    searcher = searcher_of(tmp_path)
    context = ThreadContext(("machine learning",), ("ai/learning.md",))
    own = searcher.read_query("baking bread training")
    lifted = searcher.search_terms(own, 1, prefer=Preference(Scope(notes=("ai/learning.md",)), 1000.0))
    assert lifted[0].note == "ai/learning.md"  # holding "training" alone

    found = search_follow_up(searcher, "baking bread training", context, 1, factor=1000.0)

    assert (found.hits[0].note, found.in_context) == ("food/bread.md", False)


def test_the_context_holds_the_questions_since_the_last_new_topic_and_the_last_answer_s_notes() -> None:
    turns = [
        Turn("bread", ("food/bread.md",), in_context=False),
        Turn("deep learning", ("ai/a.md",), in_context=False),  # a new topic: the line starts again here
        *(Turn(f"follow-up {n}", ("ai/b.md", "ai/a.md"), in_context=True) for n in range(CONTEXT_TURNS)),
    ]

    context = ThreadContext.of(turns)

    assert context.queries == tuple(f"follow-up {n}" for n in range(CONTEXT_TURNS))  # at most CONTEXT_TURNS
    assert context.notes == ("ai/b.md", "ai/a.md")
    assert ThreadContext.of(turns[:3]).queries == ("deep learning", "follow-up 0")
    assert not ThreadContext.of([]) and ThreadContext.of(turns)


def test_earlier_questions_weigh_less_the_further_back_they_are(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "---\ntitle: A\n---\n## Bread and deep learning\n\nbread deep learning healthcare\n")
    searcher = searcher_of(tmp_path)
    context = ThreadContext(("bread", "deep learning"))

    read = read_in_context(searcher, searcher.read_query("healthcare"), context, 0.5)

    term = searcher.reader.term_id
    assert read.terms == {term("healthcare"): 1.0, term("deep"): 0.5, term("learning"): 0.5, term("bread"): 0.25}
    assert read.context == ("bread", "deep learning")


def test_the_words_a_hit_holds_count_by_their_weight_in_the_question(searcher: Searcher) -> None:
    hit = searcher.search("cost and access", 1)[0]
    assert own_words_held(searcher.read_query("healthcare costs"), hit, searcher) == 1.0
    assert own_words_held(searcher.read_query("healthcare robotics"), hit, searcher) == 0.5
    assert own_words_held(searcher.read_query("the"), hit, searcher) == 0.0
