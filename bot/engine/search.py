"""Search hits: a query in, the best sections of the index out, best first.

`Searcher.search_terms` takes the steps of the formula written out in `bot/engine/scoring.py`, in that
order: first-stage scores of the sections holding a query term, the best candidates, their rerank, the
phrase bonus, the order, and de-duplication (near-identical sections from several notes on the same
video are shown once). Query words that the vault does not know (or barely knows) are corrected
against its vocabulary with rapidfuzz.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.engine.analysis import normalize, query_words, stem
from bot.engine.index import SearchIndex
from bot.engine.parsing import video_url
from bot.engine.scoring import (
    CANDIDATES,
    PHRASE_CANDIDATES,
    coverage_factor,
    first_stage,
    held_share,
    introduction_factor,
    no_moment_factor,
    phrase_factor,
    query_weighted,
)

MERGE_BELOW_SHARE = 8  # posting lists together shorter than 1/8 of the sections are merged, not scanned for


MIN_KNOWN_DF = 3  # a word found in fewer sections than this may well be a typo
RARE_DF = 20  # a word in fewer sections than this may still be a common misspelling ...
MISSPELLING_RATIO = 30  # ... of a word this many times more frequent
# weight of a word searched beside one of the query's: a commoner spelling, a compound written solid
ALTERNATIVE_WEIGHT = 0.5
SPELLING_CANDIDATES = 8  # closest words weighed as what a misspelt word meant
EDIT_COST = 4.0  # log-odds against each edit: most words are typed as meant
CONTEXT_PRIOR = 3.0  # notes' worth of chance co-occurrence a context fit starts from
# A correction must be a word the vault uses at least this often: in a large vault, words seen once or
# twice are often typos themselves; in a small one, they are all the vault has.
MIN_SPELLING_COUNT = 3
SMALL_VAULT_WORDS = 100_000


@dataclass(frozen=True, slots=True)
class QueryTerms:
    query: str  # as typed
    terms: dict[int, float]  # term id -> weight
    sequence: tuple[int, ...]  # term ids in the order of the query, for phrase matching
    corrections: dict[str, str]  # query word -> the word it was read as


class QueryReader:
    """Reads queries against one index. Pure: the index is data, nothing else is touched."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        self.speller = Speller(index.surface_words)
        self.section_df = np.diff(index.section_postings.ptr)  # sections holding each term

    def read(self, query: str) -> QueryTerms:
        """The query's terms, with words the vault does not know read as the close words it does."""
        weighed = query_words(query, solid_weight=ALTERNATIVE_WEIGHT)
        term_ids = [self.term_id(word) for word, _ in weighed]
        context = _Context(self.index, term_ids)
        corrections: dict[str, str] = {}
        sequence: list[int] = []
        weights: dict[int, float] = {}
        for (word, weight), term_id in zip(weighed, term_ids, strict=True):
            df = self.section_df[term_id] if term_id is not None else 0
            if df < MIN_KNOWN_DF:
                fixed = self._spelling(word, term_id, self.speller.candidates(word), context)
                if fixed is not None:
                    corrections[word] = fixed
                    term_id = self.term_id(fixed)
            elif df < RARE_DF:
                # a rare word may be a common misspelling of a common word (or a name): search both
                uses = self.index.surface_words.get(word, 0)
                candidates = self.speller.candidates(word, at_least=uses * MISSPELLING_RATIO, max_edits=1)
                fixed = self._spelling(word, term_id, candidates, context)
                if fixed is not None and (alternative := self.term_id(fixed)) != term_id:
                    corrections[word] = fixed
                    weights[alternative] = weights.get(alternative, 0.0) + ALTERNATIVE_WEIGHT * weight
            if term_id is not None:
                sequence.append(term_id)
                weights[term_id] = weights.get(term_id, 0.0) + weight
        return QueryTerms(query, weights, tuple(sequence), corrections)

    def term_id(self, word: str) -> int | None:
        """The index's term for a word, or None where the vault does not use it."""
        return self.index.vocabulary.get(stem(word))

    def _spelling(
        self, word: str, term_id: int | None, candidates: list[tuple[str, int]], context: _Context
    ) -> str | None:
        """The word the user most likely meant, or None to keep `word` as typed.

        A noisy channel: how common a candidate is, less a cost per edit, plus how much more often
        the query's other words share a note with it than chance would have it. So "theorm" beside
        "godel" reads as "theorem", not the commoner "theory"; "bleu" beside "rouge" stays "bleu".
        """
        choices = [(self.term_id(choice), distance, choice) for choice, distance in candidates]
        choices = [choice for choice in choices if choice[0] is not None]
        if not choices:
            return None  # nothing to weigh the word as typed against
        if term_id is not None:
            choices.append((term_id, 0, None))
        ids = np.array([choice_id for choice_id, _, _ in choices])
        edits = np.array([distance for _, distance, _ in choices])
        return choices[int(np.argmax(context.fits(ids, term_id) - EDIT_COST * edits))][2]


