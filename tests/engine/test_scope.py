"""Scoped searches: a search within some notes (by folder, front-matter tag or path) finds only them, and
filters before the rerank, so a section of the scope that many others outscore is still found."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.engine.parsing import parse_note
from bot.engine.scope import Scope
from bot.engine.search import CANDIDATES, Searcher
from tests.engine.vaults import searcher_of, write_moment


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    """Bee notes in three folders (one a name that starts like another), tagged three ways."""
    root = tmp_path_factory.mktemp("scoped")
    write_moment(
        root,
        "garden/bees.md",
        "Bees",
        "gardenbees1",
        "Hives",
        "Bees keep the hive warm",
        front_matter="tags: [insects, Garden/Flowers]\n",
    )
    write_moment(
        root,
        "garden/deep/bees.md",
        "More bees",
        "deepbees001",
        "Swarms",
        "Bees swarm in spring",
        front_matter="tags: '#insects, farming'\n",
    )
    write_moment(
        root,
        "gardening/bees.md",
        "Bees at work",
        "gardening01",
        "Pollen",
        "Bees carry pollen",
        front_matter="tags: gardening\n",
    )
    write_moment(root, "kitchen/honey.md", "Honey", "kitchenhone", "Jars", "Bees make honey for jars")
    return searcher_of(root)


def notes_found(searcher: Searcher, query: str, within: Scope | np.ndarray | None) -> set[str]:
    return {hit.note for hit in searcher.search(query, limit=10, within=within)}


ALL_BEES = {"garden/bees.md", "garden/deep/bees.md", "gardening/bees.md", "kitchen/honey.md"}


@pytest.mark.parametrize(
    ("scope", "found"),
    [
        (Scope(folders=("garden",)), {"garden/bees.md", "garden/deep/bees.md"}),
        (Scope(folders=("garden/",)), {"garden/bees.md", "garden/deep/bees.md"}),
        (Scope(folders=("garden/deep",)), {"garden/deep/bees.md"}),
        (Scope(folders=("gardening", "kitchen")), {"gardening/bees.md", "kitchen/honey.md"}),
        (Scope(folders=("",)), ALL_BEES),
        (Scope(folders=("gard",)), set()),
        (Scope(tags=("insects",)), {"garden/bees.md", "garden/deep/bees.md"}),
        (Scope(tags=("#Farming",)), {"garden/deep/bees.md"}),
        (Scope(tags=("garden",)), {"garden/bees.md"}),  # the nested tag garden/flowers
        (Scope(tags=("flowers",)), set()),
        (Scope(notes=("kitchen/honey.md",)), {"kitchen/honey.md"}),
        (Scope(folders=("kitchen",), tags=("gardening",)), {"gardening/bees.md", "kitchen/honey.md"}),
        (Scope(), set()),
    ],
)
def test_a_scoped_search_finds_the_notes_of_its_scope_and_no_other(
    searcher: Searcher, scope: Scope, found: set[str]
) -> None:
    assert notes_found(searcher, "bees", None) == ALL_BEES
    assert notes_found(searcher, "bees", scope) == found


def test_a_scope_can_be_a_mask_over_the_notes(searcher: Searcher) -> None:
    mask = np.array([path.startswith("kitchen/") for path in searcher.index.note_paths])
    assert notes_found(searcher, "bees", mask) == {"kitchen/honey.md"}
    with pytest.raises(ValueError, match="a mask of notes is 4 booleans"):
        searcher.search("bees", within=mask[:2])
    with pytest.raises(ValueError, match="a mask of notes is 4 booleans"):
        searcher.search("bees", within=mask.astype(int))


def test_scopes_naming_the_same_notes_the_same_way_are_equal() -> None:
    assert Scope(folders=("garden/", " garden"), tags=("#ML", "ml")) == Scope(folders=("garden",), tags=("ml",))
    assert hash(Scope(tags=("#ML",))) == hash(Scope(tags=("ml",)))


def test_the_folders_and_tags_of_a_vault_are_listed_and_unknown_ones_named(searcher: Searcher) -> None:
    note_sets = searcher.note_sets
    assert note_sets.folders() == ["garden", "garden/deep", "gardening", "kitchen"]
    assert note_sets.tags() == ["farming", "garden/flowers", "gardening", "insects"]
    asked = Scope(folders=("garden", "attic"), tags=("garden", "bats"), notes=("kitchen/honey.md", "x.md"))
    assert note_sets.unknown(asked) == Scope(folders=("attic",), tags=("bats",), notes=("x.md",))


def test_a_section_of_the_scope_is_found_however_many_sections_outside_it_score_higher(tmp_path: Path) -> None:
    """More sections outside the scope than the rerank takes outscore the one inside it: a filter after the
    first stage's candidates would have none of the scope's left."""
    for i in range(CANDIDATES + 20):
        write_moment(tmp_path, f"loud/{i:03d}.md", f"Bees {i}", f"loud{i:07d}", "Bees", "Bees, bees and bees")
    write_moment(tmp_path, "quiet/one.md", "Gardens", "quiet000001", "Flowers", "Flowers, and a bee or two")
    searcher = searcher_of(tmp_path)
    assert "quiet/one.md" not in {hit.note for hit in searcher.search("bees", limit=CANDIDATES)}
    assert [hit.note for hit in searcher.search("bees", within=Scope(folders=("quiet",)))] == ["quiet/one.md"]


@pytest.mark.parametrize(
    ("front_matter", "tags"),
    [
        ("tags: [ML, nlp/Transformers, ML]", ("ml", "nlp/transformers")),
        ("tags: '#ml, #nlp'", ("ml", "nlp")),
        ("tags: ml nlp", ("ml", "nlp")),
        ("tags: [[a], [b]]", ()),  # lists in a list are no tags
        ("tags: {ml: 1}", ()),
        ("tags: [2024, [nested]]", ("2024",)),
        ("title: no tags", ()),
    ],
)
def test_a_note_s_tags_are_read_from_its_front_matter(front_matter: str, tags: tuple[str, ...]) -> None:
    result = parse_note("n.md", f"---\ntitle: T\n{front_matter}\n---\n## H\n\nText.\n".encode())
    assert result.note is not None and result.note.tags == tags
