"""Acknowledged questions in the shared database (SQLite and PostgreSQL): an event recorded once, a row changed only by
its owner, the questions of a dead process claimed once each by the survivors, given up safely when a post may have
arrived or their time is over, and forgotten an hour after."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from bot.slack import pending
from bot.slack.pending import Status
from bot.storage import answer_workers, pending_answers
from tests.waiting import eventually

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
STALE = timedelta(seconds=5)
DEAD = timedelta(seconds=10)
LATER = NOW + timedelta(seconds=30)  # past both: the owner's last heartbeat (at NOW) is long over
WINDOW = timedelta(minutes=30)


def record(engine: Engine, owner: str = "A", delivery: str | None = None, work: str = "slash_command") -> int | None:
    return pending.record(engine, work, {"text": "computer vision"}, delivery, owner, NOW, NOW + WINDOW)


def status_of(engine: Engine, answer_id: int) -> tuple[str, str | None, int]:
    with engine.connect() as connection:
        row = connection.execute(select(pending_answers).where(pending_answers.c.id == answer_id)).one()
    return row.status, row.owner, row.attempts


def claim(engine: Engine, worker: str, now: datetime = LATER) -> list[int]:
    return [p.id for p in pending.claim_orphans(engine, worker, now, STALE, DEAD, 100)]


# ---- recording -------------------------------------------------------------------------------------------------


def test_a_delivery_is_recorded_once_and_a_second_delivery_finds_it(engine: Engine) -> None:
    first = record(engine, delivery="Ev1")
    assert first is not None
    assert record(engine, owner="B", delivery="Ev1") is None  # another process, another envelope: the same event
    assert record(engine, delivery="Ev1", work="app_mention") is not None  # another work of the same event


def test_concurrent_records_of_one_delivery_have_exactly_one_winner(engine: Engine) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda n: record(engine, owner=f"P{n}", delivery="EvRACE"), range(16)))
    assert sum(r is not None for r in results) == 1


def test_questions_without_a_delivery_id_are_all_recorded(engine: Engine) -> None:
    ids = [record(engine) for _ in range(3)]
    assert None not in ids and len(set(ids)) == 3


def test_the_stored_body_is_the_payload(engine: Engine) -> None:
    answer_id = record(engine)
    assert answer_id is not None
    [orphan] = pending.claim_orphans(engine, "B", LATER, STALE, DEAD, 10)
    assert (orphan.id, orphan.work, orphan.body) == (answer_id, "slash_command", {"text": "computer vision"})


# ---- a row's owner -----------------------------------------------------------------------------------------------


def test_only_the_owner_marks_a_post_attempt_and_only_from_pending(engine: Engine) -> None:
    answer_id = record(engine)
    assert answer_id is not None
    assert pending.mark_posting(engine, answer_id, "B") is False
    assert pending.mark_posting(engine, answer_id, "A") is True
    assert pending.mark_posting(engine, answer_id, "A") is False  # already attempted
    assert status_of(engine, answer_id) == ("posting", "A", 1)


def test_a_post_known_to_have_failed_makes_the_question_pending_again(engine: Engine) -> None:
    answer_id = record(engine)
    assert answer_id is not None
    pending.mark_posting(engine, answer_id, "A")
    assert pending.mark_post_failed(engine, answer_id, "A") is True
    assert status_of(engine, answer_id) == ("pending", "A", 1)


def test_finishing_is_the_owners_and_happens_once(engine: Engine) -> None:
    answer_id = record(engine)
    assert answer_id is not None
    assert pending.finish(engine, answer_id, "B", Status.DONE, NOW) is False
    assert pending.finish(engine, answer_id, "A", Status.DONE, NOW) is True
    assert pending.finish(engine, answer_id, "A", Status.DONE, NOW) is False
    assert status_of(engine, answer_id)[0] == "done"


# ---- claims ------------------------------------------------------------------------------------------------------


def test_a_dead_owners_question_is_claimed_once_it_went_stale(engine: Engine) -> None:
    pending.heartbeat(engine, "A", NOW)
    answer_id = record(engine)

    assert claim(engine, "B", NOW + timedelta(seconds=3)) == []  # A's heartbeat is fresh
    assert claim(engine, "B", LATER) == [answer_id]
    assert status_of(engine, answer_id)[:2] == ("pending", "B")
    assert claim(engine, "C", LATER) == []  # B holds it now, and B is not known dead: it never heartbeated... yet
    assert claim(engine, "C", LATER + STALE + timedelta(seconds=1)) == [answer_id]  # ...nor since: B died too


def test_a_live_owners_question_is_never_claimed(engine: Engine) -> None:
    answer_id = record(engine)
    assert answer_id is not None
    pending.heartbeat(engine, "A", LATER - timedelta(seconds=1))
    assert claim(engine, "B", LATER) == []


def test_a_released_question_is_claimed_at_once(engine: Engine) -> None:
    pending.heartbeat(engine, "A", NOW)
    answer_id = record(engine)

    assert pending.retire(engine, "A") == 1

    assert claim(engine, "B", NOW) == [answer_id]
    with engine.connect() as connection:
        assert connection.execute(select(answer_workers.c.worker_id)).scalars().all() == []


def test_many_survivors_claiming_at_once_take_each_question_exactly_once(engine: Engine) -> None:
    ids = {record(engine) for _ in range(60)}
    with ThreadPoolExecutor(max_workers=6) as pool:
        claimed = list(pool.map(lambda n: _claim_all(engine, f"S{n}"), range(6)))
    everything = [answer_id for taken in claimed for answer_id in taken]
    assert sorted(everything) == sorted(ids)


def _claim_all(engine: Engine, worker: str) -> list[int]:
    taken: list[int] = []
    while batch := [p.id for p in pending.claim_orphans(engine, worker, LATER, STALE, DEAD, 5)]:
        taken += batch
    return taken


# ---- giving up safely --------------------------------------------------------------------------------------------


def test_a_dead_owners_attempted_post_is_settled_unknown_and_not_claimed(engine: Engine) -> None:
    answer_id = record(engine)
    assert answer_id is not None
    pending.mark_posting(engine, answer_id, "A")

    assert claim(engine, "B") == []
    [settled] = pending.settle_orphans(engine, LATER, DEAD)

    assert (settled.id, settled.status) == (answer_id, Status.UNKNOWN)
    assert status_of(engine, answer_id)[0] == "unknown"


def test_a_dead_owners_attempted_post_is_claimed_as_attempted_where_its_work_can_look_for_its_answer(
    engine: Engine,
) -> None:
    looked_for = record(engine, work="app_mention")
    unreadable = record(engine, work="slash_command")
    assert looked_for is not None and unreadable is not None
    for answer_id in (looked_for, unreadable):
        pending.mark_posting(engine, answer_id, "A")

    settled = pending.settle_orphans(engine, LATER, DEAD, ["app_mention"])
    [orphan] = pending.claim_orphans(engine, "B", LATER, STALE, DEAD, 10, ["app_mention"])

    assert [(s.id, s.status) for s in settled] == [(unreadable, Status.UNKNOWN)]
    assert (orphan.id, orphan.attempted) == (looked_for, True)
    assert status_of(engine, looked_for) == ("posting", "B", 1)  # the claimer's now, the attempt still noted
    assert pending.claim_orphans(engine, "C", LATER, STALE, DEAD, 10, ["app_mention"]) == []  # claimed once


def test_a_live_owners_attempted_post_is_not_claimed_even_where_its_answer_can_be_looked_for(engine: Engine) -> None:
    answer_id = record(engine, work="app_mention")
    assert answer_id is not None
    pending.mark_posting(engine, answer_id, "A")
    pending.heartbeat(engine, "A", LATER)
    assert pending.claim_orphans(engine, "B", LATER, STALE, DEAD, 10, ["app_mention"]) == []


def test_a_live_owners_attempted_post_is_left_alone(engine: Engine) -> None:
    answer_id = record(engine)
    assert answer_id is not None
    pending.mark_posting(engine, answer_id, "A")
    pending.heartbeat(engine, "A", LATER)
    assert pending.settle_orphans(engine, LATER, DEAD) == []


def test_a_question_past_its_time_is_settled_expired_and_not_claimed(engine: Engine) -> None:
    answer_id = record(engine)
    too_late = NOW + WINDOW + timedelta(seconds=1)

    assert claim(engine, "B", too_late) == []
    assert [(s.id, s.status) for s in pending.settle_orphans(engine, too_late, DEAD)] == [(answer_id, Status.EXPIRED)]


def test_finished_questions_and_silent_workers_are_forgotten_after_the_memory(engine: Engine) -> None:
    pending.heartbeat(engine, "A", NOW)
    done, waiting = record(engine, delivery="EvDONE"), record(engine)
    assert done is not None and waiting is not None
    pending.finish(engine, done, "A", Status.DONE, NOW)

    pending.forget(engine, NOW + timedelta(seconds=1))

    with engine.connect() as connection:
        assert connection.execute(select(pending_answers.c.id)).scalars().all() == [waiting]
        assert connection.execute(select(answer_workers)).all() == []
    assert record(engine, delivery="EvDONE") is not None  # forgotten: Slack stopped retrying long before


# ---- SQLite's one writer -----------------------------------------------------------------------------------------


def test_on_sqlite_a_record_waiting_writes_before_a_mark_that_waited_longer() -> None:
    turns = pending._Turns()
    order: list[str] = []

    def write(name: str, urgent: bool) -> None:
        with turns.turn(urgent):
            order.append(name)

    mark = threading.Thread(target=write, args=("mark", False))
    record = threading.Thread(target=write, args=("record", True))
    with turns.turn(urgent=False):  # another mark is being written
        mark.start()
        record.start()
        assert eventually(lambda: turns._urgent_waiting == 1)  # the record waits too (the mark waits or will)
    for thread in (mark, record):
        thread.join(5)

    assert order == ["record", "mark"]
