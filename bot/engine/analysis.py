"""Text into index terms: lower-cased words, English stopwords dropped, Snowball-stemmed."""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from functools import lru_cache

import Stemmer

# Words (letters and digits, with inner apostrophes or dots as in "don't" and "u.s"); timestamp
# labels such as "[38:00]" yield only digits, which `_is_noise` drops. (Possessive: nothing read is given back,
# as nothing could follow it.)
_WORD = re.compile(r"[^\W_]++(?:['’.][^\W_]++)*+")
# "pass-through", "self-driving", "R&D", "AT&T": the parts are words, and so is the whole written solid
# (the only form that keeps "AT&T", whose parts are stopwords). Tried only where a word starts, and a
# word once read is never read shorter (possessive `++`): a joiner cannot follow a shorter part of it,
# so the matches are the same, without retrying every tail of every word of a long text.
_COMPOUND = re.compile(r"(?<![^\W_])[^\W_]++(?:[-&][^\W_]++)+")
_JOINERS = str.maketrans("", "", "-&")

STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are aren't as at be because been before being
    below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't
    down during each few for from further had hadn't has hasn't have haven't having he he'd he'll he's
    her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it
    it's its itself let's me more most mustn't my myself no nor not of off on once only or other ought
    our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some such
    than that that's the their theirs them themselves then there there's these they they'd they'll
    they're they've this those through to too under until up very was wasn't we we'd we'll we're we've
    were weren't what what's when when's where where's which while who who's whom why why's will with
    won't would wouldn't you you'd you'll you're you've your yours yourself yourselves also just s t
    """.split()
)

# Words that ask for the notes rather than say what is in them: "notes on X", "find the part of the podcast where
# they talk about X", "what did she say about X?". As query words they cost the sections that lack them (a section
# holds a smaller share of the query) and make a short query read as a question, though every note is about a
# video and its talk. A query with other words is read without them; one of nothing else keeps them ("tell me
# more" is a follow-up's, bot/engine/follow_up.py). The index keeps them: a note may well be about videos.
REQUEST_WORDS = frozenset(
    """
    note notes find tell please talk talks talked talking discuss discusses discussed discussing mention mentions
    mentioned say says said
    """.split()
)

_stemmer = Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def normalize(text: str) -> str:
    """Case-folded, accents removed, curly apostrophes straightened."""
    text = text.casefold()
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKD", text.replace("’", "'"))
    # only runs of other characters than ASCII can hold combining marks: the rest is copied in one go
    return _NOT_ASCII.sub(_without_combining, text)


_NOT_ASCII = re.compile(r"[^\x00-\x7f]+")


def _without_combining(run: re.Match[str]) -> str:
    return "".join(ch for ch in run.group(0) if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The content words of a text, unstemmed, in order (stopwords and noise removed); a compound joined
    by hyphens or ampersands gives its parts, then the parts joined, so "pass-through" also matches
    "passthrough" and "R&D" is "rd" as well as "r" and "d"."""
    text = normalize(text)
    if _has_joiner(text):
        text = _COMPOUND.sub(_with_joined, text)
    return list(filter(None, map(_content_word, _WORD.findall(text))))


def query_words(text: str, solid_weight: float) -> list[tuple[str, float]]:
    """`words` of a query, each with its weight in it. A compound ("self-hosting") is one word of the query,
    however many parts it has: its parts share one word's weight, and the compound written solid
    (searched beside them) weighs `solid_weight`, so "self-hosting" counts no more than "agents". The
    REQUEST_WORDS are left out where the query has other words."""
    weighed = _weighed_words(text, solid_weight)
    asked = [(word, weight) for word, weight in weighed if word not in REQUEST_WORDS]
    return asked or weighed


def _weighed_words(text: str, solid_weight: float) -> list[tuple[str, float]]:
    text = normalize(text)
    if not _has_joiner(text):
        return [(word, 1.0) for word in words(text)]
    # the text as `words` reads it, and where each compound, its solid form and the plain text after
    # them start in it: a word's place among these boundaries says which of the three it is
    boundaries: list[int] = []
    extended, at = "", 0
    for match in _COMPOUND.finditer(text):
        extended += text[at : match.start()]
        boundaries += [len(extended), len(extended) + len(match.group(0)) + 1]
        extended += _with_joined(match)
        boundaries.append(len(extended))
        at = match.end()
    text = extended + text[at:]
    read = [(_content_word(m.group(0)), bisect.bisect_right(boundaries, m.start()) - 1) for m in _WORD.finditer(text)]
    written = Counter(place for _, place in read if place % 3 == 0)
    kept = Counter(place for word, place in read if word and place % 3 == 0)
    weighed = []
    for word, place in read:
        if not word:
            continue
        if place < 0 or place % 3 == 2:
            weighed.append((word, 1.0))  # a word of its own
        elif place % 3 == 0:
            weighed.append((word, 1 / kept[place]))
        else:  # the solid form: only an alternative where the parts kept say all it says ("gpt-4" drops 4)
            weighed.append((word, solid_weight if kept[place - 1] == written[place - 1] else 1.0))
    return weighed


@lru_cache(maxsize=200_000)  # a vault's words repeat: most are read once and looked up after
def _content_word(raw: str) -> str | None:
    """A word as the index holds it, or None for a stopword or noise."""
    word = raw.replace(".", "")
    if word.endswith("'s"):
        word = word[:-2]
    if word in STOPWORDS or _is_noise(word):
        return None
    return word.replace("'", "")


def _has_joiner(text: str) -> bool:
    return "-" in text or "&" in text


def _with_joined(match: re.Match[str]) -> str:
    return f"{match.group(0)} {match.group(0).translate(_JOINERS)}"


def terms(text: str) -> list[str]:
    """Index terms of a text: its content words, stemmed."""
    return [stem(word) for word in words(text)]


def _is_noise(word: str) -> bool:
    return word.isdigit() and len(word) < 3
