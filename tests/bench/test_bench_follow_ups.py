"""The follow-up benchmark (bench/follow_ups.py) makes its thread pairs from any vault by its procedure and runs end
to end, reporting first-hit rates with and without the thread's context."""

from __future__ import annotations

import importlib.util
import random
import subprocess
import sys
from pathlib import Path

from bot.engine.search import Hit, Searcher
from tests.engine.vaults import searcher_of, write_moment

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "follow_ups.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_follow_ups", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def two_section_note(root: Path, rel: str, title: str, video: str, headings: tuple[str, str]) -> None:
    anchor = '<a class="yt-timestamp" data-t="03:00">[03:00]</a>'
    body = "".join(f"## {h}\n\n{h} explained at length {anchor}.\n\n" for h in headings)
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(f"---\ntitle: {title}\nvideoId: {video}\n---\n{body}", encoding="utf-8")


def test_a_dependent_follow_up_names_a_section_by_the_heading_words_its_title_lacks(tmp_path: Path) -> None:
    bench = load_bench()
    two_section_note(tmp_path, "ai/deep.md", "Deep learning", "deepvideo01", ("Deep learning in healthcare", "Games"))
    for n in range(2):
        write_moment(tmp_path, f"health/h{n}.md", f"Hospitals {n}", f"healthvid0{n}", "Healthcare today", "Care.")
    searcher: Searcher = searcher_of(tmp_path)
    vault = bench.Vault(searcher)
    [thread] = [
        t for t in bench.threads(vault, 10, random.Random(1)) if searcher.index.note_paths[t.note] == "ai/deep.md"
    ]

    made = {bench.dependent_follow_up(vault, thread, 2, random.Random(seed)) for seed in range(10)}

    assert made == {("what about healthcare?", bench.Label("ai/deep.md", "Deep learning in healthcare", "deepvideo01"))}
    assert bench.dependent_follow_up(vault, thread, 3, random.Random(0)) is None  # only two other notes fit it


def test_a_hit_is_right_on_its_section_or_the_same_heading_of_a_twin_note_on_the_same_video() -> None:
    bench = load_bench()
    label = bench.Label("a/one.md", "Healthcare", "video000001")
    hit = searcher_hit(note="a/one.md", heading="Healthcare", video_id="video000001")
    assert bench.is_right(hit, label)
    assert bench.is_right(searcher_hit(note="b/twin.md", heading="healthcare", video_id="video000001"), label)
    assert not bench.is_right(searcher_hit(note="b/other.md", heading="Healthcare", video_id="video000002"), label)
    assert not bench.is_right(None, label)


def searcher_hit(**fields: object) -> Hit:
    base = {"title": "T", "heading_path": (), "score": 1.0, "url": None, "timestamp": None, "text": "", "line": 1}
    return Hit(**(base | fields))


def run(vault: Path, cache: Path, *options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), "--corpus", str(vault), "--cache", str(cache), *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_runs_on_the_bundled_vault_and_the_thread_s_context_answers_the_dependent_follow_ups(tmp_path: Path) -> None:
    done = run(REPO / "notes", tmp_path / "cache", "--threads", "40", "--ambiguous", "1")
    assert done.returncode == 0, done.stderr
    head, header, _, *rows = done.stdout.splitlines()
    assert head.endswith("seed 7, ambiguous in 1+ notes")
    assert header.startswith("| method | dependent, dev (") and "standalone (vault), check (" in header
    rates = {row.split(" | ")[0].strip("| "): [float(x) for x in row.strip(" |").split(" | ")[1:]] for row in rows}
    assert all(0.0 <= rate <= 1.0 for values in rates.values() for rate in values)
    alone, bot = rates["follow-up alone"], next(v for k, v in rates.items() if k.startswith("the bot"))
    assert bot[0] + bot[1] > alone[0] + alone[1]  # the dependent follow-ups, dev and check
    assert bot[2:] == alone[2:]  # stand-alone follow-ups lose nothing on this vault


def test_a_vault_too_small_for_threads_is_a_clear_error(tmp_path: Path) -> None:
    write_moment(tmp_path / "vault", "a.md", "A", "avideo00001", "One", "Two words.")
    done = run(tmp_path / "vault", tmp_path / "cache")
    assert done.returncode == 1
    assert "too few notes" in done.stderr
