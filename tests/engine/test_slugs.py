"""Slugs as the published site makes them: github-slugger's heading ids (its own fixtures) and Quartz v4's page
slugs (the cases of quartz/util/path.test.ts, and the characters a note's name may hold)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.engine.slugs import HeadingIds, github_slug, heading_ids, obsidian_page_path, quartz_page_slug

# github-slugger 2.0.0's test/fixtures.json (ISC licence, beside it), read in order by one slugger as its
# own test does: later fixtures repeat earlier slugs on purpose.
FIXTURES = json.loads((Path(__file__).parents[1] / "fixtures" / "github_slugger" / "fixtures.json").read_text())


def test_every_github_slugger_fixture_gives_its_expected_id_in_order() -> None:
    slugger = HeadingIds()
    produced = [(fixture["name"], slugger.slug(fixture["input"])) for fixture in FIXTURES]
    assert produced == [(fixture["name"], fixture["expected"]) for fixture in FIXTURES]
    assert len(FIXTURES) == 78


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Computer Vision and Robotics", "computer-vision-and-robotics"),
        ("R&D at AT&T", "rd-at-att"),  # `&` is punctuation: dropped, spaces kept as hyphens
        ("What is AGI?", "what-is-agi"),
        ("100% of the time", "100-of-the-time"),
        ("C# and F#", "c-and-f"),
        ("Café, naïve & Œuvre", "café-naïve--œuvre"),  # accented letters kept, lower-cased
        ("Ⓐ circled", "ⓐ-circled"),  # a symbol that is also a letter is kept
        ("Hello 😀 World", "hello--world"),
        ("  padded  ", "--padded--"),
        ("snake_case-and-dash", "snake_case-and-dash"),
        ("Intro [00:41:00]", "intro-004100"),
        ("`code` in a heading", "code-in-a-heading"),
    ],
)
def test_a_heading_id_is_its_text_in_lower_case_without_punctuation_spaces_as_hyphens(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


def test_repeated_headings_on_a_page_are_numbered_in_page_order() -> None:
    assert heading_ids(["Summary", "Details", "Summary", "Summary", "Summary 1"]) == [
        "summary",
        "details",
        "summary-1",
        "summary-2",
        "summary-1-1",
    ]


def test_each_page_numbers_its_own_repeats() -> None:
    assert heading_ids(["Summary", "Summary"]) == heading_ids(["Summary", "Summary"]) == ["summary", "summary-1"]


@pytest.mark.parametrize(
    ("path", "slug"),
    [
        # quartz/util/path.test.ts, slugifyFilePath
        ("content/index.md", "content/index"),
        ("content/_index.md", "content/index"),
        ("/content/index.md", "content/index"),
        ("index.md", "index"),
        ("note with spaces.md", "note-with-spaces"),
        ("notes.with.dots.md", "notes.with.dots"),
        ("test/special chars?.md", "test/special-chars"),
        ("test/special chars #3.md", "test/special-chars-3"),
        ("cool/what about r&d?.md", "cool/what-about-r-and-d"),
        # case kept, `%` spelt out, accents and other punctuation kept as they are
        ("lexfridman/applications_of_deep_learning.md", "lexfridman/applications_of_deep_learning"),
        ("Folder Name/Note Title.md", "Folder-Name/Note-Title"),
        ("growth/100% effort.md", "growth/100-percent-effort"),
        ("cuisine/crème brûlée (part 1).md", "cuisine/crème-brûlée-(part-1)"),
        ("a\u00a0b/tab\there.md", "a-b/tab-here"),  # JavaScript's \s: no-break space and tab too
    ],
)
def test_a_page_slug_is_the_note_path_as_quartz_slugify_file_path_makes_it(path: str, slug: str) -> None:
    assert quartz_page_slug(path) == slug


def test_an_obsidian_page_is_the_note_path_without_its_extension() -> None:
    assert obsidian_page_path("Folder Name/Note Title.md") == "Folder Name/Note Title"
