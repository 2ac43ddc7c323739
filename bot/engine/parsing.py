"""Parsed notes: one markdown file's bytes in, a `Note` of `Section`s (and the problems found) out.

Pure functions over plain data. Front matter is read with python-frontmatter and the document
structure with markdown-it-pyrs (markdown-it in Rust, about ten times as fast as markdown-it-py, which
read the same sections before it), so a `#` inside a code block is no heading. Section bodies become
"clean text": wikilinks shown by their display text, HTML removed, callouts kept as text, bullets
as `•`, strong emphasis as `**…**` and each timestamp anchor as a canonical `[38:00]` label.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import frontmatter
import yaml
from markdown_it.common.normalize_url import normalizeLinkText
from markdown_it_pyrs import MarkdownIt, Node

from bot.engine.records import pickled_as_fields
from bot.engine.timestamps import StampForm, format_timestamp, read_note_timestamps, stamp_form
from bot.engine.youtube import read_youtube_link

WIKILINK = re.compile(r"!?\[\[([^\]\[|#^]*)(?:[#^][^\]\[|]*)?(?:\|([^\]\[]*))?\]\]")
_DATA_T = re.compile(r"""data-t\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]*>", re.DOTALL)
_CALLOUT = re.compile(r"^\[![\w-]+\][+-]?\s*", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t]+")
# Where a timestamp's label goes in clean text until the note's stamps are read together. NUL cannot
# come from a note (decoding removes it), so no text is mistaken for a slot.
_LABEL_SLOT = re.compile(r"( ?)\x00(\d+)\x00( ?)")

# CommonMark (with its HTML blocks and inline HTML), GitHub's tables and strikethrough
_MD = MarkdownIt("commonmark").enable_many(["table", "strikethrough"])
# The same but for code spans, whose backticks then stay text: for the few notes on which markdown-it.rs 0.6.0
# (the version markdown-it-pyrs 0.4.0 is built with) panics, re-scanning a backtick run inside a link's text
# that nothing closes, as in `[see the ` sign]` (fixed in markdown-it.rs 0.6.1). The text read is the same but
# within code spans, which the clean text writes between backticks all the same.
_MD_WITHOUT_CODE_SPANS = MarkdownIt("zero").enable_many(
    [
        *("newline", "escape", "emphasis", "link", "image", "autolink", "entity"),
        *("code", "fence", "blockquote", "hr", "list", "reference", "heading", "lheading", "paragraph"),
        *("html_inline", "html_block", "table", "strikethrough"),
    ]
)


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class Section:
    heading: str  # "" for the text before the first heading
    path: tuple[str, ...]  # the headings this one sits under, outermost first
    level: int  # 0 for the text before the first heading
    text: str
    timestamps: tuple[int, ...]  # seconds, in order of appearance
    line: int  # 1-based line of the heading in the file


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class Link:
    target: str  # as written in `[[target | shown]]`
    line: int  # where it is first written


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class Note:
    path: str  # relative to the vault, with forward slashes
    title: str
    video_id: str | None
    links: tuple[Link, ...]  # the wikilinks it makes, in order, each target once
    sections: tuple[Section, ...]
    tags: tuple[str, ...] = ()  # front matter `tags`, as `note_tags` reads them
    # How its stamps are written (`04:06:00` reads hours first or minutes first alike): read hours first here,
    # the index reads some notes minutes first by what the other notes on their video say (`minutes_first_by_video`)
    stamp_form: StampForm = StampForm.OTHER


@pickled_as_fields
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
    return WIKILINK.sub(_wikilink_display, text) if "[[" in text else text


def _wikilink_display(match: re.Match[str]) -> str:
    shown = (match.group(2) or "").strip()
    return shown or match.group(1).strip()


