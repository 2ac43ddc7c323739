"""Notes edited, added, renamed or deleted while the bot runs are answered from within seconds, without a
restart; a burst of changes is one re-index; a broken note is reported and the rest keep serving."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.engine.live import LiveVault, NotesWatcher
from tests.reload.notes_on_disk import notes_found, write_note
from tests.waiting import eventually


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    write_note(root, "lexfridman/vision.md", "Computer vision", "## Convolutions\n[[robots]] see with convolutions.")
    write_note(root, "lexfridman/robots.md", "Robots", "## Grasping\nRobots learn grasping by trial and error.")
    return root


@pytest.fixture
def live(vault: Path, tmp_path: Path) -> LiveVault:
    return LiveVault(vault, tmp_path / "cache")


@pytest.fixture
def watched(live: LiveVault) -> Iterator[LiveVault]:
    watcher = NotesWatcher(live, quiet=0.3).start()
    yield live
    watcher.stop()


def test_an_edited_note_is_answered_from_its_new_text(vault: Path, watched: LiveVault) -> None:
    assert notes_found(watched.current(), "grasping") == {"lexfridman/robots.md"}

    write_note(vault, "lexfridman/robots.md", "Robots", "## Walking\nLegged robots learn to walk on ice.")

    assert eventually(lambda: notes_found(watched.current(), "walk ice") == {"lexfridman/robots.md"})
    assert notes_found(watched.current(), "grasping") == set()


def test_an_added_note_is_answered(vault: Path, watched: LiveVault) -> None:
    write_note(vault, "karpathy/tokenizers.md", "Tokenizers", "## Byte pair encoding\nMerges frequent pairs.")

    assert eventually(lambda: notes_found(watched.current(), "byte pair encoding") == {"karpathy/tokenizers.md"})


def test_a_renamed_note_is_answered_under_its_new_path(vault: Path, watched: LiveVault) -> None:
    (vault / "lexfridman/robots.md").rename(vault / "lexfridman/robotics.md")

    assert eventually(lambda: notes_found(watched.current(), "grasping") == {"lexfridman/robotics.md"})


def test_a_renamed_folder_moves_its_notes(vault: Path, watched: LiveVault) -> None:
    (vault / "lexfridman").rename(vault / "lex")

    assert eventually(lambda: notes_found(watched.current(), "grasping") == {"lex/robots.md"})


def test_a_deleted_note_is_no_longer_answered(vault: Path, watched: LiveVault) -> None:
    (vault / "lexfridman/robots.md").unlink()

    assert eventually(lambda: notes_found(watched.current(), "grasping") == set())
    assert notes_found(watched.current(), "convolutions") == {"lexfridman/vision.md"}


def test_a_thousand_files_changed_at_once_are_one_reindex(vault: Path, live: LiveVault) -> None:
    # the shipped quiet period: on a busy machine, writing a thousand files can pause for longer than the
    # short one the other tests use, as a `git pull` would not
    watcher = NotesWatcher(live).start()
    try:
        for i in range(1000):
            write_note(vault, f"pulled/note_{i:04d}.md", f"Pulled {i}", f"## Part {i}\nGradient descent step {i}.")

        assert eventually(lambda: live.current().index.note_count == 1002, within=15)
        time.sleep(watcher.quiet + 0.5)  # a second reload, if one were coming, would start within the quiet period
    finally:
        watcher.stop()
    assert live.reloads == 1
    assert live.snapshot.note_count == 1002


def test_a_note_saved_broken_is_reported_and_everything_else_keeps_serving(
    vault: Path, watched: LiveVault, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.engine.live")
    (vault / "lexfridman/robots.md").write_text("---\ntitle: [unclosed\n---\n## Grasping\nHalf saved.\n")
    write_note(vault, "lexfridman/new.md", "Fresh", "## Attention\nTransformers attend to every token.")

    assert eventually(lambda: notes_found(watched.current(), "attention transformers") == {"lexfridman/new.md"})
    reported = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(m.startswith("lexfridman/robots.md:2: error: broken YAML front matter") for m in reported), reported
    assert notes_found(watched.current(), "convolutions") == {"lexfridman/vision.md"}
    # The broken note answers from its last good version until it is fixed.
    assert notes_found(watched.current(), "grasping trial error") == {"lexfridman/robots.md"}


def test_a_broken_note_is_served_again_once_fixed(vault: Path, live: LiveVault) -> None:
    (vault / "lexfridman/robots.md").write_text("---\ntitle: [unclosed\n---\nbroken\n")
    live.reload()
    write_note(vault, "lexfridman/robots.md", "Robots", "## Swimming\nRobots swim like fish.")

    live.reload()

    assert notes_found(live.current(), "swim fish") == {"lexfridman/robots.md"}
    assert not any(p.path == "lexfridman/robots.md" and p.severity == "error" for p in live.snapshot.vault.problems)


def test_a_reload_parses_only_the_notes_that_changed(
    vault: Path, live: LiveVault, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.engine.index_cache")
    write_note(vault, "lexfridman/robots.md", "Robots", "## Walking\nLegged robots walk.")

    live.reload()

    assert "parsing 1 changed notes (1 unchanged)" in caplog.text


def test_a_failed_reload_keeps_serving_the_previous_index(
    vault: Path, live: LiveVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = live.current()

    def unreadable_folder(_root: Path) -> dict:
        raise PermissionError("notes folder unreadable")

    monkeypatch.setattr("bot.engine.index_cache.list_notes", unreadable_folder)
    live.reload()

    assert live.current() is before
    assert live.failures == 1
    assert notes_found(live.current(), "grasping") == {"lexfridman/robots.md"}


def test_no_search_ever_sees_a_half_built_index(vault: Path, live: LiveVault) -> None:
    """Searches run while every note flips between two versions: each search sees all old or all new."""
    count = 40
    for i in range(count):
        write_note(vault, f"batch/n{i}.md", f"Batch {i}", "## Alpha\nAlpha particles.")
    live.reload()
    seen: list[tuple[int, int]] = []
    stop = threading.Event()

    def search_constantly() -> None:
        while not stop.is_set():
            searcher = live.current()
            seen.append((len(notes_found(searcher, "alpha particles")), len(notes_found(searcher, "beta rays"))))

    searchers = [threading.Thread(target=search_constantly) for _ in range(3)]
    for thread in searchers:
        thread.start()
    for version in range(6):
        word = "Beta rays" if version % 2 == 0 else "Alpha particles"
        for i in range(count):
            write_note(vault, f"batch/n{i}.md", f"Batch {i}", f"## Section\n{word}.")
        live.reload()
    stop.set()
    for thread in searchers:
        thread.join()

    assert seen and set(seen) <= {(count, 0), (0, count)}
    assert {(count, 0), (0, count)} <= set(seen)


def test_the_folder_read_by_a_reload_does_not_trigger_another(vault: Path, watched: LiveVault) -> None:
    write_note(vault, "lexfridman/robots.md", "Robots", "## Walking\nLegged robots walk.")
    assert eventually(lambda: watched.reloads == 1)

    time.sleep(1.0)

    assert watched.reloads == 1


def test_polling_notices_an_edit_where_file_events_never_come(vault: Path, live: LiveVault) -> None:
    watcher = NotesWatcher(live, quiet=0.2, poll_every=0.2).start()
    try:
        write_note(vault, "lexfridman/robots.md", "Robots", "## Swimming\nRobots swim like fish.")

        assert eventually(lambda: notes_found(live.current(), "swim fish") == {"lexfridman/robots.md"})
    finally:
        watcher.stop()


def test_notes_watch_accepts_events_poll_or_off_only() -> None:
    assert load_settings(notes_watch="poll").notes_watch == "poll"
    with pytest.raises(ConfigError, match="NOTES_WATCH"):
        load_settings(notes_watch="sometimes")
