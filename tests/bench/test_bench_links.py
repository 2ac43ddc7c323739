"""The links benchmark (bench/links.py) runs on the bundled vault: scoped and unscoped query latency, and messages
of five YouTube links answered through the real Bolt app, every link previewed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.engine.index_cache import load_vault

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "links.py"


def labelled_queries(path: Path) -> None:
    """Ten labels of the bundled vault, each a section with a moment in a note on a video."""
    index = load_vault(REPO / "notes", None).index
    labels, seen = [], set()
    for i in range(index.section_count):
        note = int(index.section_note[i])
        if index.section_levels[i] > 0 and index.section_first_ts[i] >= 0 and note not in seen:
            seen.add(note)
            labels.append(
                {
                    "note": index.note_paths[note],
                    "heading": index.section_headings[i],
                    "query": index.section_headings[i],
                }
            )
    path.write_text("".join(json.dumps(label) + "\n" for label in labels[:10]), encoding="utf-8")


def test_the_benchmark_times_scoped_and_unscoped_queries_and_five_link_messages(tmp_path: Path) -> None:
    queries = tmp_path / "queries.jsonl"
    labelled_queries(queries)
    command = [sys.executable, str(SCRIPT), "--corpus", str(REPO / "notes"), "--queries", str(queries)]
    run = subprocess.run(
        [*command, "--cache", str(tmp_path / "cache"), "--repeat", "1", "--markdown"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout[: run.stdout.rindex("}") + 1])
    assert (figures["notes"], figures["queries"]) == (40, 10)
    assert figures["scoped_queries_with_every_hit_in_scope"] == 10
    assert figures["unscoped_ms"]["count"] == figures["scoped_ms"]["count"] == 10
    assert figures["messages"] == 2 and figures["links_previewed"] == "10 of 10"
    for name in ("unscoped_ms", "scoped_ms", "five_links_engine_ms", "five_links_event_to_unfurl_ms"):
        assert 0 < figures[name]["p50"] <= figures[name]["p99"] <= figures[name]["max"]
    assert "| query, scoped to one channel's folder |" in run.stdout
