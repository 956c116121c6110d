"""Which answered cases are called back, by whom — pure functions of the preset's rules.

A case's draw is a hash of (seed, case number, round) mapped to [0, 1): reproducible,
independent of the order cases are answered in, and uniform, so over many cases each
role's share of callbacks converges to its quota. Shares are laid end to end on [0, 1)
(leader 0–0.10, dept_head 0.10–0.40, callback_officer 0.40–1.00 in the property
preset); a draw past the last share is not sampled, unless a mandatory rule applies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_ROLE = "callback_officer"


@dataclass(frozen=True)
class Decision:
    reason: str | None  # None: no callback for this case
    role: str
    draw: float | None


def draw_for(seed: str, number: str, round_: int) -> float:
    digest = hashlib.sha256(f"{seed}|{number}|{round_}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def decide(
    *,
    draw: float,
    shares: Sequence[tuple[str, float]],
    mandatory: Sequence[str],
) -> Decision:
    """``shares``: (role, min_share) in preset order; ``mandatory``: the mandatory rules
    that match this case (group_visit, forwarded_for_investigation)."""
    if not shares:
        return Decision(mandatory[0] if mandatory else "all", DEFAULT_ROLE, None)
    edge = 0.0
    for role, share in shares:
        edge += share
        if draw < edge:
            return Decision(mandatory[0] if mandatory else "sample", role, draw)
    if mandatory:
        return Decision(mandatory[0], DEFAULT_ROLE, draw)
    return Decision(None, DEFAULT_ROLE, draw)
