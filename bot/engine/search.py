"""Search hits: a query in, the best sections of the index out, best first.

`Searcher.search_terms` takes the steps of the formula written out in `bot/engine/scoring.py`, in that
order: first-stage scores of the sections holding a query term, the best candidates, their rerank, the
phrase bonus, the order, and the answers (near-identical sections from several notes on the same video are
one answer: the best, with the others as its twins). How a query is read, misspelt words included, is
`bot/engine/spelling.py`.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from rapidfuzz import fuzz, process

from bot.engine.analysis import normalize
from bot.engine.index import SearchIndex
from bot.engine.links import LinkTargets
from bot.engine.parsing import video_url
from bot.engine.scope import NoteSets, Preference, Scope
from bot.engine.scoring import (
    CANDIDATES,
    FEATURES,
    PHRASE_CANDIDATES,
    Weights,
    combined,
    contributions,
    coverage,
    first_stage,
    held_share,
    load_weights,
    phrase,
    preference_factor,
    query_weighted,
)
from bot.engine.spelling import QueryReader, QueryTerms
from bot.engine.timestamps import minutes_first_text

MERGE_BELOW_SHARE = 8  # posting lists together shorter than 1/8 of the sections are merged, not scanned for
# Section masks of the scopes searched lately, kept for the next search in the same scope (a channel's):
# 180 KB each on a vault of 180,000 sections, so a few dozen channels' take a few MB.
SCOPE_MASKS_KEPT = 64
# Another note's section on the same video starting this close to an answer's tells the same part of the video:
# notes written apart mark the moment a topic starts some seconds apart. A minute, as `bench/engine.py`'s
# moment@1 counts a hit that close to the labelled moment as playing the same part.
TWIN_WINDOW_S = 60

Notes = Scope | np.ndarray  # some notes of the index: a scope, or a boolean mask over note ids


class Hit(NamedTuple):
    """A section found: what a message shows of it and where it links. A named tuple rather than a frozen
    dataclass: a query makes a dozen or more (its hits and their twins), and a frozen dataclass takes seven
    times as long to make (3.5 µs against 0.5 µs: one `object.__setattr__` a field)."""

    note: str  # path relative to the vault
    title: str
    heading: str
    heading_path: tuple[str, ...]
    score: float
    url: str | None
    timestamp: int | None  # seconds into the video, None where the section has no timestamp
    video_id: str | None
    text: str
    line: int
    anchor: str = ""  # the heading's id on the note's published page (github-slugger); "" for an introduction
    # Sections ranked below this one that say the same: of the same video at the same moment (another note's
    # within a minute of it), or under the same heading (several notes on one video cover much the same
    # ground). Shown with it, not after it.
    twins: tuple[Hit, ...] = ()

    @property
    def other_notes(self) -> list[Hit]:
        """Its twins in other notes than its own, the best of each note, best first."""
        best: dict[str, Hit] = {}
        for twin in self.twins:
            if twin.note != self.note:
                best.setdefault(twin.note, twin)
        return list(best.values())


@dataclass(frozen=True, slots=True)
class Explained:
    """A hit and the parts of its score: the first stage's fields, each feature, and each feature's part of
    the score's logarithm (its weight times its value; the parts add up to ln score)."""

    hit: Hit
    fields: dict[str, float]  # "section" (its own BM25F) and "note" (its note's BM25), as the query weighs them
    features: dict[str, float]  # FEATURES, by name
    weights: dict[str, float]
    parts: dict[str, float]  # weight * feature, by name


def section_hit(index: SearchIndex, section: int, score: float = 0.0) -> Hit:
    """A section of the index as a hit: its note, heading, text and link to its moment."""
    return section_hits(index, [section], [score])[0]


def section_hits(index: SearchIndex, sections: list[int], scores: list[float]) -> list[Hit]:
    """Sections of the index as hits, their columns read together (a query's hits are a good part of its
    time when each value is read from its array alone)."""
    ids = np.asarray(sections, dtype=np.int64)
    notes = index.section_note[ids]
    hits = []
    for section, score, note, first_ts, line, minutes_first, text, anchor in zip(
        sections,
        scores,
        notes.tolist(),
        index.section_first_ts[ids].tolist(),
        index.section_lines[ids].tolist(),
        index.note_minutes_first[notes].tolist(),
        index.section_texts.many(ids),
        index.section_anchors.many(ids),
        strict=True,
    ):
        timestamp = first_ts if first_ts >= 0 else None
        video_id = index.note_videos[note]
        hits.append(
            Hit(
                note=index.note_paths[note],
                title=index.note_titles[note],
                heading=index.section_headings[section],
                heading_path=index.section_paths[section],
                score=round(score, 4),
                url=video_url(video_id, timestamp),
                timestamp=timestamp,
                video_id=video_id,
                text=minutes_first_text(text) if minutes_first else text,
                line=line,
                anchor=anchor,
            )
        )
    return hits


