"""The topic of the day as a Slack message, and how to recognise it again in a channel's history.

Pure. The post carries message metadata naming its day, so that a process that does not know whether
its post arrived (a timeout, a 5xx) can find it before posting again (bot.digest.poster).
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    ImageBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.digest.choose import DigestDay, Topic
from bot.engine.site import NoteSite
from bot.slack.messages import (
    SECTION_LIMIT,
    Message,
    cut_at_word,
    escape_mrkdwn,
    excerpt_mrkdwn,
    hit_links,
    location,
    moment_url,
    watch_link,
)

METADATA_TYPE = "notesbot_digest"  # message metadata that lets the history check recognise our post


def thumbnail_url(video_id: str | None) -> str | None:
    """The video's thumbnail, only for a real YouTube id (it goes into a URL)."""
    return f"https://i.ytimg.com/vi/{video_id}/hqdefault.jpg" if moment_url(video_id, None) else None


def digest_message(topic: Topic, site: NoteSite | None = None) -> Message:
    """The post: header, title and heading, excerpt, thumbnail, watch link (and "Read the note" on the
    published vault, `site`) and related notes."""
    hit = topic.hit
    where = " › ".join(escape_mrkdwn(" ".join(p.split())) for p in (*hit.heading_path, hit.heading) if p.strip())
    title = f"*{escape_mrkdwn(' '.join(hit.title.split()))}*" + (f"\n{where}" if where else "")
    link = watch_link(hit.video_id, hit.timestamp)
    blocks: list[Block] = [
        HeaderBlock(text="Topic of the day"),
        SectionBlock(text=MarkdownTextObject(text=cut_at_word(title, SECTION_LIMIT))),
        SectionBlock(text=MarkdownTextObject(text=excerpt_mrkdwn(hit.text, hit.video_id))),
    ]
    thumbnail = thumbnail_url(hit.video_id)
    if thumbnail:
        # Alt text is plain text where escaping does not apply: it carries nothing from the note.
        blocks.append(ImageBlock(image_url=thumbnail, alt_text="Video thumbnail"))
    links = hit_links(hit, site)
    if links:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=links)))
    if topic.related:
        related = " · ".join(escape_mrkdwn(t) for t in topic.related)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=cut_at_word(f"Related: {related}", 2000))]))
    text = f"Topic of the day: {location(hit)}" + (f" — {link}" if link else "")
    return {"text": text, "blocks": [block.to_dict() for block in blocks]}


def digest_metadata(day: DigestDay, topic: Topic) -> dict[str, Any]:
    """The post's message metadata: which day's digest it is, and of which note."""
    payload = {"local_date": day.local_date.isoformat(), "note": topic.hit.note}
    return {"event_type": METADATA_TYPE, "event_payload": payload}


def is_digest_of(posted: dict[str, Any], day: DigestDay, message: Message) -> bool:
    """Whether a message of the channel's history is `day`'s digest (`message` being what we would post)."""
    metadata = posted.get("metadata") or {}
    if metadata.get("event_type") == METADATA_TYPE:
        return (metadata.get("event_payload") or {}).get("local_date") == day.local_date.isoformat()
    # Without metadata (stripped, or an older client), the same fallback text is the same topic.
    return bool(posted.get("bot_id")) and posted.get("text") == message["text"]
