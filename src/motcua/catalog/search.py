"""Finding a procedure from what people type: "giấy khai sinh", "lam giay khai sinh cho con",
"dang ky tam tru", "khai snh".

The catalog holds a few dozen procedures at most, so the index is built in Python from their
names, English names, fields and the aliases kept as data (`data/search.json`), and each query
is scored against every procedure:

- text is folded (no diacritics, lower case) and cut into words; stop words ("làm", "giấy",
  "cho", "đăng ký", ...) are dropped unless nothing else is left;
- a query word matches a word of a name or alias exactly, as a prefix, or with one typo
  (two in long words), and weighs by how rare that word is among the procedures;
- a procedure's score is its best phrase (name, alias, English name): how much of the query
  it covers, how much of the phrase the query covers, and a bonus for words in the same order.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from motcua.core.text import fold

DATA_FILE = Path(__file__).parent / "data" / "search.json"
NAME_WEIGHT = 1.0
ALIAS_WEIGHT = 0.92
ENGLISH_WEIGHT = 0.85
# A procedure is shown when its score reaches this share of the best one's.
KEEP_SHARE = 0.6
# ...and when the query's words it covers weigh at least this share of the query.
MIN_COVERAGE = 0.34
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")


@dataclass(frozen=True, order=True)
class Entry:
    """What the index knows of one procedure."""

    code: str
    name: str
    name_en: str
    field: str


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]
    weight: float
    joined: bool = False  # words run together: matched whole or with a typo, not by prefix


@lru_cache(maxsize=1)
def search_data() -> tuple[frozenset[str], dict[str, tuple[str, ...]]]:
    """(stop words, aliases by procedure code), folded, read once per process."""
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    stop = frozenset(fold(w) for w in data["stop_words"])
    aliases = {code: tuple(fold(a) for a in names) for code, names in data["aliases"].items()}
    return stop, aliases


def words_of(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _without_stop_words(words: Sequence[str], stop: frozenset[str]) -> list[str]:
    kept = [w for w in words if w not in stop]
    return kept or list(words)


def _distance_at_most(a: str, b: str, limit: int) -> bool:
    """Damerau-Levenshtein distance (adjacent swaps count once) ≤ limit."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (ca != cb),
            )
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return False
        previous2, previous = previous, current
    return previous[-1] <= limit


@lru_cache(maxsize=65536)
def similarity(typed: str, word: str) -> float:
    """How well a typed word matches a word of a name: 1 exact, less for a prefix or a typo."""
    if typed == word:
        return 1.0
    if len(typed) >= 3 and word.startswith(typed):
        return 0.85
    shortest = min(len(typed), len(word))
    if shortest >= 3 and _distance_at_most(typed, word, 1):
        return 0.7
    if shortest >= 7 and _distance_at_most(typed, word, 2):
        return 0.55
    return 0.0


