"""Suggested prompts for an assistant thread: today's topic and well-covered headings, each a question the bot
answers well.

A prompt asks "What about <heading>?" ("what" and "about" are stopwords: the search reads the heading's own
words), and it is offered only when searching it finds a section of that heading first. Candidates are the
headings of sections worth reading (a moment to link to, MIN_WORDS words or more, two content words or
more): first those that several notes share (the vault covers the topic more than once), then the longest
sections. A heading that more than MAX_SHARED notes share is structure ("Conclusion", "Key Takeaways"), not
a topic. Pure apart from the searcher; the candidates are worked out once per index.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

from bot.engine.analysis import normalize, words
from bot.engine.index import SearchIndex
from bot.engine.search import Hit, Searcher
from bot.slack.messages import suggested_prompt

PROMPTS = 4  # Slack shows at most four suggested prompts
CHECKED = 12  # candidates searched at most: a thread's start waits on these searches
MIN_WORDS = 30  # a shorter section is a caption, not an answer worth suggesting
MAX_SHARED = 3  # notes sharing a heading: more is a structural heading
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
    """Headings of sections worth suggesting, those several notes share first, then by their section's
    length; each once, in a stable order."""
    sharing: dict[str, set[int]] = {}
    longest: dict[str, tuple[int, str]] = {}
    for section, heading in enumerate(index.section_headings):
        if index.section_first_ts[section] < 0 or not _safe(heading) or len(words(heading)) < 2:
            continue
        length = len(index.section_texts[section].split())
        if length < MIN_WORDS:
            continue
        key = normalize(" ".join(heading.split()))
        sharing.setdefault(key, set()).add(int(index.section_note[section]))
        if length > longest.get(key, (0, ""))[0]:
            longest[key] = (length, heading)
    shared = Counter({key: len(notes) for key, notes in sharing.items() if len(notes) <= MAX_SHARED})
    ranked = sorted(shared, key=lambda key: (-shared[key], -longest[key][0], key))
    return [" ".join(longest[key][1].split()) for key in ranked[:CHECKED]]


def _safe(heading: str) -> bool:
    return bool(heading.strip()) and not (set(heading) & UNSAFE)
