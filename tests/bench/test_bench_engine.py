"""The engine benchmark (bench/engine.py) runs end to end on the bundled vault, anchors included, and
rewrites only its own sections of the results file."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "engine.py"
SCORE = REPO.parent / "shared" / "eval" / "score.py"
GIT = ("git", "-c", "user.name=bench", "-c", "user.email=bench@example.com")  # commits in a scratch repo
SEED = ("lexfridman/applications_of_deep_learning.md", "Computer Vision and Robotics")
QUERIES = [
    {"kind": "keyword", "query": "computer vision", "heading": SEED[1]},
    {"kind": "question", "query": "What does Lex say about: computer vision AND robots?", "heading": SEED[1]},
    {"kind": "typo", "query": "computr vison", "heading": SEED[1]},
    {"kind": "keyword", "query": "language translation", "heading": "Language Translation and Text Generation"},
]


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_engine", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def load_score():
    spec = importlib.util.spec_from_file_location("eval_score", SCORE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def queries_file(tmp_path: Path) -> Path:
    path = tmp_path / "queries-dev.jsonl"
    rows = [{"id": f"t{i}", "note": SEED[0], **q} for i, q in enumerate(QUERIES)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def second_set(tmp_path: Path) -> Path:
    """A second labelled set: one query whose labelled section is a twin note's, at the same moment."""
    path = tmp_path / "queries-check.jsonl"
    row = {"id": "c0", "note": "fireship/history_of_linux.md", "heading": "", "kind": "keyword", "query": "x"}
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    return path


