"""The index: parsed notes in, term postings with precomputed BM25F impacts out.

Every section is scored over three fields (the note's title, the section's heading path and its body)
with BM25F; every note is scored as a whole with BM25 as well, so a query can be matched by the note it
belongs to as much as by the section itself. Impacts are computed once at build time: a query is then
only a sum of posting lists, which keeps search fast on large vaults.
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass

import numpy as np

from bot.analysis import stem, terms, words
from bot.parsing import Link, Note

# Field weights and length normalisation of BM25F; title and heading are short and say what a
# section is about, so a word there counts several times one in the body.
TITLE_WEIGHT = 1.0
HEADING_WEIGHT = 2.0
BODY_WEIGHT = 1.0
HEADING_B = 0.3
TITLE_B = 0.3
BODY_B = 0.75
K1 = 1.2


@dataclass(frozen=True, slots=True)
class SectionTerms:
    """One section's terms in order: its heading path's, then its body's."""

    heading: tuple[str, ...]
    body: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NoteTerms:
    title: tuple[str, ...]
    sections: tuple[SectionTerms, ...]
    surface: tuple[tuple[str, int], ...]  # unstemmed words and counts, for typo correction


def analyze_note(note: Note) -> NoteTerms:
    """The terms of a note's fields; done once per file and cached with the parsed note."""
    surface: Counter[str] = Counter(words(note.title))
    sections = []
    for section in note.sections:
        body_words = words(section.text)
        surface.update(body_words)
        sections.append(
            SectionTerms(tuple(terms(" ".join((*section.path, section.heading)))), tuple(stem(w) for w in body_words))
        )
    return NoteTerms(tuple(terms(note.title)), tuple(sections), tuple(surface.items()))


@dataclass(slots=True)
class Postings:
    """Compressed sparse rows: for term id t, `docs[ptr[t]:ptr[t+1]]` with `impacts` alike."""

    ptr: np.ndarray  # int64, one more than there are terms
    docs: np.ndarray  # int32
    impacts: np.ndarray  # float32

    def of(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = self.ptr[term_id], self.ptr[term_id + 1]
        return self.docs[start:end], self.impacts[start:end]


@dataclass(slots=True)
class SearchIndex:
    """Columns of sections and notes, and the postings to rank them."""

    note_paths: list[str]
    note_titles: list[str]
    note_videos: list[str | None]
    note_links: list[tuple[Link, ...]]
    section_note: np.ndarray  # int32: the note of each section
    section_headings: list[str]
    section_paths: list[tuple[str, ...]]
    section_levels: np.ndarray  # int8
    section_lines: np.ndarray  # int32
    section_first_ts: np.ndarray  # int32, -1 where the section has no timestamp
    section_texts: list[str]
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

    def tokens_of(self, section: int) -> np.ndarray:
        return self.section_tokens[self.section_token_ptr[section] : self.section_token_ptr[section + 1]]


SEPARATOR = -1  # between a section's heading and body terms: no phrase spans it


def build_index(notes: list[Note], analyzed: list[NoteTerms]) -> SearchIndex:
    """Index notes (with their `analyze_note` terms, in the same order)."""
    rows = _Rows()
    for note_id, (note, note_terms) in enumerate(zip(notes, analyzed, strict=True)):
        rows.add_note(note_id, note, note_terms)
    surface: Counter[str] = Counter()
    for note_terms in analyzed:
        for word, count in note_terms.surface:
            surface[word] += count
    tokens = np.frombuffer(rows.tokens, dtype=np.int32)
    token_ptr = np.frombuffer(rows.token_ptr, dtype=np.int64)
    section_note = np.frombuffer(rows.note, dtype=np.int32)
    fields = _field_rows(tokens, token_ptr, np.frombuffer(rows.heading_length, dtype=np.int32))
    vocabulary_size = len(rows.vocabulary)
    return SearchIndex(
        note_paths=[n.path for n in notes],
        note_titles=[n.title for n in notes],
        note_videos=[n.video_id for n in notes],
        note_links=[n.links for n in notes],
        section_note=section_note,
        section_headings=rows.headings,
        section_paths=rows.paths,
        section_levels=np.frombuffer(rows.levels, dtype=np.int8),
        section_lines=np.frombuffer(rows.lines, dtype=np.int32),
        section_first_ts=np.frombuffer(rows.first_ts, dtype=np.int32),
        section_texts=rows.texts,
        section_tokens=tokens,
        section_token_ptr=token_ptr,
        vocabulary=rows.vocabulary,
        section_postings=_section_postings(fields, rows, vocabulary_size),
        note_postings=_note_postings(fields, rows, section_note, vocabulary_size, len(notes)),
        surface_words=dict(surface),
    )


class _Rows:
    """Per-section columns and term ids gathered in one pass over the notes."""

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}
        self.note = array("i")
        self.headings: list[str] = []
        self.paths: list[tuple[str, ...]] = []
        self.levels = array("b")
        self.lines = array("i")
        self.first_ts = array("i")
        self.texts: list[str] = []
        # array("i") rather than lists: a large vault has tens of millions of terms
        self.tokens = array("i")
        self.token_ptr = array("q", [0])
        self.heading_length = array("i")
        self.title_terms = array("i")  # one row per (note, title term)
        self.title_notes = array("i")
        self.section_title_terms = array("i")  # one row per (section, its note's title term)
        self.section_title_docs = array("i")

    def ids(self, found: tuple[str, ...]) -> list[int]:
        vocabulary = self.vocabulary
        return [vocabulary.setdefault(term, len(vocabulary)) for term in found]

    def add_note(self, note_id: int, note: Note, note_terms: NoteTerms) -> None:
        title_ids = self.ids(note_terms.title)
        self.title_terms.extend(title_ids)
        self.title_notes.extend([note_id] * len(title_ids))
        for section, section_terms in zip(note.sections, note_terms.sections, strict=True):
            heading_ids = self.ids(section_terms.heading)
            self.tokens.extend(heading_ids)
            self.tokens.append(SEPARATOR)
            self.tokens.extend(self.ids(section_terms.body))
            self.token_ptr.append(len(self.tokens))
            self.heading_length.append(len(heading_ids))
            self.section_title_terms.extend(title_ids)
            self.section_title_docs.extend([len(self.headings)] * len(title_ids))
            self.note.append(note_id)
            self.headings.append(section.heading)
            self.paths.append(section.path)
            self.levels.append(section.level)
            self.lines.append(section.line)
            self.first_ts.append(section.timestamps[0] if section.timestamps else -1)
            self.texts.append(section.text)


