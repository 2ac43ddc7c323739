"""A query that narrows itself: `in:` folders, `tag:` tags and `video:` videos taken out of the query, searched within
the channel's scope (never outside it), and unknown ones named back (with the closest the vault has)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.engine.narrowing import holds_notes, known_videos, notes_within, read_narrowing, unknown_names
from bot.engine.scope import Scope
from bot.engine.search import Searcher
from bot.engine.youtube import VideoLink
from tests.engine.vaults import searcher_of, write_moment


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    root = tmp_path_factory.mktemp("narrowing")
    write_moment(
        root,
        "lexfridman/vision.md",
        "Vision",
        "lexvision01",
        "Cameras",
        "Computer vision with cameras",
        front_matter="tags: [ml]\n",
    )
    write_moment(root, "lexfridman/chess.md", "Chess", "lexchess001", "Openings", "Computer chess openings")
    write_moment(
        root,
        "allin/markets.md",
        "Markets",
        "allinmarket",
        "Chips",
        "Computer chips and markets",
        front_matter="tags: [ml, finance]\n",
    )
    return searcher_of(root)


def found(searcher: Searcher, query: str, channel: Scope | None = None) -> set[str]:
    narrowing = known_videos(searcher.note_sets, read_narrowing(query))
    within = notes_within(searcher.note_sets, channel, narrowing)
    return {hit.note for hit in searcher.search(narrowing.query, 10, within=within)}


def test_in_and_tag_words_leave_the_query_and_name_folders_and_tags() -> None:
    narrowing = read_narrowing("IN:lexfridman/ computer tag:ML vision in: tag:")
    assert narrowing.query == "computer vision"
    assert (narrowing.folders, narrowing.tags) == (Scope(folders=("lexfridman",)), Scope(tags=("ml",)))
    assert narrowing.narrows
    assert not read_narrowing("login: main computer").narrows  # only whole words `in:` and `tag:`


@pytest.mark.parametrize(
    ("query", "channel", "notes"),
    [
        ("computer", None, {"lexfridman/vision.md", "lexfridman/chess.md", "allin/markets.md"}),
        ("in:lexfridman computer", None, {"lexfridman/vision.md", "lexfridman/chess.md"}),
        ("in:lexfridman in:allin computer", None, {"lexfridman/vision.md", "lexfridman/chess.md", "allin/markets.md"}),
        ("tag:ml computer", None, {"lexfridman/vision.md", "allin/markets.md"}),
        ("in:lexfridman tag:ml computer", None, {"lexfridman/vision.md"}),  # a folder and a tag: both
        ("computer", Scope(folders=("lexfridman",)), {"lexfridman/vision.md", "lexfridman/chess.md"}),
        ("tag:ml computer", Scope(folders=("lexfridman",)), {"lexfridman/vision.md"}),
        ("in:allin computer", Scope(folders=("lexfridman",)), set()),  # never outside the channel's scope
        ("video:lexchess001 computer", None, {"lexfridman/chess.md"}),
        ("video:lexchess001 video:allinmarket computer", None, {"lexfridman/chess.md", "allin/markets.md"}),
        ("tag:ml video:lexchess001 computer", None, set()),  # a tag and a video: both
        ("video:allinmarket computer", Scope(folders=("lexfridman",)), set()),
    ],
)
def test_a_narrowed_query_searches_its_folders_tags_and_videos_within_the_channel_s_scope(
    searcher: Searcher, query: str, channel: Scope | None, notes: set[str]
) -> None:
    assert found(searcher, query, channel) == notes


def test_an_unnarrowed_query_in_an_unscoped_channel_searches_everything(searcher: Searcher) -> None:
    assert notes_within(searcher.note_sets, None, read_narrowing("computer")) is None
    assert holds_notes(searcher.note_sets, None)


def test_one_scope_is_searched_as_it_is_and_several_as_the_notes_in_all(searcher: Searcher) -> None:
    finance = Scope(tags=("finance",))
    assert notes_within(searcher.note_sets, finance, read_narrowing("computer")) == finance  # its mask is kept
    assert notes_within(searcher.note_sets, None, read_narrowing("in:allin computer")) == Scope(folders=("allin",))
    mask = notes_within(searcher.note_sets, finance, read_narrowing("tag:ml computer"))
    assert isinstance(mask, np.ndarray) and mask.sum() == 1
    outside = notes_within(searcher.note_sets, finance, read_narrowing("in:lexfridman"))
    assert not holds_notes(searcher.note_sets, outside)


def test_folders_and_tags_the_vault_lacks_are_named_with_close_ones(searcher: Searcher) -> None:
    unknown = unknown_names(searcher.note_sets, read_narrowing("in:lexfridmn tag:mll tag:ml chess"))
    assert unknown == [("folder", "lexfridmn", ["lexfridman"]), ("tag", "mll", ["ml"])]


def test_a_video_word_keeps_the_video_id_as_written_with_its_moment_if_named() -> None:
    narrowing = read_narrowing("Video:s3MuSOl1Rog occlusion video:aBcDeFgHiJk@2280")
    assert (narrowing.query, narrowing.videos) == ("occlusion", Scope(videos=("s3MuSOl1Rog", "aBcDeFgHiJk")))
    assert narrowing.links == (VideoLink("s3MuSOl1Rog", None), VideoLink("aBcDeFgHiJk", 2280))
    assert narrowing.narrows


def test_a_video_the_vault_has_no_note_on_narrows_nothing_beside_words_and_alone_is_named_back(
    searcher: Searcher,
) -> None:
    beside = known_videos(searcher.note_sets, read_narrowing("video:lexchess001 video:nOtInVaUlT1 chess"))
    assert beside.videos == Scope(videos=("lexchess001",)) and not unknown_names(searcher.note_sets, beside)
    assert found(searcher, "video:nOtInVaUlT1 computer") == {
        "lexfridman/vision.md",
        "lexfridman/chess.md",
        "allin/markets.md",
    }
    alone = known_videos(searcher.note_sets, read_narrowing("video:nOtInVaUlT1"))
    assert unknown_names(searcher.note_sets, alone) == [("video", "nOtInVaUlT1", [])]
