"""The score of a section for a query, written in one place: every piece a named pure function, beside
the constants that tune it and their reasons.

Index time (`bot/engine/index.py` builds the postings with these pieces). A section s has three fields f:
its note's title, its heading path (the headings above it and its own) and its body. For a term t:

    norm_f(s)    = length_norm(|f of s|, B_f)      = (1 - B_f) + B_f * |f of s| / mean |f|   (mean at least 1)
    tf(t, s)     = Σ_f normalised_tf(WEIGHT_f * count(t in f of s), norm_f(s))      = Σ_f WEIGHT_f * count / norm_f
    impact(t, s) = idf(df(t), N) * saturation(tf(t, s))                              (BM25F)
    idf(df, N)   = ln(1 + (N - df + 0.5) / (df + 0.5))       df: sections holding t, N: sections of the vault
    saturation(tf) = tf / (K1 + tf)

A note n is scored as a whole too, as one field (BM25): its title words count TITLE_WEIGHT each, its
sections' heading-path and body words once each, and |n| counts them the same way:

    tf(t, n)     = normalised_tf(TITLE_WEIGHT * count(t in title) + count(t in its sections), length_norm(|n|, NOTE_B))
    impact(t, n) = idf(df(t), N) * saturation(tf(t, n))      df: notes holding t, N: notes of the vault

Query time (`bot/engine/search.py`, `Searcher.search_terms`, whose numbered steps these are). A query is
read as terms q with weights w_q (1 for a word of its own; less for a hyphenated word's parts and a
correction searched beside the word as typed, see `bot/engine/spelling.py`; none for a word asking for the notes,
`REQUEST_WORDS` of `bot/engine/analysis.py`, in a query with other words):

    1. first(s)  = first_stage(Σ_q query_weighted(impact(q, s), w_q), Σ_q query_weighted(impact(q, n(s)), w_q))
                 = Σ_q w_q impact(q, s) + NOTE_SHARE * Σ_q w_q impact(q, n(s))     over the sections holding a q
       over the sections of the notes `within` names, when a search is given a scope (none other ever scores);
       times a `Preference`'s factor for the sections of the notes it names (`preference_factor`), if any;
    2. the best CANDIDATES sections by first(s) go on, in vault order (so that equal scores rank in vault order);
    3. the candidates' features x_f(s), f in FEATURES, and a score from all but the phrase:
         reranked(s) = combined(x(s), W) = exp(Σ_f W_f x_f(s)), a product of one factor exp(W_f x_f) per feature,
       with the weights W shipped in ranking_weights.json (WEIGHTS_FILE; bench/learn_ranking.py learns them):
         first_stage       = ln first(s)
         keyword_coverage  = ln max(held_share(s), LEAST_SHARE) for at most KEYWORD_QUERY_TERMS q, else 0
         question_coverage = ln max(held_share(s), LEAST_SHARE) for more q, else 0           (`coverage`)
         held_share(s)     = Σ_q w_q * (1 if s holds q, INTRODUCTION_HELD if only its note's introduction does,
                             else 0) / Σ_q w_q
         introduction      = 1 for a note's introduction, else 0
         no_moment         = 1 for a section without a timestamp, else 0
       At weights 1, 1.5, 1, ln 0.6, ln 0.8 (the shipped ones) this is the hand-set formula of before:
       first(s) * held_share ** 1.5 (keywords) or ** 1 (questions) * 0.6 (introduction) * 0.8 (no moment).
    4. score(s) = combined(x(s), W) with the phrase feature too, for the best PHRASE_CANDIDATES by reranked(s);
       reranked(s) for the rest, where
         phrase = ln(1 + PHRASE_BONUS * (pairs held) / pairs), over the query's adjacent pairs of distinct terms,
                  held where they stand side by side in s's heading path or body (at weight 1: a section holding
                  every pair scores 1 + PHRASE_BONUS times as much);
    5. the candidates ordered by score, best first (ties kept in the order of step 3);
    6. grouped into answers: a section repeating one that leads an answer ranked above it (same video and
       moment, another note's within TWIN_WINDOW_S of it, or same heading and video) is that hit's twin, not a
       hit of its own; the first `limit` answers are the hits, with score(s) rounded to 4 decimals.

`notesbot search --explain` prints each hit's first-stage fields, features, weights and parts W_f x_f (`contributions`),
whose sum is ln score(s).

Array pieces compute in float32 as the postings hold their impacts; weights and constants are Python floats,
which numpy applies in the array's own precision.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# --- index time: BM25F over the fields of a section, BM25 over a whole note --------------------------

# Field weights. A heading is short and says what its section is about: a word there counts twice one
# in the body. The note's title is shared by all its sections, so it tells them apart no better than
# the body does: it counts once.
TITLE_WEIGHT = 1.0
HEADING_WEIGHT = 2.0
BODY_WEIGHT = 1.0
# Length normalisation. Titles and heading paths are a few words whose length says little about what
# they are about: a long one is damped only a little. Bodies and whole notes vary from a line to pages,
# where a word in a short one says more: the usual BM25 value.
TITLE_B = 0.3
HEADING_B = 0.3
BODY_B = 0.75
NOTE_B = 0.75
K1 = 1.2  # term frequency saturation, the usual BM25 value: each further occurrence of a word adds less


def length_norm(lengths: np.ndarray, b: float) -> np.ndarray:
    """Each document's length over the mean length, blended by `b` between 1 (no normalisation) and that
    ratio. A mean under 1 counts as 1: a field empty in most documents (or all) neither damps its few
    non-empty ones hard nor divides by zero."""
    lengths = lengths.astype(np.float32)
    average = max(float(lengths.mean()) if len(lengths) else 1.0, 1.0)
    return (1 - b) + b * lengths / average


def normalised_tf(weighted_counts: np.ndarray, norm: np.ndarray) -> np.ndarray:
    """A term's (weighted) count in a field, over that field's length norm: what BM25F sums over fields."""
    return weighted_counts / norm


def idf(df: np.ndarray, doc_count: int) -> np.ndarray:
    """Inverse document frequency of terms held by `df` of `doc_count` documents (Lucene's, never
    negative: a term in most documents still counts a little)."""
    return np.log1p((doc_count - df + 0.5) / (df + 0.5)).astype(np.float32)


def saturation(tf: np.ndarray) -> np.ndarray:
    """A term frequency saturated towards 1 (half way at K1): a word repeated is not a word more relevant."""
    return tf / (K1 + tf)


# --- query time: the first stage, then the rerank of the best candidates -------------------------------

NOTE_SHARE = 1.0  # how much of the note's own score each of its sections inherits: a question naming
# the guest or the topic of a note finds the right section in it
CANDIDATES = 100  # sections reranked and grouped into answers per query
INTRODUCTION_HELD = 0.25  # a query word found only in a section's note introduction counts this much
# A short query is keywords, each one a thing the answer is about; a longer one is a question in prose,
# whose words the answer need not all hold: the share of the query a section holds is a feature of each
# kind of its own, so the two can weigh it differently.
KEYWORD_QUERY_TERMS = 6
LEAST_SHARE = 0.01  # the held share's logarithm is taken of at least this (a section holding nothing)
PHRASE_CANDIDATES = 30  # best sections checked for the query's word pairs (checking costs a scan of their text)
PHRASE_BONUS = 0.5  # the shape of the phrase feature: holding all of the query's pairs is worth (1 + this) ** weight

# The features of a candidate, in the order of the weights; each is a named piece below. A candidate's
# score is exp(Σ weight * feature): the hand-set factors of old (coverage power, introduction and
# no-moment damping, phrase bonus) are weights of these features, read from WEIGHTS_FILE at start, which
# bench/learn_ranking.py learns anew from queries made from the vault (bench/RESULTS.md says why the shipped
# weights are still the hand-set ones).
FEATURES = (
    "first_stage",  # ln first(s)
    "keyword_coverage",  # ln held_share, for a keyword query; 0 for a question
    "question_coverage",  # ln held_share, for a question; 0 for a keyword query
    "introduction",  # 1 for a note's introduction
    "no_moment",  # 1 for a section without a timestamp
    "phrase",  # ln(1 + PHRASE_BONUS * the share of the query's adjacent word pairs it holds side by side)
)
WEIGHTS_FILE = Path(__file__).with_name("ranking_weights.json")


@dataclass(frozen=True, slots=True)
class Weights:
    """A weight per feature (FEATURES' order), and where they came from."""

    values: np.ndarray  # float32, one per feature
    source: str = ""

    @classmethod
    def of(cls, weights: dict[str, float], source: str = "") -> Weights:
        missing, unknown = set(FEATURES) - set(weights), set(weights) - set(FEATURES)
        if missing or unknown:
            raise ValueError(f"ranking weights: missing {sorted(missing)}, unknown {sorted(unknown)}")
        return cls(np.array([weights[name] for name in FEATURES], dtype=np.float32), source)

    def named(self) -> dict[str, float]:
        return {name: float(w) for name, w in zip(FEATURES, self.values, strict=True)}


def load_weights(path: Path = WEIGHTS_FILE) -> Weights:
    """The weights shipped with the code (a small JSON file written by bench/learn_ranking.py)."""
    shipped = json.loads(path.read_text(encoding="utf-8"))
    return Weights.of(shipped["weights"], shipped.get("source", str(path)))


def query_weighted(impacts: np.ndarray, weight: float) -> np.ndarray:
    """A query term's impacts as they count in the query: times its weight (most weigh 1: nothing to do)."""
    return impacts if weight == 1 else weight * impacts


def preference_factor(preferred: np.ndarray, factor: float) -> np.ndarray:
    """A preference's factor for the sections of its notes, 1 for the rest."""
    return np.where(preferred, np.float32(factor), np.float32(1.0))


def first_stage(section_scores: np.ndarray, note_scores: np.ndarray) -> np.ndarray:
    """Sections' own BM25F scores plus NOTE_SHARE of their notes' BM25 scores (aligned section by section)."""
    return section_scores + NOTE_SHARE * note_scores


def held_share(in_section: np.ndarray, in_introduction: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """The share of the query's weight each section holds, from (term, section) tables of whether the
    section holds the term and whether its note's introduction does: a word only the introduction holds
    counts INTRODUCTION_HELD (it sets the scene, such as who is speaking)."""
    weight_row = np.fromiter(weights, dtype=np.float32, count=len(weights))
    held = weight_row @ np.where(in_section, 1.0, INTRODUCTION_HELD * in_introduction).astype(np.float32)
    return held / sum(weights)


def coverage(share: np.ndarray, term_count: int) -> tuple[np.ndarray, np.ndarray]:
    """The held share's logarithm as the keyword-query feature (at most KEYWORD_QUERY_TERMS terms) or the
    question feature, the other 0."""
    logarithm = np.log(np.maximum(share, LEAST_SHARE))
    zero = np.zeros_like(logarithm)
    return (logarithm, zero) if term_count <= KEYWORD_QUERY_TERMS else (zero, logarithm)


def phrase(pairs_held: np.ndarray, pair_count: int) -> np.ndarray:
    """ln(1 + PHRASE_BONUS * the share of the query's adjacent word pairs a section holds): at weight 1, a
    section holding them all scores 1 + PHRASE_BONUS times as much (0 for a query of one word)."""
    share = pairs_held / pair_count if pair_count else np.zeros_like(pairs_held)
    return np.log1p(PHRASE_BONUS * share)


def combined(features: np.ndarray, weights: Weights) -> np.ndarray:
    """Candidates' scores from their (candidate, feature) table: exp(Σ weight * feature), a product of one
    factor per feature."""
    return np.exp(features @ weights.values)


def contributions(features: np.ndarray, weights: Weights) -> np.ndarray:
    """Each feature's part of each candidate's log score: what `--explain` shows."""
    return features * weights.values
