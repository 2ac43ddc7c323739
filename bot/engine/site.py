"""The published vault: the URL of a note's section on its site (Quartz or Obsidian Publish), and back.

Pure. A URL is built from the note's path and the section's heading only, never from the note's text,
and checked against a strict pattern before anyone puts it in a link: URL-safe characters only, so that
no `|`, `>`, `<`, space or quote can end a Slack link early or smuggle one in. The rules:

- `quartz` (the default; Quartz v4): `{site}/{slug}#{id}`, the slug as Quartz's `slugifyFilePath` makes
  it and the id as github-slugger (bot.engine.slugs); a folder's `index` note is the folder's page.
- `obsidian` (Obsidian Publish): `{site}/{path}#{heading}`, the path without `.md` and the heading as
  written, spaces as `+`.

Anything that is not URL-safe in a slug or heading (accents, `(`, `'`) is percent-encoded, which browsers
and static hosts read back as the page's own name and id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

from bot.engine.slugs import obsidian_page_path, quartz_page_slug

SiteStyle = Literal["quartz", "obsidian"]
SITE_STYLES: tuple[SiteStyle, ...] = ("quartz", "obsidian")

# An absolute http(s) URL of unreserved and percent-encoded characters and the sub-delimiters a page
# path or fragment needs, but never `&` (Slack writes it as an entity), `|`, `<`, `>`, spaces or quotes.
_SAFE_PATH_CHARS = r"[A-Za-z0-9\-._~%!$'()*+,;=:@/]"
_SAFE_URL = re.compile(
    rf"https?://[A-Za-z0-9.-]+(?::\d{{1,5}})?(?:/{_SAFE_PATH_CHARS}*)?(?:#(?:{_SAFE_PATH_CHARS}|\?)*)?"
)
_SITE_URL = re.compile(rf"https?://[A-Za-z0-9.-]+(?::\d{{1,5}})?(?:/{_SAFE_PATH_CHARS}*)?")


def site_base_url(value: str) -> str:
    """A NOTES_SITE_URL as the links are built on: an http(s) URL of a site (and folder) without query or
    fragment, without its trailing `/`; ValueError saying what is expected."""
    value = value.strip()
    if not _SITE_URL.fullmatch(value) or "'" in value:
        raise ValueError(
            "must be the http(s) address of the published notes, such as https://notes.example.com "
            "(no query, no #, only URL-safe characters)"
        )
    return value.rstrip("/")


@dataclass(frozen=True, slots=True)
class PageRef:
    """What a site link names: a page (the note's slug or path, decoded) and a heading anchor, if any."""

    page: str
    anchor: str


@dataclass(frozen=True, slots=True)
class NoteSite:
    """Where the vault is published, and how that site names its pages and headings."""

    base_url: str
    style: SiteStyle = "quartz"

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", site_base_url(self.base_url))
        if self.style not in SITE_STYLES:
            raise ValueError(f"a site style is one of {', '.join(SITE_STYLES)}, not {self.style!r}")

    @property
    def host(self) -> str:
        """The site's domain, as link_shared events name it."""
        return (urlsplit(self.base_url).hostname or "").lower()

    def page_url(self, note_path: str, heading: str = "", anchor: str = "") -> str | None:
        """The URL of a note's section: the page of `note_path` at the heading (its github-slugger `anchor`
        on a Quartz site, the `heading` itself on Obsidian Publish); None if it is not a safe URL."""
        if self.style == "quartz":
            path = quote(_page_of_index(quartz_page_slug(note_path)), safe="/")
            fragment = quote(anchor, safe="")
        else:
            path = quote(obsidian_page_path(note_path), safe="/ ").replace(" ", "+")
            fragment = quote(" ".join(heading.split()), safe=" ").replace(" ", "+")
        url = f"{self.base_url}/{path}" + (f"#{fragment}" if fragment else "")
        return url if _SAFE_URL.fullmatch(url) else None

    def page_key(self, note_path: str) -> str:
        """How a link to the note's page names it, once read by `read_url` (to match the two)."""
        if self.style == "quartz":
            return _page_of_index(quartz_page_slug(note_path)).strip("/")
        return obsidian_page_path(note_path)

    def read_url(self, url: str) -> PageRef | None:
        """The page and anchor a link into this site names; None for a link elsewhere (or no link)."""
        url = url.strip().replace("&amp;", "&")
        base = self.base_url + "/"
        if url.lower() == self.base_url.lower():
            url = base
        if url[: len(base)].lower() != base.lower():
            return None
        rest = url[len(base) :]
        path, _, fragment = rest.partition("#")
        path = path.partition("?")[0]
        if self.style == "obsidian":
            path, fragment = path.replace("+", " "), fragment.replace("+", " ")
        return PageRef(unquote(path).strip("/"), unquote(fragment))


def _page_of_index(slug: str) -> str:
    """Quartz serves a folder's `index` note as the folder's page: `a/index` at `a/`, `index` at the root."""
    if slug == "index":
        return ""
    return slug.removesuffix("index") if slug.endswith("/index") else slug
