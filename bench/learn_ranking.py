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
import itertools
import json
import math
import random
import re
import sys
import zlib
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.spelling import slip  # noqa: E402  (the repo root is on the path only now)
from bot.engine.analysis import STOPWORDS, stem, words  # noqa: E402
from bot.engine.index_cache import load_vault  # noqa: E402
from bot.engine.scoring import CANDIDATES, FEATURES, WEIGHTS_FILE, load_weights  # noqa: E402
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
# How often a query names the note's guest or topic, repeats a word of its title, or uses a word of the
# asker's own that the note does not: set so that the share of query words found in the labelled note's
# title, its section and nowhere in the note come out near those of the dev queries (about a fifth, three
# fifths and a tenth of a keyword query's words).
NAME_SHARE = 0.5
TITLE_WORD_SHARE = 0.6
STRAY_SHARE = 0.2
PAIR_SHARE = 0.5  # keyword queries that keep two words as the text has them side by side
NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b([A-Z][a-z]{2,})\b")  # capitalised, not first in its sentence
VALIDATION_SHARE = 0.2
MOMENT_WINDOW_S = 60  # as bench/engine.py's moment@1
MOMENT_LOSS = True
PULLS = (1.0, 10.0, 100.0)  # L2 strengths tried, per query, towards the weights of before
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

    def pair(self, text: str) -> list[str]:
        """Two words standing side by side in a text (a term such as "causal invariance"), one of them telling."""
        found = words(text)
        pairs = [(a, b) for a, b in itertools.pairwise(found) if a != b and min(self.df(a), self.df(b)) < self.rare_df]
        return list(self.rng.choice(pairs)) if pairs else []

    def telling(self, text: str, count: int) -> list[str]:
        """`count` words of a text, drawn with odds growing with their idf: a person picks words that say
        what the text is about, though not only its rarest."""
        found = [w for w in dict.fromkeys(words(text)) if w.isalpha() and len(w) >= 3 and self.df(w) > 0]
        odds = [math.log(self.index.section_count / self.df(w)) ** 2 for w in found]
        chosen: list[str] = []
        while found and len(chosen) < count:
            at = self.rng.choices(range(len(found)), weights=odds)[0]
            chosen.append(found.pop(at))
            odds.pop(at)
        return chosen

    def name(self, section: int) -> str | None:
        """A rare name of the note's title or introduction (a capitalised word inside a sentence): the guest
        or topic a person names."""
        note = int(self.index.section_note[section])
        intro = int(self.intro_of_note[note])
        text = self.index.note_titles[note] + ". " + (self.index.section_texts[intro] if intro >= 0 else "")
        names = [w.lower() for w in NAME.findall(text)]
        found = [w for w in dict.fromkeys(names) if 0 < self.df(w) < self.rare_df and w not in STOPWORDS]
        return self.rng.choice(found[:4]) if found else None

    def title_word(self, section: int) -> str | None:
        """A word of the note's title: what sets a note apart from its twins, and what people repeat."""
        found = [w for w in words(self.index.note_titles[int(self.index.section_note[section])]) if w.isalpha()]
        return self.rng.choice(found) if found else None

    def stray_word(self) -> str | None:
        """A word of some other section: a word of the asker's own that the note does not use."""
        found = [
            w for w in words(self.index.section_texts[self.rng.randrange(self.index.section_count)]) if w.isalpha()
        ]
        return self.rng.choice(found) if found else None

    def keyword(self, section: int) -> str | None:
        heading = " ".join((*self.index.section_paths[section], self.index.section_headings[section]))
        extra = [
            self.name(section) if self.rng.random() < NAME_SHARE else None,
            self.title_word(section) if self.rng.random() < TITLE_WORD_SHARE else None,
            self.stray_word() if self.rng.random() < STRAY_SHARE else None,
        ]
        extra = [w for w in dict.fromkeys(extra) if w]
        text, count = heading + " " + self.index.section_texts[section], max(2, self.rng.randint(4, 5) - len(extra))
        chosen = self.pair(text) if self.rng.random() < PAIR_SHARE else []
        chosen = [*chosen, *(w for w in self.telling(text, count) if w not in chosen)][:count]
        if len(chosen) < 2:
            return None
        return " ".join(dict.fromkeys([*extra[:2], *chosen, *extra[2:]]))

    def question(self, section: int) -> str | None:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+|\n+", self.index.section_texts[section]) if len(s) > 60]
        if not sentences:
            return None
        plain = re.sub(r"\[[\d:]+\]|\*\*|•", " ", self.rng.choice(sentences))
        tokens = plain.split()
        start = self.rng.randrange(max(1, len(tokens) - 16))
        stretch = [t.strip(",;:()\"'").lower() for t in tokens[start : start + self.rng.randint(12, 20)]]
        kept = [t for t in stretch if t and self.rng.random() < 0.75]
        for _ in range(self.rng.randint(1, 3)):  # the asker's own words
            if (stray := self.stray_word()) is not None:
                kept.insert(self.rng.randrange(len(kept) + 1), stray)
        if self.rng.random() < TITLE_WORD_SHARE / 2 and (title := self.title_word(section)) is not None:
            kept.insert(self.rng.randrange(len(kept) + 1), title)
        name = self.name(section) if self.rng.random() < NAME_SHARE else None
        openers = [o for o in OPENERS if name or "{name}" not in o]
        opener = self.rng.choice(openers).format(name=name)
        return f"{opener} {' '.join(kept).rstrip('.!?')}?" if len(kept) >= 6 else None

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
            if (
                self.index.section_levels[section] == 0
                or self.index.section_first_ts[section] < 0  # the eval asks for moments: its sections have one
                or len(words(self.index.section_texts[section])) < MIN_SECTION_WORDS
            ):
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
    """Every kept query's candidates, padded to CANDIDATES rows: their features, which are real, and where
    the labelled one is."""

    features: np.ndarray  # (queries, CANDIDATES, FEATURES)
    real: np.ndarray  # (queries, CANDIDATES) bool: a candidate, not padding
    labelled: np.ndarray  # (queries,) the labelled candidate's row
    moment: np.ndarray  # (queries, CANDIDATES) bool: the labelled section, or a twin's at its moment
    kinds: np.ndarray  # (queries,) str
    validation: np.ndarray  # (queries,) bool: held apart
    weight: np.ndarray  # (queries,) how much each query counts in the loss

    def part(self, queries: np.ndarray) -> Table:
        return Table(*(getattr(self, column.name)[queries] for column in fields(self)))


