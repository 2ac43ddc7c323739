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

from bot.analysis import terms, words
from bot.parsing import Note

# Field weights and length normalisation of BM25F; title and heading are short and say what a
# section is about, so a word there counts several times one in the body.
TITLE_WEIGHT = 2.0
HEADING_WEIGHT = 3.0
BODY_WEIGHT = 1.0
HEADING_B = 0.3
TITLE_B = 0.3
BODY_B = 0.75
K1 = 1.2
FIELDS = ("title", "heading", "body")


@dataclass(frozen=True, slots=True)
class SectionTerms:
    """One section's terms by field, as `(term, count)` pairs."""

    heading: tuple[tuple[str, int], ...]
    body: tuple[tuple[str, int], ...]
    body_length: int
    heading_length: int


@dataclass(frozen=True, slots=True)
class NoteTerms:
    title: tuple[tuple[str, int], ...]
    title_length: int
    sections: tuple[SectionTerms, ...]
    surface: tuple[tuple[str, int], ...]  # unstemmed words and counts, for typo correction


def analyze_note(note: Note) -> NoteTerms:
    """The terms of a note's fields; done once per file and cached with the parsed note."""
    title_terms = terms(note.title)
    surface: Counter[str] = Counter(words(note.title))
    sections = []
    for section in note.sections:
        heading_terms = terms(" ".join((*section.path, section.heading)))
        body_words = words(section.text)
        surface.update(body_words)
        sections.append(
            SectionTerms(
                tuple(Counter(heading_terms).items()),
                tuple(_stem_counts(Counter(body_words)).items()),
                len(body_words),
                len(heading_terms),
            )
        )
    return NoteTerms(tuple(Counter(title_terms).items()), len(title_terms), tuple(sections), tuple(surface.items()))


def _stem_counts(word_counts: Counter[str]) -> Counter[str]:
    from bot.analysis import stem

    stemmed: Counter[str] = Counter()
    for word, count in word_counts.items():
        stemmed[stem(word)] += count
    return stemmed


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
    note_links: list[tuple[str, ...]]
    section_note: np.ndarray  # int32: the note of each section
    section_headings: list[str]
    section_paths: list[tuple[str, ...]]
    section_levels: np.ndarray  # int8
    section_lines: np.ndarray  # int32
    section_first_ts: np.ndarray  # int32, -1 where the section has no timestamp
    section_texts: list[str]
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


def build_index(notes: list[Note], analyzed: list[NoteTerms]) -> SearchIndex:
    """Index notes (with their `analyze_note` terms, in the same order)."""
    vocabulary: dict[str, int] = {}
    columns = _SectionColumns()
    title_rows: list[tuple[list[int], list[int], int]] = []
    for note_id, (note, note_terms) in enumerate(zip(notes, analyzed, strict=True)):
        title_ids, title_counts = _ids(note_terms.title, vocabulary)
        title_rows.append((title_ids, title_counts, note_terms.title_length))
        for section, section_terms in zip(note.sections, note_terms.sections, strict=True):
            columns.add(note_id, note, section, section_terms, vocabulary, title_rows[-1])
    surface: Counter[str] = Counter()
    for note_terms in analyzed:
        for word, count in note_terms.surface:
            surface[word] += count
    return SearchIndex(
        note_paths=[n.path for n in notes],
        note_titles=[n.title for n in notes],
        note_videos=[n.video_id for n in notes],
        note_links=[n.links for n in notes],
        section_note=np.asarray(columns.note, dtype=np.int32),
        section_headings=columns.headings,
        section_paths=columns.paths,
        section_levels=np.asarray(columns.levels, dtype=np.int8),
        section_lines=np.asarray(columns.lines, dtype=np.int32),
        section_first_ts=np.asarray(columns.first_ts, dtype=np.int32),
        section_texts=columns.texts,
        vocabulary=vocabulary,
        section_postings=columns.section_postings(len(vocabulary)),
        note_postings=columns.note_postings(len(vocabulary), len(notes)),
        surface_words=dict(surface),
    )


def _ids(pairs: tuple[tuple[str, int], ...], vocabulary: dict[str, int]) -> tuple[list[int], list[int]]:
    ids = [vocabulary.setdefault(term, len(vocabulary)) for term, _ in pairs]
    return ids, [count for _, count in pairs]


