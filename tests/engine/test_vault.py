"""Notes on disk: the names a wikilink may use for a note."""

from pathlib import PurePosixPath

from hypothesis import given
from hypothesis import strategies as st

from bot.engine.vault import link_keys, resolve_link


@given(st.text(alphabet="aB./ é", max_size=16))
def test_a_note_is_named_by_its_path_and_by_its_file_name_as_paths_read_them(path: str) -> None:
    without_suffix = path[:-3] if path.lower().endswith(".md") else path
    assert link_keys(path) == (without_suffix.casefold(), PurePosixPath(without_suffix).name.casefold())


def test_a_wikilink_resolves_by_path_or_file_name_whatever_its_case() -> None:
    known = set(link_keys("science/Self_Driving.md"))
    assert resolve_link("science/self_driving", known) and resolve_link("SELF_DRIVING", known)
    assert resolve_link("/science/self_driving.md", known)
    assert not resolve_link("cooking/self", known)
