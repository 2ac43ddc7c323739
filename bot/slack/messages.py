"""Search hits as Slack messages: pure functions from plain data to Block Kit payloads.

Everything that came from a note or from a user is escaped for mrkdwn (`&`, `<`, `>`), so no
`<!channel>`, `<!here>`, user mention or link can be smuggled in; the only links are the ones built
here from a validated video id, and "Read the note" links to the published vault (bot.engine.site:
built from the note's path and heading, and validated) when a site is set. Every message built on the
shared hit blocks (`_hit_blocks`) carries both. Blocks are built with slack_sdk's models, whose `to_dict()` checks
Slack's limits, and every message carries a plain-text fallback `text`.

A message is a dict ready for `chat.postMessage(**message)` or a `response_url` post:
`{"text": ..., "blocks": [...]}`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.engine.follow_up import ThreadContext
from bot.engine.parsing import video_url
from bot.engine.scope import Scope
from bot.engine.search import Hit
from bot.engine.site import NoteSite
from bot.engine.timestamps import LABEL as TIMESTAMP_LABEL
from bot.engine.timestamps import format_timestamp, parse_timestamp

Message = dict[str, Any]

MAX_BLOCKS = 50  # per message (a Home tab allows 100)
MAX_HOME_BLOCKS = 100
SECTION_LIMIT = 3000  # characters of a section block's text
EXCERPT_LIMIT = 1200  # an answer's excerpt: enough to judge the section, short enough to read in Slack
SHORT_EXCERPT_LIMIT = 300
PREVIEW_EXCERPT_LIMIT = 500  # a link preview: what the notes say at that moment, in a few lines
ALSO_IN_LIMIT = 3  # other notes on the same video named under a preview
QUERY_SHOWN_LIMIT = 120  # how much of a (possibly huge) query is quoted back to the user

SHARE_ACTION = "notes_share"
NEXT_ACTION = "notes_next"
DISMISS_ACTION = "notes_dismiss"
HELPFUL_ACTION = "notes_helpful"  # 👍 / 👎 on an answer, recorded for `notesbot report`
UNHELPFUL_ACTION = "notes_unhelpful"
THREAD_NEXT_ACTION = "notes_thread_next"  # "Next match" on an answer posted in an assistant thread
OPEN_SEARCH_ACTION = "notes_open_search"  # "Search the notes": opens the search modal
# The search modal, as the listeners of bot/slack/listeners/views.py know it.
SEARCH_MODAL = "notes_search_modal"
SEARCH_BLOCK = "query"
SEARCH_INPUT = "query_input"
MAX_VALUE_CHARS = 2000  # of a button's value, Slack's limit
TITLE_LIMIT = 60  # an assistant thread's title, and a suggested prompt's: a line in Slack's list of chats

_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.DOTALL)
# Stands for a bold marker while cutting, so that a cut inside bold text can close it again.
_BOLD = "\x00"
_ELLIPSIS = "…"


# --- Text ---------------------------------------------------------------------------------------


def escape_mrkdwn(text: str) -> str:
    """Defuse mentions and links in text the bot did not write: exactly `&`, `<` and `>`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def moment_url(video_id: str | None, seconds: int | None) -> str | None:
    """The YouTube link to a moment, or None when the video id is missing or not a real id.

    The id comes from a note's front matter: anything but an 11-character YouTube id could carry
    `>` or `|` and break out of the link, so it gets no link at all.
    """
    if not video_id or not _VIDEO_ID.fullmatch(video_id):
        return None
    return video_url(video_id, seconds)


def watch_link(video_id: str | None, seconds: int | None) -> str | None:
    """`<url|Watch from 38:00>` (or `Watch the video` without a moment); None without a valid video."""
    url = moment_url(video_id, seconds)
    if url is None:
        return None
    label = f"Watch from {format_timestamp(seconds)}" if seconds is not None else "Watch the video"
    return f"<{url}|{label}>"


def note_link(hit: Hit, site: NoteSite | None) -> str | None:
    """`<url|Read the note>` to the hit's section on the published vault; None without a site (or a URL
    that would not be safe in a link)."""
    url = note_url(hit, site)
    return f"<{url}|Read the note>" if url else None