@dataclass(slots=True)
class _FieldRows:
    """(term, section, count) rows of the heading and body fields, and each section's field lengths."""

    heading: tuple[np.ndarray, np.ndarray, np.ndarray]
    body: tuple[np.ndarray, np.ndarray, np.ndarray]
    heading_length: np.ndarray
    body_length: np.ndarray


def _field_rows(tokens: np.ndarray, token_ptr: np.ndarray, heading_length: np.ndarray) -> _FieldRows:
    section_count = len(token_ptr) - 1
    per_section = np.diff(token_ptr)
    doc = np.repeat(np.arange(section_count, dtype=np.int64), per_section)
    position = np.arange(len(tokens), dtype=np.int64) - np.repeat(token_ptr[:-1], per_section)
    in_heading = position < heading_length[doc]
    in_body = ~in_heading & (tokens != SEPARATOR)
    body_length = per_section - heading_length - 1

    def counted(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ones = np.ones(int(mask.sum()), dtype=np.float32)
        return _sum_duplicates(tokens[mask].astype(np.int64), doc[mask], ones, section_count)

    return _FieldRows(counted(in_heading), counted(in_body), heading_length, body_length)


def _section_postings(fields: _FieldRows, rows: _Rows, vocabulary_size: int) -> Postings:
    """BM25F over title, heading path and body; idf over sections."""
    section_count = len(fields.heading_length)
    title = _sum_duplicates(
        np.frombuffer(rows.section_title_terms, dtype=np.int32).astype(np.int64),
        np.frombuffer(rows.section_title_docs, dtype=np.int32).astype(np.int64),
        np.ones(len(rows.section_title_terms), dtype=np.float32),
        section_count,
    )
    title_length = np.bincount(title[1], weights=title[2], minlength=section_count)
    term_parts, doc_parts, tf_parts = [], [], []
    for (term_ids, docs, counts), lengths, weight, b in (
        (title, title_length, TITLE_WEIGHT, TITLE_B),
        (fields.heading, fields.heading_length, HEADING_WEIGHT, HEADING_B),
        (fields.body, fields.body_length, BODY_WEIGHT, BODY_B),
    ):
        term_parts.append(term_ids)
        doc_parts.append(docs)
        tf_parts.append(weight * counts / _length_norm(lengths, b)[docs])
    return _bm25_postings(
        np.concatenate(term_parts), np.concatenate(doc_parts), np.concatenate(tf_parts), vocabulary_size, section_count
    )


def _note_postings(
    fields: _FieldRows, rows: _Rows, section_note: np.ndarray, vocabulary_size: int, note_count: int
) -> Postings:
    """Plain BM25 over each whole note (its title weighted as in sections); idf over notes."""
    parts = [
        (term_ids, section_note[docs].astype(np.int64), counts)
        for term_ids, docs, counts in (fields.heading, fields.body)
    ]
    title_terms = np.frombuffer(rows.title_terms, dtype=np.int32).astype(np.int64)
    title_notes = np.frombuffer(rows.title_notes, dtype=np.int32).astype(np.int64)
    parts.append((title_terms, title_notes, np.full(len(title_terms), TITLE_WEIGHT, dtype=np.float32)))
    term_ids, docs, tf = _sum_duplicates(
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
        note_count,
    )
    lengths = np.bincount(docs, weights=tf, minlength=note_count)
    return _bm25_postings(term_ids, docs, tf / _length_norm(lengths, BODY_B)[docs], vocabulary_size, note_count)


def _length_norm(lengths: np.ndarray, b: float) -> np.ndarray:
    lengths = lengths.astype(np.float32)
    average = max(float(lengths.mean()) if len(lengths) else 1.0, 1.0)
    return (1 - b) + b * lengths / average


def _sum_duplicates(
    term_ids: np.ndarray, docs: np.ndarray, values: np.ndarray, doc_count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row per (term, doc), values summed, sorted by term then doc."""
    keys = term_ids * max(doc_count, 1) + docs
    unique, inverse = np.unique(keys, return_inverse=True)
    summed = np.bincount(inverse, weights=values).astype(np.float32)
    return unique // max(doc_count, 1), unique % max(doc_count, 1), summed


def _bm25_postings(
    term_ids: np.ndarray, docs: np.ndarray, tf: np.ndarray, vocabulary_size: int, doc_count: int
) -> Postings:
    """Sum a term's field-weighted tf per document, saturate it and multiply by the term's idf."""
    term_ids, docs, tf = _sum_duplicates(term_ids, docs, tf, doc_count)
    df = np.bincount(term_ids, minlength=vocabulary_size).astype(np.float32)
    idf = np.log1p((doc_count - df + 0.5) / (df + 0.5)).astype(np.float32)
    impacts = (idf[term_ids] * tf / (K1 + tf)).astype(np.float32)
    ptr = np.zeros(vocabulary_size + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(df.astype(np.int64))
    return Postings(ptr, docs.astype(np.int32), impacts)
