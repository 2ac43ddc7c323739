"""`notesbot report` lists the questions the vault could not answer well, grouped by topic."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from bot import storage
from bot.cli import main
from bot.migrate import create_schema
from bot.report import NOTHING, UNHELPFUL, WEAK, collect_gaps, group_by_topic, render

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def database(tmp_path: Path) -> tuple[str, Engine]:
    url = f"sqlite:///{tmp_path / 'notesbot.sqlite3'}"
    engine = storage.make_engine(url)
    create_schema(engine)
    yield url, engine
    engine.dispose()


def asked(engine: Engine, query: str, hits: int, top_score: float | None = None, days_ago: float = 1) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(storage.queries).values(
                asked_at=NOW - timedelta(days=days_ago),
                team_id="T1",
                kind="slash",
                query=query,
                hits=hits,
                top_score=top_score,
                top_note="lexfridman/gpus.md" if hits else None,
                top_heading="Prices" if hits else None,
            )
        )


def rated(engine: Engine, query: str, helpful: bool, days_ago: float = 1) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(storage.feedback).values(
                given_at=NOW - timedelta(days=days_ago),
                team_id="T1",
                user_id="U1",
                query=query,
                note_path="lexfridman/applications_of_deep_learning.md",
                heading="Computer Vision and Robotics",
                helpful=int(helpful),
            )
        )


def test_gaps_are_questions_with_nothing_found_weak_answers_and_thumbs_down(database) -> None:
    _, engine = database
    asked(engine, "knitting socks", hits=0)
    asked(engine, "gpu prices", hits=4, top_score=3.5)
    asked(engine, "computer vision", hits=5, top_score=40.0)  # a good answer: not a gap
    rated(engine, "robot grasping", helpful=False)
    rated(engine, "computer vision", helpful=True)  # 👍: not a gap

    gaps = collect_gaps(engine, since=NOW - timedelta(days=30), weak_below=8.0)

    assert sorted((g.kind, g.query) for g in gaps) == [
        (NOTHING, "knitting socks"),
        (UNHELPFUL, "robot grasping"),
        (WEAK, "gpu prices"),
    ]
    weak = next(g for g in gaps if g.kind == WEAK)
    assert (weak.note, weak.heading, weak.score) == ("lexfridman/gpus.md", "Prices", 3.5)


def test_older_gaps_are_left_out(database) -> None:
    _, engine = database
    asked(engine, "knitting socks", hits=0, days_ago=40)
    rated(engine, "robot grasping", helpful=False, days_ago=40)

    assert collect_gaps(engine, since=NOW - timedelta(days=30), weak_below=8.0) == []


def test_questions_sharing_a_word_form_one_topic_whatever_its_inflection(database) -> None:
    _, engine = database
    for query in ("robot grasping", "walking Robots", "robotic arms in 2024", "knitting socks", "sock darning"):
        asked(engine, query, hits=0)
    rated(engine, "which robots learn fastest", helpful=False)

    topics = group_by_topic(collect_gaps(engine, since=NOW - timedelta(days=30), weak_below=8.0))

    assert [(t.label, len(t.gaps)) for t in topics] == [("robots", 4), ("sock", 2)]  # the words people used most
    assert {g.query for g in topics[1].gaps} == {"knitting socks", "sock darning"}
    assert {g.kind for g in topics[0].gaps} == {NOTHING, UNHELPFUL}


def test_the_rendered_report_shows_repeated_questions_once_with_their_count(database) -> None:
    _, engine = database
    for _ in range(3):
        asked(engine, "Knitting  socks", hits=0)
    asked(engine, "knitting socks", hits=0)

    text = render(group_by_topic(collect_gaps(engine, NOW - timedelta(days=30), 8.0)), NOW - timedelta(days=30))

    assert "4 questions found nothing" in text
    assert "nothing found ×4" in text
    assert text.count("'Knitting  socks'") + text.count("'knitting socks'") == 1


def test_a_question_without_searchable_words_has_its_own_group(database) -> None:
    _, engine = database
    asked(engine, "?? !!", hits=0)

    [topic] = group_by_topic(collect_gaps(engine, NOW - timedelta(days=30), 8.0))

    assert topic.label == "(no searchable words)"


def test_notesbot_report_prints_the_gaps_of_database_url(
    database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url, engine = database
    asked(engine, "knitting socks", hits=0, days_ago=0)
    asked(engine, "gpu prices", hits=2, top_score=2.0, days_ago=0)
    monkeypatch.setenv("DATABASE_URL", url)

    assert main(["report", "--json"]) == 0

    topics = json.loads(capsys.readouterr().out)
    assert sorted(g["query"] for t in topics for g in t["gaps"]) == ["gpu prices", "knitting socks"]


def test_notesbot_report_on_a_new_database_says_there_are_no_gaps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'new.sqlite3'}")

    assert main(["report"]) == 0

    assert "No gaps" in capsys.readouterr().out
