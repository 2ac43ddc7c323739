"""Searching with a context: a follow-up read together with the earlier question of its thread, and a
preference for the notes of the earlier answer."""

from __future__ import annotations

import numpy as np
import pytest

from bot.engine.scope import Preference, Scope
from bot.engine.search import Searcher
from tests.engine.vaults import searcher_of, write, write_moment


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    """The deep-learning note has a short part on healthcare; another note is all about healthcare."""
    root = tmp_path_factory.mktemp("threads")
    anchor = '<a class="yt-timestamp" data-t="{}">[x]</a>'
    write(
        root,
        "ai/deep_learning.md",
        "---\ntitle: Applications of deep learning\nvideoId: deeplearn01\n---\n"
        f"## Image recognition\n\nDeep learning models classify images {anchor.format('01:00')}.\n\n"
        f"## Healthcare\n\nDeep learning reads scans in healthcare {anchor.format('09:00')}.\n",
    )
    write_moment(
        root,
        "health/systems.md",
        "Healthcare systems",
        "healthsys01",
        "Healthcare costs",
        "Healthcare costs, healthcare insurance and healthcare reform",
    )
    write_moment(root, "food/bread.md", "Bread", "breadvideo1", "Baking", "Bread needs flour and water")
    return searcher_of(root)


def first(searcher: Searcher, reading, **options) -> tuple[str, str]:
    hit = searcher.search_terms(reading, limit=1, **options)[0]
    return hit.note, hit.heading


def test_a_follow_up_read_with_its_thread_answers_from_the_earlier_question_s_note(searcher: Searcher) -> None:
    earlier = searcher.read_query("applications of deep learning")
    follow_up = searcher.read_query("what about healthcare?")
    assert first(searcher, follow_up) == ("health/systems.md", "Healthcare costs")
    assert first(searcher, follow_up.with_context(earlier, 0.5)) == ("ai/deep_learning.md", "Healthcare")


def test_a_follow_up_s_own_words_weigh_fully_and_the_earlier_ones_weaker(searcher: Searcher) -> None:
    earlier = searcher.read_query("deep learning healthcare")
    follow_up = searcher.read_query("healthcare costs")
    read = follow_up.with_context(earlier, 0.3)
    term = searcher.reader.term_id
    assert read.terms == {term("healthcare"): 1.0, term("costs"): 1.0, term("deep"): 0.3, term("learning"): 0.3}
    assert (read.query, read.sequence, read.corrections) == (follow_up.query, follow_up.sequence, {})
    assert read.context == ("deep learning healthcare",)
    assert follow_up.with_context(earlier, 0.0).terms == follow_up.terms
    with pytest.raises(ValueError, match="from 0 to 1"):
        follow_up.with_context(earlier, 1.5)


def test_contexts_chain_oldest_first_and_keep_the_corrections_of_the_follow_up(searcher: Searcher) -> None:
    first_question = searcher.read_query("bread")
    second = searcher.read_query("deep learning").with_context(first_question, 0.5)
    third = searcher.read_query("helthcare").with_context(second, 0.5)
    assert third.context == ("bread", "deep learning")
    assert third.corrections == {"helthcare": "healthcare"}
    assert third.terms[searcher.reader.term_id("bread")] == pytest.approx(0.25)


def test_a_preference_lifts_the_notes_of_an_earlier_answer(searcher: Searcher) -> None:
    reading = searcher.read_query("healthcare")
    assert first(searcher, reading) == ("health/systems.md", "Healthcare costs")
    preferred = Preference(Scope(notes=("ai/deep_learning.md",)), factor=3.0)
    assert first(searcher, reading, prefer=preferred) == ("ai/deep_learning.md", "Healthcare")
    as_mask = Preference(np.array([path.startswith("ai/") for path in searcher.index.note_paths]), factor=3.0)
    assert first(searcher, reading, prefer=as_mask) == ("ai/deep_learning.md", "Healthcare")
    hits = searcher.search_terms(reading, limit=5, prefer=Preference(Scope(notes=("food/bread.md",)), 3.0))
    assert "food/bread.md" not in {hit.note for hit in hits}  # a preference adds no note the query does not match


def test_a_preference_s_factor_is_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Preference(Scope(), factor=0.0)


def test_a_preference_and_a_scope_go_together(searcher: Searcher) -> None:
    reading = searcher.read_query("healthcare")
    preferred = Preference(Scope(notes=("ai/deep_learning.md",)), factor=3.0)
    hits = searcher.search_terms(reading, limit=5, within=Scope(folders=("health",)), prefer=preferred)
    assert [hit.note for hit in hits] == ["health/systems.md"]