def note_url(hit: Hit, site: NoteSite | None) -> str | None:
    """The hit's section on the published vault, or None without a site."""
    return site.page_url(hit.note, hit.heading, hit.anchor) if site is not None else None


def hit_links(hit: Hit, site: NoteSite | None) -> str:
    """`▶ Watch from 38:00   ·   📖 Read the note`, each when there is one to give ("" if neither)."""
    watch, read = watch_link(hit.video_id, hit.timestamp), note_link(hit, site)
    parts = [f":arrow_forward: {watch}" if watch else "", f":book: {read}" if read else ""]
    return "   ·   ".join(part for part in parts if part)


def excerpt_mrkdwn(text: str, video_id: str | None, limit: int = EXCERPT_LIMIT) -> str:
    """A section's clean text as Slack mrkdwn of at most `limit` characters.

    Escaped; `**x**` becomes `*x*`; bullets and line breaks stay; each timestamp label such as
    `[38:00]` becomes a link to that moment when the note has a video; a long text is cut at a word
    with an ellipsis (and bold text cut in the middle is closed again).
    """
    limit = min(limit, SECTION_LIMIT)
    escaped = escape_mrkdwn(text.replace(_BOLD, "").strip())
    marked = _STRONG.sub(lambda m: f"{_BOLD}{m.group(1)}{_BOLD}", escaped)
    linked = TIMESTAMP_LABEL.sub(lambda m: _timestamp_link(m, video_id), marked)
    return cut_at_word(linked, limit).replace(_BOLD, "*")


def _timestamp_link(match: re.Match[str], video_id: str | None) -> str:
    seconds = parse_timestamp(match.group(1))
    url = moment_url(video_id, seconds) if seconds is not None else None
    return f"<{url}|{match.group(1)}>" if url else match.group(0)