def clean_inline_text(text: str) -> str:
    """Plain text of a snippet of markdown-ish text: no wikilink syntax, tags or callout markers."""
    # each pattern run only where its first character is: most snippets have no tag, callout or wikilink
    text = replace_wikilinks(text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "[!" in text:
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
    try:
        sections, links, form = _sections(rel_path, body, offset, problems)
    except UnreadableMarkdown as error:
        problems.append(Problem(rel_path, offset + 1, f"markdown the parser cannot read: {error}", "error"))
        return ParseResult(None, problems)
    first_links = {}
    for link in links:
        first_links.setdefault(link.target, link)
    note = Note(rel_path, title, video_id, tuple(first_links.values()), tuple(sections), note_tags(metadata), form)
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
    if _VIDEO_ID.fullmatch(video_id):
        return video_id
    linked = read_youtube_link(video_id)  # a note may give its video as the link to it: its id is plain
    if linked is not None:
        return linked.video_id
    problems.append(Problem(rel_path, 1, f"videoId {video_id!r} is not a YouTube video id"))
    return None


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
        if "\x00" in text:
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
) -> tuple[list[Section], list[Link], StampForm]:
    """The note's sections, its wikilinks, and how its stamps are written (`Note.stamp_form`)."""
    source, tree = _parse_markdown(body)
    walk = _Walk(source, _InlineReader(rel_path, source, problems), offset)
    walk.blocks(tree.children, end=tree.srcmap[1])
    seconds = walk.reader.read_timestamps()
    sections = [section for section in (s.close(seconds) for s in walk.opened) if _kept(section)]
    return sections, walk.links, stamp_form(walk.reader.raws)


class _Source:
    """A body as markdown-it-pyrs reads it: its nodes' `srcmap`s are byte offsets into its UTF-8."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.data = body.encode("utf-8")
        self._counted = (0, 0)  # (offset, its line): blocks are asked for in order, so count on from there

    def line(self, at: int) -> int:
        """The 0-based line of a byte offset."""
        offset, line = self._counted
        if at < offset:
            offset, line = 0, 0
        line += self.data.count(b"\n", offset, at)
        self._counted = (at, line)
        return line

    def text(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8")

    def image_label(self, image: Node) -> str:
        """An image's text as written between `![` and its `]` (what markdown-it-py gives as its content)."""
        start = image.srcmap[0] + 2
        depth = 1
        at = start
        while at < len(self.data):
            byte = self.data[at]
            if byte == _BACKSLASH:
                at += 1
            elif byte == _OPEN_BRACKET:
                depth += 1
            elif byte == _CLOSE_BRACKET:
                depth -= 1
                if depth == 0:
                    break
            at += 1
        return self.text(start, at)


_BACKSLASH, _OPEN_BRACKET, _CLOSE_BRACKET = b"\\[]"


