"""Benchmark of typo correction on queries made from the vault itself, not from the labelled queries.

    .venv/bin/python bench/spelling.py --corpus ../shared/corpus/tubegraph --cache bench/out/cache

A query is the words of a random section's heading and its note's title (as a user would type keywords
about it). Two sets, each drawn with a fixed seed:

- **slips**: one common word of the query (used at least COMMON_USES times in the vault) gets one typing
  slip away from its first letter: a letter dropped, doubled, swapped with its neighbour, or replaced by one
  next to it on the keyboard. A success is the query reading the slip as the word meant;
- **rare words**: one word of the section's own text that few sections use (a name, a term of art) joins
  the query as typed. A success is the query leaving it alone.

Prints both success rates, with the rest of the query as context and with the word alone.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.engine.analysis import stem, words  # noqa: E402
from bot.engine.index_cache import load_vault  # noqa: E402
from bot.engine.search import Searcher  # noqa: E402
from bot.engine.spelling import RARE_DF  # noqa: E402

COMMON_USES = 20
QUERY_WORDS = 5
TRIES_PER_CASE = 50  # a small vault may hold few words fit for a case: give up drawing after this
# the letter rows of a keyboard, and how far each is shifted right, in keys
KEYBOARD = (("qwertyuiop", 0.0), ("asdfghjkl", 0.25), ("zxcvbnm", 0.75))
KEYS = {key: (row, shift + at) for row, (keys, shift) in enumerate(KEYBOARD) for at, key in enumerate(keys)}


def neighbours(letter: str) -> str:
    """The keys touching `letter`'s: beside it on its row, or overlapping it on the rows above and below."""
    if letter not in KEYS:
        return ""
    row, x = KEYS[letter]
    return "".join(
        key
        for key, (other_row, other_x) in KEYS.items()
        if (other_row == row and abs(other_x - x) == 1) or (abs(other_row - row) == 1 and abs(other_x - x) < 1)
    )


def slip(word: str, rng: random.Random) -> str:
    at = rng.randrange(1, len(word))
    kind = rng.choice(("drop", "double", "swap", "near"))
    if kind == "drop":
        return word[:at] + word[at + 1 :]
    if kind == "double":
        return word[:at] + word[at] + word[at:]
    if kind == "swap" and at < len(word) - 1:
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    near = neighbours(word[at])
    return word[:at] + rng.choice(near) + word[at + 1 :] if near else word


def query_words(searcher: Searcher, section: int) -> list[str]:
    index = searcher.index
    found = words(index.section_headings[section]) + words(index.note_titles[index.section_note[section]])
    return list(dict.fromkeys(found))[:QUERY_WORDS]


def section_df(searcher: Searcher, word: str) -> int:
    term_id = searcher.index.vocabulary.get(stem(word))
    return int(searcher.reader.section_df[term_id]) if term_id is not None else 0


def slip_cases(searcher: Searcher, count: int, rng: random.Random) -> list[tuple[list[str], str, str]]:
    cases: list[tuple[list[str], str, str]] = []
    uses = searcher.index.surface_words
    for _ in range(count * TRIES_PER_CASE):
        if len(cases) == count:
            break
        query = query_words(searcher, rng.randrange(searcher.index.section_count))
        targets = [w for w in query if w.isalpha() and len(w) >= 4 and uses.get(w, 0) >= COMMON_USES]
        if len(query) < 2 or not targets:
            continue
        meant = rng.choice(targets)
        typed = slip(meant, rng)
        if typed != meant and section_df(searcher, typed) < RARE_DF:
            cases.append(([typed if w == meant else w for w in query], typed, meant))
    return cases


def rare_cases(searcher: Searcher, count: int, rng: random.Random) -> list[tuple[list[str], str]]:
    cases: list[tuple[list[str], str]] = []
    for _ in range(count * TRIES_PER_CASE):
        if len(cases) == count:
            break
        section = rng.randrange(searcher.index.section_count)
        query = query_words(searcher, section)
        rare = [
            w
            for w in dict.fromkeys(words(searcher.index.section_texts[section]))
            if w.isalpha() and len(w) >= 4 and 1 <= section_df(searcher, w) < RARE_DF and w not in query
        ]
        if len(query) >= 2 and rare:
            word = rng.choice(rare)
            cases.append(([*query[:-1], word], word))
    return cases


def read_as(searcher: Searcher, query: list[str], typed: str) -> str:
    return searcher.read_query(" ".join(query)).corrections.get(typed, typed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "tubegraph")
    parser.add_argument("--cache", type=Path, default=REPO / "bench" / "out" / "cache")
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    searcher = Searcher(load_vault(args.corpus, args.cache).index)
    rng = random.Random(args.seed)
    slips, rares = slip_cases(searcher, args.cases, rng), rare_cases(searcher, args.cases, rng)
    if not slips or not rares:
        sys.exit(f"spelling: {args.corpus} holds too few words to make cases from")
    print(f"{len(slips)} slips, {len(rares)} rare words, seed {args.seed}")
    for label, alone in (("with the rest of the query", False), ("the word alone", True)):
        fixed = sum(
            stem(read_as(searcher, [typed] if alone else query, typed)) == stem(meant) for query, typed, meant in slips
        )
        kept = sum(read_as(searcher, [word] if alone else query, word) == word for query, word in rares)
        print(f"{label}: slips read as meant {fixed / len(slips):.3f}, rare words kept {kept / len(rares):.3f}")


if __name__ == "__main__":
    main()
