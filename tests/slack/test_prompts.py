"""The assistant's suggested prompts: today's topic first, then headings the vault covers (several notes share them
first, structure and markup left out), each offered only when searching it finds its section first."""

from __future__ import annotations

from pathlib import Path

from bot.slack.prompts import MAX_SHARED, suggested_prompts, well_covered_headings
from tests.engine.vaults import searcher_of, write

ANCHOR = '<a class="yt-timestamp" data-t="03:00">[03:00]</a>'
BODY = " ".join(f"word{n}" for n in range(25))  # long enough to be worth reading


def note(root: Path, rel: str, video: str, *headings: str) -> None:
    sections = "".join(f"## {heading}\n\n{heading} {BODY} {ANCHOR}.\n\n" for heading in headings)
    write(root, rel, f"---\ntitle: {rel}\nvideoId: {video}\n---\n{sections}")


def test_shared_headings_come_first_and_structure_markup_and_single_words_are_left_out(tmp_path: Path) -> None:
    for n in range(MAX_SHARED + 1):
        note(tmp_path, f"talks/t{n}.md", f"talkvideo{n:02d}", "Key Takeaways", "Lessons <!here> learned")
    note(tmp_path, "a/one.md", "avideo00001", "Sourdough starter care", "Volcanoes", "Glacier formation")
    note(tmp_path, "a/two.md", "avideo00002", "Sourdough starter care")
    searcher = searcher_of(tmp_path)

    assert well_covered_headings(searcher.index) == ["Sourdough starter care", "Glacier formation"]


def test_a_prompt_is_offered_only_when_its_question_finds_its_section_first(tmp_path: Path) -> None:
    note(tmp_path, "a/one.md", "avideo00001", "Glacier formation", "Sourdough starter")
    write(tmp_path, "b/loud.md", "---\ntitle: Glacier\n---\n## Glaciers\n\n" + "glacier formation " * 50 + "\n")
    searcher = searcher_of(tmp_path)
    topic = searcher.search("sourdough starter", 1)[0]

    prompts = suggested_prompts(searcher, topic)

    assert prompts[0] == {"title": "Today's topic: Sourdough starter", "message": "What about Sourdough starter?"}
    for prompt in prompts:
        asked = prompt["message"].removeprefix("What about ").removesuffix("?")
        assert searcher.search(prompt["message"], 1)[0].heading == asked
    assert "Glacier formation" in well_covered_headings(searcher.index)
    assert "Glacier formation" not in [p["title"] for p in prompts]  # searched, another note's section comes first