class _Walk:
    """The sections of a body, read off its markdown-it-pyrs tree block by block, in document order."""

    def __init__(self, source: _Source, reader: _InlineReader, offset: int) -> None:
        self.source = source
        self.reader = reader
        self.offset = offset
        self.current = _OpenSection("", (), 0, offset + 1)
        self.opened = [self.current]
        self.stack: list[tuple[int, str]] = []  # (level, heading) of the headings the current one sits under
        self.links: list[Link] = []
        self.list_depth = 0

    def blocks(self, nodes: list[Node], end: int) -> None:
        """Block nodes of a container ending at byte `end`; a run of inline nodes among them is a paragraph
        that a tight list item hides, which runs up to the next block."""
        inline: list[Node] = []
        for node in nodes:
            if node.name not in _BLOCKS:
                inline.append(node)
                continue
            if inline:
                self.paragraph(inline, inline[0].srcmap[0], node.srcmap[0])
                inline = []
            self.block(node)
        if inline:
            self.paragraph(inline, inline[0].srcmap[0], end)

    def block(self, node: Node) -> None:
        name = node.name
        if name in ("heading", "lheading"):
            self.heading(node)
        elif name in ("bullet_list", "ordered_list"):
            self.list_depth += 1
            self.blocks(node.children, node.srcmap[1])
            self.list_depth -= 1
            if self.list_depth == 0:
                self.current.parts.append("\n")
        elif name == "list_item":
            self.current.parts.append("  " * (self.list_depth - 1) + "• ")
            self.blocks(node.children, node.srcmap[1])
        elif name == "paragraph":
            self.paragraph(node.children, *node.srcmap)
        elif name == "tcell":
            self.current.parts.append(self.inline(node.children, *node.srcmap) + " | ")
        elif name in ("fence", "code_block"):
            self.current.parts.append(node.meta["content"].rstrip("\n") + "\n\n")
        elif name == "html_block":
            html = node.meta["content"]
            self.reader.timestamps_in_html(html, self.line(node), self.current.stamps)
            self.current.parts.append(_plain_html(html))
        else:  # blockquote, table, thead, tbody, trow hold blocks; hr and link definitions hold no text
            self.blocks(node.children, node.srcmap[1])

    def heading(self, node: Node) -> None:
        heading_stamps: list[int] = []
        heading = _plain(self.inline(node.children, *node.srcmap, heading_stamps, anchors_as_written=True))
        level = node.meta["level"]
        self.stack = [(lvl, h) for lvl, h in self.stack if lvl < level]
        path = tuple(h for _, h in self.stack)
        self.current = _OpenSection(heading, path, level, self.line(node), stamps=heading_stamps)
        self.opened.append(self.current)
        self.stack.append((level, heading))

    def paragraph(self, children: list[Node], start: int, end: int) -> None:
        self.current.parts.append(self.inline(children, start, end))
        self.current.parts.append("\n" if self.list_depth else "\n\n")

    def inline(
        self,
        children: list[Node],
        start: int,
        end: int,
        stamps: list[int] | None = None,
        anchors_as_written: bool = False,
    ) -> str:
        """Clean text of the inline nodes of a block whose source runs from byte `start` to `end`; its
        wikilinks are noted with their lines, its timestamps added to `stamps` (else the section's)."""
        content = self.source.text(start, end)
        line = self.offset + self.source.line(start) + 1
        self.links += _links(content, line)
        if stamps is None:
            stamps = self.current.stamps
        return self.reader.render(children, content, line, stamps, anchors_as_written)

    def line(self, node: Node) -> int:
        """The 1-based line of the file a block starts on."""
        return self.offset + self.source.line(node.srcmap[0]) + 1


# The block nodes of the "commonmark" parser with tables: any other node is inline.
_BLOCKS = frozenset(
    {"heading", "lheading", "paragraph", "bullet_list", "ordered_list", "list_item", "blockquote", "fence"}
    | {"code_block", "html_block", "hr", "definition", "table", "thead", "tbody", "trow", "tcell"}
)


def _links(content: str, line: int) -> list[Link]:
    if "[[" not in content:
        return []
    return [
        Link(m.group(1).strip(), line + content.count("\n", 0, m.start()))
        for m in WIKILINK.finditer(content)
        if m.group(1).strip()
    ]


_MARKDOWN_FENCES = {"markdown", "md"}
_CONTAINERS = frozenset({"blockquote", "bullet_list", "ordered_list", "list_item"})


def _parse_markdown(body: str) -> tuple[_Source, Node]:
    """The tree of a body. A fence whose info string says its content is markdown (notes written by a model
    are often wrapped whole in one) is read as markdown, so its headings count."""
    source = _Source(body)
    tree = _tree(body)
    if "```" not in body and "~~~" not in body:
        return source, tree
    fences = [
        (source.line(node.srcmap[0]), source.line(node.srcmap[1] - 1))
        for node in _blocks_within(tree)
        if node.name == "fence" and node.meta["info"].strip().lower() in _MARKDOWN_FENCES
    ]
    if not fences:
        return source, tree
    lines = body.split("\n")
    for start, last in fences:
        # blank the fence lines rather than delete them, so line numbers stay true
        lines[start] = ""
        if last > start and lines[last].strip().startswith(("```", "~~~")):
            lines[last] = ""
    source = _Source("\n".join(lines))
    return source, _tree(source.body)


