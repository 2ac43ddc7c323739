"""Follow-ups: a question read in the context of the thread it is asked in.

The sections of the notes that the thread's last answer showed score PREFERENCE_FACTOR more (`Preference`):
among the sections that hold the follow-up's words, those of the thread's notes win. So "what about
healthcare?" after "applications of deep learning" answers from the healthcare part of the deep-learning
note, even where another note is more about healthcare. A follow-up without words of its own ("tell me
more") is read with the thread's earlier questions instead (`QueryTerms.with_context`, the question just
before at CONTEXT_WEIGHT, the one before that at its square).

A follow-up that stands alone (a new topic) is answered on its own words: the preferred answer is kept only
when its first hit holds as much of the follow-up's words as the first hit of the follow-up alone, and a
follow-up whose answer leaves the thread's notes starts a new line of context.

bench/follow_ups.py measured the ways of bringing the thread in (bench/RESULTS.md, "Follow-ups in
threads"): the earlier question's words, even at a weight of 0.3, pull stand-alone follow-ups to the thread's
topic (1 to 5 points of first hits lost), where the preference for the thread's notes answers the dependent
follow-ups as well and costs stand-alone ones nothing measurable.

Pure: the searcher is data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.engine.analysis import terms
from bot.engine.scope import Preference, Scope
from bot.engine.search import Hit, Notes, Searcher
from bot.engine.spelling import QueryTerms

# The notes of the last answer score this much more in the first stage. Measured (bench/follow_ups.py): 1.5
# loses a tenth of the dependent follow-ups that 2 answers; 3 answers no more of them.
PREFERENCE_FACTOR = 2.0
# A follow-up without words of its own takes the earlier questions' words at this weight, the one before at
# its square: the latest question leads.
CONTEXT_WEIGHT = 0.5
# Earlier questions read with a follow-up: the fourth one back would weigh 0.5 ** 4 and change little.
CONTEXT_TURNS = 3


@dataclass(frozen=True, slots=True)
class Turn:
    """A question asked in a thread and what its answer showed."""

    query: str  # as asked (read back from Slack's encoding)
    notes: tuple[str, ...]  # the notes of the hits the answer showed, best first
    in_context: bool  # read with the turns before it (False for a thread's first question or a new topic)


@dataclass(frozen=True, slots=True)
class ThreadContext:
    """What a new question in a thread is read with: earlier questions (oldest first) and the notes of the
    last answer. Empty outside a thread, or in a thread with no answer yet."""

    queries: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @classmethod
    def of(cls, turns: Sequence[Turn]) -> ThreadContext:
        """The context after `turns` (oldest first): the questions since the last one that stood alone,
        at most CONTEXT_TURNS of them, and the notes the last answer showed."""
        if not turns:
            return cls()
        start = max((i for i, turn in enumerate(turns) if not turn.in_context), default=0)
        line = turns[start:][-CONTEXT_TURNS:]
        return cls(tuple(turn.query for turn in line), turns[-1].notes)

    def __bool__(self) -> bool:
        return bool(self.queries or self.notes)


@dataclass(frozen=True, slots=True)
class FollowUp:
    hits: list[Hit]
    reading: QueryTerms  # how the question was read: its own corrections, and the context it was read with
    in_context: bool  # answered in the thread's context (False: on its own words)


def read_in_context(
    searcher: Searcher, own: QueryTerms, context: ThreadContext, weight: float = CONTEXT_WEIGHT
) -> QueryTerms:
    """The question as read on its own (`own`) read with the context's questions: each question with the
    ones before it at `weight` (so the one just before weighs `weight`, the one before that its square);
    a word of two questions counts as the later one's."""
    earlier: QueryTerms | None = None
    for asked in context.queries:
        read = searcher.read_query(asked)
        earlier = read if earlier is None else read.with_context(earlier, weight)
    return own if earlier is None else own.with_context(earlier, weight)


def search_follow_up(
    searcher: Searcher,
    query: str,
    context: ThreadContext,
    limit: int,
    factor: float = PREFERENCE_FACTOR,
    weight: float = CONTEXT_WEIGHT,
    within: Notes | None = None,
) -> FollowUp:
    """The best `limit` sections for `query` asked in a thread with `context` (of the notes `within` only,
    when given): the thread's notes preferred, unless the question stands alone (its own words find a
    section holding more of them); a question without words of its own read with the thread's earlier
    questions."""
    own = searcher.read_query(query)
    if not context:
        return FollowUp(searcher.search_terms(own, limit, within), own, in_context=False)
    prefer = Preference(Scope(notes=context.notes), factor) if context.notes else None
    hits = searcher.search_terms(own, limit, within, prefer) if own.terms else []
    if not hits:  # nothing of its own to search ("tell me more"): the thread's questions say what
        reading = read_in_context(searcher, own, context, weight)
        hits = searcher.search_terms(reading, limit, within, prefer)
        return FollowUp(hits, reading, in_context=bool(hits))
    if prefer is not None:
        alone = searcher.search_terms(own, limit, within)
        if own_words_held(own, hits[0], searcher) < own_words_held(own, alone[0], searcher):
            hits = alone
    return FollowUp(hits, own, in_context=hits[0].note in context.notes)


def own_words_held(own: QueryTerms, hit: Hit, searcher: Searcher) -> float:
    """The share of the question's own term weight that the hit's section holds, in its headings or text
    (as the rerank counts a section's words): 1.0 when it holds every word of the question."""
    total = sum(own.terms.values())
    if not total:
        return 0.0
    vocabulary = searcher.index.vocabulary
    held = {vocabulary.get(term) for term in terms(" ".join((*hit.heading_path, hit.heading, hit.text)))}
    return sum(weight for term, weight in own.terms.items() if term in held) / total
