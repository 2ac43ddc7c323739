"""`notesbot report`: the gaps in the vault, from what people asked.

A gap is a question that found nothing, one whose best answer scored weakly, or an answer someone
marked 👎. Gaps are grouped by topic: each question goes to its stemmed word (bot.engine.analysis.terms)
that the most gap questions share, so "robot grasping", "walking robots" and "robotic arms" land together.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, or_, select

from bot import storage
from bot.config import Settings
from bot.engine.analysis import stem, terms, words
from bot.migrate import create_schema

NOTHING = "nothing found"
WEAK = "weak answer"
UNHELPFUL = "unhelpful"
# A top score under this is a weak answer. Scores are BM25 sums, so the scale depends on the vault: on the
# 21k-note corpus right answers score 12 and up, and off-topic questions land near 3 to 6.
DEFAULT_WEAK_BELOW = 8.0
NO_TOPIC = "(no searchable words)"


@dataclass(frozen=True, slots=True)
class Gap:
    kind: str
    query: str
    asked_at: datetime
    note: str | None = None
    heading: str | None = None
    score: float | None = None


@dataclass(frozen=True, slots=True)
class Topic:
    label: str  # the most used word of the topic's stem
    related: tuple[str, ...]  # other words its questions share, most shared first
    gaps: tuple[Gap, ...]


def collect_gaps(engine: Engine, since: datetime, weak_below: float) -> list[Gap]:
    """Questions since `since` that found nothing or scored under `weak_below`, and 👎 answers."""
    q, f = storage.queries.c, storage.feedback.c
    with engine.connect() as connection:
        asked = connection.execute(
            select(q.query, q.asked_at, q.hits, q.top_score, q.top_note, q.top_heading)
            .where(q.asked_at >= since, or_(q.hits == 0, q.top_score < weak_below))
            .order_by(q.asked_at)
        ).all()
        unhelpful = connection.execute(
            select(f.query, f.given_at, f.note_path, f.heading)
            .where(f.given_at >= since, f.helpful == 0)
            .order_by(f.given_at)
        ).all()
    gaps = [
        Gap(NOTHING, r.query, r.asked_at)
        if r.hits == 0
        else Gap(WEAK, r.query, r.asked_at, r.top_note, r.top_heading, r.top_score)
        for r in asked
    ]
    return gaps + [Gap(UNHELPFUL, r.query, r.given_at, r.note_path, r.heading) for r in unhelpful]


def group_by_topic(gaps: Sequence[Gap]) -> list[Topic]:
    """Gaps grouped under the stem most gap questions share; biggest topics first."""
    stems_of = [sorted(set(terms(gap.query))) for gap in gaps]
    shared = Counter(s for stems in stems_of for s in stems)
    groups: dict[str, list[int]] = {}
    for i, stems in enumerate(stems_of):
        topic = max(stems, key=lambda s: (shared[s], len(s), s)) if stems else NO_TOPIC
        groups.setdefault(topic, []).append(i)
    surface = _surface_words(gap.query for gap in gaps)
    topics = []
    for topic, members in groups.items():
        together = Counter(s for i in members for s in stems_of[i] if s != topic)
        related = tuple(surface.get(s, s) for s, n in together.most_common(3) if n > 1)
        topics.append(Topic(surface.get(topic, topic), related, tuple(gaps[i] for i in members)))
    return sorted(topics, key=lambda t: (-len(t.gaps), t.label))


def _surface_words(texts: Iterable[str]) -> dict[str, str]:
    """For each stem, the word people used most for it (the shortest on a tie: "robots", "robot" -> "robot")."""
    used: dict[str, Counter[str]] = {}
    for text in texts:
        for word in words(text):
            used.setdefault(stem(word), Counter())[word] += 1
    return {s: max(counts, key=lambda w: (counts[w], -len(w), w)) for s, counts in used.items()}


def render(topics: Sequence[Topic], since: datetime) -> str:
    kinds = Counter(gap.kind for topic in topics for gap in topic.gaps)
    lines = [
        f"Gaps in the vault since {since:%Y-%m-%d %H:%M} UTC: {kinds[NOTHING]} questions found nothing, "
        f"{kinds[WEAK]} got a weak answer, {kinds[UNHELPFUL]} answers were marked unhelpful."
    ]
    if not topics:
        lines.append("No gaps: every question found a good answer.")
    for topic in topics:
        related = f"  (with: {', '.join(topic.related)})" if topic.related else ""
        lines.append(f"\n{topic.label} — {len(topic.gaps)}{related}")
        lines += [_gap_line(gap, count) for gap, count in _distinct(topic.gaps)]
    return "\n".join(lines)


def _distinct(gaps: Iterable[Gap]) -> list[tuple[Gap, int]]:
    """Identical questions of the same kind shown once, with how often they came."""
    counts: Counter[tuple[str, str]] = Counter()
    first: dict[tuple[str, str], Gap] = {}
    for gap in gaps:
        key = (gap.kind, " ".join(gap.query.casefold().split()))
        counts[key] += 1
        first.setdefault(key, gap)
    return [(first[key], n) for key, n in counts.most_common()]


def _gap_line(gap: Gap, count: int) -> str:
    times = f" ×{count}" if count > 1 else ""
    where = " › ".join(part for part in (gap.note, gap.heading) if part)
    answer = f"  → {where}" if where else ""
    score = f" (score {gap.score:.1f})" if gap.score is not None else ""
    return f"  {gap.kind + times:<17} {gap.query!r}{answer}{score}"


def add_report_command(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report", help="questions that found nothing or a weak answer, and 👎 answers, grouped by topic"
    )
    report.add_argument("--days", type=float, default=30, help="how far back to look (default 30 days)")
    report.add_argument(
        "--weak-below", type=float, default=DEFAULT_WEAK_BELOW, help="a top score under this is a weak answer"
    )
    report.add_argument("--json", action="store_true", help="print the topics as JSON")
    report.set_defaults(run=_run_report)


def _run_report(args: argparse.Namespace, settings: Settings) -> int:
    since = datetime.now(UTC) - timedelta(days=args.days)
    engine = storage.make_engine(settings.database_url)
    try:
        create_schema(engine)
        topics = group_by_topic(collect_gaps(engine, since, args.weak_below))
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps([asdict(topic) for topic in topics], default=str, ensure_ascii=False, indent=2))
    else:
        print(render(topics, since))
    return 0
