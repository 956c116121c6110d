"""Who may see a case on the portal: the browser that showed it holds it (its number and query
code, a signed link, or the submission that created it), remembered in the session."""

from __future__ import annotations

from collections.abc import Iterable

from huiyin.cases.models import Case


def holds(held: Iterable[int], case: Case) -> bool:
    return case.pk in set(held)
