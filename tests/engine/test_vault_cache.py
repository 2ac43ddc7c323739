"""Loading a vault: bad files reported and skipped, the index cached on disk, only changed files re-parsed."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot.engine.index_cache
from bot.engine.index_cache import load_vault
from bot.engine.search import Searcher

VAULT = Path(__file__).parent.parent / "fixtures" / "vault"


@pytest.fixture
def vault_copy(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    shutil.copytree(VAULT, root)
    return root


@pytest.fixture
def parsed_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records which files each load parses."""
    seen: list[str] = []
    real = bot.engine.index_cache.parse_files

    def recording(root: Path, stamps: dict, workers: int | None = None) -> Iterator[list]:
        seen.extend(stamps)
        return real(root, stamps, workers)

    monkeypatch.setattr(bot.engine.index_cache, "parse_files", recording)
    return seen


def test_bad_files_are_reported_and_the_rest_served() -> None:
    vault = load_vault(VAULT, cache_root=None)
    assert sorted(vault.index.note_paths) == [
        "cooking/latin1.md",
        "cooking/sourdough.md",
        "cooking/untitled_note.md",
        "science/reinforcement_learning.md",
        "science/self_driving_cars.md",
    ]
    errors = sorted((p.path, p.line) for p in vault.problems if p.severity == "error")
    assert errors == [("cooking/broken_yaml.md", 2), ("cooking/latin1.md", 6)]


def test_wikilinks_to_missing_notes_are_reported_with_their_line() -> None:
    vault = load_vault(VAULT, cache_root=None)
    broken = [(p.path, p.line, p.message) for p in vault.problems if "wikilink" in p.message]
    assert broken == [("science/self_driving_cars.md", 6, "wikilink [[science]] names no note of the vault")]


def test_restart_with_unchanged_notes_loads_the_cache_without_parsing(
    vault_copy: Path, tmp_path: Path, parsed_files: list[str]
) -> None:
    first = load_vault(vault_copy, tmp_path / "cache")
    assert len(parsed_files) == 7
    parsed_files.clear()
    second = load_vault(vault_copy, tmp_path / "cache")
    assert parsed_files == []
    assert second.fingerprint == first.fingerprint
    assert second.index.section_headings == first.index.section_headings


def test_only_changed_and_new_files_are_parsed_again(vault_copy: Path, tmp_path: Path, parsed_files: list[str]) -> None:
    load_vault(vault_copy, tmp_path / "cache")
    parsed_files.clear()
    poker = vault_copy / "science" / "reinforcement_learning.md"
    poker.write_text(poker.read_text().replace("bluff", "bluff and sandbag"), encoding="utf-8")
    pasta = "---\ntitle: Pasta\nvideoId: pasta000001\n---\n## Dough\n\nEggs.\n"
    (vault_copy / "cooking" / "pasta.md").write_text(pasta)
    (vault_copy / "cooking" / "sourdough.md").unlink()
    vault = load_vault(vault_copy, tmp_path / "cache")
    assert sorted(parsed_files) == ["cooking/pasta.md", "science/reinforcement_learning.md"]
    searcher = Searcher(vault.index)
    assert searcher.search("sandbag")[0].heading == "Poker"
    assert searcher.search("eggs dough")[0].note == "cooking/pasta.md"
    assert "cooking/sourdough.md" not in vault.index.note_paths


def test_an_unreadable_cache_is_rebuilt(vault_copy: Path, tmp_path: Path) -> None:
    load_vault(vault_copy, tmp_path / "cache")
    for cached in (tmp_path / "cache").rglob("index.pickle"):
        cached.write_bytes(b"not a pickle")
    assert load_vault(vault_copy, tmp_path / "cache").index.note_count == 5


def test_section_texts_read_back_exactly_as_parsed() -> None:
    from bot.engine.index import TextColumn

    texts = ["", "plain", "naïve — ünïcode ✓", "line\nbreaks", "🙂"]
    column = TextColumn.of(texts)
    assert list(column) == texts
    assert column[-1] == "🙂" and column[1:3] == texts[1:3]
    with pytest.raises(IndexError):
        column[len(texts)]


def test_a_note_saved_broken_keeps_serving_its_last_good_version(vault_copy: Path, tmp_path: Path) -> None:
    load_vault(vault_copy, tmp_path / "cache")
    poker = vault_copy / "science" / "reinforcement_learning.md"
    poker.write_text("---\ntitle: [unclosed\n---\n## Poker\n\nhalf saved", encoding="utf-8")
    vault = load_vault(vault_copy, tmp_path / "cache")
    assert Searcher(vault.index).search("bluff poker")[0].heading == "Poker"
    broken = [(p.path, p.severity) for p in vault.problems if "broken YAML" in p.message]
    assert ("science/reinforcement_learning.md", "error") in broken


def test_without_a_cache_folder_a_loader_still_parses_only_what_changed(
    vault_copy: Path, parsed_files: list[str]
) -> None:
    from bot.engine.index_cache import VaultLoader

    loader = VaultLoader(vault_copy, cache_root=None)
    loader.load()
    parsed_files.clear()
    (vault_copy / "cooking" / "sourdough.md").write_text("---\ntitle: S\nvideoId: bread000001\n---\n## Rye\n\nRye.\n")
    assert Searcher(loader.load().index).search("rye")[0].note == "cooking/sourdough.md"
    assert parsed_files == ["cooking/sourdough.md"]


def test_a_symbolic_link_to_a_file_outside_the_vault_is_reported_and_not_read(tmp_path: Path) -> None:
    root, outside = tmp_path / "vault", tmp_path / "secrets.md"
    shutil.copytree(VAULT, root)
    outside.write_text("## Keys\n\nzqxwvy plugh\n", encoding="utf-8")
    (root / "cooking" / "leak.md").symlink_to(outside)
    (root / "cooking" / "alias.md").symlink_to(root / "cooking" / "sourdough.md")

    vault = load_vault(root, cache_root=None)

    assert "cooking/leak.md" not in vault.index.note_paths and "cooking/alias.md" in vault.index.note_paths
    assert Searcher(vault.index).search("zqxwvy plugh") == []
    problems = [(p.path, p.line, p.severity) for p in vault.problems if "symbolic link" in p.message]
    assert problems == [("cooking/leak.md", 1, "error")]
