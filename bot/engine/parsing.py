"""Parsed notes: one markdown file's bytes in, a `Note` of `Section`s (and the problems found) out.

Pure functions over plain data. Front matter is read with python-frontmatter and the document
structure with markdown-it-py, so a `#` inside a code block is no heading. Section bodies become
"clean text": wikilinks shown by their display text, HTML removed, callouts kept as text, bullets
as `•`, strong emphasis as `**…**` and each timestamp anchor as a canonical `[38:00]` label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import frontmatter
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.engine.timestamps import format_timestamp, read_note_timestamps

WIKILINK = re.compile(r"!?\[\[([^\]\[|#^]*)(?:[#^][^\]\[|]*)?(?:\|([^\]\[]*))?\]\]")
_DATA_T = re.compile(r"""data-t\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]*>", re.DOTALL)
_CALLOUT = re.compile(r"^\[![\w-]+\][+-]?\s*", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t]+")
# Where a timestamp's label goes in clean text until the note's stamps are read together. NUL cannot
# come from a note (decoding removes it), so no text is mistaken for a slot.
_LABEL_SLOT = re.compile(r"( ?)\x00(\d+)\x00( ?)")

_MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


@dataclass(frozen=True, slots=True)
class Section:
    heading: str  # "" for the text before the first heading
    path: tuple[str, ...]  # the headings this one sits under, outermost first
    level: int  # 0 for the text before the first heading
    text: str
    timestamps: tuple[int, ...]  # seconds, in order of appearance
    line: int  # 1-based line of the heading in the file


@dataclass(frozen=True, slots=True)
class Link:
    target: str  # as written in `[[target | shown]]`
    line: int  # where it is first written


@dataclass(frozen=True, slots=True)
class Note:
    path: str  # relative to the vault, with forward slashes
    title: str
    video_id: str | None
    links: tuple[Link, ...]  # the wikilinks it makes, in order, each target once
    sections: tuple[Section, ...]
    tags: tuple[str, ...] = ()  # front matter `tags`, as `note_tags` reads them


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    line: int
    message: str
    severity: str = "warning"  # "error" when the note could not be served as written

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass(slots=True)
class ParseResult:
    note: Note | None
    problems: list[Problem] = field(default_factory=list)


def video_url(video_id: str | None, seconds: int | None) -> str | None:
    """The YouTube link to a moment of a video (its start when `seconds` is None)."""
    if not video_id:
        return None
    if seconds is None:
        return f"https://www.youtube.com/watch?v={video_id}"
    return f"https://www.youtube.com/watch?v={video_id}&t={seconds}s"


def section_url(note: Note, section: Section) -> str | None:
    return video_url(note.video_id, section.timestamps[0] if section.timestamps else None)


def replace_wikilinks(text: str) -> str:
    """`[[target | shown]]` becomes `shown`, `[[target]]` becomes `target`."""
    return WIKILINK.sub(_wikilink_display, text)


def _wikilink_display(match: re.Match[str]) -> str:
    shown = (match.group(2) or "").strip()
    return shown or match.group(1).strip()


def clean_inline_text(text: str) -> str:
    """Plain text of a snippet of markdown-ish text: no wikilink syntax, tags or callout markers."""
    text = replace_wikilinks(text)
    text = _TAG.sub(" ", text)
    text = _CALLOUT.sub("", text)
    return _SPACES.sub(" ", text).strip()


_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{6,20}")


def parse_note(rel_path: str, raw: bytes) -> ParseResult:
    """Parse one note. Never raises: what cannot be read becomes a `Problem`."""
    problems: list[Problem] = []
    text = _decode(rel_path, raw, problems)
    if not text.strip():
        problems.append(Problem(rel_path, 1, "empty note", "warning"))
        return ParseResult(None, problems)
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as error:
        # where the broken construct starts, else where the YAML parser gave up (python-frontmatter
        # hands YAML its lines numbered as in the file, counting from 0)
        mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problems.append(Problem(rel_path, line, f"broken YAML front matter: {_first_line(error)}", "error"))
        return ParseResult(None, problems)
    except Exception as error:  # python-frontmatter raises plain ValueErrors for odd front matter
        problems.append(Problem(rel_path, 1, f"unreadable front matter: {_first_line(error)}", "error"))
        return ParseResult(None, problems)
    metadata = post.metadata if isinstance(post.metadata, dict) else {}
    body = post.content
    offset = _body_line_offset(text, body)
    title = _title(rel_path, metadata, problems)
    video_id = _video_id(rel_path, metadata, problems)
    sections, links = _sections(rel_path, body, offset, problems)
    first_links = {}
    for link in links:
        first_links.setdefault(link.target, link)
    note = Note(rel_path, title, video_id, tuple(first_links.values()), tuple(sections), note_tags(metadata))
    return ParseResult(note, problems)