def cut_at_word(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its start cut at a word, with an ellipsis.

    Never cuts inside a link `<...>` or an entity `&amp;` (both contain no spaces, and a cut
    without any space backs off to before them).
    """
    if len(text) <= limit:
        return text
    room = limit - 2  # the ellipsis and, if needed, a bold marker that closes an open one
    head = text[: room + 1]
    space = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
    head = head[:space] if space > room // 2 else _cut_outside_markup(head[:room])
    head = head.rstrip(" \n\t,:")  # not `;`, which may end an entity
    if head.count(_BOLD) % 2 and head.endswith(_BOLD):
        head = head[:-1].rstrip()
    closing = _BOLD if head.count(_BOLD) % 2 else ""
    return head + _ELLIPSIS + closing


def _cut_outside_markup(head: str) -> str:
    """`head` shortened so that it does not end inside a link or an entity."""
    link_start = head.rfind("<")
    if link_start > head.rfind(">"):
        head = head[:link_start]
    # Only an `&` after the last link starts an entity: the links' own URLs hold `&t=`.
    entity_start = head.rfind("&", head.rfind(">") + 1)
    if entity_start > head.rfind(";"):
        head = head[:entity_start]
    return head


def plain_excerpt(text: str, limit: int = SHORT_EXCERPT_LIMIT) -> str:
    """One line of escaped text without markup, for fallbacks and short previews."""
    flat = " ".join(text.replace("**", "").replace("•", "").split())
    return cut_at_word(escape_mrkdwn(flat), limit)


def quote_query(query: str) -> str:
    """The user's query, escaped and shortened, in quotes."""
    return f"“{cut_at_word(escape_mrkdwn(' '.join(query.split())), QUERY_SHOWN_LIMIT)}”"


def query_as_read(query: str, corrections: Mapping[str, str] | None = None) -> str:
    """The quoted query, and how its misspelt words were read, if any were."""
    return quote_query(query) + (f" (read as {_corrections(corrections)})" if corrections else "")


def _corrections(corrections: Mapping[str, str]) -> str:
    shown = list(corrections.items())[:5]
    return ", ".join(f"{escape_mrkdwn(typed)} → *{escape_mrkdwn(read)}*" for typed, read in shown)


def location(hit: Hit) -> str:
    """`Title › Parent › Heading`, escaped (the heading is omitted for a note's introduction)."""
    return _joined_path((hit.title, *hit.heading_path, hit.heading))


def _joined_path(parts: Sequence[str]) -> str:
    return " › ".join(escape_mrkdwn(" ".join(p.split())) for p in parts if p.strip())


# --- Answers ------------------------------------------------------------------------------------


def result_value(query: str, position: int, context: ThreadContext | None = None, thread_ts: str | None = None) -> str:
    """What a result's buttons carry: the query and the position of the hit shown; for a follow-up, the
    thread's context it was read in (so the buttons search it the same way, on any process, however long
    after); for an answer to a message in a thread, that thread (where Share posts). Within Slack's limit,
    the oldest questions of the context, then the last of its notes, are left out first."""
    value = {"q": query, "i": position} | ({"th": thread_ts} if thread_ts else {})
    queries, notes = (list(context.queries), list(context.notes)) if context else ([], [])
    while True:
        extra = ({"c": queries} if queries else {}) | ({"n": notes} if notes else {})
        written = json.dumps(value | extra, ensure_ascii=False)
        if len(written) <= MAX_VALUE_CHARS or not extra:
            return written
        if queries:
            queries.pop(0)
        else:
            notes.pop()


def read_result_value(value: str) -> tuple[str, int]:
    """The query and position of `result_value`; ValueError if it is not one."""
    data = json.loads(value)
    if not isinstance(data, dict) or not isinstance(data.get("q"), str) or not isinstance(data.get("i"), int):
        raise ValueError("not a result value")
    return data["q"], data["i"]


def read_result_thread(value: str) -> tuple[ThreadContext, str | None]:
    """The thread's context and the thread a `result_value` carries (an empty context and None if none)."""
    try:
        data = json.loads(value)
    except ValueError:
        return ThreadContext(), None
    if not isinstance(data, dict):
        return ThreadContext(), None
    queries, notes, thread_ts = data.get("c"), data.get("n"), data.get("th")
    context = ThreadContext(_strings(queries), _strings(notes))
    return context, thread_ts if isinstance(thread_ts, str) and thread_ts else None


def _strings(values: Any) -> tuple[str, ...]:
    return tuple(v for v in values if isinstance(v, str)) if isinstance(values, list) else ()


def answer_message(
    hit: Hit,
    query: str,
    position: int = 0,
    count: int = 1,
    corrections: Mapping[str, str] | None = None,
    context: ThreadContext | None = None,
    thread_ts: str | None = None,
    site: NoteSite | None = None,
) -> Message:
    """The answer to `/notes`: where, the excerpt, the watch link, and share / next / dismiss buttons (which
    carry the thread's `context` and the `thread_ts` to share in, when given)."""
    value = result_value(query, position, context, thread_ts)
    buttons = [
        ButtonElement(text="Share to channel", action_id=SHARE_ACTION, value=value, style="primary"),
    ]
    if count > 1:
        buttons.append(ButtonElement(text="Next match", action_id=NEXT_ACTION, value=value))
    buttons.append(ButtonElement(text="Dismiss", action_id=DISMISS_ACTION, value=value))
    footer = f"Match {position + 1} of {count} for {query_as_read(query, corrections)}"
    blocks = [*_hit_blocks(hit, footer, site=site), feedback_block(value), ActionsBlock(elements=buttons)]
    return _message(_hit_fallback(hit), blocks)


def feedback_block(value: str) -> ActionsBlock:
    """👍 / 👎 for the answer that `value` (a `result_value`) names."""
    return ActionsBlock(
        block_id="feedback",
        elements=[
            ButtonElement(text="👍 Helpful", action_id=HELPFUL_ACTION, value=value),
            ButtonElement(text="👎 Not helpful", action_id=UNHELPFUL_ACTION, value=value),
        ],
    )


def feedback_thanks_message(helpful: bool) -> Message:
    """The private reply to a 👍 or 👎."""
    text = (
        "Thanks! Glad it helped."
        if helpful
        else "Thanks for saying so. Unhelpful answers are listed for whoever keeps the notes, to fill the gap."
    )
    return _message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def shared_message(hit: Hit, user_id: str, source: str = "/notes", *, site: NoteSite | None = None) -> Message:
    """An answer posted to the channel by the Share button, saying who shared it and from where."""
    sharer = f"<@{user_id}>" if re.fullmatch(r"[UW][A-Z0-9]+", user_id) else "Someone"
    blocks = _hit_blocks(hit, f"Shared by {sharer} from {source}", site=site)
    return _message(f"{sharer} shared: {_hit_fallback(hit)}", blocks)


def thread_answer(
    hits: Sequence[Hit],
    query: str,
    corrections: Mapping[str, str] | None = None,
    position: int = 0,
    next_value: str | None = None,
    site: NoteSite | None = None,
) -> Message:
    """The answer to a mention or a DM: the hit at `position` in full and the two after it as short links;
    with `next_value` (a `result_value`), a "Next match" button that shows the next hit in its place."""
    shown = position % len(hits)
    top = hits[shown]
    more = [hits[(shown + step) % len(hits)] for step in (1, 2) if step < len(hits)]
    read = query_as_read(query, corrections)
    footer = f"Best match for {read}" if shown == 0 else f"Match {shown + 1} of {len(hits)} for {read}"
    blocks: list[Block] = _hit_blocks(top, footer, site=site)
    if more:
        lines = "\n".join(f"• {_short_link(hit, site=site)}" for hit in more)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*Also:*\n{lines}")))
    if next_value is not None and len(hits) > 1:
        next_button = ButtonElement(text="Next match", action_id=THREAD_NEXT_ACTION, value=next_value)
        blocks.append(ActionsBlock(elements=[next_button]))
    return _message(_hit_fallback(top), blocks)


def link_preview(hit: Hit, also_in: Sequence[str], site: NoteSite | None) -> dict[str, Any]:
    """A link's preview (one value of chat.unfurl's `unfurls`): the section covering the link's moment,
    a short excerpt, its links, and the titles of other notes on the same video."""
    footer = also_in_text([_joined_path([title]) for title in also_in]) or "From the notes"
    return {"blocks": [block.to_dict() for block in _hit_blocks(hit, footer, site=site, limit=PREVIEW_EXCERPT_LIMIT)]}


def also_in_text(notes: Sequence[str]) -> str:
    """`Also in A · B and 2 more`: the other notes on the same video (mrkdwn, escaped), the first ALSO_IN_LIMIT
    named ("" for none)."""
    shown = notes[:ALSO_IN_LIMIT]
    more = len(notes) - len(shown)
    return (f"Also in {' · '.join(shown)}" + (f" and {more} more" if more > 0 else "")) if shown else ""


def _twin_notes(hit: Hit, site: NoteSite | None) -> list[str]:
    """The other notes the hit's twins are in, once each, best first: each title linked to the twin's section
    on the published vault when there is one."""
    named = []
    for twin in hit.other_notes:
        title, url = _joined_path([twin.title]) or "Untitled note", note_url(twin, site)
        # a link label ends at `|` or `>`; escaping removed `>`, and a `|` would cut the label short
        named.append(f"<{url}|{title.replace('|', '¦')}>" if url else title)
    return named


def _hit_blocks(hit: Hit, footer: str, *, site: NoteSite | None, limit: int = EXCERPT_LIMIT) -> list[Block]:
    """Every message's hit: where it is, its excerpt, and its links (watch it, read it) with `footer`, and the
    other notes saying the same at that moment (its twins'). `site` is required so that no message kind forgets
    "Read the note" (None: no site is set)."""
    title = f"*{_joined_path([hit.title]) or 'Untitled note'}*"
    path = _joined_path((*hit.heading_path, hit.heading))
    heading = cut_at_word(title + (f"\n{path}" if path else ""), SECTION_LIMIT)
    excerpt = excerpt_mrkdwn(hit.text, hit.video_id, limit) or "_(this section has no text)_"
    links = hit_links(hit, site)
    context = f"{links}   ·   {footer}" if links else footer
    if twins := _twin_notes(hit, site):
        context += f"\n{also_in_text(twins)}"
    return [
        SectionBlock(text=MarkdownTextObject(text=heading)),
        SectionBlock(text=MarkdownTextObject(text=excerpt)),
        ContextBlock(elements=[MarkdownTextObject(text=cut_at_word(context, SECTION_LIMIT))]),
    ]


def _short_link(hit: Hit, *, site: NoteSite | None) -> str:
    label = cut_at_word(location(hit), 200)
    url = moment_url(hit.video_id, hit.timestamp)
    moment = f" ({format_timestamp(hit.timestamp)})" if hit.timestamp is not None else ""
    read = note_link(hit, site)
    # A link label ends at `|` or `>`; escaping removed `>`, and a `|` would cut the label short.
    shown = f"<{url}|{label.replace('|', '¦')}>{moment}" if url else f"{label}{moment}"
    return shown + (f" · {read}" if read else "")


def _hit_fallback(hit: Hit) -> str:
    link = watch_link(hit.video_id, hit.timestamp)
    return location(hit) + (f" — {link}" if link else "")


# --- Other replies ------------------------------------------------------------------------------


def scope_mrkdwn(scope: Scope) -> str:
    """A channel's scope as the user wrote it: `lexfridman/`, `allin/`, tag `ml` (escaped, in code spans)."""
    named = [f"`{code_text(folder)}/`" for folder in scope.folders] + [f"tag `{code_text(tag)}`" for tag in scope.tags]
    return ", ".join(named) or "no notes at all"


def code_text(text: str) -> str:
    """Text for a code span: escaped, without the backticks that would end it."""
    return cut_at_word(escape_mrkdwn(text.replace("`", "'")), 100)


def nothing_found_message(
    query: str, suggestions: Sequence[str], corrections: Mapping[str, str], note: str = ""
) -> Message:
    """A friendly nothing-found reply with what might work instead: close headings and corrected words
    (`note`: mrkdwn the caller wrote, such as where in the vault it looked)."""
    text = _nothing_found_text(query, suggestions, corrections, note)
    return _message(text.split("\n", 1)[0], [SectionBlock(text=MarkdownTextObject(text=text))])


def _nothing_found_text(query: str, suggestions: Sequence[str], corrections: Mapping[str, str], note: str = "") -> str:
    lines = [f"Nothing found for {quote_query(query)}." + (f" {note}" if note else "")]
    if corrections:
        lines.append(f"I read: {_corrections(corrections)}")
    if suggestions:
        lines.append("Close headings you could try:")
        lines.extend(f"• {cut_at_word(escape_mrkdwn(s), 200)}" for s in suggestions[:5])
    else:
        lines.append("Try fewer or other words, for example `/notes computer vision`.")
    return cut_at_word("\n".join(lines), SECTION_LIMIT)


def help_message() -> Message:
    """Short usage with examples, for `/notes` and `/notes help`."""
    text = (
        "*Ask the video notes.* I find the section that answers you and link to that moment of the video.\n"
        "• `/notes computer vision` — the best match, only for you, with buttons to share it, "
        "see the next match, or dismiss it\n"
        "• `/notes how do self-driving cars handle occlusion?` — questions work too\n"
        "• Mention me in a channel (`@notesbot what is reinforcement learning?`) and I answer in the thread\n"
        "• Or send me a direct message\n"
        "• `/notes digest on 09:00 Europe/Berlin` — a topic of the day in this channel (`/notes digest off` stops it)\n"
        "• `/notes in:lexfridman computer vision`, `/notes tag:ml transformers` — search one folder or tag\n"
        "• `/notes scope lexfridman/ tag:ml` — what this channel's answers, previews and digest draw from "
        "(`/notes scope` says, `/notes scope all` lifts it)\n"
        "• Paste a YouTube link to a video in the notes and I show what the notes say at that moment\n"
        "• Mention me with no question in a thread, and I answer the thread's first message"
    )
    return _message(
        "How to use /notes: type /notes and a few words or a question",
        [SectionBlock(text=MarkdownTextObject(text=text)), _open_search_block()],
    )


def _open_search_block() -> ActionsBlock:
    """The "Search the notes" button, which opens the search modal."""
    return ActionsBlock(elements=[ButtonElement(text="Search the notes", action_id=OPEN_SEARCH_ACTION, value="open")])


def apology_message() -> Message:
    """What the user sees when Slack would not take the answer (the reason is in the bot's log)."""
    text = "Sorry, I could not deliver the answer just now. Please try again in a moment."
    return _message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def home_view(
    note_count: int, section_count: int, topic: Hit | None = None, site: NoteSite | None = None
) -> dict[str, Any]:
    """The App Home tab: what the bot does, how to ask, the vault's size and today's topic."""
    blocks: list[Block] = [
        HeaderBlock(text="notesbot"),
        SectionBlock(
            text=MarkdownTextObject(
                text="I answer from a vault of video notes: the section that fits your question, "
                "with a link to that moment of the video."
            )
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text="*How to ask*\n"
                "• `/notes computer vision` in any channel (only you see the answer)\n"
                "• Mention me in a channel and I answer in the thread\n"
                "• Send me a direct message\n"
                "• `/notes help` for more"
            )
        ),
        _open_search_block(),
        ContextBlock(
            elements=[MarkdownTextObject(text=f"The vault holds {note_count:,} notes in {section_count:,} sections.")]
        ),
    ]
    if topic is not None:
        blocks += [
            DividerBlock(),
            SectionBlock(text=MarkdownTextObject(text="*Today's topic*")),
            *_hit_blocks(topic, "From the daily digest", site=site),
        ]
    return View(type="home", blocks=blocks).to_dict()


