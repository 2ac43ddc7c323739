""" "Read the note": every message kind built on a hit (answer, shared answer, thread answer and its other hits,
App Home's topic, the digest, a link preview) links to the section on the published vault when a site is set,
and to nothing when none is; the link is built from the note's path and heading only."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from bot.digest.choose import Topic
from bot.digest.message import digest_message
from bot.engine.search import Hit
from bot.engine.site import NoteSite
from bot.engine.slugs import github_slug
from bot.slack.messages import (
    answer_message,
    home_view,
    link_preview,
    note_link,
    result_value,
    search_modal,
    shared_message,
    thread_answer,
)
from tests.messages.test_messages import all_texts, make_hit

QUARTZ = NoteSite("https://notes.example.com")
OBSIDIAN = NoteSite("https://publish.obsidian.md/team", "obsidian")
HIT = make_hit(anchor="computer-vision-and-robotics")
SECOND = make_hit(heading="Gaming and Entertainment", anchor="gaming-and-entertainment", timestamp=1531)
THIRD = make_hit(heading="Summary", anchor="summary-1", timestamp=None)  # the note's second "Summary"
READ = "<https://notes.example.com/lexfridman/applications_of_deep_learning#computer-vision-and-robotics|Read the note>"

MessageKind = Callable[[NoteSite | None], dict[str, Any]]
KINDS: dict[str, MessageKind] = {
    "answer": lambda site: answer_message(HIT, "computer vision", site=site),
    "shared answer": lambda site: shared_message(HIT, "U0SHARER1", site=site),
    "thread answer": lambda site: thread_answer([HIT, SECOND, THIRD], "computer vision", site=site),
    "shared from Find in notes": lambda site: shared_message(HIT, "U0SHARER1", "Find in notes", site=site),
    "assistant answer, next match": lambda site: thread_answer(
        [SECOND, HIT, THIRD], "vision", position=1, next_value=result_value("vision", 1), site=site
    ),
    "search modal": lambda site: search_modal("computer vision", [HIT, SECOND], site=site),
    "App Home topic": lambda site: home_view(40, 400, HIT, site),
    "digest": lambda site: digest_message(Topic(HIT, ()), site),
    "link preview": lambda site: link_preview(HIT, ["Another note"], site),
}


def text_of(message: dict[str, Any]) -> str:
    return "\n".join(all_texts(message))


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_message_kind_links_to_the_section_on_the_published_vault(kind: str) -> None:
    assert READ in text_of(KINDS[kind](QUARTZ))


@pytest.mark.parametrize("kind", list(KINDS))
def test_without_a_site_no_message_kind_has_a_read_the_note_link(kind: str) -> None:
    text = text_of(KINDS[kind](None))
    assert "Read the note" not in text
    assert "Watch from 38:00" in text  # the watch link is still there


def test_a_thread_answer_links_its_other_hits_to_their_sections_too() -> None:
    text = text_of(KINDS["thread answer"](QUARTZ))
    assert "applications_of_deep_learning#gaming-and-entertainment|Read the note>" in text
    assert "applications_of_deep_learning#summary-1|Read the note>" in text  # a repeated heading's own id


def test_an_obsidian_site_gets_its_own_form_of_link() -> None:
    assert note_link(HIT, OBSIDIAN) == (
        "<https://publish.obsidian.md/team/lexfridman/applications_of_deep_learning#Computer+Vision+and+Robotics"
        "|Read the note>"
    )


def test_the_link_comes_from_the_note_s_path_and_heading_and_never_breaks_out() -> None:
    hostile: Hit = make_hit(
        note="pranks/<!channel>|x.md",
        heading="Quasar <!here> | <https://evil.example|click>",
        anchor=github_slug("Quasar <!here> | <https://evil.example|click>"),
        text="<!here> and <https://evil.example|click>",
    )
    for site in (QUARTZ, OBSIDIAN):
        for message in (answer_message(hostile, "q", site=site), link_preview(hostile, [], site)):
            links = re.findall(r"<(https://[^|>]*)\|Read the note>", text_of(message))
            assert len(links) == 1
            assert not set(links[0]) & set("<>| &\"'")
            assert "<!here>" not in text_of(message) and "<!channel>" not in text_of(message)


def test_the_other_notes_an_answer_is_also_in_link_to_their_sections_when_a_site_is_set() -> None:
    twin = make_hit(
        note="lexfridman/deep_learning_recap.md",
        title="Recap | <!channel>",
        anchor="computer-vision-and-robotics",
    )
    with_twin = make_hit(anchor=HIT.anchor, twins=(twin,))
    url = "https://notes.example.com/lexfridman/deep_learning_recap#computer-vision-and-robotics"
    linked = f"<{url}|Recap ¦ &lt;!channel&gt;>"
    assert f"Also in {linked}" in text_of(answer_message(with_twin, "computer vision", site=QUARTZ))
    assert "Also in Recap | &lt;!channel&gt;" in text_of(answer_message(with_twin, "computer vision", site=None))
