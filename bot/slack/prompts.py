"""Suggested prompts for an assistant thread: today's topic and well-covered headings, each a question the bot
answers well.

A prompt asks "What about <heading>?" ("what" and "about" are stopwords: the search reads the heading's own
words), and it is offered only when searching it finds a section of that heading first. Well-covered headings
are those of sections worth reading (a moment to link to, MIN_TERMS words or more), of two words or more,
each word held by at least one note in COVERED_SHARE: first those that two or more notes share (the vault
covers the topic more than once; more than MAX_SHARED is structure, such as "Conclusion"), then, where
those are too few, those of one note; the most specific first (the rarest words on average, by how many
notes hold them): "Probiotics and Prebiotics" before "Implementation Overview". Pure apart from the
searcher; the candidates are worked out once per index.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from bot.engine.analysis import normalize, stem, words
from bot.engine.index import SearchIndex
from bot.engine.search import Hit, Searcher
from bot.slack.messages import suggested_prompt

PROMPTS = 4  # Slack shows at most four suggested prompts
CHECKED = 12  # candidates searched at most: a thread's start waits on these searches
MIN_TERMS = 20  # words (stopwords aside) of a section worth suggesting: a shorter one is a caption
MAX_SHARED = 3  # notes sharing a heading: more is a structural heading
# Each word of a suggested heading is held by at least one note in this many (and by one note at least): the
# vault covers each, where a word of a handful of notes (a name, a rare term) makes a question few would ask.
COVERED_SHARE = 1000
# A prompt's question is sent as the person's own message: a heading that could read as a mention, a link
# or markup there is not suggested.
UNSAFE = set("<>&@|`*_~")


@dataclass(frozen=True, slots=True)
class _Candidates:
    index: SearchIndex
    headings: list[str]


_cache: list[_Candidates] = []  # the last index's candidates (one entry)
_cache_lock = threading.Lock()


def suggested_prompts(searcher: Searcher, topic: Hit | None = None) -> list[dict[str, str]]:
    """Up to PROMPTS prompts: today's topic first (when there is one), then well-covered headings; each checked
    by searching it."""
    offered: list[tuple[str, str]] = []
    if topic is not None and _safe(topic.heading):
        offered.append((f"Today's topic: {topic.heading}", topic.heading))
    offered += [(heading, heading) for heading in _candidates(searcher.index)]
    prompts: list[dict[str, str]] = []
    seen: set[str] = set()
    for title, heading in offered[:CHECKED]:
        question = f"What about {heading}?"
        if normalize(heading) in seen or not _answered_well(searcher, question, heading):
            continue
        seen.add(normalize(heading))
        prompts.append(suggested_prompt(title, question))
        if len(prompts) == PROMPTS:
            break
    return prompts


def _answered_well(searcher: Searcher, question: str, heading: str) -> bool:
    hits = searcher.search(question, 1)
    return bool(hits) and normalize(hits[0].heading) == normalize(heading)


def _candidates(index: SearchIndex) -> list[str]:
    with _cache_lock:
        if _cache and _cache[0].index is index:
            return _cache[0].headings
    headings = well_covered_headings(index)
    with _cache_lock:
        _cache[:] = [_Candidates(index, headings)]
    return headings


def well_covered_headings(index: SearchIndex) -> list[str]:
    """The CHECKED best headings to suggest, each once, in a stable order."""
    terms_held = np.diff(index.section_token_ptr)  # a section's heading and body words, stopwords left out
    worth = np.flatnonzero((index.section_first_ts >= 0) & (terms_held >= MIN_TERMS))
    sharing: dict[str, set[int]] = {}
    written: dict[str, str] = {}
    for section in worth.tolist():
        heading = " ".join(index.section_headings[section].split())
        key = normalize(heading)
        sharing.setdefault(key, set()).add(int(index.section_note[section]))
        written.setdefault(key, heading)
    note_df = np.diff(index.note_postings.ptr)
    covered = max(1, index.note_count // COVERED_SHARE)
    ranked: list[str] = []
    for shared in (True, False):  # headings several notes share; only if too few, those of one note
        specificity: dict[str, float] = {}
        for key, notes in sharing.items():
            if (len(notes) >= 2) != shared or len(notes) > MAX_SHARED or not _safe(written[key]):
                continue
            term_ids = [index.vocabulary.get(stem(word)) for word in words(key)]
            if len(term_ids) < 2 or None in term_ids or min(note_df[t] for t in term_ids) < covered:
                continue
            specificity[key] = float(np.mean([np.log(index.note_count / note_df[t]) for t in term_ids]))
        ranked += sorted(specificity, key=lambda key: (-specificity[key], key))
        if len(ranked) >= CHECKED:
            break
    return [written[key] for key in ranked[:CHECKED]]


def _safe(heading: str) -> bool:
    return bool(heading.strip()) and not (set(heading) & UNSAFE)
