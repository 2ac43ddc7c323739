"""What the bot answers, as Slack messages: `/notes` and its buttons, mentions and direct messages.

Each answer reads the query once and searches once: the hit with its link, or "nothing found" with close
headings and how misspelt words were read. Pure apart from the searcher it is given.
"""

from __future__ import annotations

from bot.engine.search import Hit, Searcher
from bot.slack.messages import Message, answer_message, help_message, nothing_found_message, thread_answer
from bot.slack.payloads import limit_query, query_from_slack_text

RESULTS = 5  # the hits an answer cycles through with "Next match"
THREAD_HITS = 3  # a mention's or a DM's answer: the top hit in full and the next two as links


def private_answer(searcher: Searcher, text: str, position: int = 0) -> Message:
    """The ephemeral answer to a query: its hit at `position` (cycling), or nothing found."""
    query = limit_query(text)
    hits, corrections = _search(searcher, query, RESULTS)
    if not hits:
        return nothing_found_message(query, searcher.suggest(query), corrections)
    position %= len(hits)
    return answer_message(hits[position], query, position, len(hits), corrections)


def conversation_answer(searcher: Searcher, text: str) -> Message:
    """The answer to a mention or a DM (Slack-encoded `text`): top hit and two more, or help."""
    query = limit_query(query_from_slack_text(text))
    if not query:
        return help_message()
    hits, corrections = _search(searcher, query, THREAD_HITS)
    if not hits:
        return nothing_found_message(query, searcher.suggest(query), corrections)
    return thread_answer(hits, query, corrections)


def shown_hits(searcher: Searcher, query: str) -> list[Hit]:
    """The hits a private answer to `query` cycles through, as the vault has them now (for its buttons)."""
    return searcher.search(limit_query(query), RESULTS)


def _search(searcher: Searcher, query: str, limit: int) -> tuple[list[Hit], dict[str, str]]:
    """The hits for `query` and how its misspelt words were read, reading it once."""
    reading = searcher.read_query(query)
    return searcher.search_terms(reading, limit), reading.corrections
