"""Searching: the right section first, for keyword phrases, questions and typos; hits as plain data."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.analysis import REQUEST_WORDS, query_words, stem, words
from bot.engine.index_cache import load_vault
from bot.engine.search import Searcher, _best, sections_found
from tests.engine.vaults import searcher_of, write, write_moment

VAULT = Path(__file__).parent.parent / "fixtures" / "vault"


@pytest.fixture(scope="module")
def searcher() -> Searcher:
    return Searcher(load_vault(VAULT, cache_root=None).index)


def first(searcher: Searcher, query: str) -> tuple[str, str]:
    hit = searcher.search(query, limit=1)[0]
    return hit.note, hit.heading


def test_keyword_phrase_finds_the_section(searcher: Searcher) -> None:
    assert first(searcher, "reinforcement learning poker") == ("science/reinforcement_learning.md", "Poker")


def test_question_finds_the_section(searcher: Searcher) -> None:
    assert first(searcher, "How do self-driving cars handle occlusion?") == (
        "science/self_driving_cars.md",
        "Perception",
    )


def test_typo_is_corrected_against_the_vault(searcher: Searcher) -> None:
    assert searcher.read_query("sourdouhg startr").corrections == {"sourdouhg": "sourdough", "startr": "starter"}
    assert first(searcher, "sourdouhg startr") == ("cooking/sourdough.md", "Starter")


def test_heading_path_words_count_for_subsections(searcher: Searcher) -> None:
    assert first(searcher, "perception lidar fog") == ("science/self_driving_cars.md", "Sensor Fusion")


def test_hit_carries_note_heading_link_and_moment(searcher: Searcher) -> None:
    hit = searcher.search("lidar radar fog", limit=1)[0]
    assert hit.title == "Self-driving cars and perception"
    assert hit.heading_path == ("Perception",)
    assert hit.timestamp == 905
    assert hit.url == "https://www.youtube.com/watch?v=abcDEF12345&t=905s"
    assert "radar sees through fog" in hit.text
    assert hit.score > 0


def test_hits_are_best_first_and_limited(searcher: Searcher) -> None:
    hits = searcher.search("learning", limit=2)
    assert len(hits) == 2
    assert hits[0].score >= hits[1].score


def test_note_without_video_is_searchable_without_link(searcher: Searcher) -> None:
    hit = searcher.search("knife skills onions", limit=1)[0]
    assert hit.note == "cooking/untitled_note.md"
    assert hit.url is None and hit.timestamp is None


@pytest.mark.parametrize("query", ["", "the and of", "🙂🙂🙂", "?!", "日本語のクエリ", "x" * 2000, "poker " * 400])
def test_odd_queries_return_a_list_never_raise(searcher: Searcher, query: str) -> None:
    assert isinstance(searcher.search(query), list)


def test_nothing_found_has_heading_suggestions(searcher: Searcher) -> None:
    assert searcher.search("quantum chromodynamics") == []
    assert "Perception" in searcher.suggest("perceptoin")


def twins_vault(root: Path) -> Searcher:
    """Two notes on one video saying the same at one moment, and a note on another video."""
    body = '## Tides\n\nThe moon pulls the oceans into tides <a class="yt-timestamp" data-t="05:00">[05:00]</a>.\n'
    for name in ("a", "b"):
        write(root, f"{name}.md", f"---\ntitle: Moon {name}\nvideoId: moonvideo01\n---\n{body}")
    write(root, "c.md", "---\ntitle: Other\nvideoId: othervideo1\n---\n## Tides elsewhere\n\nTides and the moon.\n")
    return Searcher(load_vault(root, cache_root=None).index)


def test_a_section_repeating_a_better_one_of_its_video_is_shown_with_it_as_its_twin(tmp_path: Path) -> None:
    hits = twins_vault(tmp_path).search("moon tides", limit=5)
    assert [(h.note, h.heading) for h in hits] == [("a.md", "Tides"), ("c.md", "Tides elsewhere")]
    assert [(t.note, t.heading, t.timestamp) for t in hits[0].twins] == [("b.md", "Tides", 300)]
    assert hits[0].other_notes == list(hits[0].twins)
    assert hits[1].twins == () and hits[1].other_notes == []


def test_another_note_s_section_within_a_minute_of_a_better_one_is_its_twin_its_own_note_s_is_not(
    tmp_path: Path,
) -> None:
    """Notes on one video mark where a topic starts some seconds apart (5:00 and 5:40 here); a section
    further off (6:50), or of the same note (4:30), is an answer of its own."""

    def note(name: str, *sections: tuple[str, str]) -> None:
        body = "".join(
            f'## {heading}\n\nThe moon pulls the tides <a class="yt-timestamp" data-t="{at}">[{at}]</a>.\n\n'
            for heading, at in sections
        )
        write(tmp_path, f"{name}.md", f"---\ntitle: Talk {name}\nvideoId: moonvideo01\n---\n{body}")

    note("a", ("Moon tides", "05:00"), ("Later", "04:30"))
    note("b", ("Pull", "05:40"))
    note("c", ("Oceans", "06:50"))
    hits = Searcher(load_vault(tmp_path, cache_root=None).index).search("moon pulls tides", limit=10)

    answers = sorted(sorted((h.note, h.heading) for h in [hit, *hit.twins]) for hit in hits)
    assert answers == [[("a.md", "Later")], [("a.md", "Moon tides"), ("b.md", "Pull")], [("c.md", "Oceans")]]


def test_the_sections_found_list_twins_in_their_places_naming_the_hit_they_are_shown_with(tmp_path: Path) -> None:
    hits = twins_vault(tmp_path).search("moon tides", limit=5)
    twin = hits[0].twins[0]
    assert sections_found(hits, 5) == [(hits[0], None), (twin, 1), (hits[1], None)]
    assert sections_found(hits, 2) == [(hits[0], None), (twin, 1)]


def test_a_section_linking_to_a_moment_beats_the_same_words_without_one(tmp_path: Path) -> None:
    anchor = '<a class="yt-timestamp" data-t="01:00">[01:00]</a>'
    write(tmp_path, "with.md", f"---\ntitle: W\nvideoId: withvideo01\n---\n## Bees\n\nBees dance {anchor}.\n")
    write(tmp_path, "without.md", "---\ntitle: W\n---\n## Bees\n\nBees dance.\n")
    hits = Searcher(load_vault(tmp_path, cache_root=None).index).search("bees dance")
    assert [h.note for h in hits] == ["with.md", "without.md"]


def test_a_name_set_by_the_note_introduction_counts_for_its_sections(tmp_path: Path) -> None:
    """Both notes have a section on open markets, the second saying it more often; only the first note's
    introduction names the speaker the question names."""
    anchor = '<a class="yt-timestamp" data-t="02:00">[02:00]</a>'
    write(
        tmp_path,
        "wade.md",
        f"---\ntitle: Talk one\nvideoId: wadevideo01\n---\nWade Smith on trade.\n\n"
        f"## Open markets\n\nOpen markets and trade lift prosperity {anchor}.\n",
    )
    write(
        tmp_path,
        "other.md",
        f"---\ntitle: Talk two\nvideoId: othervideo2\n---\nA panel on trade.\n\n"
        f"## Open markets\n\n{'Open markets lift prosperity. ' * 3}{anchor}.\n",
    )
    for i in range(6):
        write(
            tmp_path,
            f"filler{i}.md",
            f"---\ntitle: Filler {i}\nvideoId: filler00{i:03d}\n---\n"
            f"## Cooking {i}\n\nBread and soup number {i} {anchor}.\n",
        )
    hits = Searcher(load_vault(tmp_path, cache_root=None).index).search("wade open markets prosperity")
    assert (hits[0].note, hits[0].heading) == ("wade.md", "Open markets")


def spelling_vault(root: Path) -> Searcher:
    """ "theory" is the commoner word; "theorem" and "bleu" live beside the words that name them."""
    for i in range(4):
        write(root, f"theory{i}.md", f"---\ntitle: Theory {i}\n---\n## Theory\n\nA theory of colour {i}.\n")
    write(root, "godel.md", "---\ntitle: Godel\n---\n## Incompleteness\n\nGodel proved the theorem.\n")
    write(root, "metrics.md", "---\ntitle: Metrics\n---\n## Scores\n\nBleu and rouge score translations.\n")
    for i in range(3):
        write(root, f"sky{i}.md", f"---\ntitle: Sky {i}\n---\n## Blue\n\nThe blue sky, day {i}.\n")
    return Searcher(load_vault(root, cache_root=None).index)


def test_a_typo_reads_as_the_word_its_query_is_about(tmp_path: Path) -> None:
    searcher = spelling_vault(tmp_path)
    assert searcher.read_query("godel theorm").corrections == {"theorm": "theorem"}
    assert searcher.read_query("theorm").corrections == {"theorm": "theory"}


def test_a_rare_word_beside_its_own_context_is_kept_as_typed(tmp_path: Path) -> None:
    searcher = spelling_vault(tmp_path)
    assert searcher.read_query("bleu rouge").corrections == {}
    assert first(searcher, "bleu rouge") == ("metrics.md", "Scores")


def test_a_section_holding_every_query_word_beats_one_repeating_some(tmp_path: Path) -> None:
    write_moment(
        tmp_path,
        "all.md",
        "Hives",
        "allvideo001",
        "Keeping",
        "Bees make honey from clover in spring; the hive needs care all year",
    )
    write_moment(tmp_path, "some.md", "Hives", "somevideo01", "Keeping", "Bees and honey, honey and bees. " * 4)
    hits = searcher_of(tmp_path).search("bees honey clover")
    assert [h.note for h in hits] == ["all.md", "some.md"]


def test_a_hyphenated_word_counts_as_one_word_of_the_query(tmp_path: Path) -> None:
    """ "self-hosting" is searched as its parts and written solid, yet weighs what "agents" weighs: the
    section holding two of the query's words beats the one holding only the compound."""
    write_moment(tmp_path, "hosting.md", "Servers", "hostvideo01", "Hosting", "Self-hosting, and more self-hosting")
    write_moment(tmp_path, "agents.md", "Servers", "agentvideo1", "Agents", "Agents and their costs")
    hits = searcher_of(tmp_path).search("self-hosting agents costs")
    assert [h.note for h in hits] == ["agents.md", "hosting.md"]


