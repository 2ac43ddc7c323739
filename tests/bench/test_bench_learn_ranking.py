"""The ranking's learner (bench/learn_ranking.py) makes labelled queries from a vault and writes weights the
engine loads, on the bundled vault in seconds."""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from pathlib import Path

import pytest

from bot.engine.index_cache import load_vault
from bot.engine.scoring import FEATURES, load_weights
from bot.engine.search import Searcher

REPO = Path(__file__).resolve().parents[2]


def load_learner():
    spec = importlib.util.spec_from_file_location("learn_ranking", REPO / "bench" / "learn_ranking.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def searcher() -> Searcher:
    return Searcher(load_vault(REPO / "notes", cache_root=None).index)


def test_training_queries_are_made_from_sections_with_a_moment_in_every_kind(searcher: Searcher) -> None:
    learner = load_learner()
    made = learner.QueryMaker(searcher, random.Random(1)).make(60)
    assert len(made) == 60
    assert {query.kind for query in made} == {"keyword", "question", "typo"}
    index = searcher.index
    for query in made:
        assert index.section_first_ts[query.section] >= 0 and index.section_levels[query.section] > 0
        assert query.query.strip()
    assert all(query.query.endswith("?") for query in made if query.kind == "question")


def test_the_table_marks_the_labelled_candidate_and_twins_at_its_moment(searcher: Searcher) -> None:
    learner = load_learner()
    made = learner.QueryMaker(searcher, random.Random(2)).make(40)
    data = learner.table(searcher, made)
    assert 0 < len(data.labelled) <= len(made)
    rows = range(len(data.labelled))
    assert all(data.real[row, data.labelled[row]] and data.moment[row, data.labelled[row]] for row in rows)
    assert not (data.moment & ~data.real).any()
    assert data.features.shape[2] == len(FEATURES)


def test_weights_learned_and_written_are_weights_the_engine_loads(tmp_path: Path) -> None:
    learner = load_learner()
    written = tmp_path / "weights.json"
    vault = ["--corpus", str(REPO / "notes"), "--cache", str(tmp_path / "cache")]
    learner.main([*vault, "--queries", "150", "--write", "--weights", str(written)])
    shipped = json.loads(written.read_text(encoding="utf-8"))
    assert set(shipped["weights"]) == set(FEATURES) and shipped["benchmark"] is None
    assert load_weights(written).named() == pytest.approx(shipped["weights"], abs=1e-6)
