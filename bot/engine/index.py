"""The index: parsed notes in, term postings with precomputed BM25F impacts out.

Every section is scored over three fields (the note's title, the section's heading path and its body)
with BM25F; every note is scored as a whole with BM25 as well, so a query can be matched by the note it
belongs to as much as by the section itself. Impacts are computed once at build time, from the pieces of
`bot/engine/scoring.py` (where the whole formula is written out): a query is then only a sum of posting
lists, which keeps search fast on large vaults.
"""

from __future__ import annotations

import operator
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

from bot.engine.analysis import stem, terms, words
from bot.engine.parsing import Note
from bot.engine.records import pickled_as_fields
from bot.engine.scoring import (
    BODY_B,
    BODY_WEIGHT,
    HEADING_B,
    HEADING_WEIGHT,
    NOTE_B,
    TITLE_B,
    TITLE_WEIGHT,
    idf,
    length_norm,
    normalised_tf,
    saturation,
)
from bot.engine.slugs import heading_ids
from bot.engine.timestamps import VideoMoments, minutes_first_by_video


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class NoteTerms:
    """A note's terms, compactly: its distinct terms once, then positions into them.

    `tokens` holds each section's heading-path terms, SEPARATOR, then its body terms; section i ends
    at `section_ends[i]` and its heading takes its first `heading_lengths[i]` tokens. Arrays rather
    than tuples of strings keep the parsed-notes cache small and quick to load.
    """

    vocabulary: str  # distinct terms, space-separated (one string, not millions across a vault)
    title: array  # array("i") of positions in `vocabulary`
    tokens: array  # array("i")
    section_ends: array  # array("i")
    heading_lengths: array  # array("i")
    surface_words: str  # unstemmed words, space-separated, for typo correction ...
    surface_counts: array  # ... and how often each occurs in the note


SEPARATOR = -1  # between a section's heading and body terms: no phrase spans it


def analyze_note(note: Note) -> NoteTerms:
    """The terms of a note's fields; done once per file and cached with the parsed note."""
    local: dict[str, int] = {}

    def positions(found: list[str]) -> list[int]:
        return [local.setdefault(term, len(local)) for term in found]

    surface: Counter[str] = Counter(words(note.title))
    title = array("i", positions(terms(note.title)))
    tokens, section_ends, heading_lengths = array("i"), array("i"), array("i")
    for section in note.sections:
        heading = positions(terms(" ".join((*section.path, section.heading))))
        body_words = words(section.text)
        surface.update(words(section.heading))  # a word only headings use can be misspelt too
        surface.update(body_words)
        tokens.extend(heading)
        tokens.append(SEPARATOR)
        tokens.extend(positions([stem(word) for word in body_words]))
        section_ends.append(len(tokens))
        heading_lengths.append(len(heading))
    return NoteTerms(
        " ".join(local), title, tokens, section_ends, heading_lengths, " ".join(surface), array("i", surface.values())
    )


