"""Reading a query: its words as the index's terms, each with its weight in the query; a word the vault
does not know (or barely knows) is read as a close word the vault uses (rapidfuzz finds the candidates,
the rest of the query chooses among them), or searched beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from rapidfuzz.distance import OSA

from bot.engine.analysis import query_words, stem
from bot.engine.index import SearchIndex

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
    context: tuple[str, ...] = ()  # earlier queries read with this one (`with_context`), as typed

    def with_context(self, earlier: QueryTerms, weight: float) -> QueryTerms:
        """This query read together with an earlier one (a follow-up in a thread after the question it
        follows): its own terms at their weights, and the earlier query's other terms at `weight` (0 to 1)
        times theirs. A word of both counts as this query's. Phrases, corrections and the query as typed
        stay this query's own."""
        if not 0 <= weight <= 1:
            raise ValueError(f"a context's weight is from 0 to 1, not {weight}")
        added = {term: weight * w for term, w in earlier.terms.items() if term not in self.terms and weight * w > 0}
        context = (*self.context, *earlier.context, earlier.query)
        return QueryTerms(self.query, self.terms | added, self.sequence, self.corrections, context)


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
            _letter_bits([word for _, word, _ in entries]),
        )

    def near(self, word: str, at_least: int, max_edits: int) -> list[int]:
        """Positions of the words used more than `at_least` times that may be within `max_edits` of
        `word`: a length within reach, and letters differing by at most two per edit (an edit adds or
        drops at most one letter each side, so this never loses a word that is in reach)."""
        start, end = np.searchsorted(self.lengths, [len(word) - max_edits, len(word) + max_edits + 1])
        differ = np.bitwise_count(self.letters[start:end] ^ _letter_bits([word])[0])
        return (start + np.flatnonzero((differ <= 2 * max_edits) & (self.counts[start:end] > at_least))).tolist()


def _letter_bits(words: list[str]) -> np.ndarray:
    """For each of `words` (none empty), bit (code point % 32) set for each letter it has, as uint32: worked out
    for all the words at once (a vault's hundred thousand, one at a time, were a fifth of a warm start)."""
    points = np.frombuffer("".join(words).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    starts = np.cumsum([0, *map(len, words[:-1])])
    return np.bitwise_or.reduceat(np.left_shift(np.uint32(1), points & 31), starts).astype(np.uint32)


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
