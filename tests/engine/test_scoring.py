"""The score, piece by piece: each formula piece of bot/engine/scoring.py, the impacts the index holds for a
two-note vault, and the final scores of two queries on it, against values worked out by hand.

The expected values are written as arithmetic on the vault's counts and the constants' values (HEADING_WEIGHT
2, K1 1.2, ...), never by calling the code under test: a change to a constant or a formula fails here.
"""

from __future__ import annotations

import json
from math import exp, log
from pathlib import Path

import numpy as np
import pytest

from bot.engine.index import SearchIndex
from bot.engine.index_cache import load_vault
from bot.engine.scoring import (
    FEATURES,
    Weights,
    combined,
    contributions,
    coverage,
    first_stage,
    held_share,
    idf,
    length_norm,
    load_weights,
    phrase,
    saturation,
)
from bot.engine.search import Hit, Searcher

FLOAT32 = 1e-5  # relative: impacts are float32, a few roundings of about 6e-8 each
ROUNDED = 1e-4  # absolute: a hit's score is rounded to 4 decimals

# Two notes, four sections. Their index terms (stemmed, stopwords dropped; "[1:00]" is noise):
#   s0 bees.md  "Pollen"   title honey bee | heading pollen | body bee carri pollen back hive   (5 words)
#   s1 bees.md  "Winter"   title honey bee | heading winter | body hive keep warm winter       (4 words)
#   s2 birds.md introduction  title garden bird | no heading | body sketch bird garden       (3 words)
#   s3 birds.md "Nesting"  title garden bird | heading nest | body bird nest hedg bee nest ground  (6 words)
BEES = """---
title: Honey bees
videoId: beevideo001
---
## Pollen

Bees carry pollen back to the hive <a class="yt-timestamp" data-t="01:00">[01:00]</a>.

## Winter

The hive keeps warm through winter.
"""
BIRDS = """---
title: Garden birds
videoId: birdvideo01
---
Sketches of the birds of a garden.

## Nesting

Birds nest in hedges; bees nest in the ground <a class="yt-timestamp" data-t="02:00">[02:00]</a>.
"""

# Field lengths: every title has 2 terms (mean 2); headings 1, 1, 0, 1 (mean 0.75, counted as 1);
# bodies 5, 4, 3, 6 (mean 4.5). Whole notes: bees 2 + (1 + 5) + (1 + 4) = 13, birds 2 + (0 + 3) + (1 + 6) = 12
# (mean 12.5).
SECTIONS, NOTES = 4, 2


def body_norm(length: int) -> float:
    return 0.25 + 0.75 * length / 4.5  # BODY_B 0.75


def note_norm(length: int) -> float:
    return 0.25 + 0.75 * length / 12.5  # NOTE_B 0.75


def bm25(tf: float, df: int, n: int) -> float:
    """Lucene's idf times saturation at K1 1.2, as worked by hand."""
    return log(1 + (n - df + 0.5) / (df + 0.5)) * tf / (1.2 + tf)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    root = tmp_path_factory.mktemp("vault")
    (root / "bees.md").write_text(BEES, encoding="utf-8")
    (root / "birds.md").write_text(BIRDS, encoding="utf-8")
    index = load_vault(root, cache_root=None).index
    assert index.section_count == SECTIONS and index.note_count == NOTES
    assert index.section_headings == ["Pollen", "Winter", "", "Nesting"]
    return index


def section_impact(index: SearchIndex, term: str, section: int) -> float:
    docs, impacts = index.section_postings.of(index.vocabulary[term])
    return float(impacts[list(docs).index(section)])


def note_impact(index: SearchIndex, term: str, note: int) -> float:
    docs, impacts = index.note_postings.of(index.vocabulary[term])
    return float(impacts[list(docs).index(note)])


# --- index time: length norm, idf, saturation, field weights ----------------------------------------


def test_a_length_norm_blends_the_length_over_the_mean_by_b() -> None:
    norms = length_norm(np.array([5, 4, 3, 6]), 0.75)
    assert norms.tolist() == pytest.approx([0.25 + 0.75 * 5 / 4.5, 0.25 + 0.75 * 4 / 4.5, 0.75, 1.25], rel=FLOAT32)


def test_a_mean_length_under_one_counts_as_one() -> None:
    assert length_norm(np.array([1, 1, 0, 1]), 0.3).tolist() == pytest.approx([1.0, 1.0, 0.7, 1.0], rel=FLOAT32)
    assert length_norm(np.array([0, 0]), 0.3).tolist() == pytest.approx([0.7, 0.7], rel=FLOAT32)


def test_idf_is_lucenes_and_stays_positive_for_a_term_in_every_document() -> None:
    assert idf(np.array([1, 3, 4]), 4).tolist() == pytest.approx(
        [log(1 + 3.5 / 1.5), log(1 + 1.5 / 3.5), log(1 + 0.5 / 4.5)], rel=FLOAT32
    )


def test_saturation_is_half_way_at_k1_and_approaches_one() -> None:
    assert saturation(np.array([0.0, 1.2, 3.6, 1200.0], dtype=np.float32)).tolist() == pytest.approx(
        [0.0, 0.5, 0.75, 1200 / 1201.2], rel=FLOAT32
    )


