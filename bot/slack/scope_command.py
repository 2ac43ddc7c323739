"""`/notes scope`: what part of the vault a channel draws from.

`/notes scope lexfridman/ allin/ tag:ml` sets it (notes under any of those folders or carrying any of
those tags), `/notes scope` says what is set, `/notes scope all` lifts it. Only folders and tags that
some note of the vault has are accepted: anything else is named back with the closest ones the vault
has, and nothing changes. Stored per team and channel through bot.slack.channel_scopes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.engine.narrowing import close_matches
from bot.engine.scope import NoteSets, Scope
from bot.slack.channel_scopes import ChannelScopes
from bot.slack.messages import Message, code_text, scope_mrkdwn

ALL = {"all", "none", "clear", "off"}  # `/notes scope all`: the whole vault again
MAX_NAMES = 30  # folders and tags in one scope: more is a typo or a paste, not a corner of the vault
USAGE = (
    "*A channel's corner of the vault*: what `/notes`, mentions, link previews and the topic of the day "
    "draw from in this channel.\n"
    "• `/notes scope lexfridman/ allin/`: notes under those folders\n"
    "• `/notes scope tag:ml`: notes with that front-matter tag (folders and tags can be mixed)\n"
    "• `/notes scope`: what is set here\n"
    "• `/notes scope all`: the whole vault again"
)


def handle_scope_command(
    words: list[str],
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    scopes: ChannelScopes,
    note_sets: NoteSets,
    now: datetime,
) -> Message:
    """The reply to `/notes scope <words>` typed in `channel_id`; sets or lifts its scope."""
    if not words:
        return _status(scopes.scope_for(team_id, channel_id), note_sets)
    if len(words) == 1 and words[0].lower() in ALL:
        cleared = scopes.clear(team_id, channel_id)
        said = "now draws from the whole vault again" if cleared else "already draws from the whole vault"
        return _reply(f"This channel {said} ({_notes(note_sets, None)}).")
    if len(words) > MAX_NAMES:
        return _reply(f"That is {len(words)} folders and tags; a scope takes at most {MAX_NAMES}. Nothing changed.")
    scope = read_scope_words(words, note_sets)
    problems = _unknown(scope, note_sets)
    if problems:
        return _reply("\n".join([*problems, "Nothing changed.", USAGE]))
    scopes.save(team_id, channel_id, scope, user_id, now)
    return _reply(
        f"This channel now draws from {scope_mrkdwn(scope)} ({_notes(note_sets, scope)}): its `/notes`, "
        "mentions, link previews and topic of the day. `/notes scope all` lifts it."
    )


def read_scope_words(words: list[str], note_sets: NoteSets) -> Scope:
    """Folders (`lexfridman/`, `in:lexfridman`) and tags (`tag:ml`, `#ml`) from the command's words; a folder
    written in another case than the vault's is read as the vault's."""
    folders, tags = [], []
    by_case = {folder.casefold(): folder for folder in note_sets.folders()}
    for word in words:
        lowered = word.lower()
        if lowered.startswith("tag:") or word.startswith("#"):
            tags.append(word.split(":", 1)[1] if lowered.startswith("tag:") else word)
        else:
            folder = word.split(":", 1)[1] if lowered.startswith("in:") else word
            folder = folder.strip().strip("/")
            folders.append(by_case.get(folder.casefold(), folder))
    return Scope(folders=tuple(folders), tags=tuple(tags))


def _unknown(scope: Scope, note_sets: NoteSets) -> list[str]:
    unknown = note_sets.unknown(scope)
    lines = [_unknown_line("folder", f"{name}/", close_matches(name, note_sets.folders())) for name in unknown.folders]
    lines += [_unknown_line("tag", name, close_matches(name, note_sets.tags())) for name in unknown.tags]
    if not scope.folders and not scope.tags:
        lines.append("Name at least one folder or tag.")
    return lines


def _unknown_line(kind: str, name: str, close: list[str]) -> str:
    suffix = "/" if kind == "folder" else ""
    hint = f" Close: {', '.join(f'`{code_text(c)}{suffix}`' for c in close)}." if close else ""
    return f"The notes have no {kind} `{code_text(name)}`.{hint}"


def _status(scope: Scope | None, note_sets: NoteSets) -> Message:
    if scope is None:
        return _reply(f"This channel draws from the whole vault ({_notes(note_sets, None)}).\n{USAGE}")
    return _reply(
        f"This channel draws from {scope_mrkdwn(scope)} ({_notes(note_sets, scope)}). `/notes scope all` lifts it."
    )


def _notes(note_sets: NoteSets, scope: Scope | None) -> str:
    count = note_sets.note_count if scope is None else int(note_sets.mask(scope).sum())
    return f"{count:,} note" + ("" if count == 1 else "s")


def _reply(text: str) -> Message:
    return {"text": text}


def scope_command(
    scopes: ChannelScopes, note_sets: NoteSets, now: datetime, text: str, payload: dict[str, Any]
) -> Message:
    """`handle_scope_command` for a slash command payload."""
    return handle_scope_command(
        text.split(),
        team_id=payload.get("team_id", ""),
        channel_id=payload.get("channel_id", ""),
        user_id=payload.get("user_id", ""),
        scopes=scopes,
        note_sets=note_sets,
        now=now,
    )