def _holds(docs: np.ndarray, sections: np.ndarray) -> np.ndarray:
    """Which of `sections` appear in the sorted posting list `docs`."""
    at = np.minimum(np.searchsorted(docs, sections), len(docs) - 1)
    return docs[at] == sections


def _introductions(index: SearchIndex) -> np.ndarray:
    """For each note, its introduction section (the text before its first heading), or -1."""
    intro = np.full(index.note_count, -1, dtype=np.int64)
    firsts = np.r_[0, np.flatnonzero(np.diff(index.section_note)) + 1] if index.section_count else np.zeros(0, int)
    intro[index.section_note[firsts]] = np.where(index.section_levels[firsts] == 0, firsts, -1)
    return intro


def _matched(postings: list[np.ndarray], scores: np.ndarray, in_scope: np.ndarray | None) -> np.ndarray:
    """The sections of any of the sorted `postings` (and `in_scope`, when given), in order. Short lists
    are merged; long ones are read off the scores, a scan of every section that costs the same however
    many match."""
    if sum(len(docs) for docs in postings) * MERGE_BELOW_SHARE >= len(scores):
        held = scores > 0
        return np.flatnonzero(held if in_scope is None else held & in_scope)  # (on booleans: ten times faster)
    merged = np.concatenate(postings)
    merged.sort(kind="stable")  # a merge of the sorted runs
    first = np.ones(len(merged), dtype=bool)
    np.not_equal(merged[1:], merged[:-1], out=first[1:])
    if in_scope is not None:
        first &= in_scope[merged]
    return merged[first]


BAR_SAMPLE_STEP = 8  # `_best` sets its bar from every 8th score: an eighth of the work of a full selection