def test_a_heading_word_counts_twice_a_body_word(index: SearchIndex) -> None:
    """ "nest" in s3: once in its heading (weight 2, heading norm 1), twice in its 6-word body."""
    tf = 2 * 1 / 1.0 + 1 * 2 / body_norm(6)
    assert tf == pytest.approx(3.6)
    assert section_impact(index, "nest", 3) == pytest.approx(bm25(tf, df=1, n=SECTIONS), rel=FLOAT32)


def test_a_word_in_heading_and_body_adds_both_fields(index: SearchIndex) -> None:
    """ "pollen" in s0: heading (2 / 1.0) plus its 5-word body (1 / norm)."""
    tf = 2 / 1.0 + 1 / body_norm(5)
    assert section_impact(index, "pollen", 0) == pytest.approx(bm25(tf, df=1, n=SECTIONS), rel=FLOAT32)


def test_a_title_word_counts_for_every_section_of_its_note(index: SearchIndex) -> None:
    """ "bee" is in the title of bees.md, so in s0 (and its body) and s1 (title only); s3 has it in its body."""
    assert section_impact(index, "bee", 1) == pytest.approx(bm25(1 / 1.0, df=3, n=SECTIONS), rel=FLOAT32)
    assert section_impact(index, "bee", 0) == pytest.approx(bm25(1 / 1.0 + 1 / body_norm(5), 3, SECTIONS), rel=FLOAT32)
    assert section_impact(index, "bee", 3) == pytest.approx(bm25(1 / body_norm(6), df=3, n=SECTIONS), rel=FLOAT32)


def test_a_note_is_scored_as_one_field_over_all_its_words(index: SearchIndex) -> None:
    """In birds.md (12 words) "nest" is in a heading once and a body twice, each weighing 1 (not the
    section's HEADING_WEIGHT), and "garden" in the title (TITLE_WEIGHT 1) and a body; "bee", in a body
    of birds.md and the title and a body of bees.md (13 words), is in both notes."""
    assert note_impact(index, "nest", 1) == pytest.approx(bm25(3 / note_norm(12), df=1, n=NOTES), rel=FLOAT32)
    assert note_impact(index, "garden", 1) == pytest.approx(bm25(2 / note_norm(12), df=1, n=NOTES), rel=FLOAT32)
    assert note_impact(index, "bee", 0) == pytest.approx(bm25(2 / note_norm(13), df=2, n=NOTES), rel=FLOAT32)
    assert note_impact(index, "bee", 1) == pytest.approx(bm25(1 / note_norm(12), df=2, n=NOTES), rel=FLOAT32)


# --- query time: first stage, coverage, introduction and moment, phrase bonus -----------------------


def test_the_first_stage_adds_the_whole_of_the_note_score() -> None:
    scores = first_stage(np.array([1.5, 0.0], dtype=np.float32), np.array([0.25, 2.0], dtype=np.float32))
    assert scores.tolist() == pytest.approx([1.75, 2.0], rel=FLOAT32)  # NOTE_SHARE 1


def test_a_word_only_the_note_introduction_holds_counts_a_quarter() -> None:
    """Two sections, query words weighing 1 and 0.5: the first holds both, the second holds the first
    word and only its introduction the second."""
    in_section = np.array([[True, True], [True, False]])
    in_introduction = np.array([[False, False], [False, True]])
    share = held_share(in_section, in_introduction, [1.0, 0.5])
    assert share.tolist() == pytest.approx([1.0, (1 + 0.25 * 0.5) / 1.5], rel=FLOAT32)


def test_coverage_is_the_log_share_as_a_keyword_feature_or_a_question_feature() -> None:
    share = np.array([1.0, 0.5, 0.0], dtype=np.float32)
    keyword, question = coverage(share, 6)
    assert keyword.tolist() == pytest.approx([0.0, log(0.5), log(0.01)], abs=FLOAT32)  # nothing held: LEAST_SHARE
    assert question.tolist() == [0.0, 0.0, 0.0]
    keyword, question = coverage(share, 7)  # a question in prose
    assert keyword.tolist() == [0.0, 0.0, 0.0]
    assert question.tolist() == pytest.approx([0.0, log(0.5), log(0.01)], abs=FLOAT32)


def test_the_phrase_feature_grows_with_the_share_of_pairs_held() -> None:
    held = np.array([0, 1, 2], dtype=np.float32)
    assert phrase(held, 2).tolist() == pytest.approx([0.0, log(1.25), log(1.5)], rel=FLOAT32)  # PHRASE_BONUS 0.5
    assert phrase(held, 0).tolist() == [0.0, 0.0, 0.0]  # a query of one word has no pairs