def test_a_name_joined_by_an_ampersand_is_searchable_though_its_parts_are_stopwords(tmp_path: Path) -> None:
    write_moment(tmp_path, "telecom.md", "Telecoms", "televideo01", "Carriers", "AT&T bought Time Warner")
    write_moment(tmp_path, "lab.md", "Labs", "labvideo001", "Spending", "Spending on R&D doubled")
    searcher = searcher_of(tmp_path)
    assert [h.note for h in searcher.search("at&t")] == ["telecom.md"]
    assert first(searcher, "r&d spending") == ("lab.md", "Spending")


def test_a_question_asking_for_the_notes_is_searched_for_what_it_asks_about(tmp_path: Path) -> None:
    """ "notes" and "say" ask for the notes; they are not what the answer is about, so the section that holds
    none of them but both words asked about comes first."""
    write_moment(tmp_path, "sensors.md", "Sensors", "sensevideo1", "Lidar and occlusion", "Lidar sees past occlusion")
    write_moment(tmp_path, "diary.md", "Diary", "diaryvideo1", "Diary", "My notes say lidar is great, as notes do")
    searcher = searcher_of(tmp_path)
    assert first(searcher, "what do the notes say about lidar occlusion?") == ("sensors.md", "Lidar and occlusion")
    assert first(searcher, "lidar occlusion") == ("sensors.md", "Lidar and occlusion")


