"""What the bot answers, as Slack messages: `/notes` and its buttons, mentions and direct messages, follow-ups
in threads, the search modal.

Each answer reads the query once and searches once (a follow-up at most twice: in its thread's context, and
alone when it may stand alone, bot.engine.follow_up): the hit with its link, or "nothing found" with close
headings and how misspelt words were read. Pure apart from the searcher it is given.
"""

from __future__ import annotations

from typing import Any

from bot.engine.follow_up import FollowUp, ThreadContext, search_follow_up
from bot.engine.search import Hit, Searcher
from bot.slack.messages import (
    Message,
    answer_message,
    nothing_found_message,
    result_value,
    search_modal,
    thread_answer,
)
from bot.slack.payloads import limit_query

RESULTS = 5  # the hits an answer cycles through with "Next match"
THREAD_HITS = 3  # a mention's or a DM's answer: the top hit in full and the next two as links
MODAL_HITS = 5  # the search modal's results: five fit a screen with their excerpts
NO_CONTEXT = ThreadContext()


def private_answer(
    searcher: Searcher,
    text: str,
    position: int = 0,
    context: ThreadContext = NO_CONTEXT,
    thread_ts: str | None = None,
) -> Message:
    """The ephemeral answer to a query (asked in a thread with `context`, if any): its hit at `position`
    (cycling), or nothing found. Its buttons carry the context, and the `thread_ts` Share posts in."""
    query = limit_query(text)
    found = search_follow_up(searcher, query, context, RESULTS)
    if not found.hits:
        return nothing_found_message(query, searcher.suggest(query), found.reading.corrections)
    position %= len(found.hits)
    corrections = found.reading.corrections
    return answer_message(found.hits[position], query, position, len(found.hits), corrections, context, thread_ts)


def thread_reply(
    searcher: Searcher, question: str, context: ThreadContext, position: int = 0, with_next: bool = False
) -> tuple[Message, FollowUp]:
    """The answer to a question (as read from Slack) asked in a thread with `context`: its hit at `position`
    in full and the next two as links (with a "Next match" button where `with_next`), or nothing found; and
    what was found, for the thread's memory."""
    query = limit_query(question)
    found = search_follow_up(searcher, query, context, RESULTS if with_next else THREAD_HITS)
    corrections = found.reading.corrections
    if not found.hits:
        return nothing_found_message(query, searcher.suggest(query), corrections), found
    position %= len(found.hits)
    value = result_value(query, position, context) if with_next else None
    return thread_answer(found.hits, query, corrections, position, value), found


def shown_in_thread(found: FollowUp, position: int = 0) -> list[Hit]:
    """The hits a thread answer shows: the one at `position` and the two after it."""
    hits = found.hits
    return [hits[(position + step) % len(hits)] for step in range(min(THREAD_HITS, len(hits)))]


def shown(searcher: Searcher, query: str, context: ThreadContext = NO_CONTEXT) -> FollowUp:
    """What a private answer to `query` (asked with `context`) cycles through, as the vault has it now (for
    its buttons)."""
    return search_follow_up(searcher, limit_query(query), context, RESULTS)


def modal_results(searcher: Searcher, text: str) -> dict[str, Any]:
    """The search modal showing the best MODAL_HITS sections for `text` (typed in the modal, not
    Slack-encoded), or why there are none."""
    query = limit_query(text)
    if not query:
        return search_modal("")
    reading = searcher.read_query(query)
    hits = searcher.search_terms(reading, MODAL_HITS)
    if not hits:
        return search_modal(query, (), reading.corrections, searcher.suggest(query))
    return search_modal(query, hits, reading.corrections)
