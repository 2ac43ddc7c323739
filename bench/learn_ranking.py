"""Learn the ranking's weights (bot/engine/ranking_weights.json) from queries made from the vault itself.

    .venv/bin/python bench/learn_ranking.py --corpus ../shared/corpus/tubegraph --cache bench/out/cache \
        [--queries 6000] [--seed 14] [--write]

Training queries are made from random sections of the vault (never from the labelled eval queries), each
labelled with the section it was made from, in the three kinds the eval has:

- **keyword**: a few of the section's rarer words (heading and text), often with a rare word of its note's
  title or introduction (the guest or topic a person names);
- **question**: a question opener and most of the words of a stretch of one of the section's sentences, in
  order, often naming the note's guest or topic too;
- **typo**: a keyword query with a typing slip in one or two words, made as `bench/spelling.py` makes them.

Each query is ranked by the engine (`Searcher.rank`, every candidate checked for the query's word pairs),
and the features of its candidates kept where the labelled section is among them. The model is linear in
the features (the log of a product of factors, `bot/engine/scoring.py`) and learned listwise: the softmax
of the candidates' scores should put the labelled section first (cross-entropy, with an L2 pull towards the
hand-set weights of before, so a feature the data says little about keeps its old weight). Queries are split
by video, so the twin notes of one video never sit on both sides: four fifths train, one fifth is the
held-apart validation that chooses the pull's strength. Prints Hit@1 of the candidates' order (before
de-duplication) on both halves for the weights of before and the learned ones; --write ships the learned
weights.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.spelling import slip  # noqa: E402  (the repo root is on the path only now)
from bot.engine.analysis import stem, words  # noqa: E402
from bot.engine.index_cache import load_vault  # noqa: E402
from bot.engine.scoring import CANDIDATES, FEATURES, WEIGHTS_FILE, Weights, load_weights  # noqa: E402
from bot.engine.search import Searcher  # noqa: E402

KINDS = (("keyword", 0.4), ("question", 0.4), ("typo", 0.2))  # as the eval's sets mix them
MIN_SECTION_WORDS = 25  # a section shorter than this is rarely what a question is written about
RARE_SHARE = 0.02  # a "rare" word: in fewer than this share of the vault's sections
OPENERS = (
    "what does {name} say about",
    "why does {name} think",
    "how does {name} explain",
    "what is",
    "how do",
    "why is",
    "does {name} believe",
    "what did {name} learn about",
)
VALIDATION_SHARE = 0.2
PULLS = (0.3, 1.0, 3.0, 10.0, 30.0)  # L2 strengths tried, per query, towards the weights of before
STEPS, LEARNING_RATE = 1500, 0.05


@dataclass(frozen=True, slots=True)
class TrainingQuery:
    query: str
    kind: str
    section: int
    video: str


# --- training queries, made from the vault ---------------------------------------------------------


class QueryMaker:
    def __init__(self, searcher: Searcher, rng: random.Random) -> None:
        self.searcher, self.index, self.rng = searcher, searcher.index, rng
        self.rare_df = max(2, int(RARE_SHARE * self.index.section_count))
        intros = searcher._intro_of_note  # the section before each note's first heading, or -1
        self.intro_of_note = intros

    def df(self, word: str) -> int:
        term = self.index.vocabulary.get(stem(word))
        return int(self.searcher.reader.section_df[term]) if term is not None else 0

    def rare(self, text: str) -> list[str]:
        return [w for w in dict.fromkeys(words(text)) if w.isalpha() and len(w) >= 3 and 0 < self.df(w) < self.rare_df]

    def name(self, section: int) -> str | None:
        """A rare word of the note's title or introduction: the guest or topic a person would name."""
        note = int(self.index.section_note[section])
        intro = int(self.intro_of_note[note])
        found = self.rare(self.index.note_titles[note] + " " + (self.index.section_texts[intro] if intro >= 0 else ""))
        return self.rng.choice(found[:6]) if found else None

    def keyword(self, section: int) -> str | None:
        heading = " ".join((*self.index.section_paths[section], self.index.section_headings[section]))
        own = self.rare(heading + " " + self.index.section_texts[section])
        if len(own) < 2:
            return None
        chosen = self.rng.sample(own[:15], k=min(len(own[:15]), self.rng.randint(2, 4)))
        name = self.name(section) if self.rng.random() < 0.6 else None
        return " ".join(([name] if name and name not in chosen else []) + chosen)

    def question(self, section: int) -> str | None:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+|\n+", self.index.section_texts[section]) if len(s) > 40]
        if not sentences:
            return None
        plain = re.sub(r"\[[\d:]+\]|\*\*|•", " ", self.rng.choice(sentences))
        tokens = plain.split()
        start = self.rng.randrange(max(1, len(tokens) - 12))
        stretch = [t.strip(",;:()\"'").lower() for t in tokens[start : start + self.rng.randint(8, 14)]]
        kept = [t for t in stretch if t and self.rng.random() < 0.8]
        name = self.name(section)
        openers = [o for o in OPENERS if name or "{name}" not in o]
        opener = self.rng.choice(openers).format(name=name)
        return f"{opener} {' '.join(kept).rstrip('.!?')}?" if len(kept) >= 4 else None

    def typo(self, section: int) -> str | None:
        query = self.keyword(section)
        if query is None:
            return None
        parts = query.split()
        targets = [i for i, w in enumerate(parts) if len(w) >= 4]
        if not targets:
            return None
        for i in self.rng.sample(targets, k=min(len(targets), self.rng.randint(1, 2))):
            parts[i] = slip(parts[i], self.rng)
        return " ".join(parts)

    def make(self, count: int) -> list[TrainingQuery]:
        made: list[TrainingQuery] = []
        kinds, shares = zip(*KINDS, strict=True)
        for _ in range(count * 20):
            if len(made) == count:
                break
            section = self.rng.randrange(self.index.section_count)
            note = int(self.index.section_note[section])
            if self.index.section_levels[section] == 0 or len(words(self.index.section_texts[section])) < MIN_SECTION_WORDS:
                continue
            kind = self.rng.choices(kinds, weights=shares)[0]
            query = getattr(self, kind)(section)
            if query:
                video = self.index.note_videos[note] or self.index.note_paths[note]
                made.append(TrainingQuery(query, kind, section, video))
        return made


