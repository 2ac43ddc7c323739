"""Search hits: a query in, the best sections of the index out, best first.

`Searcher.search_terms` takes the steps of the formula written out in `bot/engine/scoring.py`, in that
order: first-stage scores of the sections holding a query term, the best candidates, their rerank, the
phrase bonus, the order, and de-duplication (near-identical sections from several notes on the same
video are shown once). How a query is read, misspelt words included, is `bot/engine/spelling.py`.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from bot.engine.analysis import normalize
from bot.engine.index import SearchIndex
from bot.engine.links import LinkTargets, page_headings
from bot.engine.parsing import video_url
from bot.engine.scope import NoteSets, Preference, Scope
from bot.engine.scoring import (
    CANDIDATES,
    PHRASE_CANDIDATES,
    coverage_factor,
    first_stage,
    held_share,
    introduction_factor,
    no_moment_factor,
    phrase_factor,
    preference_factor,
    query_weighted,
)
from bot.engine.slugs import heading_ids
from bot.engine.spelling import QueryReader, QueryTerms

MERGE_BELOW_SHARE = 8  # posting lists together shorter than 1/8 of the sections are merged, not scanned for
# Section masks of the scopes searched lately, kept for the next search in the same scope (a channel's):
# 180 KB each on a vault of 180,000 sections, so a few dozen channels' take a few MB.
SCOPE_MASKS_KEPT = 64

Notes = Scope | np.ndarray  # some notes of the index: a scope, or a boolean mask over note ids


@dataclass(frozen=True, slots=True)
class Hit:
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
    # The note's headings up to and including this one, in page order: they make the heading's id on the
    # published page (`anchor`), worked out only when a message links there.
    page_headings: tuple[str, ...] = ()

    @property
    def anchor(self) -> str:
        """The heading's id on the note's published page (github-slugger, repeats numbered); "" for an
        introduction."""
        return heading_ids(self.page_headings)[-1] if self.page_headings else ""


def section_hit(index: SearchIndex, section: int, score: float = 0.0) -> Hit:
    """A section of the index as a hit: its note, heading, text and link to its moment."""
    note = int(index.section_note[section])
    first_ts = int(index.section_first_ts[section])
    timestamp = first_ts if first_ts >= 0 else None
    video_id = index.note_videos[note]
    return Hit(
        note=index.note_paths[note],
        title=index.note_titles[note],
        heading=index.section_headings[section],
        heading_path=index.section_paths[section],
        score=round(score, 4),
        url=video_url(video_id, timestamp),
        timestamp=timestamp,
        video_id=video_id,
        text=index.section_texts[section],
        line=int(index.section_lines[section]),
        page_headings=page_headings(index, section),
    )


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


def _best(sections: np.ndarray, scores: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The `count` best-scoring of some sections (all of them if fewer), in no particular order, with their
    scores."""
    count = min(count, len(sections))
    best = np.argpartition(scores, len(scores) - count)[len(scores) - count :]
    return sections[best], scores[best]


def _ranked(sections: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best first; equal scores keep their order."""
    order = np.argsort(-scores, kind="stable")
    return sections[order], scores[order]


class Searcher:
    """Ranks the sections of one index. Pure: the index is data, nothing else is touched."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        self.reader = QueryReader(index)
        self._headings_folded = [normalize(h) for h in index.section_headings]
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
        if not query_terms.terms or limit <= 0:
            return []
        # 1. first-stage scores of the sections holding a query term (in scope), preferred notes' raised
        matched, first = self._first_stage(query_terms.terms, None if within is None else self._sections_of(within))
        if prefer is not None:
            first = first * preference_factor(self._sections_of(prefer.notes)[matched], prefer.factor)
        if not len(matched):
            return []
        # 2. the best CANDIDATES of them
        candidates, first = _best(matched, first, CANDIDATES)
        # 3. rerank factors (then best first: the next step takes the head)
        candidates, scores = _ranked(candidates, first * self._rerank_factors(candidates, query_terms.terms))
        # 4. phrase bonus on the head
        head = slice(0, PHRASE_CANDIDATES)
        scores[head] *= self._phrase_factors(candidates[head], query_terms.sequence)
        # 5. order
        candidates, scores = _ranked(candidates, scores)
        # 6. de-duplicate
        by_section = dict(zip(candidates.tolist(), scores.tolist(), strict=True))
        return [section_hit(self.index, i, by_section[i]) for i in self._distinct(candidates, limit)]

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
    ) -> tuple[np.ndarray, np.ndarray]:
        """The sections holding a query term (of those `in_scope`, when given), and their first-stage scores:
        own BM25F plus a share of their note's BM25, each a sum of the query terms' posting lists."""
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
        return matched, first_stage(sections[matched], notes[index.section_note[matched]])

    def _rerank_factors(self, candidates: np.ndarray, term_weights: dict[int, float]) -> np.ndarray:
        """How much of the query the candidates hold (a word only their note's introduction holds counts in
        part), whether each is a note's introduction, and whether it links to a moment, as one factor each."""
        count = len(candidates)
        intros = self._intro_of_note[self.index.section_note[candidates]]
        found = self._held(list(term_weights), np.concatenate((candidates, intros)))  # both in one lookup
        share = held_share(found[:, :count], found[:, count:] & (intros >= 0), list(term_weights.values()))
        return (
            coverage_factor(share, len(term_weights))
            * introduction_factor(self.index.section_levels[candidates] == 0)
            * no_moment_factor(self.index.section_first_ts[candidates] < 0)
        )

    def _held(self, term_ids: list[int], sections: np.ndarray) -> np.ndarray:
        """Which of `sections` hold each term, as a (term, section) table."""
        found = np.zeros((len(term_ids), len(sections)), dtype=bool)
        for row, term_id in enumerate(term_ids):
            docs, _ = self.index.section_postings.of(term_id)
            if len(docs):
                found[row] = _holds(docs, sections)
        return found

    def _phrase_factors(self, candidates: np.ndarray, sequence: tuple[int, ...]) -> np.ndarray:
        """The phrase factor of each candidate: how many of the query's adjacent word pairs stand next to
        each other in it, as in the query."""
        pairs = list(dict.fromkeys((a, b) for a, b in itertools.pairwise(sequence) if a != b))
        if not pairs or not len(candidates):
            return np.ones(len(candidates), dtype=np.float32)
        return phrase_factor(self._pairs_held(candidates, pairs), len(pairs))

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

    def _distinct(self, ranked: np.ndarray, limit: int) -> list[int]:
        """The first `limit` sections that do not repeat one ranked above them: same video and moment, or
        same heading and video (several notes on one video say much the same)."""
        seen: set[tuple] = set()
        kept: list[int] = []
        for i in ranked.tolist():
            if len(kept) == limit:
                break
            note = self.index.section_note[i]
            video = self.index.note_videos[note] or self.index.note_paths[note]
            keys = {(video, "t", int(self.index.section_first_ts[i])), (video, "h", self._headings_folded[i])}
            if self.index.section_first_ts[i] < 0:
                keys.discard((video, "t", -1))
            if keys & seen:
                continue
            seen |= keys
            kept.append(int(i))
        return kept