class _SectionColumns:
    """Accumulates per-section metadata and (term, section, field, count) rows during a build."""

    def __init__(self) -> None:
        self.note: list[int] = []
        self.headings: list[str] = []
        self.paths: list[tuple[str, ...]] = []
        self.levels: list[int] = []
        self.lines: list[int] = []
        self.first_ts: list[int] = []
        self.texts: list[str] = []
        # array("i") rather than lists: a large vault has tens of millions of rows
        self.row_terms = {field: array("i") for field in FIELDS}
        self.row_docs = {field: array("i") for field in FIELDS}
        self.row_counts = {field: array("i") for field in FIELDS}
        self.lengths = {field: array("i") for field in FIELDS}

    def add(self, note_id, note, section, section_terms, vocabulary, title_row) -> None:  # noqa: ANN001
        doc = len(self.headings)
        self.note.append(note_id)
        self.headings.append(section.heading)
        self.paths.append(section.path)
        self.levels.append(section.level)
        self.lines.append(section.line)
        self.first_ts.append(section.timestamps[0] if section.timestamps else -1)
        self.texts.append(section.text)
        title_ids, title_counts, title_length = title_row
        self._rows("title", doc, title_ids, title_counts, title_length)
        heading_ids, heading_counts = _ids(section_terms.heading, vocabulary)
        self._rows("heading", doc, heading_ids, heading_counts, section_terms.heading_length)
        body_ids, body_counts = _ids(section_terms.body, vocabulary)
        self._rows("body", doc, body_ids, body_counts, section_terms.body_length)

    def _rows(self, field: str, doc: int, ids: list[int], counts: list[int], length: int) -> None:
        self.row_terms[field].extend(ids)
        self.row_docs[field].extend([doc] * len(ids))
        self.row_counts[field].extend(counts)
        self.lengths[field].append(length)

    def section_postings(self, vocabulary_size: int) -> Postings:
        """BM25F over title, heading path and body; idf over sections."""
        fields = (("title", TITLE_WEIGHT, TITLE_B), ("heading", HEADING_WEIGHT, HEADING_B), ("body", BODY_WEIGHT, BODY_B))
        term_parts, doc_parts, tf_parts = [], [], []
        for field, weight, b in fields:
            term_ids = np.asarray(self.row_terms[field], dtype=np.int64)
            docs = np.asarray(self.row_docs[field], dtype=np.int64)
            counts = np.asarray(self.row_counts[field], dtype=np.float32)
            lengths = np.asarray(self.lengths[field], dtype=np.float32)
            norm = (1 - b) + b * lengths / max(float(lengths.mean()), 1.0)
            term_parts.append(term_ids)
            doc_parts.append(docs)
            tf_parts.append(weight * counts / norm[docs])
        return _bm25_postings(
            np.concatenate(term_parts), np.concatenate(doc_parts), np.concatenate(tf_parts),
            vocabulary_size, len(self.headings),
        )

    def note_postings(self, vocabulary_size: int, note_count: int) -> Postings:
        """Plain BM25 over each whole note (title counted with the heading weight); idf over notes."""
        note_of = np.asarray(self.note, dtype=np.int64)
        parts = []
        for field, weight in (("title", 0.0), ("heading", 1.0), ("body", 1.0)):
            docs = note_of[np.asarray(self.row_docs[field], dtype=np.int64)]
            parts.append((np.asarray(self.row_terms[field], dtype=np.int64), docs,
                          weight * np.asarray(self.row_counts[field], dtype=np.float32)))
        # the title appears once per section in the rows above: count it once per note instead
        firsts = np.r_[0, np.flatnonzero(np.diff(note_of)) + 1] if len(note_of) else np.zeros(0, np.int64)
        first_rows = np.isin(np.asarray(self.row_docs["title"], dtype=np.int64), firsts)
        title_terms = np.asarray(self.row_terms["title"], dtype=np.int64)[first_rows]
        title_docs = note_of[np.asarray(self.row_docs["title"], dtype=np.int64)[first_rows]]
        title_tf = TITLE_WEIGHT * np.asarray(self.row_counts["title"], dtype=np.float32)[first_rows]
        parts.append((title_terms, title_docs, title_tf))
        term_ids = np.concatenate([p[0] for p in parts])
        docs = np.concatenate([p[1] for p in parts])
        tf = np.concatenate([p[2] for p in parts])
        keep = tf > 0
        term_ids, docs, tf = term_ids[keep], docs[keep], tf[keep]
        term_ids, docs, tf = _sum_duplicates(term_ids, docs, tf, note_count)
        lengths = np.bincount(docs, weights=tf, minlength=note_count).astype(np.float32)
        norm = (1 - BODY_B) + BODY_B * lengths / max(float(lengths.mean()), 1.0)
        return _bm25_postings(term_ids, docs, tf / norm[docs], vocabulary_size, note_count)


def _sum_duplicates(term_ids, docs, values, doc_count):  # noqa: ANN001, ANN202
    keys = term_ids * doc_count + docs
    unique, inverse = np.unique(keys, return_inverse=True)
    summed = np.bincount(inverse, weights=values).astype(np.float32)
    return unique // doc_count, unique % doc_count, summed


def _bm25_postings(term_ids, docs, tf, vocabulary_size: int, doc_count: int) -> Postings:  # noqa: ANN001
    """Sum a term's field-weighted tf per document, saturate it and multiply by the term's idf."""
    term_ids, docs, tf = _sum_duplicates(term_ids, docs, tf, doc_count)
    df = np.bincount(term_ids, minlength=vocabulary_size).astype(np.float32)
    idf = np.log1p((doc_count - df + 0.5) / (df + 0.5)).astype(np.float32)
    impacts = (idf[term_ids] * tf / (K1 + tf)).astype(np.float32)
    ptr = np.zeros(vocabulary_size + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(df.astype(np.int64))
    return Postings(ptr, docs.astype(np.int32), impacts)