def test_a_query_of_nothing_but_request_words_keeps_them() -> None:
    assert query_words("tell me more", solid_weight=0.5) == [("tell", 1.0)]
    assert query_words("tell me about notes on lidar", solid_weight=0.5) == [("lidar", 1.0)]


QUERY_PIECES = st.sampled_from(
    ["self", "-", "&", "hosting", "gpt", "4", "the", "at", "'s", " ", ".", "x", "notes", "say"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(QUERY_PIECES, max_size=12).map("".join))
def test_query_words_are_the_words_of_the_query_and_a_compound_weighs_one_word(query: str) -> None:
    weighed = query_words(query, solid_weight=0.5)
    found = words(query)
    asked = [word for word in found if word not in REQUEST_WORDS]
    assert [word for word, _ in weighed] == (asked or found)  # the words asking for the notes left out, if not alone
    assert all(0 < weight <= 1 for _, weight in weighed)


def test_a_compound_written_solid_is_an_alternative_unless_it_says_more_than_its_parts() -> None:
    assert query_words("self-hosting agents", solid_weight=0.5) == [
        ("self", 0.5),
        ("hosting", 0.5),
        ("selfhosting", 0.5),
        ("agents", 1.0),
    ]
    assert query_words("gpt-4 vs o1", solid_weight=0.5) == [("gpt", 1.0), ("gpt4", 1.0), ("vs", 1.0), ("o1", 1.0)]


VAULT_LIKE_WORDS = st.sampled_from(["sourdouhg", "startr", "perceptoin", "lidar", "poker", "bleu", "the"])
QUERY_TEXT = st.lists(st.one_of(VAULT_LIKE_WORDS, st.text(max_size=12)), max_size=8).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(QUERY_TEXT)
def test_any_query_reads_as_vault_words_and_searches_without_raising(searcher: Searcher, query: str) -> None:
    reading = searcher.read_query(query)
    typed = set(words(query))
    for word, read_as in reading.corrections.items():
        assert word in typed
        assert stem(read_as) in searcher.index.vocabulary
    assert set(reading.sequence) <= set(reading.terms)
    assert searcher.search_terms(reading, 3) == searcher.search(query, 3)


SPELLING_VOCABULARY = {
    "sourdough": 40,
    "source": 41,
    "sound": 42,
    "soup": 43,
    "perception": 44,
    "perceptron": 45,
    "precision": 46,
    "poker": 47,
    "joker": 48,
    "pokemon": 49,
    "sourdoguh": 3,
    "percepton": 5,
    "pokr": 4,
    "startup": 90,
    "stratup": 3,
    "starter": 60,
    "sa": 50,
    "кот": 40,  # letters beyond ASCII are told apart as well
    "кто": 8,
}


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="adeghijknoprstuvcкот", min_size=1, max_size=12), st.sampled_from([0, 3, 45]))
def test_spelling_candidates_are_every_word_within_reach_and_no_other(word: str, at_least: int) -> None:
    """Whatever shortcut the speller takes, its candidates are those a full comparison finds."""
    from rapidfuzz.distance import OSA

    from bot.engine.spelling import MISSPELLING_RATIO, SPELLING_CANDIDATES, Speller

    max_edits = 1 if len(word) <= 5 else 2
    pool = {w: c for w, c in SPELLING_VOCABULARY.items() if c > MISSPELLING_RATIO or at_least < MISSPELLING_RATIO}
    reach = sorted(
        (OSA.distance(word, w), -c, w)
        for w, c in pool.items()
        if w[0] == word[0] and w != word and c > at_least and OSA.distance(word, w) <= max_edits
    )
    expected = [(w, d) for d, _, w in reach[:SPELLING_CANDIDATES]]
    assert Speller(SPELLING_VOCABULARY).candidates(word, at_least=at_least) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([0.5, 1.0, 1.0, 2.0, 3.5]) | st.floats(0.125, 100, width=32), max_size=3000),
    st.integers(1, 120),
)
def test_the_best_candidates_are_exactly_the_best_scores_in_vault_order(scores: list[float], count: int) -> None:
    values = np.array(scores, dtype=np.float32)
    best = _best(values, count)
    kept = min(count, len(values))
    assert len(best) == kept and list(best) == sorted(set(best.tolist()))
    if kept:
        bar = np.sort(values)[len(values) - kept]  # the count-th best score
        assert (values[best] >= bar).all() and (values > bar).sum() <= kept
