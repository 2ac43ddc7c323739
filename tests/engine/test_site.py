"""The published vault: a section's URL on a Quartz or Obsidian Publish site, built from the note's path and
heading only and refused unless URL-safe; a site link read back to its page and anchor; NOTES_SITE_URL checked."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings
from bot.engine.site import NoteSite, PageRef, site_base_url
from bot.engine.slugs import github_slug

QUARTZ = NoteSite("https://notes.example.com/")
OBSIDIAN = NoteSite("https://publish.obsidian.md/team", "obsidian")


@pytest.mark.parametrize(
    ("path", "heading", "url"),
    [
        (
            "lexfridman/applications_of_deep_learning.md",
            "Computer Vision and Robotics",
            "https://notes.example.com/lexfridman/applications_of_deep_learning#computer-vision-and-robotics",
        ),
        ("Folder Name/R&D notes?.md", "R&D at AT&T", "https://notes.example.com/Folder-Name/R-and-D-notes#rd-at-att"),
        ("growth/100% effort.md", "100% of it", "https://notes.example.com/growth/100-percent-effort#100-of-it"),
        (
            "cuisine/crème brûlée.md",
            "Crème Brûlée",
            "https://notes.example.com/cuisine/cr%C3%A8me-br%C3%BBl%C3%A9e#cr%C3%A8me-br%C3%BBl%C3%A9e",
        ),
        ("talks/c#.md", "C# tips", "https://notes.example.com/talks/c#c-tips"),
        ("lexfridman/index.md", "Guests", "https://notes.example.com/lexfridman/#guests"),
        ("index.md", "", "https://notes.example.com/"),
        ("pranks/<b>|x>.md", "a > b | c", "https://notes.example.com/pranks/%3Cb%3E%7Cx%3E#a--b--c"),
    ],
)
def test_a_quartz_section_url_is_the_page_slug_and_the_heading_id(path: str, heading: str, url: str) -> None:
    assert QUARTZ.page_url(path, heading, github_slug(heading)) == url


@pytest.mark.parametrize(
    ("path", "heading", "url"),
    [
        (
            "Folder Name/Note Title.md",
            "Some Heading",
            "https://publish.obsidian.md/team/Folder+Name/Note+Title#Some+Heading",
        ),
        ("a/C++ & more.md", "Why C++?", "https://publish.obsidian.md/team/a/C%2B%2B+%26+more#Why+C%2B%2B%3F"),
        ("a/note.md", "", "https://publish.obsidian.md/team/a/note"),
    ],
)
def test_an_obsidian_section_url_is_the_path_and_the_heading_as_written(path: str, heading: str, url: str) -> None:
    assert OBSIDIAN.page_url(path, heading) == url


def test_nothing_of_a_note_can_break_out_of_the_link() -> None:
    for path, heading in [("a/x>y|z.md", "<!channel> | >"), ("a/\"quoted\" 'name'.md", 'it\'s "here"')]:
        for site in (QUARTZ, OBSIDIAN):
            url = site.page_url(path, heading, github_slug(heading))
            assert url is not None
            assert not set(url) & set("<>| \"&'\n")


def test_a_site_link_is_read_back_to_its_page_and_anchor() -> None:
    assert QUARTZ.read_url(
        "https://notes.example.com/lexfridman/applications_of_deep_learning#computer-vision"
    ) == PageRef("lexfridman/applications_of_deep_learning", "computer-vision")
    assert QUARTZ.read_url("https://NOTES.example.com/cuisine/cr%C3%A8me?x=1") == PageRef("cuisine/crème", "")
    assert QUARTZ.read_url("https://notes.example.com") == PageRef("", "")
    assert OBSIDIAN.read_url("https://publish.obsidian.md/team/Folder+Name/Note+Title#Some+Heading") == PageRef(
        "Folder Name/Note Title", "Some Heading"
    )
    assert QUARTZ.read_url("https://notes.example.com.evil.example/lexfridman/x") is None
    assert QUARTZ.read_url("https://elsewhere.example.com/lexfridman/x") is None


@pytest.mark.parametrize(
    "value",
    [
        "notes.example.com",
        "ftp://notes.example.com",
        "https://notes.example.com/?q=1",
        "https://notes.example.com/#top",
        "https://notes.example.com/a b",
        "https://notes.example.com/a|b",
        "https://user@notes.example.com",
        "javascript:alert(1)",
    ],
)
def test_a_site_address_that_is_no_plain_http_url_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="http"):
        site_base_url(value)
    with pytest.raises(ConfigError, match="NOTES_SITE_URL"):
        load_settings(notes_site_url=value)


def test_the_site_settings_give_the_published_vault_or_none() -> None:
    assert load_settings(notes_site_url="").note_site is None
    site = load_settings(notes_site_url="https://notes.example.com/vault/", notes_site_style="obsidian").note_site
    assert site == NoteSite("https://notes.example.com/vault", "obsidian")
    assert site.host == "notes.example.com"
    with pytest.raises(ConfigError, match="NOTES_SITE_STYLE"):
        load_settings(notes_site_url="https://notes.example.com", notes_site_style="hugo")
