"""Whether two texts raise the same matter (F04): the cosine of their character 1–2-gram
TF-IDF vectors (no Django: the benchmark uses it too).

The MinHash bands of ``triage.minhash`` find copies — a letter re-sent, a neighbour's copy.
A person who writes again about the same dispute writes a new letter: the 3-gram Jaccard of
such pairs is often below 0.05 (``docs/benchmarks.md``, the hand-labelled same-user pairs).
What they keep are the rare characters and pairs — the estate's name, the company, the
road, the kind of trouble — and a weighting by rarity finds them: each n-gram counts with
``1 + ln(tf)`` times its inverse document frequency, and the vectors' cosine is the score.

The document frequencies come from the texts the organisation's triage model was trained
on (``Frequencies.of``, kept in the model file): only n-grams found in at least ``MIN_DF``
texts are kept, so no one-off string of a complainant's text is stored. An n-gram not kept
weighs as the rarest. Without a model every n-gram weighs the same (``UNIFORM``)."""

from __future__ import annotations

import functools
import math
import operator
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from huiyin.core.chinese import runs

# From this cosine two texts are called the same matter: chosen on the benchmark's
# hand-labelled same-user pairs with the frequencies of other texts (precision 0.95 at
# recall 0.91 over the messages; chosen on four fifths of the posters, 0.25-0.27);
# with equal weights (no model) the same precision needs 0.42 (docs/benchmarks.md).
SAME_MATTER = 0.26
SAME_MATTER_EQUAL_WEIGHTS = 0.42
MIN_DF = 2
MAX_CHARS = 5000  # of a text, what is weighed (a 100,000-character paste costs no more)


@dataclass(frozen=True)
class Frequencies:
    """Document frequencies of character 1–2-grams over ``documents`` texts."""

    documents: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, texts: Iterable[str]) -> Frequencies:
        """From prepared (normalised, masked) texts; n-grams in fewer than MIN_DF are dropped."""
        counts: Counter[str] = Counter()
        documents = 0
        for text in texts:
            counts.update(set(ngrams(text)))
            documents += 1
        return cls(documents, {term: n for term, n in counts.items() if n >= MIN_DF})

    @functools.cached_property
    def idf(self) -> dict[str, float]:
        """Each kept n-gram's inverse document frequency (smoothed, as scikit-learn's)."""
        return {term: math.log((self.documents + 1) / (n + 1)) + 1.0 for term, n in self.counts.items()}

    @property
    def threshold(self) -> float:
        """The cosine from which two texts are the same matter under these weights."""
        return SAME_MATTER if self.documents else SAME_MATTER_EQUAL_WEIGHTS

    @property
    def rarest(self) -> float:
        """The weight of an n-gram not kept: as one found in no text."""
        return math.log(self.documents + 1) + 1.0


UNIFORM = Frequencies()  # no corpus: every n-gram weighs 1

# Wording shared by unrelated matters — a hotline's template (来电人想咨询……方面的相关政策规定，
# 遇到这类问题应该找哪个部门办理), a greeting, 请有关部门尽快处理 — is made of character pairs
# found in a large share of the organisation's texts; the words that say what the matter is
# (供水, 路灯, an estate's name) are rarer. From this share a pair is boilerplate.
BOILERPLATE_SHARE = 0.08
BOILERPLATE_MIN_DOCUMENTS = 50  # fewer texts than this say nothing about what is common


def boilerplate_pairs(frequencies: Frequencies) -> frozenset[str]:
    """The n-grams found in ``BOILERPLATE_SHARE`` of the texts or more (none without a corpus
    of ``BOILERPLATE_MIN_DOCUMENTS``)."""
    if frequencies.documents < BOILERPLATE_MIN_DOCUMENTS:
        return frozenset()
    least = BOILERPLATE_SHARE * frequencies.documents
    return frozenset(term for term, n in frequencies.counts.items() if n >= least)


def distinctive_shingles(text: str, common: frozenset[str]) -> set[str]:
    """The text's character 3-grams (``minhash.shingles``) less those made of two boilerplate
    pairs: what is left says what this text is about."""
    found: set[str] = set()
    for run in runs(text):
        for i in range(len(run) - 2):
            first, second = run[i] + run[i + 1], run[i + 1] + run[i + 2]
            if first not in common or second not in common:
                found.add(first + run[i + 2])
    return found


def ngrams(text: str) -> list[str]:
    """The text's units and pairs of units within each run (``core.chinese.runs``: a CJK
    character, a Latin word or number, a placeholder; punctuation and space end a run)."""
    grams: list[str] = []
    for run in runs(text):
        grams += run
        grams += map(operator.add, run, run[1:])
    return grams


def vector(text: str, frequencies: Frequencies = UNIFORM) -> dict[str, float]:
    """A prepared text's unit-length TF-IDF vector (empty for an empty text)."""
    idf, rarest = frequencies.idf, frequencies.rarest
    weights = {
        term: (1.0 + math.log(n)) * idf.get(term, rarest) if n > 1 else idf.get(term, rarest)
        for term, n in Counter(ngrams(text[:MAX_CHARS])).items()
    }
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {term: w / norm for term, w in weights.items()} if norm else {}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(term, 0.0) for term, w in a.items())