@pytest.mark.skipif(not SCORE.exists(), reason=f"the eval's score.py is not at {SCORE}")
def test_a_run_on_the_bundled_vault_scores_every_engine_and_rewrites_only_its_sections(
    tmp_path: Path, queries_file: Path, second_set: Path
) -> None:
    results_md = tmp_path / "RESULTS.md"
    results_md.write_text(
        "# Benchmark results\n\n## Search quality\n\nstale figures\n\n## Slack latency\n\nanother engineer's\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    command = [
        sys.executable,
        str(SCRIPT),
        "--corpus",
        str(REPO / "notes"),
        "--queries",
        str(queries_file),
        "--queries",
        str(second_set),
        "--score",
        str(SCORE),
        "--out",
        str(out),
        "--results",
        str(results_md),
        "--repeat",
        "1",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert list(summary["quality"]) == ["dev", "check", "both"]
    quality = summary["quality"]["dev"]
    for engine in ("notesbot", "bm25s", "tantivy"):
        assert quality[engine]["all"]["n"] == len(QUERIES)
        assert quality[engine]["keyword"]["section_hit@1"] == 1.0, f"{engine} misses plain keyword queries"
        assert quality[engine]["keyword"]["moment@1"] == quality[engine]["keyword"]["video@1"] == 1.0
        assert summary["quality"]["both"][engine]["all"]["n"] == len(QUERIES) + 1
        figures = summary["figures"][engine]
        assert figures["timed_queries"] == len(QUERIES) + 1
        assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
        assert figures["peak_mb"] > 0
    for name in ("dev", "check", "both"):
        engines = summary["quality"][name]
        assert engines["cli"] == engines["notesbot"], "the command line must rank as the engine does in process"
    assert summary["figures"]["build"]["sections"] == summary["figures"]["export"]["sections"] > 0
    assert summary["figures"]["notesbot"]["warm_start_s"] > 0

    document = results_md.read_text(encoding="utf-8")
    assert "stale figures" not in document
    assert "## Slack latency\n\nanother engineer's" in document
    assert document.count("## Search quality") == document.count("## Search speed") == 1
    assert "| kind | metric | dev (4): notesbot | dev (4): bm25s | dev (4): tantivy | check (1): notesbot |" in document
    assert "| keyword | section Hit@1 | 1.000 | 1.000 | 1.000 |" in document
    assert "| typo | moment@1 | 1.000 |" in document
    assert "| query p50, ms |" in document and "bench/engine.py --corpus" in document


def test_a_section_is_replaced_up_to_the_next_one_or_appended() -> None:
    bench = load_bench()
    document = "# Results\n\n## Mine\n\nold\n\n## Theirs\n\nkept\n"

    replaced = bench.replace_section(document, "## Mine", "## Mine\n\nnew")
    assert replaced == "# Results\n\n## Mine\n\nnew\n\n## Theirs\n\nkept\n"

    last = bench.replace_section(document, "## Theirs", "## Theirs\n\nrewritten")
    assert last == "# Results\n\n## Mine\n\nold\n\n## Theirs\n\nrewritten\n"

    appended = bench.replace_section(document, "## New", "## New\n\nfigures")
    assert appended == document + "\n## New\n\nfigures\n"


def tiny_sections(bench):
    return bench.Sections(
        notes=["a.md", "a.md", "b.md"],
        titles=["Robots", "Robots", "Cooking"],
        headings=["", "Computer Vision", "Bread"],
        heading_fields=["", "Computer Vision", "Baking Bread"],
        texts=["An overview.", "Cameras let robots see: vision models.", "Flour, water (and salt)."],
        videos=["robotvideo1", "robotvideo1", None],
        moments=[None, 120, None],
    )


def test_a_first_hit_plays_the_moment_on_the_labelled_video_within_a_minute_of_it() -> None:
    bench, score = load_bench(), load_score()
    label = {"note": "a.md", "heading": "Vision", "video": "robotvideo1", "timestamp": 120}

    def hit(note: str, video: str | None, timestamp: int | None, heading: str = "Seeing") -> dict:
        return {"note": note, "heading": heading, "video_id": video, "timestamp": timestamp}

    assert bench.plays_the_moment(hit("twin.md", "robotvideo1", 180), label, score)  # a twin note, 60 s on
    assert bench.plays_the_moment(hit("twin.md", "robotvideo1", 60), label, score)
    assert not bench.plays_the_moment(hit("twin.md", "robotvideo1", 181), label, score)
    assert not bench.plays_the_moment(hit("twin.md", "robotvideo1", None), label, score)
    assert not bench.plays_the_moment(hit("other.md", "othervideo1", 120), label, score)
    assert bench.plays_the_video(hit("twin.md", "robotvideo1", None), label, score)
    assert not bench.plays_the_video(hit("other.md", "othervideo1", 120), label, score)


def test_a_labelled_section_without_a_moment_is_played_only_by_itself() -> None:
    bench, score = load_bench(), load_score()
    label = {"note": "a.md", "heading": "Vision", "video": "robotvideo1", "timestamp": None}
    itself = {"note": "a.md", "heading": "*Vision*", "video_id": "robotvideo1", "timestamp": None}
    assert bench.plays_the_moment(itself, label, score)  # headings compared as score.py compares them
    assert not bench.plays_the_moment(itself | {"heading": "Seeing"}, label, score)


def test_labels_are_found_as_the_first_section_of_their_note_with_their_heading() -> None:
    bench, score = load_bench(), load_score()
    queries = [
        {"note": "a.md", "heading": "computer  VISION", "kind": "keyword", "query": "q"},
        {"note": "gone.md", "heading": "Bread", "kind": "keyword", "query": "q"},
    ]
    labels = bench.label_moments(tiny_sections(bench), queries, score)
    assert [(label["video"], label["timestamp"]) for label in labels] == [("robotvideo1", 120), (None, None)]


def test_the_tantivy_anchor_reads_any_query_as_plain_text(tmp_path: Path) -> None:
    bench = load_bench()
    search = bench.tantivy_search(tiny_sections(bench), tmp_path / "index")

    assert search('vision: "robots?')[0] == bench.Found("a.md", "Computer Vision", "robotvideo1", 120)
    assert [(hit.note, hit.heading) for hit in search("(salt) AND")] == [("b.md", "Bread")]
    for query_syntax in ("OR", "AND NOT", "title:", "[x TO", "~2 ^3 *"):
        assert isinstance(search(query_syntax), list)


def test_the_bm25s_anchor_returns_no_padding_for_words_it_does_not_know(tmp_path: Path) -> None:
    bench = load_bench()
    search = bench.bm25s_search(tiny_sections(bench), tmp_path)

    assert search("baking bread")[0] == bench.Found("b.md", "Bread", None, None)
    assert search("the of and") == []
    assert search("zeppelin") == []


def test_latencies_are_reported_as_nearest_rank_percentiles() -> None:
    bench = load_bench()
    figures = bench.latency_figures([t / 1000 for t in (4.0, 1.0, 3.0, 2.0)])  # seconds in, ms out
    assert figures == {"timed_queries": 4, "p50_ms": 2.0, "p99_ms": 4.0, "max_ms": 4.0}


def test_the_engine_folder_watched_for_changes_holds_the_engine_modules() -> None:
    bench = load_bench()
    engine = REPO / bench.ENGINE_DIR
    for module in ("index_cache.py", "index.py", "scoring.py", "search.py", "spelling.py"):
        assert (engine / module).is_file(), f"{bench.ENGINE_DIR}/{module} is not there"


def test_a_run_on_a_tree_changing_the_engine_says_so(tmp_path: Path) -> None:
    """An edited, added or deleted engine module marks the commit; a change elsewhere does not."""
    bench = load_bench()
    engine = tmp_path / bench.ENGINE_DIR
    engine.mkdir(parents=True)
    (engine / "search.py").write_text("RANKING = 1\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("notes\n", encoding="utf-8")
    subprocess.run([*GIT, "init", "-q", str(tmp_path)], check=True)
    subprocess.run([*GIT, "-C", str(tmp_path), "add", "."], check=True)
    subprocess.run([*GIT, "-C", str(tmp_path), "commit", "-qm", "engine"], check=True)
    head = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    marked = f"{head} + uncommitted changes to the engine"

    assert bench.engine_commit(tmp_path) == head
    (tmp_path / "README.md").write_text("more notes\n", encoding="utf-8")
    assert bench.engine_commit(tmp_path) == head
    (engine / "search.py").write_text("RANKING = 2\n", encoding="utf-8")
    assert bench.engine_commit(tmp_path) == marked
    subprocess.run([*GIT, "-C", str(tmp_path), "checkout", "-q", "--", str(engine)], check=True)
    (engine / "scoring.py").write_text("K1 = 1.2\n", encoding="utf-8")
    assert bench.engine_commit(tmp_path) == marked
    (engine / "scoring.py").unlink()
    (engine / "search.py").unlink()
    assert bench.engine_commit(tmp_path) == marked