def table(searcher: Searcher, queries: list[TrainingQuery]) -> Table:
    """The candidates of every query whose labelled section is among them."""
    kept = []
    for query in queries:
        ranked = searcher.rank(searcher.read_query(query.query), phrase_candidates=CANDIDATES)
        if ranked is not None and query.section in ranked.sections:
            kept.append((query, ranked))
    features = np.zeros((len(kept), CANDIDATES, len(FEATURES)), dtype=np.float64)
    real = np.zeros((len(kept), CANDIDATES), dtype=bool)
    moment = np.zeros((len(kept), CANDIDATES), dtype=bool)
    index = searcher.index
    for row, (query, ranked) in enumerate(kept):
        features[row, : len(ranked.sections)] = ranked.features
        real[row, : len(ranked.sections)] = True
        videos = np.array([index.note_videos[n] or index.note_paths[n] for n in index.section_note[ranked.sections]])
        moments = index.section_first_ts[ranked.sections]
        label_moment = index.section_first_ts[query.section]
        moment[row, : len(ranked.sections)] = (ranked.sections == query.section) | (
            (videos == query.video) & (moments >= 0) & (np.abs(moments - label_moment) <= MOMENT_WINDOW_S)
        )
    return Table(
        features,
        real,
        np.array([int(np.flatnonzero(ranked.sections == query.section)[0]) for query, ranked in kept]),
        moment,
        np.array([query.kind for query, _ in kept]),
        np.array([zlib.crc32(query.video.encode()) % 100 < VALIDATION_SHARE * 100 for query, _ in kept]),
        np.ones(len(kept)),
    )


def scores(data: Table, weights: np.ndarray) -> np.ndarray:
    return np.where(data.real, data.features @ weights, -np.inf)