class Speller:
    """Corrects query words against the words of the vault, favouring the common ones."""

    def __init__(self, surface_words: dict[str, int]) -> None:
        # Words grouped by first letter: a slip rarely hits the first letter, so only the words sharing
        # it are candidates (a few thousand, not the whole vocabulary: a miss costs little). A second
        # set of groups holds only the common words, for when only a common word will do.
        least = MIN_SPELLING_COUNT if sum(surface_words.values()) > SMALL_VAULT_WORDS else 1
        grouped: dict[tuple[bool, str], list[tuple[int, str, int]]] = {}
        for word, count in surface_words.items():
            if count >= least and word.isalpha():
                for common in {False, count > MISSPELLING_RATIO}:
                    grouped.setdefault((common, word[0]), []).append((len(word), word, count))
        self._groups = {key: _SpellingGroup.of(sorted(entries)) for key, entries in grouped.items()}

    def candidates(self, word: str, at_least: int = 0, max_edits: int = 2) -> list[tuple[str, int]]:
        """The closest words used more than `at_least` times, within one edit (`max_edits` for longer
        words), closest then most common first, with their edit distances.

        Edits count a swap of neighbours as one (a typing slip).
        """
        if not word:
            return []
        max_edits = 1 if len(word) <= 5 else max_edits
        group = self._groups.get((at_least >= MISSPELLING_RATIO, word[0]))
        if group is None:
            return []
        found: list[tuple[int, int, str]] = []
        for position in group.near(word, at_least, max_edits):
            choice = group.words[position]
            distance = OSA.distance(word, choice, score_cutoff=max_edits)
            if distance <= max_edits and choice != word:
                found.append((distance, -int(group.counts[position]), choice))
        return [(choice, distance) for distance, _, choice in sorted(found)[:SPELLING_CANDIDATES]]


@dataclass(frozen=True, slots=True)
class _SpellingGroup:
    """Words sharing a first letter, shortest first, with how often each is used and the letters in it."""

    words: list[str]
    lengths: np.ndarray
    counts: np.ndarray
    letters: np.ndarray  # uint32: bit (code point % 32) set for each letter the word has

    @classmethod
    def of(cls, entries: list[tuple[int, str, int]]) -> _SpellingGroup:
        return cls(
            [word for _, word, _ in entries],
            np.array([length for length, _, _ in entries]),
            np.array([count for _, _, count in entries]),
            np.array([_letter_bits(word) for _, word, _ in entries], dtype=np.uint32),
        )

    def near(self, word: str, at_least: int, max_edits: int) -> list[int]:
        """Positions of the words used more than `at_least` times that may be within `max_edits` of
        `word`: a length within reach, and letters differing by at most two per edit (an edit adds or
        drops at most one letter each side, so this never loses a word that is in reach)."""
        start, end = np.searchsorted(self.lengths, [len(word) - max_edits, len(word) + max_edits + 1])
        differ = np.bitwise_count(self.letters[start:end] ^ np.uint32(_letter_bits(word)))
        return (start + np.flatnonzero((differ <= 2 * max_edits) & (self.counts[start:end] > at_least))).tolist()