def _decode(rel_path: str, raw: bytes, problems: list[Problem]) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problems.append(Problem(rel_path, line, "bytes that are not UTF-8 (shown as \ufffd)", "error"))
        text = raw.decode("utf-8-sig", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _body_line_offset(text: str, body: str) -> int:
    """How many lines of the file come before the body (the front matter's)."""
    if not body:
        return text.count("\n")
    start = text.find(body[: min(len(body), 200)])
    return text.count("\n", 0, start) if start > 0 else 0


def _title(rel_path: str, metadata: dict, problems: list[Problem]) -> str:
    title = metadata.get("title")
    if isinstance(title, str | int | float) and str(title).strip():
        return clean_inline_text(str(title))
    problems.append(Problem(rel_path, 1, "no title in the front matter: using the file name"))
    return PurePosixPath(rel_path).stem.replace("_", " ").strip() or rel_path


def _video_id(rel_path: str, metadata: dict, problems: list[Problem]) -> str | None:
    value = metadata.get("videoId")
    if value is None or not str(value).strip():
        problems.append(Problem(rel_path, 1, "no videoId in the front matter: sections get no video link"))
        return None
    video_id = str(value).strip()
    if not _VIDEO_ID.fullmatch(video_id):
        problems.append(Problem(rel_path, 1, f"videoId {video_id!r} is not a YouTube video id"))
        return None
    return video_id


_TAG_SEPARATORS = re.compile(r"[,\s]+")


def note_tags(metadata: dict) -> tuple[str, ...]:
    """The front matter's `tags` (a list, or one string of tags split by commas or spaces), each without
    a leading `#` and case-folded as Obsidian matches them, in order, each once; anything else (a nested
    list, a mapping) is no tag."""
    value = metadata.get("tags")
    raw = value if isinstance(value, list) else _TAG_SEPARATORS.split(value) if isinstance(value, str) else []
    found = (str(item).strip().lstrip("#").casefold() for item in raw if isinstance(item, str | int | float))
    return tuple(dict.fromkeys(tag for tag in found if tag))


@dataclass(slots=True)
class _OpenSection:
    heading: str
    path: tuple[str, ...]
    level: int
    line: int
    parts: list[str] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)  # numbers of the note's timestamps it holds

    def close(self, seconds: list[int | None]) -> Section:
        """The section, once the note's timestamps are read: labels in the text, moments in order."""
        text = _BLANK_LINES.sub("\n\n", "".join(self.parts)).strip()
        text = _LABEL_SLOT.sub(lambda slot: _label(slot, seconds), text)
        timestamps = tuple(s for s in (seconds[k] for k in self.stamps) if s is not None)
        return Section(self.heading, self.path, self.level, text, timestamps, self.line)


def _label(slot: re.Match[str], seconds: list[int | None]) -> str:
    """A timestamp's canonical label, written from the seconds chosen; nothing for an unreadable one."""
    before, number, after = slot.groups()
    moment = seconds[int(number)]
    if moment is None:
        return " " if before and after else ""
    return f"{before}[{format_timestamp(moment)}]{after}"


def _sections(
    rel_path: str, body: str, offset: int, problems: list[Problem]
) -> tuple[list[Section], list[Link]]:
    tokens = _parse_markdown(body)
    current = _OpenSection("", (), 0, offset + 1)
    opened = [current]
    stack: list[tuple[int, str]] = []
    links: list[Link] = []
    reader = _InlineReader(rel_path, offset, problems)
    list_depth = 0
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "heading_open":
            inline = tokens[i + 1]
            links += _links(inline, offset)
            heading_stamps: list[int] = []
            heading = _plain(reader.render(inline, heading_stamps, anchors_as_written=True))
            level = int(token.tag[1:])
            stack = [(lvl, h) for lvl, h in stack if lvl < level]
            line = offset + (token.map[0] if token.map else 0) + 1
            current = _OpenSection(heading, tuple(h for _, h in stack), level, line, stamps=heading_stamps)
            opened.append(current)
            stack.append((level, heading))
            i += 3
            continue
        if token.type in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
            if list_depth == 0:
                current.parts.append("\n")
        elif token.type == "list_item_open":
            current.parts.append("  " * (list_depth - 1) + "• ")
        elif token.type == "inline":
            links += _links(token, offset)
            current.parts.append(reader.render(token, current.stamps))
            current.parts.append(_after_inline(tokens, i, list_depth))
        elif token.type in ("fence", "code_block"):
            current.parts.append(token.content.rstrip("\n") + "\n\n")
        elif token.type == "html_block":
            reader.timestamps_in_html(token.content, token.map, current.stamps)
            current.parts.append(_plain_html(token.content))
        i += 1
    seconds = reader.read_timestamps()
    return [section for section in (s.close(seconds) for s in opened) if _kept(section)], links