# --- Conversations: assistant threads, summons, the message shortcut, the search modal --------------


def search_modal(
    query: str | None = None,
    hits: Sequence[Hit] = (),
    corrections: Mapping[str, str] | None = None,
    suggestions: Sequence[str] = (),
    note: str = "",
    *,
    site: NoteSite | None = None,
) -> dict[str, Any]:
    """The search modal: one input (Enter searches) and, once `query` was searched, its hits (title ›
    heading, a short excerpt, the watch link, "Read the note" with a `site`), or why there are none (`note`:
    mrkdwn the caller wrote, such as an `in:` the notes do not have)."""
    element = PlainTextInputElement(
        action_id=SEARCH_INPUT,
        initial_value=query or None,
        placeholder="computer vision, or a question",
        dispatch_action_config={"trigger_actions_on": ["on_enter_pressed"]},
    )
    field = InputBlock(
        block_id=SEARCH_BLOCK, label="Words or a question", element=element, dispatch_action=True, optional=True
    )
    blocks: list[Block] = [field]
    if query is None:
        blocks.append(_context("Press Enter for the five best sections, each with a link to its moment of the video."))
    elif not query.strip():
        blocks.append(_context("Nothing to search for: type a few words or a question, then press Enter."))
    elif not hits:
        text = _nothing_found_text(query, suggestions, corrections or {}, note)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    else:
        blocks.append(_context(f"The best {len(hits)} for {query_as_read(query, corrections)}"))
        for rank, hit in enumerate(hits, 1):
            blocks += [
                DividerBlock(),
                *_hit_blocks(hit, f"Match {rank} of {len(hits)}", site=site, limit=SHORT_EXCERPT_LIMIT),
            ]
    modal = View(
        type="modal", callback_id=SEARCH_MODAL, title="Search the notes", submit="Search", close="Close", blocks=blocks
    )
    return modal.to_dict()


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def assistant_greeting() -> Message:
    """The first message of an assistant thread."""
    text = (
        "Hi! Ask me about anything in the video notes: I answer with the section that fits and a link to that "
        "moment of the video. Ask a follow-up here and I read it with what you asked before."
    )
    return _message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def suggested_prompt(title: str, question: str) -> dict[str, str]:
    """A prompt of `assistant.threads.setSuggestedPrompts`: what the button says, and the question it asks."""
    return {"title": cut_at_word(" ".join(title.split()), TITLE_LIMIT), "message": question}


def thread_title(query: str) -> str:
    """An assistant thread's title, from its first question: escaped like any query, one short line."""
    return cut_at_word(escape_mrkdwn(" ".join(query.split())), TITLE_LIMIT)


def thread_unreadable_message() -> Message:
    """The reply to a mention asking to answer a thread whose first message Slack would not give the bot."""
    text = (
        "I could not read the first message of this thread just now. Mention me again in a minute, "
        "or write the question after the mention."
    )
    return _message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def nothing_to_search_message() -> Message:
    """The private reply to "Find in notes" on a message without words (only a file, say)."""
    text = "That message has no words I could search the notes for."
    return _message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def _message(text: str, blocks: Sequence[Block]) -> Message:
    if len(blocks) > MAX_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks: Slack takes at most {MAX_BLOCKS}")
    return {"text": text, "blocks": [block.to_dict() for block in blocks]}
