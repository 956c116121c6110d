"""MinHash of a text's character 3-grams, cut into bands (no Django: the benchmark uses it too).

Two texts whose 3-gram sets overlap by Jaccard ``J`` share at least one of ``BANDS`` bands of
``ROWS`` values with probability ``1 - (1 - J^ROWS)^BANDS`` (16 × 2: J = 0.3 → 77 %, 0.5 → 99 %).
The hash functions are drawn from a fixed seed: signatures stay comparable across processes
and releases."""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from huiyin.core.chinese import char_ngrams

BANDS, ROWS = 16, 2
_PRIME = (1 << 61) - 1


@functools.cache
def _numpy_and_hashes() -> tuple[Any, Any, Any]:
    """numpy and the hash functions' coefficients, from a fixed seed: signatures must stay
    comparable across processes. numpy is loaded only where a signature is computed."""
    import numpy as np  # loaded on first use: the web processes that never compute one skip it

    rng = np.random.default_rng(20261206)
    a = rng.integers(1, _PRIME, size=BANDS * ROWS, dtype=np.uint64)
    b = rng.integers(0, _PRIME, size=BANDS * ROWS, dtype=np.uint64)
    return np, a, b


def shingles(text: str) -> set[str]:
    return set(char_ngrams(text, 3, 3))


def _hash64(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "little") >> 3


def bands(shingle_set: set[str]) -> list[int]:
    """The ``BANDS`` band hashes of the MinHash signature (empty for a text too short)."""
    if len(shingle_set) < 3:
        return []
    np, a, b = _numpy_and_hashes()
    x = np.fromiter((_hash64(s) for s in shingle_set), dtype=np.uint64, count=len(shingle_set))
    # a·x + b per hash function in numpy's uint64 arithmetic (wrapping modulo 2^64): a
    # multiply-add hash; its minimum over the set is the function's MinHash value.
    signature = (np.outer(a, x) + b[:, None]).min(axis=1)
    out = []
    for band in range(BANDS):
        part = signature[band * ROWS : (band + 1) * ROWS].tobytes()
        out.append(int.from_bytes(hashlib.blake2b(part, digest_size=8).digest(), "little") >> 1)
    return out


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