class UnreadableMarkdown(Exception):
    """The markdown parser failed on a note (a panic of its Rust code): the note cannot be read."""


def _tree(body: str) -> Node:
    panic = ""
    for parser in (_MD, _MD_WITHOUT_CODE_SPANS):
        try:
            return parser.tree(body)
        except BaseException as error:  # pyo3 raises a Rust panic as a BaseException of its own
            if type(error).__name__ != "PanicException":
                raise
            panic = str(error)
    raise UnreadableMarkdown(panic)


def _blocks_within(node: Node) -> Iterator[Node]:
    for child in node.children:
        yield child
        if child.name in _CONTAINERS:
            yield from _blocks_within(child)


def _kept(section: Section) -> bool:
    """The text before the first heading only counts as a section when it has something in it."""
    return section.level > 0 or bool(section.text)


def _plain(text: str) -> str:
    return _SPACES.sub(" ", text.replace("**", "").replace("\n", " ")).strip()


def _plain_html(html: str) -> str:
    text = clean_inline_text(html)
    return text + "\n\n" if text else ""


class _InlineReader:
    """Renders markdown-it inline nodes to clean text and collects the note's timestamps as written,
    to be read together (a stamp is read in the light of the note's other stamps) and reported."""

    def __init__(self, rel_path: str, source: _Source, problems: list[Problem]) -> None:
        self.rel_path = rel_path
        self.source = source
        self.problems = problems
        self.raws: list[str] = []  # every timestamp of the note as written, in order
        self.lines: list[int] = []  # the line of each

    def render(
        self, children: list[Node], block: str, block_line: int, stamps: list[int], anchors_as_written: bool = False
    ) -> str:
        """Clean text of a block's inline nodes (`block` is its source, which starts on `block_line`);
        timestamp anchors become slots for canonical labels, or (in headings, which people quote as they
        read them) keep the text the note shows. The numbers of the timestamps found are added to `stamps`."""
        out: list[str] = []
        in_anchor = False
        for kind, node in _inline_tokens(children):
            if kind == "html_inline":
                html = node.meta["content"]
                found = _DATA_T.search(html)
                if found:
                    in_anchor = True
                    number = self._collect(found.group(1), block, html, block_line)
                    stamps.append(number)
                    if not anchors_as_written:
                        out.append(f"\x00{number}\x00")
                elif html.lower().startswith("</a"):
                    in_anchor = False
                elif html.lower().startswith("<br"):
                    out.append(" ")
            elif in_anchor and not anchors_as_written:
                continue
            elif kind in ("text", "text_special"):
                out.append(node.meta["content"])
            elif kind == "code_inline":
                out.append(f"`{_text_of(node)}`")
            elif kind == "autolink":
                out.append(normalizeLinkText(_text_of(node)))  # as markdown-it shows it: %20 as a space
            elif kind in ("softbreak", "hardbreak"):
                out.append("\n" if kind == "hardbreak" else " ")
            elif kind in ("strong_open", "strong_close"):
                out.append("**")
            elif kind == "image":
                out.append(self.source.image_label(node))
        return clean_inline_text("".join(out)).replace(" \n ", "\n")

    def timestamps_in_html(self, html: str, line: int, stamps: list[int]) -> None:
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


def _inline_tokens(nodes: list[Node]) -> Iterator[tuple[str, Node]]:
    """Inline nodes as markdown-it's flat token stream names them, in order: emphasis, links and
    strikethrough give their contents (strong emphasis between its opening and closing), an image and
    an autolink stand alone."""
    for node in nodes:
        name = node.name
        if name == "strong":
            yield "strong_open", node
            yield from _inline_tokens(node.children)
            yield "strong_close", node
        elif name in ("em", "strikethrough", "link"):
            yield from _inline_tokens(node.children)
        else:
            yield name, node


def _text_of(node: Node) -> str:
    return "".join(child.meta.get("content", "") for child in node.children)
