"""What the bot answers, as Slack messages: `/notes` and its buttons, mentions and direct messages.

Each answer reads the query once and searches once: the hit with its link, or "nothing found" with close
headings and how misspelt words were read. A search draws from the channel's scope (`scope`, None for
the whole vault), narrowed further by the query's own `in:` and `tag:` words (bot.engine.narrowing);
headings suggested when nothing is found come from the same notes. With a published vault (`site`)
every answer links to its note there. Pure apart from the searcher it is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.engine.narrowing import holds_notes, notes_within, read_narrowing, unknown_names
from bot.engine.scope import Scope
from bot.engine.search import Hit, Searcher
from bot.engine.site import NoteSite
from bot.slack.messages import (
    Message,
    answer_message,
    code_text,
    help_message,
    nothing_found_message,
    scope_mrkdwn,
    thread_answer,
)
from bot.slack.payloads import limit_query, query_from_slack_text

RESULTS = 5  # the hits an answer cycles through with "Next match"
THREAD_HITS = 3  # a mention's or a DM's answer: the top hit in full and the next two as links


@dataclass(frozen=True, slots=True)
class Search:
    """One search for an answer: what was found, and what to say when nothing was."""

    query: str
    hits: list[Hit]
    corrections: dict[str, str] = field(default_factory=dict)
    problem: str = ""  # an `in:` or `tag:` the notes do not have (mrkdwn), searched for nothing
    suggestions: list[str] = field(default_factory=list)


def private_answer(
    searcher: Searcher, text: str, position: int = 0, *, scope: Scope | None = None, site: NoteSite | None = None
) -> Message:
    """The ephemeral answer to a query: its hit at `position` (cycling), or nothing found."""
    search = scoped_search(searcher, limit_query(text), RESULTS, scope)
    if not search.hits:
        return _nothing_found(search, scope)
    position %= len(search.hits)
    return answer_message(search.hits[position], search.query, position, len(search.hits), search.corrections, site)


def conversation_answer(
    searcher: Searcher, text: str, *, scope: Scope | None = None, site: NoteSite | None = None
) -> Message:
    """The answer to a mention or a DM (Slack-encoded `text`): top hit and two more, or help."""
    query = limit_query(query_from_slack_text(text))
    if not query:
        return help_message()
    search = scoped_search(searcher, query, THREAD_HITS, scope)
    if not search.hits:
        return _nothing_found(search, scope)
    return thread_answer(search.hits, search.query, search.corrections, site)


def shown_hits(searcher: Searcher, query: str, *, scope: Scope | None = None) -> list[Hit]:
    """The hits a private answer to `query` cycles through, as the vault has them now (for its buttons)."""
    return scoped_search(searcher, limit_query(query), RESULTS, scope).hits


def scoped_search(searcher: Searcher, query: str, limit: int, scope: Scope | None) -> Search:
    """The hits for `query` within the channel's `scope` and the query's own `in:`/`tag:`, reading it once."""
    narrowing = read_narrowing(query)
    unknown = unknown_names(searcher.note_sets, narrowing)
    if unknown:
        return Search(query, [], problem=_unknown_names(unknown))
    within = notes_within(searcher.note_sets, scope, narrowing)
    if within is not None and not holds_notes(searcher.note_sets, within):
        return Search(query, [], problem=_outside(scope))
    reading = searcher.read_query(narrowing.query)
    hits = searcher.search_terms(reading, limit, within=within)
    suggestions = [] if hits else searcher.suggest(narrowing.query or query, within=within)
    return Search(query, hits, reading.corrections, suggestions=suggestions)


def _nothing_found(search: Search, scope: Scope | None) -> Message:
    note = search.problem or (f"(This channel draws from {scope_mrkdwn(scope)}.)" if scope is not None else "")
    return nothing_found_message(search.query, search.suggestions, search.corrections, note)


def _unknown_names(unknown: list[tuple[str, str, list[str]]]) -> str:
    parts = []
    for kind, name, close in unknown:
        shown = f"`{code_text(name)}`"
        hint = f" (close: {', '.join(f'`{code_text(c)}`' for c in close)})" if close else ""
        parts.append(f"The notes have no {kind} {shown}{hint}.")
    return " ".join(parts)


def _outside(scope: Scope | None) -> str:
    if scope is None:
        return "No note is in all of those folders and tags at once."
    return f"That is outside what this channel draws from ({scope_mrkdwn(scope)})."