class Index:
    def __init__(self, entries: Iterable[Entry]) -> None:
        stop, aliases = search_data()
        self.stop = stop
        self.phrases: dict[str, list[Phrase]] = {}
        self.whole: dict[str, list[Phrase]] = {}
        for e in entries:
            texts = [(e.name, NAME_WEIGHT), (f"{e.code} {e.field}", ALIAS_WEIGHT)]
            texts += [(a, ALIAS_WEIGHT) for a in aliases.get(e.code, ())]
            if e.name_en:
                texts.append((e.name_en, ENGLISH_WEIGHT))
            phrases, whole = [], []
            for text, weight in texts:
                words = words_of(text)
                if words:
                    phrases.append(Phrase(tuple(_without_stop_words(words, stop)), weight))
                    whole.append(Phrase(tuple(words), weight))
                    # Words run together ("khaisinh", "tamtru") match too.
                    if len(words) > 1:
                        joined = tuple(a + b for a, b in itertools.pairwise(words))
                        phrases.append(Phrase(joined, weight * 0.95, joined=True))
            self.phrases[e.code] = phrases
            # For a query of stop words only ("đăng ký"): the phrases as they are written.
            self.whole[e.code] = whole
        # A word's weight: how rare it is among the procedures (inverse document frequency).
        documents: dict[str, set[str]] = {}
        for code, phrases in self.phrases.items():
            for phrase in [*phrases, *self.whole[code]]:
                for word in phrase.words:
                    documents.setdefault(word, set()).add(code)
        n = max(1, len(self.phrases))
        self.idf = {w: math.log(1 + n / len(codes)) for w, codes in documents.items()}
        # A word no procedure knows weighs as much as the rarest: a query of strange words
        # finds nothing rather than whatever shares its one common word.
        self.unknown_weight = max(self.idf.values(), default=1.0)
        self.vocabulary = tuple(documents)

    def _weight(self, word: str) -> float:
        if word in self.idf:
            return self.idf[word]
        close = [self.idf[v] * s for v in self.vocabulary if (s := similarity(word, v)) > 0]
        return max(close, default=self.unknown_weight)

    def scores(self, query: str) -> dict[str, float]:
        """Each procedure the query finds, with its score (higher is better)."""
        typed = _without_stop_words(words_of(query), self.stop)
        if not typed:
            return {}
        every = self.whole if all(w in self.stop for w in typed) else self.phrases
        weights = [self._weight(w) for w in typed]
        total = sum(weights)
        found: dict[str, float] = {}
        for code, phrases in every.items():
            best = 0.0
            for phrase in phrases:
                best = max(best, self._phrase_score(typed, weights, total, phrase))
            if best > 0:
                found[code] = best
        if not found:
            return {}
        top = max(found.values())
        return {code: s for code, s in found.items() if s >= KEEP_SHARE * top}

    def _phrase_score(
        self, typed: list[str], weights: list[float], total: float, phrase: Phrase
    ) -> float:
        matched = 0.0
        positions: list[int | None] = []
        used: set[int] = set()
        for word, weight in zip(typed, weights, strict=True):
            best, where = 0.0, None
            known = word in self.idf  # a real word: a typo of another one is less likely
            for i, candidate in enumerate(phrase.words):
                if phrase.joined and len(word) < 5:
                    break
                s = similarity(word, candidate)
                if phrase.joined and s == 0.85:  # a prefix of words run together
                    s = 0.0
                if known and s < 1.0:
                    s /= 2
                if s > best and i not in used:
                    best, where = s, i
            if where is not None:
                used.add(where)
            positions.append(where)
            matched += weight * best
        coverage = matched / total
        if coverage < MIN_COVERAGE:
            return 0.0
        phrase_total = sum(self.idf.get(w, 0.0) for w in phrase.words) or 1.0
        phrase_covered = sum(self.idf.get(phrase.words[i], 0.0) for i in used) / phrase_total
        in_order = sum(
            1
            for a, b in itertools.pairwise(positions)
            if a is not None and b is not None and b == a + 1
        )
        order_bonus = 0.1 * in_order / max(1, len(typed) - 1)
        return phrase.weight * coverage * (0.6 + 0.4 * phrase_covered + order_bonus)

    def ranked(self, query: str) -> list[str]:
        found = self.scores(query)
        return sorted(found, key=lambda code: -found[code])

    def closest(self, query: str, limit: int) -> list[str]:
        """Procedures whose names look most like the query, by shared letter trigrams: the
        suggestions when nothing is found."""
        grams = _trigrams(" ".join(words_of(query)))
        if not grams:
            return []
        best: dict[str, float] = {}
        for code, phrases in self.phrases.items():
            for phrase in phrases:
                other = _trigrams(" ".join(phrase.words))
                s = len(grams & other) / len(grams | other) if other else 0.0
                best[code] = max(best.get(code, 0.0), s)
        ranked = sorted((c for c, s in best.items() if s >= 0.15), key=lambda c: -best[c])
        return ranked[:limit]


def _trigrams(text: str) -> set[str]:
    padded = f" {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}