def _letter_bits(word: str) -> int:
    bits = 0
    for letter in word:
        bits |= 1 << (ord(letter) & 31)
    return bits


class _Context:
    """A query's words as the notes holding each, to weigh how well a spelling fits among them."""

    def __init__(self, index: SearchIndex, term_ids: list[int | None]) -> None:
        self.index = index
        self.term_ids = np.array(list(dict.fromkeys(t for t in term_ids if t is not None)), dtype=np.int64)

    def fits(self, term_ids: np.ndarray, word_id: int | None) -> np.ndarray:
        """For each term: log P(term) + the sum over the query's other words of log P(word | term) / P(word),
        over notes, smoothed towards chance so a few shared notes do not decide alone."""
        held_by = [self.index.note_postings.of(term_id)[0] for term_id in term_ids]
        sizes = np.array([len(notes) for notes in held_by], dtype=np.float64)
        notes, chance = self._table
        starts = np.r_[0, np.cumsum(sizes[:-1])].astype(np.intp)
        shared = np.add.reduceat(notes[:, np.concatenate(held_by)], starts, axis=1, dtype=np.float64)
        fit = np.log((shared + CONTEXT_PRIOR * chance) / (sizes + CONTEXT_PRIOR) / chance)
        # the context is the query's other words: neither the word weighed nor the candidate itself
        fit[(self.term_ids[:, None] == term_ids[None, :]) | (self.term_ids == word_id)[:, None]] = 0.0
        return np.log(sizes / self.index.note_count) + fit.sum(axis=0)

    @cached_property
    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        """Which notes hold each of the query's words, and the share of notes holding it; made when a
        spelling is first weighed, as most queries weigh none."""
        notes = np.zeros((len(self.term_ids), self.index.note_count), dtype=bool)
        for row, term_id in enumerate(self.term_ids):
            notes[row, self.index.note_postings.of(term_id)[0]] = True
        return notes, notes.sum(axis=1, dtype=np.float64)[:, None] / self.index.note_count


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


def _matched(postings: list[np.ndarray], scores: np.ndarray) -> np.ndarray:
    """The sections of any of the sorted `postings`, in order. Short lists are merged; long ones are read
    off the scores, a scan of every section that costs the same however many match."""
    if sum(len(docs) for docs in postings) * MERGE_BELOW_SHARE >= len(scores):
        return np.flatnonzero(scores > 0)  # (on a boolean array: ten times faster than on floats)
    merged = np.concatenate(postings)
    merged.sort(kind="stable")  # a merge of the sorted runs
    first = np.ones(len(merged), dtype=bool)
    np.not_equal(merged[1:], merged[:-1], out=first[1:])
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

    def read_query(self, query: str) -> QueryTerms:
        """The query's terms, with words the vault does not know read as the close words it does."""
        return self.reader.read(query)

    def search(self, query: str, limit: int = 5) -> list[Hit]:
        """The best `limit` sections for `query`, best first."""
        return self.search_terms(self.read_query(query), limit)

    def search_terms(self, query_terms: QueryTerms, limit: int = 5) -> list[Hit]:
        """`search` for a query already read, for callers that also show how it was read. The steps are
        those of the formula in `bot/engine/scoring.py`."""
        if not query_terms.terms or limit <= 0:
            return []
        # 1. first-stage scores of the sections holding a query term
        matched, first = self._first_stage(query_terms.terms)
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

    def _first_stage(self, term_weights: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
        """The sections holding a query term, and their first-stage scores: own BM25F plus a share of their
        note's BM25, each a sum of the query terms' posting lists."""
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
        matched = _matched(postings, sections)
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

    def suggest(self, query: str, limit: int = 3) -> list[str]:
        """Headings that look like the query, for when a search finds nothing."""
        found = process.extract(
            normalize(query), self._headings_folded, scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=60
        )
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
