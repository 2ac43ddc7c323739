"""Slugs as a published vault writes them: a note's page path as Quartz v4 makes it, a heading's id as
github-slugger makes it (Quartz's headings are GitHub-flavoured), and Obsidian Publish's forms.

Pure string functions. They decide where a "Read the note" link points, so each follows its original
exactly (tests/engine/test_slugs.py holds their cases):

- `quartz_page_slug`: Quartz v4's `slugifyFilePath` (quartz/util/path.ts): the path without `.md`, each
  segment with whitespace as `-`, `&` as `-and-`, `%` as `-percent`, `?` and `#` dropped, case kept, a
  trailing `_index` read as `index`.
- `github_slug` / `HeadingIds`: github-slugger 2.0's `slug` and `GithubSlugger.slug`: lower case, every
  character of the Unicode categories it strips dropped (punctuation but `-` and `_`, symbols, controls,
  separators but the space, other numbers, unassigned code points; letters that are symbols too, such as
  Ⓐ, kept), spaces as `-`; a repeated slug on one page gets `-1`, `-2`, ... (Python's Unicode tables are
  newer than the 13.0 that github-slugger 2.0 was generated from: the 638 letters and marks Unicode 14
  added are kept here and dropped there; no heading of the shared corpus has one.)
- `obsidian_page_path`: Obsidian Publish's page of a note: the path without `.md` (bot.engine.site writes
  its spaces as `+`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# github-slugger's regex is built from these Unicode general categories (script/generate-regex.js).
_STRIPPED_CATEGORIES = frozenset(
    {"No", "Pe", "Pf", "Pi", "Ps", "Po", "Pd", "Sm", "Sc", "Sk", "So", "Cc", "Co", "Cf", "Cn", "Zs", "Zl", "Zp"}
)
# ... less the characters with Unicode's Alphabetic property: in those categories, only these symbols
# (circled, parenthesised, squared and negative squared Latin letters) have it.
_ALPHABETIC_SYMBOLS = ((0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189))
# JavaScript's `\s`, which Quartz's `replace(/\s/g, "-")` means (Python's `\s` differs on U+FEFF and U+001C-1F).
_JS_WHITESPACE = re.compile("[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]")
_FILE_EXTENSION = re.compile(r"\.[A-Za-z0-9]+$")  # Quartz's _getFileExtension
_PAGE_EXTENSIONS = {".md", ".html"}


def _kept_in_slug(char: str) -> bool:
    if char in " -":
        return True
    if unicodedata.category(char) not in _STRIPPED_CATEGORIES:
        return True
    return any(low <= ord(char) <= high for low, high in _ALPHABETIC_SYMBOLS)


# The ASCII characters github-slugger drops, for `str.translate`: most headings are ASCII, and this is about
# ten times faster than asking each character's Unicode category.
_ASCII_DROPPED = {code: None for code in range(128) if not _kept_in_slug(chr(code))}


def github_slug(text: str) -> str:
    """github-slugger's `slug(text)`: the heading's id without the `-1`, `-2` of repeats."""
    kept = text.lower().translate(_ASCII_DROPPED)
    if not kept.isascii():
        kept = "".join(char for char in kept if _kept_in_slug(char))
    return kept.replace(" ", "-")


class HeadingIds:
    """github-slugger's `GithubSlugger`: the ids of one page's headings, in order, repeats numbered."""

    def __init__(self) -> None:
        self._occurrences: dict[str, int] = {}

    def slug(self, heading: str) -> str:
        original = result = github_slug(heading)
        while result in self._occurrences:
            self._occurrences[original] += 1
            result = f"{original}-{self._occurrences[original]}"
        self._occurrences[result] = 0
        return result


def heading_ids(headings: Iterable[str]) -> list[str]:
    """The id of each heading of one page, in page order (as rehype-slug gives Quartz's headings)."""
    slugger = HeadingIds()
    return [slugger.slug(heading) for heading in headings]


def quartz_page_slug(note_path: str) -> str:
    """Quartz v4's `slugifyFilePath` of a note's path in the vault: `a b/R&D?.md` -> `a-b/R-and-D`."""
    path = note_path.strip("/")
    extension = _FILE_EXTENSION.search(path)
    if extension:
        path = path[: extension.start()] if extension.group(0) in _PAGE_EXTENSIONS else path
    slug = "/".join(_quartz_segment(segment) for segment in path.split("/")).removesuffix("/")
    if slug == "_index" or slug.endswith("/_index"):
        slug = slug.removesuffix("_index") + "index"
    return slug


def _quartz_segment(segment: str) -> str:
    """Quartz's `sluggify` of one path segment."""
    segment = _JS_WHITESPACE.sub("-", segment).replace("&", "-and-").replace("%", "-percent")
    return segment.replace("?", "").replace("#", "")


def obsidian_page_path(note_path: str) -> str:
    """The page of a note on Obsidian Publish, before URL encoding: the path without `.md`."""
    return note_path.strip("/").removesuffix(".md")