def _best(scores: np.ndarray, count: int) -> np.ndarray:
    """Where the `count` best scores are (all of them if fewer), in ascending order: among equal scores, the
    section first in the vault ranks first however the selection went.

    A selection over all the matched sections (tens of thousands for a common word) costs more than the rest of
    the first stage: a bar is set first from a sample, low enough that about twice `count` scores clear it,
    and only those are selected from. When at least `count` clear it, the best `count` all do, so the result
    is exact; when fewer do, all the scores are selected from."""
    count = min(count, len(scores))
    sample = scores[::BAR_SAMPLE_STEP]
    clearing = min(2 * count // BAR_SAMPLE_STEP, len(sample))
    if clearing:
        bar = np.partition(sample, len(sample) - clearing)[len(sample) - clearing]
        above = np.flatnonzero(scores >= bar)
        if len(above) >= count:
            return np.sort(above[_selected(scores[above], count)])
    return np.sort(_selected(scores, count))


def _selected(scores: np.ndarray, count: int) -> np.ndarray:
    return np.argpartition(scores, len(scores) - count)[len(scores) - count :]


def _best_first(scores: np.ndarray) -> np.ndarray:
    """The order of `scores`, best first; equal scores keep their order."""
    return np.argsort(-scores, kind="stable")


SHIPPED_WEIGHTS = load_weights()  # read once, at start
FIRST_STAGE, KEYWORD_COVERAGE, QUESTION_COVERAGE, INTRODUCTION, NO_MOMENT, PHRASE = range(len(FEATURES))


@dataclass(slots=True)
class Ranked:
    """A query's candidates and what ranked them, row by row, best first once ranked."""

    sections: np.ndarray
    section_scores: np.ndarray  # own BM25F, as the query weighs its terms
    note_scores: np.ndarray  # the note's BM25
    first: np.ndarray  # the first stage's score
    features: np.ndarray = field(default_factory=lambda: np.zeros((0, len(FEATURES)), dtype=np.float32))
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    def order_by(self, scores: np.ndarray) -> None:
        order = _best_first(scores)
        self.sections, self.section_scores = self.sections[order], self.section_scores[order]
        self.note_scores, self.first = self.note_scores[order], self.first[order]
        self.features, self.scores = self.features[order], scores[order]


class Searcher:
    """Ranks the sections of one index. Pure: the index is data, nothing else is touched."""

    def __init__(self, index: SearchIndex, weights: Weights | None = None) -> None:
        self.index = index
        self.weights = weights if weights is not None else SHIPPED_WEIGHTS
        self.reader = QueryReader(index)
        self._headings_folded = [normalize(h) for h in index.section_headings]
        # What makes two sections repeats of each other (`_answers`), as numbers read for 100 candidates at once:
        # each section's folded heading, and each note's video (a note without one stands for its own)
        self._heading_ids = _ids(self._headings_folded)
        videos = zip(index.note_videos, index.note_paths, strict=True)
        self._note_videos = _ids([video or path for video, path in videos])
        self._intro_of_note = _introductions(index)
        self.note_sets = NoteSets(index)
        self._scope_masks: dict[Scope, np.ndarray] = {}

    @functools.cached_property
    def links(self) -> LinkTargets:
        """What shared links point at in this index (built on first use: most indexes never see a link)."""
        return LinkTargets(self.index)

    def read_query(self, query: str) -> QueryTerms:
        """The query's terms, with words the vault does not know read as the close words it does."""
        return self.reader.read(query)

    def search(
        self, query: str, limit: int = 5, within: Notes | None = None, prefer: Preference | None = None
    ) -> list[Hit]:
        """The best `limit` sections for `query`, best first: of the notes `within` only, when given (a
        `Scope`, or a boolean mask over note ids); the sections of the notes `prefer` names score its factor
        more."""
        return self.search_terms(self.read_query(query), limit, within, prefer)

    def search_terms(
        self, query_terms: QueryTerms, limit: int = 5, within: Notes | None = None, prefer: Preference | None = None
    ) -> list[Hit]:
        """`search` for a query already read, for callers that also show how it was read (or read it with
        the context of an earlier one: `QueryTerms.with_context`). The steps are those of the formula in
        `bot/engine/scoring.py`."""
        ranked = self.rank(query_terms, within, prefer) if limit > 0 else None
        if ranked is None:
            return []
        return self._hits(ranked, self._answers(ranked, limit))

    def explain(self, query_terms: QueryTerms, limit: int = 5, within: Notes | None = None) -> list[Explained]:
        """`search_terms`' hits with the parts of their scores."""
        ranked = self.rank(query_terms, within) if limit > 0 else None
        if ranked is None:
            return []
        weights = self.weights.named()
        explained = []
        answers = self._answers(ranked, limit)
        for hit, (at, *_) in zip(self._hits(ranked, answers), answers, strict=True):
            fields = {"section": float(ranked.section_scores[at]), "note": float(ranked.note_scores[at])}
            features = dict(zip(FEATURES, ranked.features[at].tolist(), strict=True))
            parts = dict(zip(FEATURES, contributions(ranked.features[at], self.weights).tolist(), strict=True))
            explained.append(Explained(hit, fields, features, weights, parts))
        return explained

    def rank(
        self,
        query_terms: QueryTerms,
        within: Notes | None = None,
        prefer: Preference | None = None,
        phrase_candidates: int = PHRASE_CANDIDATES,
    ) -> Ranked | None:
        """The candidates of a query, best first, with their features and scores (steps 1 to 5 of the
        formula; None when no section holds a query word). `phrase_candidates` is how many of the best are
        checked for the query's word pairs (bench/learn_ranking.py checks them all)."""
        if not query_terms.terms:
            return None
        # 1. first-stage scores of the sections holding a query term (in scope), preferred notes' raised
        in_scope = None if within is None else self._sections_of(within)
        matched, section_scores, note_scores = self._first_stage(query_terms.terms, in_scope)
        if not len(matched):
            return None
        first = first_stage(section_scores, note_scores)
        if prefer is not None:
            first = first * preference_factor(self._sections_of(prefer.notes)[matched], prefer.factor)
        # 2. the best CANDIDATES of them
        best = _best(first, CANDIDATES)
        ranked = Ranked(matched[best], section_scores[best], note_scores[best], first[best])
        # 3. their features, and scores from all but the phrase (then best first: the next step takes the head)
        ranked.features = self._features(ranked, query_terms.terms)
        ranked.order_by(combined(ranked.features, self.weights))
        # 4. the phrase feature of the head, and its scores again
        head = slice(0, phrase_candidates)
        ranked.features[head, PHRASE] = self._phrase_shares(ranked.sections[head], query_terms.sequence)
        ranked.scores[head] = combined(ranked.features[head], self.weights)
        # 5. order
        ranked.order_by(ranked.scores)
        return ranked

    def _sections_of(self, notes: Notes) -> np.ndarray:
        """Which sections belong to `notes`, as a boolean array over section ids (a scope's is kept for the
        next search in it)."""
        if not isinstance(notes, Scope):
            if notes.shape != (self.index.note_count,) or notes.dtype != bool:
                count = self.index.note_count
                raise ValueError(f"a mask of notes is {count} booleans, not {notes.dtype} {notes.shape}")
            return notes[self.index.section_note]
        mask = self._scope_masks.pop(notes, None)
        if mask is None:
            mask = self.note_sets.mask(notes)[self.index.section_note]
            if len(self._scope_masks) >= SCOPE_MASKS_KEPT:
                del self._scope_masks[next(iter(self._scope_masks))]  # the least recently searched
        self._scope_masks[notes] = mask
        return mask

    def _first_stage(
        self, term_weights: dict[int, float], in_scope: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The sections holding a query term (of those `in_scope`, when given), and the two parts of their
        first-stage scores: own BM25F and their note's BM25, each a sum of the query terms' posting lists."""
        index = self.index
        sections = np.zeros(index.section_count, dtype=np.float32)
        notes = np.zeros(index.note_count, dtype=np.float32)
        postings = []
        for term_id, weight in term_weights.items():
            docs, impacts = index.section_postings.of(term_id)
            sections[docs] += query_weighted(impacts, weight)
            postings.append(docs)
            docs, impacts = index.note_postings.of(term_id)
            notes[docs] += query_weighted(impacts, weight)
        matched = _matched(postings, sections, in_scope)
        # `take` rather than indexing: twice as fast at gathering tens of thousands of sections by int32 note ids
        return matched, sections.take(matched), notes.take(index.section_note.take(matched))

    def _features(self, ranked: Ranked, term_weights: dict[int, float]) -> np.ndarray:
        """The (candidate, feature) table of FEATURES, the phrase's column left 0 (step 4 fills the head's):
        how much of the query the candidates hold (a word only their note's introduction holds counts in
        part), whether each is a note's introduction, and whether it links to a moment."""
        candidates, index = ranked.sections, self.index
        count, term_ids, weights = len(candidates), list(term_weights), list(term_weights.values())
        intros = self._intro_of_note[index.section_note[candidates]]
        found = self._held(term_ids, np.concatenate((candidates, intros)))  # both in one lookup
        share = held_share(found[:, :count], found[:, count:] & (intros >= 0), weights)
        features = np.zeros((count, len(FEATURES)), dtype=np.float32)
        features[:, FIRST_STAGE] = np.log(ranked.first)
        features[:, KEYWORD_COVERAGE], features[:, QUESTION_COVERAGE] = coverage(share, len(term_ids))
        features[:, INTRODUCTION] = index.section_levels[candidates] == 0
        features[:, NO_MOMENT] = index.section_first_ts[candidates] < 0
        return features

    def _held(self, term_ids: list[int], sections: np.ndarray) -> np.ndarray:
        """Which of `sections` hold each term, as a (term, section) table."""
        found = np.zeros((len(term_ids), len(sections)), dtype=bool)
        for row, term_id in enumerate(term_ids):
            docs, _ = self.index.section_postings.of(term_id)
            if len(docs):
                found[row] = _holds(docs, sections)
        return found

    def _phrase_shares(self, candidates: np.ndarray, sequence: tuple[int, ...]) -> np.ndarray:
        """The share of the query's adjacent word pairs each candidate holds, side by side as in the query."""
        pairs = list(dict.fromkeys((a, b) for a, b in itertools.pairwise(sequence) if a != b))
        if not pairs or not len(candidates):
            return np.zeros(len(candidates), dtype=np.float32)
        return phrase(self._pairs_held(candidates, pairs), len(pairs))

    def _pairs_held(self, candidates: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
        """How many of `pairs` each candidate holds, its terms side by side (float32, for the factor)."""
        # the candidates' terms end to end, gathered in one go (each section holds at least the
        # separator between its heading and body, so none is empty)
        ptr = self.index.section_token_ptr
        lengths = ptr[candidates + 1] - ptr[candidates]
        ends = np.cumsum(lengths)
        offsets = np.arange(int(ends[-1])) - np.repeat(ends - lengths, lengths)
        tokens = self.index.section_tokens[np.repeat(ptr[candidates], lengths) + offsets]
        is_term = {term: tokens == term for term in {term for pair in pairs for term in pair}}
        pair_at = np.zeros((len(pairs), len(tokens)), dtype=bool)  # where each pair starts
        for row, (a, b) in enumerate(pairs):
            pair_at[row, :-1] = is_term[a][:-1] & is_term[b][1:]
        pair_at[:, ends - 1] = False  # a section's last word and the next section's first are no pair
        held = np.logical_or.reduceat(pair_at, ends - lengths, axis=1)
        return held.sum(axis=0, dtype=np.float32)

    def suggest(self, query: str, limit: int = 3, within: Notes | None = None) -> list[str]:
        """Headings that look like the query, for when a search finds nothing (of the notes `within` only,
        when given)."""
        choices: dict[int, str] | list[str] = self._headings_folded
        if within is not None:
            choices = {int(i): self._headings_folded[i] for i in np.flatnonzero(self._sections_of(within))}
        found = process.extract(normalize(query), choices, scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=60)
        headings = dict.fromkeys(self.index.section_headings[i] for _, _, i in found if self.index.section_headings[i])
        return list(headings)[:limit]

    def _hits(self, ranked: Ranked, answers: list[list[int]]) -> list[Hit]:
        """Each answer's first section as a hit, with the rest of its sections as the hit's twins (all made in
        one `section_hits`: most of its time is a few array reads whatever the count)."""
        rows = [at for answer in answers for at in answer]  # each answer's rows, the answers end to end
        found = iter(section_hits(self.index, ranked.sections[rows].tolist(), ranked.scores[rows].tolist()))
        hits = []
        for answer in answers:
            first = next(found)
            hits.append(first._replace(twins=tuple(itertools.islice(found, len(answer) - 1))))
        return hits

    def _answers(self, ranked: Ranked, limit: int) -> list[list[int]]:
        """The first `limit` answers among the ranked candidates, each the rows of its sections, best first: a
        section telling again what an answer above it leads with (`_told_again`) is that answer's twin, not an
        answer of its own."""
        sections = ranked.sections
        videos = self._note_videos[self.index.section_note[sections]].tolist()
        notes = self.index.section_note[sections].tolist()
        moments = self.index.section_first_ts[sections].tolist()
        headings = self._heading_ids[sections].tolist()
        # the answers led on each video, as (moment, note, answer), best first; and under each (video, heading)
        led: dict[int, list[tuple[int, int, int]]] = {}
        under_heading: dict[tuple[int, int], int] = {}
        answers: list[list[int]] = []
        for at, (video, note, moment, heading) in enumerate(zip(videos, notes, moments, headings, strict=True)):
            leaders = led.get(video)
            repeated = _told_again(leaders, moment, note) if leaders and moment >= 0 else None
            if repeated is None:
                repeated = under_heading.get((video, heading))
            if repeated is not None:
                answers[repeated].append(at)
            elif len(answers) < limit:
                if moment >= 0:
                    led.setdefault(video, []).append((moment, note, len(answers)))
                under_heading[video, heading] = len(answers)
                answers.append([at])
        return answers


def _told_again(led: Sequence[tuple[int, int, int]], moment: int, note: int) -> int | None:
    """The best answer (of those `led` on a video, as (moment, note, answer)) that a section of `note` at
    `moment` tells again: one led at the same moment, or another note's led within TWIN_WINDOW_S of it
    (several notes on one video seldom start a section on the same second). None if it tells none."""
    for lead_moment, lead_note, answer in led:
        if moment == lead_moment or (note != lead_note and abs(moment - lead_moment) <= TWIN_WINDOW_S):
            return answer
    return None


def _ids(values: Sequence[str]) -> np.ndarray:
    """A number for each value, equal for equal values (int32)."""
    numbers: dict[str, int] = {}
    return np.array([numbers.setdefault(value, len(numbers)) for value in values], dtype=np.int32)


def sections_found(hits: Sequence[Hit], limit: int) -> list[tuple[Hit, int | None]]:
    """The sections of `hits` and of their twins, best first, the first `limit`: each with the rank (from 1)
    of the hit it is a twin of (None for a hit). What `notesbot search --batch` lists: every section a reader
    may want, twins included, in the order they ranked."""
    found = [(hit, None) for hit in hits] + [(twin, rank) for rank, hit in enumerate(hits, 1) for twin in hit.twins]
    return sorted(found, key=lambda pair: -pair[0].score)[:limit]