def hit_at_1(data: Table, weights: np.ndarray) -> float:
    """The share of queries whose labelled candidate scores highest (a tie counts against it)."""
    table_scores = scores(data, weights)
    labelled = table_scores[np.arange(len(data.labelled)), data.labelled]
    beaten = (table_scores >= labelled[:, None]).sum(axis=1) > 1
    return float((~beaten).mean()) if len(beaten) else 0.0


def moment_at_1(data: Table, weights: np.ndarray) -> float:
    """The share of queries whose best candidate plays the labelled moment (a tie counts against it)."""
    table_scores = scores(data, weights)
    best = table_scores.argmax(axis=1)
    unique = (table_scores >= table_scores.max(axis=1, keepdims=True)).sum(axis=1) == 1
    return float((data.moment[np.arange(len(best)), best] & unique).mean()) if len(best) else 0.0


def fit(data: Table, start: np.ndarray, pull: float) -> np.ndarray:
    """Weights minimising the listwise softmax cross-entropy over the queries (the labelled candidate should
    take all of the softmax), plus `pull` times the squared distance from `start` per query, by Adam from
    `start`."""
    count = float(data.weight.sum())
    rows = np.arange(len(data.labelled))
    weights, m, v = start.astype(np.float64).copy(), np.zeros(len(start)), np.zeros(len(start))
    for step in range(1, STEPS + 1):
        table_scores = scores(data, weights)
        e = np.exp(table_scores - table_scores.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        if MOMENT_LOSS:  # the softmax should go to the labelled moment, whichever twin plays it
            on_moment = np.where(data.moment, e, 0)
            p -= on_moment / on_moment.sum(axis=1, keepdims=True)
        else:
            p[rows, data.labelled] -= 1
        gradient = (
            np.einsum("q,qc,qcf->f", data.weight, p, data.features) / count + 2 * pull * (weights - start) / count
        )
        m = 0.9 * m + 0.1 * gradient
        v = 0.999 * v + 0.001 * gradient**2
        weights -= LEARNING_RATE * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return weights


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "tubegraph")
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / "out" / "cache")
    parser.add_argument("--queries", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--write", action="store_true", help="write the learned weights to --weights")
    parser.add_argument("--weights", type=Path, default=WEIGHTS_FILE, help="where --write writes (default: shipped)")
    args = parser.parse_args(argv)
    before = load_weights()
    searcher = Searcher(load_vault(args.corpus, args.cache).index, before)
    queries = QueryMaker(searcher, random.Random(args.seed)).make(args.queries)
    data = table(searcher, queries)
    train, validation = data.part(~data.validation), data.part(data.validation)
    print(f"{len(queries)} queries made, {len(data.kinds)} with the labelled section among the candidates")
    if not len(validation.labelled) or not len(train.labelled):
        sys.exit("learn_ranking: too few queries to hold a fifth apart; make more (--queries)")
    print(f"before: train {hit_at_1(train, before.values):.3f}, validation {hit_at_1(validation, before.values):.3f}")
    best = None
    for pull in PULLS:
        weights = fit(train, before.values, pull)
        score = hit_at_1(validation, weights)
        print(f"pull {pull}: train {hit_at_1(train, weights):.3f}, validation {score:.3f}")
        if best is None or score > best[0]:
            best = (score, pull, weights)
    score, pull, _ = best
    weights = fit(data, before.values, pull)  # the chosen strength, on every query
    named = dict(zip(FEATURES, (round(float(w), 4) for w in weights), strict=True))
    print(json.dumps(named, indent=2))
    if args.write:
        source = (
            f"bench/learn_ranking.py --queries {args.queries} --seed {args.seed}: {len(data.kinds)} queries made "
            f"from the vault, pull {pull} chosen on the held-apart fifth (Hit@1 {score:.3f})"
        )
        shipped = {"source": source, "weights": named, "benchmark": None}  # until bench/engine.py measures them
        args.weights.write_text(json.dumps(shipped, indent=2) + "\n", encoding="utf-8")
        load_weights(args.weights)  # what the engine will load must load


if __name__ == "__main__":
    main()