@dataclass(frozen=True, slots=True)
class TextColumn(Sequence[str]):
    """Many strings kept as one UTF-8 blob: a large vault's section texts then take about half the
    memory of separate strings, and load from the cache in one piece."""

    blob: bytes | bytearray
    ends: np.ndarray  # int64: where each text ends in `blob`

    @classmethod
    def of(cls, texts: Iterable[str]) -> TextColumn:
        encoded = [text.encode("utf-8", "surrogatepass") for text in texts]
        return cls(b"".join(encoded), np.cumsum([len(e) for e in encoded], dtype=np.int64))

    def __len__(self) -> int:
        return len(self.ends)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = operator.index(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        start = int(self.ends[i - 1]) if i else 0
        return self.blob[start : int(self.ends[i])].decode("utf-8", "surrogatepass")

    def many(self, ids: np.ndarray) -> list[str]:
        """The texts of `ids` (an int array of valid ids), their bounds read together: for a query's dozen
        or so hits, half the time of reading each alone (15 µs against 32 µs for 14 texts)."""
        blob, ends = self.blob, self.ends
        return [
            blob[start if i else 0 : end].decode("utf-8", "surrogatepass")
            for i, start, end in zip(ids.tolist(), ends[ids - 1].tolist(), ends[ids].tolist(), strict=True)
        ]


@dataclass(slots=True)
class Postings:
    """Compressed sparse rows: for term id t, `docs[ptr[t]:ptr[t+1]]` with `impacts` alike.

    Docs are held as numpy's index type: numpy would otherwise widen every posting list a query indexes
    with, on every query. They are pickled as int32, which halves their size on disk.
    """

    ptr: np.ndarray  # int64, one more than there are terms
    docs: np.ndarray  # intp
    impacts: np.ndarray  # float32

    def __post_init__(self) -> None:
        self.docs = self.docs.astype(np.intp, copy=False)

    def __reduce__(self) -> tuple[type[Postings], tuple[np.ndarray, np.ndarray, np.ndarray]]:
        return Postings, (self.ptr, self.docs.astype(np.int32), self.impacts)

    def of(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = self.ptr[term_id], self.ptr[term_id + 1]
        return self.docs[start:end], self.impacts[start:end]


@dataclass(slots=True)
class SearchIndex:
    """Columns of sections and notes, and the postings to rank them."""

    note_paths: list[str]
    note_titles: list[str]
    note_videos: list[str | None]
    # the notes each note's wikilinks name, as written (their lines are for the build's report of broken links:
    # targets alone load many times faster from the cache, and a warm start reads a vault's every link)
    note_link_targets: list[tuple[str, ...]]
    note_tags: list[tuple[str, ...]]  # front matter tags, for scopes (`bot/engine/scope.py`)
    section_note: np.ndarray  # int32: the note of each section
    section_headings: list[str]
    section_paths: list[tuple[str, ...]]
    section_levels: np.ndarray  # int8
    section_lines: np.ndarray  # int32
    section_first_ts: np.ndarray  # int32, -1 where the section has no timestamp
    # Notes whose moments read both ways and are read minutes first, as their video's other notes say: their
    # sections' moments are a 60th of the parse's, and so are their texts' labels (`minutes_first_text`)
    note_minutes_first: np.ndarray  # bool
    section_texts: TextColumn
    # Each section's heading id on its note's published page (github-slugger, repeats numbered in page order; "" for an
    # introduction): worked out once here, not for every hit a query shows
    section_anchors: TextColumn
    # Each section's term ids in order (heading path, SEPARATOR, body), for phrase matching:
    # those of section i are section_tokens[section_token_ptr[i]:section_token_ptr[i + 1]].
    section_tokens: np.ndarray  # int32
    section_token_ptr: np.ndarray  # int64
    vocabulary: dict[str, int]  # stemmed term -> id
    section_postings: Postings
    note_postings: Postings
    surface_words: dict[str, int]  # unstemmed word -> how many times it occurs in the vault

    @property
    def section_count(self) -> int:
        return len(self.section_headings)

    @property
    def note_count(self) -> int:
        return len(self.note_paths)


def build_index(notes: Iterable[tuple[Note, NoteTerms]]) -> SearchIndex:
    """Index notes, each with its `analyze_note` terms."""
    rows = _Rows()
    for note, note_terms in notes:
        rows.add_note(note, note_terms)
    return rows.build()


class _Rows:
    """Columns of notes and sections and their term ids, gathered one note at a time: only these
    compact columns are kept, never the parsed notes themselves."""

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}
        self.surface: dict[str, int] = {}
        self.note_paths: list[str] = []
        self.note_titles: list[str] = []
        self.note_videos: list[str | None] = []
        self.note_link_targets: list[tuple[str, ...]] = []
        self.note_tags: list[tuple[str, ...]] = []
        self.note_forms = array("b")  # rules 5 and 6 of bot/engine/timestamps.py: what they decide a note by ...
        self.note_latest = array("i")  # ... its latest moment as parsed (-1 for none) ...
        self.note_moments = array("i")  # ... and how many it has
        self.note = array("i")
        self.headings: list[str] = []
        self.paths: list[tuple[str, ...]] = []
        self.levels = array("b")
        self.lines = array("i")
        self.first_ts = array("i")
        self.texts = bytearray()
        self.text_ends = array("q")
        self.anchors: list[str] = []
        # array("i") rather than lists: a large vault has tens of millions of terms
        self.tokens = array("i")
        self.token_ptr = array("q", [0])
        self.heading_length = array("i")
        self.title_terms = array("i")  # one row per (note, title term)
        self.title_notes = array("i")

    def add_note(self, note: Note, note_terms: NoteTerms) -> None:
        note_id = len(self.note_paths)
        self.note_paths.append(note.path)
        self.note_titles.append(note.title)
        self.note_videos.append(note.video_id)
        self.note_link_targets.append(tuple(link.target for link in note.links))
        self.note_tags.append(note.tags)
        moments = [moment for section in note.sections for moment in section.timestamps]
        self.note_forms.append(note.stamp_form)
        self.note_latest.append(max(moments, default=-1))
        self.note_moments.append(len(moments))
        surface, seen = self.surface, self.surface.get
        for word, count in zip(note_terms.surface_words.split(), note_terms.surface_counts, strict=True):
            surface[word] = seen(word, 0) + count
        vocabulary = self.vocabulary
        to_global = np.array(
            [vocabulary.setdefault(term, len(vocabulary)) for term in note_terms.vocabulary.split()] + [SEPARATOR],
            dtype=np.int32,
        )  # position -1 (SEPARATOR) maps to the last entry, SEPARATOR itself
        title_ids = to_global[np.frombuffer(note_terms.title, dtype=np.int32)]
        self.title_terms.extend(title_ids.tolist())
        self.title_notes.extend([note_id] * len(title_ids))
        self.tokens.frombytes(to_global[np.frombuffer(note_terms.tokens, dtype=np.int32)].tobytes())
        base = self.token_ptr[-1]
        self.token_ptr.extend(base + end for end in note_terms.section_ends)
        self.heading_length.extend(note_terms.heading_lengths)
        ids = iter(heading_ids(section.heading for section in note.sections if section.level))
        self.anchors.extend(next(ids) if section.level else "" for section in note.sections)
        for section in note.sections:
            self.note.append(note_id)
            self.headings.append(section.heading)
            self.paths.append(section.path)
            self.levels.append(section.level)
            self.lines.append(section.line)
            self.first_ts.append(section.timestamps[0] if section.timestamps else -1)
            self.texts += section.text.encode("utf-8", "surrogatepass")
            self.text_ends.append(len(self.texts))

    def build(self) -> SearchIndex:
        tokens = np.frombuffer(self.tokens, dtype=np.int32)
        token_ptr = np.frombuffer(self.token_ptr, dtype=np.int64)
        section_note = np.frombuffer(self.note, dtype=np.int32)
        section_postings, note_postings = _postings(self, tokens, token_ptr, section_note, len(self.note_paths))
        minutes_first = self._minutes_first()
        first_ts = np.frombuffer(self.first_ts, dtype=np.int32).copy()
        read_as_minutes = minutes_first[section_note] & (first_ts >= 0)
        first_ts[read_as_minutes] //= 60
        return SearchIndex(
            note_paths=self.note_paths,
            note_titles=self.note_titles,
            note_videos=self.note_videos,
            note_link_targets=self.note_link_targets,
            note_tags=self.note_tags,
            section_note=section_note,
            section_headings=self.headings,
            section_paths=self.paths,
            section_levels=np.frombuffer(self.levels, dtype=np.int8),
            section_lines=np.frombuffer(self.lines, dtype=np.int32),
            section_first_ts=first_ts,
            note_minutes_first=minutes_first,
            section_texts=TextColumn(self.texts, np.frombuffer(self.text_ends, dtype=np.int64)),
            section_anchors=TextColumn.of(self.anchors),
            section_tokens=tokens,
            section_token_ptr=token_ptr,
            vocabulary=self.vocabulary,
            section_postings=section_postings,
            note_postings=note_postings,
            surface_words=self.surface,
        )

    def _minutes_first(self) -> np.ndarray:
        """Which notes read minutes first by what the other notes on their video say (timestamps.py, rules 5 and 6)."""
        numbers: dict[str, int] = {}
        videos = np.array([numbers.setdefault(v, len(numbers)) if v else -1 for v in self.note_videos], dtype=np.int64)
        return minutes_first_by_video(
            videos,
            np.frombuffer(self.note_forms, dtype=np.int8),
            np.frombuffer(self.note_latest, dtype=np.int32).astype(np.int64),
            np.frombuffer(self.note_moments, dtype=np.int32),
            VideoMoments(np.frombuffer(self.note, dtype=np.int32), np.frombuffer(self.first_ts, dtype=np.int32)),
        )


CHUNK_SECTIONS = 16_384  # sections counted at a time: bounds the memory a large vault needs to build


def _postings(
    rows: _Rows, tokens: np.ndarray, token_ptr: np.ndarray, section_note: np.ndarray, note_count: int
) -> tuple[Postings, Postings]:
    """Section postings (BM25F over title, heading path and body) and note postings (BM25 over the note).

    Term counts are gathered a chunk of whole notes at a time; only the per-(term, document) rows are
    kept, and they are put in term order once at the end. The steps build the index-time part of the
    formula in `bot/engine/scoring.py`.
    """
    section_count = len(section_note)
    vocabulary_size = len(rows.vocabulary)
    # 1. the length norm of every field of every section, and of every whole note
    lengths = _Lengths.of(rows, token_ptr, section_note, note_count)
    title_ptr = np.zeros(note_count + 1, dtype=np.int64)
    title_ptr[1:] = np.cumsum(np.bincount(np.frombuffer(rows.title_notes, dtype=np.int32), minlength=note_count))
    title_terms = np.frombuffer(rows.title_terms, dtype=np.int32)
    section_parts, note_parts = [], []
    for start, end in _note_aligned_chunks(section_note):
        # 2. how often each term occurs in each field of the chunk's sections: heading path, body, title
        first_note, last_note = int(section_note[start]), int(section_note[end - 1]) + 1
        in_chunk = slice(int(token_ptr[start]), int(token_ptr[end]))
        docs = np.repeat(np.arange(start, end, dtype=np.int64), np.diff(token_ptr[start : end + 1]))
        position = np.arange(in_chunk.start, in_chunk.stop, dtype=np.int64) - token_ptr[docs]
        terms_ = tokens[in_chunk].astype(np.int64)
        in_heading = position < lengths.heading[docs]
        in_body = ~in_heading & (terms_ != SEPARATOR)
        heading = _counts(terms_[in_heading], docs[in_heading])
        body = _counts(terms_[in_body], docs[in_body])
        title_rows = slice(int(title_ptr[first_note]), int(title_ptr[last_note]))
        title_notes = np.repeat(np.arange(first_note, last_note), np.diff(title_ptr[first_note : last_note + 1]))
        title = _title_rows(title_terms, title_ptr, section_note, start, end)
        # 3. a section's tf: its fields' counts, weighted and length-normalised, summed (BM25F)
        section_rows = _summed(
            [
                (title[0], title[1], normalised_tf(TITLE_WEIGHT * title[2], lengths.title_norm[title[1]])),
                (heading[0], heading[1], normalised_tf(HEADING_WEIGHT * heading[2], lengths.heading_norm[heading[1]])),
                (body[0], body[1], normalised_tf(BODY_WEIGHT * body[2], lengths.body_norm[body[1]])),
            ]
        )
        section_parts.append(_compact(section_rows))
        # 4. a note's tf: its title's counts weighted, its sections' once, over the note's length norm (BM25)
        note_tf = [(t, section_note[d].astype(np.int64), c) for t, d, c in (heading, body)]
        note_tf.append((title_terms[title_rows].astype(np.int64), title_notes, np.full(len(title_notes), TITLE_WEIGHT)))
        note_rows = _summed(note_tf)
        note_parts.append(
            _compact((note_rows[0], note_rows[1], normalised_tf(note_rows[2], lengths.note_norm[note_rows[1]])))
        )
    # 5. impacts: each term's idf times its saturated tf, in posting lists by term
    return (
        _bm25_postings(section_parts, vocabulary_size, section_count),
        _bm25_postings(note_parts, vocabulary_size, note_count),
    )


@dataclass(slots=True)
class _Lengths:
    heading: np.ndarray  # terms in each section's heading path
    title_norm: np.ndarray  # BM25 length normalisation of each field, per section ...
    heading_norm: np.ndarray
    body_norm: np.ndarray
    note_norm: np.ndarray  # ... and of each whole note

    @classmethod
    def of(cls, rows: _Rows, token_ptr: np.ndarray, section_note: np.ndarray, note_count: int) -> _Lengths:
        heading = np.frombuffer(rows.heading_length, dtype=np.int32).astype(np.int64)
        body = np.diff(token_ptr) - heading - 1
        title_per_note = np.bincount(np.frombuffer(rows.title_notes, dtype=np.int32), minlength=note_count)
        title = title_per_note[section_note]
        note = np.bincount(section_note, weights=heading + body, minlength=note_count) + TITLE_WEIGHT * title_per_note
        return cls(
            heading,
            length_norm(title, TITLE_B),
            length_norm(heading, HEADING_B),
            length_norm(body, BODY_B),
            length_norm(note, NOTE_B),
        )


def _note_aligned_chunks(section_note: np.ndarray) -> list[tuple[int, int]]:
    """Section ranges of about CHUNK_SECTIONS that never split a note."""
    note_starts = np.r_[0, np.flatnonzero(np.diff(section_note)) + 1, len(section_note)]
    chunks, start = [], 0
    for boundary in note_starts[1:]:
        if boundary - start >= CHUNK_SECTIONS or boundary == len(section_note):
            chunks.append((start, int(boundary)))
            start = int(boundary)
    return [(a, b) for a, b in chunks if b > a]


def _title_rows(
    title_terms: np.ndarray, title_ptr: np.ndarray, section_note: np.ndarray, start: int, end: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every section carries its note's title: (term, section, count) rows for sections start..end."""
    notes = section_note[start:end].astype(np.int64)
    per_section = title_ptr[notes + 1] - title_ptr[notes]
    row_sections = np.repeat(np.arange(start, end, dtype=np.int64), per_section)
    first_row = np.repeat(np.cumsum(per_section) - per_section, per_section)
    row_index = np.repeat(title_ptr[notes], per_section) + np.arange(int(per_section.sum())) - first_row
    return _counts(title_terms[row_index].astype(np.int64), row_sections)


def _compact(rows: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows kept until the end of a build take int32 ids and float32 values: half the memory."""
    return rows[0].astype(np.int32), rows[1].astype(np.int32), rows[2].astype(np.float32)


def _counts(terms_: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(term, doc, count) for each distinct pair, sorted by doc then term."""
    return _summed([(terms_, docs, np.ones(len(terms_), dtype=np.float32))])


def _summed(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of (term, doc, value) with the values of equal (term, doc) pairs added, sorted by doc then term."""
    terms_ = np.concatenate([p[0] for p in parts]).astype(np.int64)
    docs = np.concatenate([p[1] for p in parts]).astype(np.int64)
    values = np.concatenate([p[2] for p in parts]).astype(np.float32)
    if not len(terms_):
        return terms_, docs, values
    span = int(terms_.max()) + 1
    keys = (docs - docs.min()) * span + terms_
    unique, inverse = np.unique(keys, return_inverse=True)
    summed = np.bincount(inverse, weights=values).astype(np.float32)
    return unique % span, unique // span + docs.min(), summed


def _bm25_postings(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], vocabulary_size: int, doc_count: int
) -> Postings:
    """Saturate each (term, doc) row's length-normalised tf and weight it by the term's idf, in term order.

    The parts (chunks of rows in doc order) are placed into the posting lists one at a time, each part's rows
    after those of the parts before it (a counting sort): the lists stay in doc order, and the whole table is
    never held twice over, sorted and unsorted, as one global sort would hold it.
    """
    df = np.zeros(vocabulary_size, dtype=np.int64)
    for term_ids, _, _ in parts:
        df += np.bincount(term_ids, minlength=vocabulary_size)
    ptr = np.zeros(vocabulary_size + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(df)
    term_idf = idf(df, doc_count)
    docs = np.empty(int(ptr[-1]), dtype=np.intp)  # as Postings holds them: no copy to widen them after
    impacts = np.empty(int(ptr[-1]), dtype=np.float32)
    filled = ptr[:-1].copy()  # where each term's next rows go
    parts.reverse()  # the caller's list, consumed from its end: each part is freed once placed
    while parts:
        term_ids, part_docs, tf = parts.pop()
        order = np.argsort(term_ids, kind="stable")
        held = np.bincount(term_ids, minlength=vocabulary_size)
        sorted_terms = term_ids[order]
        first_of_term = np.cumsum(held) - held  # where each term's rows start within the part, once sorted
        at = filled[sorted_terms] + np.arange(len(order)) - first_of_term[sorted_terms]
        docs[at] = part_docs[order]
        part_impacts = term_idf[sorted_terms]
        part_impacts *= saturation(tf[order])
        impacts[at] = part_impacts
        filled += held
    return Postings(ptr, docs, impacts)
