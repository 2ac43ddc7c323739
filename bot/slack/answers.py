"""What the bot answers, as Slack messages: `/notes` and its buttons, mentions and direct messages, follow-ups
in threads, the search modal.

Each answer reads the query once and searches once (a follow-up at most twice: in its thread's context, and
alone when it may stand alone, bot.engine.follow_up): the hit with its link, or "nothing found" with close
headings and how misspelt words were read. A search draws from the channel's scope (`scope`, None for the
whole vault), narrowed further by the query's own `in:` and `tag:` words (bot.engine.narrowing); headings
suggested when nothing is found come from the same notes. With a published vault (`site`) every answer links
to its note there. Pure apart from the searcher it is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.engine.follow_up import ThreadContext, search_follow_up
from bot.engine.narrowing import holds_notes, known_videos, notes_within, read_narrowing, unknown_names
from bot.engine.scope import Scope
from bot.engine.search import Hit, Searcher, section_hit
from bot.engine.site import NoteSite
from bot.engine.youtube import VideoLink
from bot.slack.messages import (
    Message,
    answer_message,
    code_text,
    nothing_found_message,
    result_value,
    scope_mrkdwn,
    search_modal,
    thread_answer,
)
from bot.slack.payloads import limit_query

RESULTS = 5  # the hits an answer cycles through with "Next match"
THREAD_HITS = 3  # a mention's or a DM's answer: the top hit in full and the next two as links
MODAL_HITS = 5  # the search modal's results: five fit a screen with their excerpts
NO_CONTEXT = ThreadContext()


@dataclass(frozen=True, slots=True)
class Search:
    """One search for an answer: what was found, and what to say when nothing was."""

    query: str
    hits: list[Hit]
    corrections: dict[str, str] = field(default_factory=dict)
    problem: str = ""  # an `in:` or `tag:` the notes do not have (mrkdwn), searched for nothing
    suggestions: list[str] = field(default_factory=list)
    in_context: bool = False  # answered in its thread's context (False: on its own words, or no thread)


def private_answer(
    searcher: Searcher,
    text: str,
    position: int = 0,
    context: ThreadContext = NO_CONTEXT,
    thread_ts: str | None = None,
    *,
    scope: Scope | None = None,
    site: NoteSite | None = None,
) -> Message:
    """The ephemeral answer to a query (asked in a thread with `context`, if any): its hit at `position`
    (cycling), or nothing found. Its buttons carry the context, and the `thread_ts` Share posts in."""
    search = scoped_search(searcher, limit_query(text), RESULTS, scope, context)
    if not search.hits:
        return _nothing_found(search, scope)
    position %= len(search.hits)
    hit, count = search.hits[position], len(search.hits)
    return answer_message(hit, search.query, position, count, search.corrections, context, thread_ts, site)


def thread_reply(
    searcher: Searcher,
    question: str,
    context: ThreadContext,
    position: int = 0,
    with_next: bool = False,
    *,
    scope: Scope | None = None,
    site: NoteSite | None = None,
) -> tuple[Message, Search]:
    """The answer to a question (as read from Slack) asked in a thread with `context`: its hit at `position`
    in full and the next two as links (with a "Next match" button where `with_next`), or nothing found; and
    what was found, for the thread's memory."""
    search = scoped_search(searcher, limit_query(question), RESULTS if with_next else THREAD_HITS, scope, context)
    if not search.hits:
        return _nothing_found(search, scope), search
    position %= len(search.hits)
    value = result_value(search.query, position, context) if with_next else None
    return thread_answer(search.hits, search.query, search.corrections, position, value, site), search


def shown_in_thread(search: Search, position: int = 0) -> list[Hit]:
    """The hits a thread answer shows: the one at `position` and the two after it."""
    hits = search.hits
    return [hits[(position + step) % len(hits)] for step in range(min(THREAD_HITS, len(hits)))]


def shown(searcher: Searcher, query: str, context: ThreadContext = NO_CONTEXT, *, scope: Scope | None = None) -> Search:
    """What a private answer to `query` (asked with `context`, in a channel drawing from `scope`) cycles
    through, as the vault has it now (for its buttons)."""
    return scoped_search(searcher, limit_query(query), RESULTS, scope, context)


def modal_results(searcher: Searcher, text: str, *, site: NoteSite | None = None) -> dict[str, Any]:
    """The search modal showing the best MODAL_HITS sections for `text` (typed in the modal, not
    Slack-encoded; `in:` and `tag:` narrow it), or why there are none."""
    query = limit_query(text)
    if not query:
        return search_modal("", site=site)
    search = scoped_search(searcher, query, MODAL_HITS, None)
    return search_modal(query, search.hits, search.corrections, search.suggestions, search.problem, site=site)


def scoped_search(
    searcher: Searcher, query: str, limit: int, scope: Scope | None, context: ThreadContext = NO_CONTEXT
) -> Search:
    """The hits for `query` (asked with a thread's `context`) within the channel's `scope` and the query's own
    `in:`/`tag:`/`video:`, reading it once."""
    narrowing = known_videos(searcher.note_sets, read_narrowing(query))
    unknown = unknown_names(searcher.note_sets, narrowing)
    if unknown:
        return Search(query, [], problem=_unknown_names(unknown))
    within = notes_within(searcher.note_sets, scope, narrowing)
    if within is not None and not holds_notes(searcher.note_sets, within):
        return Search(query, [], problem=_outside(scope))
    if not narrowing.query and narrowing.links:
        return Search(query, _linked_sections(searcher, narrowing.links, within)[:limit])
    found = search_follow_up(searcher, narrowing.query, context, limit, within=within)
    suggestions = [] if found.hits else searcher.suggest(narrowing.query or query, within=within)
    return Search(query, found.hits, found.reading.corrections, suggestions=suggestions, in_context=found.in_context)


def _linked_sections(searcher: Searcher, links: tuple[VideoLink, ...], within: Scope | np.ndarray | None) -> list[Hit]:
    """A question of nothing but links to videos: the section each link points at, as its preview shows it
    (bot.engine.links: the one covering its moment, or where the video's notes start)."""
    mask = searcher.note_sets.mask(within) if isinstance(within, Scope) else within
    targets = (searcher.links.moment(link, mask) for link in links)
    sections = dict.fromkeys(target.section for target in targets if target is not None)  # each once, in order
    return [section_hit(searcher.index, section) for section in sections]


def _nothing_found(search: Search, scope: Scope | None) -> Message:
    note = search.problem or (f"(This channel draws from {scope_mrkdwn(scope)}.)" if scope is not None else "")
    return nothing_found_message(search.query, search.suggestions, search.corrections, note)


def _unknown_names(unknown: list[tuple[str, str, list[str]]]) -> str:
    parts = []
    for kind, name, close in unknown:
        shown_name = f"`{code_text(name)}`"
        hint = f" (close: {', '.join(f'`{code_text(c)}`' for c in close)})" if close else ""
        parts.append(f"The notes have no {kind} {shown_name}{hint}.")
    return " ".join(parts)


def _outside(scope: Scope | None) -> str:
    if scope is None:
        return "No note is in all of those folders and tags at once."
    return f"That is outside what this channel draws from ({scope_mrkdwn(scope)})."