# --- features of the candidates, and the model -----------------------------------------------------


@dataclass(slots=True)
class Table:
    """Every kept query's candidates: their features, which one is labelled, and to which query each row
    belongs."""

    features: np.ndarray  # (rows, FEATURES)
    query_of: np.ndarray  # (rows,) query number
    positive: np.ndarray  # (rows,) bool: the labelled section
    kinds: list[str]
    validation: np.ndarray  # (queries,) bool


def table(searcher: Searcher, queries: list[TrainingQuery]) -> Table:
    rows, query_of, positive, kinds, validation = [], [], [], [], []
    for query in queries:
        ranked = searcher.rank(searcher.read_query(query.query), phrase_candidates=CANDIDATES)
        if ranked is None or query.section not in ranked.sections:
            continue
        number = len(kinds)
        rows.append(ranked.features)
        query_of.append(np.full(len(ranked.sections), number))
        positive.append(ranked.sections == query.section)
        kinds.append(query.kind)
        validation.append(zlib.crc32(query.video.encode()) % 100 < VALIDATION_SHARE * 100)
    return Table(
        np.concatenate(rows), np.concatenate(query_of), np.concatenate(positive), kinds, np.array(validation)
    )


def hit_at_1(data: Table, weights: np.ndarray, queries: np.ndarray) -> float:
    """The share of `queries` (a boolean mask) whose labelled candidate scores highest."""
    scores = data.features @ weights
    best = np.full(len(data.kinds), -np.inf)
    np.maximum.at(best, data.query_of, scores)
    won = np.zeros(len(data.kinds), dtype=bool)
    won[data.query_of[data.positive]] = scores[data.positive] >= best[data.query_of[data.positive]]
    return float(won[queries].mean())


def fit(data: Table, train: np.ndarray, start: np.ndarray, pull: float) -> np.ndarray:
    """Weights minimising the listwise softmax cross-entropy over the `train` queries, plus `pull` times the
    squared distance from `start` (per query), by Adam from `start`."""
    rows = train[data.query_of]
    x, query_of, positive = data.features[rows], data.query_of[rows], data.positive[rows]
    count = int(train.sum())
    weights, m, v = start.astype(np.float64).copy(), np.zeros(len(start)), np.zeros(len(start))
    for step in range(1, STEPS + 1):
        scores = x @ weights
        top = np.full(len(data.kinds), -np.inf)
        np.maximum.at(top, query_of, scores)
        e = np.exp(scores - top[query_of])
        total = np.bincount(query_of, weights=e, minlength=len(data.kinds))
        p = e / total[query_of]
        gradient = (x * (p - positive)[:, None]).sum(axis=0) / count + 2 * pull * (weights - start) / count
        m = 0.9 * m + 0.1 * gradient
        v = 0.999 * v + 0.001 * gradient**2
        weights -= LEARNING_RATE * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "tubegraph")
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / "out" / "cache")
    parser.add_argument("--queries", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--write", action="store_true", help=f"write the learned weights to {WEIGHTS_FILE}")
    args = parser.parse_args()
    before = load_weights()
    searcher = Searcher(load_vault(args.corpus, args.cache).index, before)
    queries = QueryMaker(searcher, random.Random(args.seed)).make(args.queries)
    data = table(searcher, queries)
    validation = data.validation
    train = ~validation
    print(f"{len(queries)} queries made, {len(data.kinds)} with the labelled section among the candidates")
    print(f"before: train {hit_at_1(data, before.values, train):.3f}, validation {hit_at_1(data, before.values, validation):.3f}")
    best = None
    for pull in PULLS:
        weights = fit(data, train, before.values, pull)
        score = hit_at_1(data, weights, validation)
        print(f"pull {pull}: train {hit_at_1(data, weights, train):.3f}, validation {score:.3f}")
        if best is None or score > best[0]:
            best = (score, pull, weights)
    score, pull, _ = best
    weights = fit(data, np.ones_like(train), before.values, pull)  # the chosen strength, on every query
    named = dict(zip(FEATURES, (round(float(w), 4) for w in weights), strict=True))
    print(json.dumps(named, indent=2))
    if args.write:
        source = (
            f"bench/learn_ranking.py --queries {args.queries} --seed {args.seed}: {len(data.kinds)} queries made "
            f"from the vault, pull {pull} chosen on the held-apart fifth (Hit@1 {score:.3f})"
        )
        WEIGHTS_FILE.write_text(json.dumps({"source": source, "weights": named}, indent=2) + "\n", encoding="utf-8")
        Weights.of(named)  # what the engine will load must load


if __name__ == "__main__":
    main()