def test_a_score_is_the_product_of_one_factor_per_weighted_feature() -> None:
    weights = Weights(np.arange(1, len(FEATURES) + 1, dtype=np.float32) / 10)
    features = np.zeros((2, len(FEATURES)), dtype=np.float32)
    features[0, 0], features[1, 0], features[1, -1] = log(3.0), log(2.0), 0.5
    last = len(FEATURES) / 10
    assert combined(features, weights).tolist() == pytest.approx([3.0**0.1, 2.0**0.1 * np.exp(last * 0.5)], rel=1e-5)
    assert contributions(features, weights)[1].tolist() == pytest.approx(
        [0.1 * log(2.0), *[0.0] * (len(FEATURES) - 2), last * 0.5], abs=1e-6
    )


def test_the_shipped_weights_name_every_feature_and_nothing_else(tmp_path: Path) -> None:
    assert set(load_weights().named()) == set(FEATURES)
    odd = tmp_path / "weights.json"
    odd.write_text(json.dumps({"weights": {"first_stage": 1.0, "shoe_size": 2.0}}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"missing .*keyword_coverage.*unknown \['shoe_size'\]"):
        load_weights(odd)


# --- the final score ------------------------------------------------------------------------------


def scores_of(hits: list[Hit]) -> dict[tuple[str, str], float]:
    return {(hit.note, hit.heading): hit.score for hit in hits}


# Weights of the hand-set factors of old (coverage power 1.5 for keywords, introductions 0.6, no moment 0.8,
# phrase bonus 1.5), with the first stage's weight 1.2 rather than 1 so that its weight is seen to count.
WEIGHTS = Weights.of(
    {
        "first_stage": 1.2,
        "keyword_coverage": 1.5,
        "question_coverage": 1.0,
        "introduction": log(0.6),
        "no_moment": log(0.8),
        "phrase": 1.0,
    }
)


def test_a_query_scores_as_the_formula_says(index: SearchIndex) -> None:
    """ "sketches nest": s3 holds "nest" and only its note's introduction "sketch" (share (1 + 0.25) / 2); the
    introduction s2 holds "sketch" alone (share 1 / 2), is an introduction and has no moment. Both inherit
    birds.md's score for both words; no section holds the pair."""
    searcher = Searcher(index, WEIGHTS)
    reading = searcher.read_query("sketches nest")
    assert reading.corrections == {} and sorted(reading.terms.values()) == [1.0, 1.0]
    note = bm25(1 / note_norm(12), df=1, n=NOTES) + bm25(3 / note_norm(12), df=1, n=NOTES)
    first = bm25(3.6, df=1, n=SECTIONS) + note
    nesting = first**1.2 * ((1 + 0.25) / 2) ** 1.5
    first = bm25(1 / body_norm(3), df=1, n=SECTIONS) + note
    introduction = first**1.2 * (1 / 2) ** 1.5 * 0.6 * 0.8

    hits = searcher.search_terms(reading, limit=10)
    assert scores_of(hits) == {
        ("birds.md", "Nesting"): pytest.approx(nesting, abs=ROUNDED),
        ("birds.md", ""): pytest.approx(introduction, abs=ROUNDED),
    }
    assert [hit.heading for hit in hits] == ["Nesting", ""]  # best first


def test_a_section_holding_the_query_s_pair_scores_half_as_much_again(index: SearchIndex) -> None:
    """ "birds nest": s3 holds both words, side by side ("birds nest in hedges"): share 1, phrase factor 1.5.
    s2 holds "bird" (title and body) but not "nest": share 1 / 2, and it is an introduction without a moment."""
    searcher = Searcher(index, WEIGHTS)
    note = bm25(3 / note_norm(12), df=1, n=NOTES) + bm25(3 / note_norm(12), df=1, n=NOTES)  # bird, nest
    first = bm25(1 / 1.0 + 1 / body_norm(6), df=2, n=SECTIONS) + bm25(3.6, df=1, n=SECTIONS) + note
    nesting = first**1.2 * 1.0 * 1.5
    first = bm25(1 / 1.0 + 1 / body_norm(3), df=2, n=SECTIONS) + note
    introduction = first**1.2 * 0.5**1.5 * 0.6 * 0.8

    assert searcher.read_query("birds nest").corrections == {}
    assert scores_of(searcher.search("birds nest", limit=10)) == {
        ("birds.md", "Nesting"): pytest.approx(nesting, abs=ROUNDED),
        ("birds.md", ""): pytest.approx(introduction, abs=ROUNDED),
    }


def test_explain_gives_each_hit_s_fields_features_and_parts_adding_up_to_its_score(index: SearchIndex) -> None:
    searcher = Searcher(index, WEIGHTS)
    explained = searcher.explain(searcher.read_query("birds nest"), limit=10)
    assert [found.hit for found in explained] == searcher.search("birds nest", limit=10)
    nesting = explained[0]
    assert nesting.fields["note"] == pytest.approx(2 * bm25(3 / note_norm(12), df=1, n=NOTES), rel=FLOAT32)
    assert nesting.features["phrase"] == pytest.approx(log(1.5)) and nesting.features["keyword_coverage"] == 0.0
    assert nesting.weights == WEIGHTS.named()
    assert nesting.parts["phrase"] == pytest.approx(log(1.5), rel=FLOAT32)  # all pairs held, weight 1
    assert exp(sum(nesting.parts.values())) == pytest.approx(nesting.hit.score, abs=ROUNDED)