def _links(inline: Token, offset: int) -> list[Link]:
    start = offset + (inline.map[0] if inline.map else 0) + 1
    return [
        Link(m.group(1).strip(), start + inline.content.count("\n", 0, m.start()))
        for m in WIKILINK.finditer(inline.content)
        if m.group(1).strip()
    ]


_MARKDOWN_FENCES = {"markdown", "md"}


def _parse_markdown(body: str) -> list[Token]:
    """Block structure of a body. A fence whose info string says its content is markdown (notes written
    by a model are often wrapped whole in one) is read as markdown, so its headings count."""
    tokens = _MD.parse(body)
    fences = [t.map for t in tokens if t.type == "fence" and t.map and t.info.strip().lower() in _MARKDOWN_FENCES]
    if not fences:
        return tokens
    lines = body.split("\n")
    for start, end in fences:
        # blank the fence lines rather than delete them, so line numbers stay true
        lines[start] = ""
        if end - 1 > start and lines[end - 1].strip().startswith(("```", "~~~")):
            lines[end - 1] = ""
    return _MD.parse("\n".join(lines))


def _kept(section: Section) -> bool:
    """The text before the first heading only counts as a section when it has something in it."""
    return section.level > 0 or bool(section.text)


def _after_inline(tokens: list[Token], i: int, list_depth: int) -> str:
    closing = tokens[i + 1].type if i + 1 < len(tokens) else ""
    if closing in ("th_close", "td_close"):
        return " | "
    if list_depth:
        return "\n"
    return "\n\n"


def _plain(text: str) -> str:
    return _SPACES.sub(" ", text.replace("**", "").replace("\n", " ")).strip()


def _plain_html(html: str) -> str:
    text = clean_inline_text(html)
    return text + "\n\n" if text else ""


class _InlineReader:
    """Renders markdown-it inline tokens to clean text and collects the note's timestamps as written,
    to be read together (a stamp is read in the light of the note's other stamps) and reported."""

    def __init__(self, rel_path: str, offset: int, problems: list[Problem]) -> None:
        self.rel_path = rel_path
        self.offset = offset
        self.problems = problems
        self.raws: list[str] = []  # every timestamp of the note as written, in order
        self.lines: list[int] = []  # the line of each

    def render(self, inline: Token, stamps: list[int], anchors_as_written: bool = False) -> str:
        """Clean text of an inline token; timestamp anchors become slots for canonical labels, or (in
        headings, which people quote as they read them) keep the text the note shows. The numbers of
        the timestamps found are added to `stamps`."""
        out: list[str] = []
        in_anchor = False
        block_line = self.offset + (inline.map[0] if inline.map else 0) + 1
        for child in inline.children or []:
            kind = child.type
            if kind == "html_inline":
                found = _DATA_T.search(child.content)
                if found:
                    in_anchor = True
                    number = self._collect(found.group(1), inline.content, child.content, block_line)
                    stamps.append(number)
                    if not anchors_as_written:
                        out.append(f"\x00{number}\x00")
                elif child.content.lower().startswith("</a"):
                    in_anchor = False
                elif child.content.lower().startswith("<br"):
                    out.append(" ")
            elif in_anchor and not anchors_as_written:
                continue
            elif kind in ("text", "text_special"):
                out.append(child.content)
            elif kind == "code_inline":
                out.append(f"`{child.content}`")
            elif kind in ("softbreak", "hardbreak"):
                out.append("\n" if kind == "hardbreak" else " ")
            elif kind in ("strong_open", "strong_close"):
                out.append("**")
            elif kind == "image":
                out.append(child.content)
        return clean_inline_text("".join(out)).replace(" \n ", "\n")

    def timestamps_in_html(self, html: str, block_map: list[int] | None, stamps: list[int]) -> None:
        line = self.offset + (block_map[0] if block_map else 0) + 1
        for found in _DATA_T.finditer(html):
            stamps.append(self._collect(found.group(1), html, found.group(0), line))

    def read_timestamps(self) -> list[int | None]:
        """Seconds for every timestamp collected (by its number); the unreadable ones are reported."""
        seconds = read_note_timestamps(self.raws)
        for raw, line, moment in zip(self.raws, self.lines, seconds, strict=True):
            if moment is None:
                self.problems.append(Problem(self.rel_path, line, f"unreadable timestamp {raw[:40]!r}: skipped"))
        return seconds

    def _collect(self, raw: str, block: str, needle: str, block_line: int) -> int:
        at = block.find(needle)
        self.raws.append(raw)
        self.lines.append(block_line + (block.count("\n", 0, at) if at > 0 else 0))
        return len(self.raws) - 1
