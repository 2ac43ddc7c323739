"""The ranking check (bench/same_hits.py) records every query's top ten and fails, naming the query, on the
first one that differs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "same_hits.py"
QUERIES = ["computer vision", "language translation", "computr vison"]


@pytest.fixture
def queries_file(tmp_path: Path) -> Path:
    path = tmp_path / "queries.jsonl"
    path.write_text("".join(json.dumps({"query": q}) + "\n" for q in QUERIES), encoding="utf-8")
    return path


def same_hits(tmp_path: Path, queries: Path, *action: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), *action, "--corpus", str(REPO / "notes"), "--queries", str(queries)]
    return subprocess.run([*command, "--cache", str(tmp_path / "cache")], capture_output=True, text=True, timeout=120)


def test_the_same_code_finds_the_hits_it_recorded(tmp_path: Path, queries_file: Path) -> None:
    recorded = tmp_path / "before.jsonl"
    assert same_hits(tmp_path, queries_file, "--record", str(recorded)).returncode == 0
    rows = [json.loads(line) for line in recorded.read_text(encoding="utf-8").splitlines()]
    assert [row["query"] for row in rows] == QUERIES
    assert rows[0]["hits"][0][:2] == ["lexfridman/applications_of_deep_learning.md", "Computer Vision and Robotics"]
    assert all(len(row["hits"]) <= 10 and all(hit[2] > 0 for hit in row["hits"]) for row in rows)

    compared = same_hits(tmp_path, queries_file, "--compare", str(recorded))
    assert compared.returncode == 0, compared.stderr
    assert "the same top 10 for all 3 queries" in compared.stdout


def test_a_changed_score_fails_naming_the_query_and_the_rank(tmp_path: Path, queries_file: Path) -> None:
    recorded = tmp_path / "before.jsonl"
    assert same_hits(tmp_path, queries_file, "--record", str(recorded)).returncode == 0
    rows = [json.loads(line) for line in recorded.read_text(encoding="utf-8").splitlines()]
    rows[1]["hits"][1][2] += 0.0001  # what a constant nudged would do to the second hit of one query
    recorded.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")

    compared = same_hits(tmp_path, queries_file, "--compare", str(recorded))
    assert compared.returncode == 1
    assert "query 'language translation': hit 2 was" in compared.stderr


def test_other_queries_than_those_recorded_are_no_comparison(tmp_path: Path, queries_file: Path) -> None:
    recorded = tmp_path / "before.jsonl"
    recorded.write_text(json.dumps({"query": "robots", "hits": []}) + "\n", encoding="utf-8")
    compared = same_hits(tmp_path, queries_file, "--compare", str(recorded))
    assert compared.returncode == 1
    assert "the queries differ" in compared.stderr
