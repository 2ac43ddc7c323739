"""The BM25F sweep (bench/sweep_bm25f.py) indexes a vault again with each setting of the index-time constants and
scores labelled queries, shipping nothing: on the bundled vault in seconds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import bot.engine.index as index_module
import bot.engine.scoring as scoring

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "sweep_bm25f.py"
SCORE = REPO.parent / "shared" / "eval" / "score.py"
LABELLED = [
    {"query": "computer vision", "note": "lexfridman/applications_of_deep_learning.md",
     "heading": "Computer Vision and Robotics", "kind": "keyword"},
    {"query": "computr vison", "note": "lexfridman/applications_of_deep_learning.md",
     "heading": "Computer Vision and Robotics", "kind": "typo"},
]  # fmt: skip


def sweep(tmp_path: Path, *settings: str) -> subprocess.CompletedProcess[str]:
    queries = tmp_path / "queries-seed.jsonl"
    queries.write_text("".join(json.dumps(q) + "\n" for q in LABELLED), encoding="utf-8")
    options = ["--corpus", str(REPO / "notes"), "--cache", str(tmp_path / "cache"), "--queries", str(queries)]
    command = [sys.executable, str(SCRIPT), *options, "--score", str(SCORE), *settings]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not SCORE.exists(), reason=f"no eval score.py at {SCORE} (../shared is not beside the repo)")
def test_each_setting_is_a_row_of_hit_at_1_and_mrr_per_query_set(tmp_path: Path) -> None:
    result = sweep(tmp_path, "shipped", "K1=0.75,TITLE_WEIGHT=0.5", "HEADING_WEIGHT=0")
    assert result.returncode == 0, result.stderr[-2000:]
    header, rule, *rows = result.stdout.splitlines()
    assert header == "| setting | seed: Hit@1 | seed: MRR@10 | all sets: Hit@1 | all sets: MRR@10 |"
    assert rule == "|---|---:|---:|---:|---:|"
    cells = {setting: figures for setting, *figures in (row.strip("| ").split(" | ") for row in rows)}
    assert cells["shipped"] == ["1.000", "1.000", "1.000", "1.000"]
    assert set(cells) == {"shipped", "K1=0.75,TITLE_WEIGHT=0.5", "HEADING_WEIGHT=0"}


def test_an_unknown_constant_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    result = sweep(tmp_path, "K2=1")
    assert result.returncode == 2
    assert "'K2' is not one of TITLE_WEIGHT, HEADING_WEIGHT" in result.stderr


def test_the_constants_are_the_shipped_ones_again_after_a_setting() -> None:
    sys.path.insert(0, str(REPO))
    from bench.sweep_bm25f import constants

    with constants({"K1": 0.5, "BODY_B": 0.1}):
        assert (scoring.K1, scoring.BODY_B, index_module.BODY_B) == (0.5, 0.1, 0.1)
    assert (scoring.K1, scoring.BODY_B, index_module.BODY_B) == (1.2, 0.75, 0.75)
