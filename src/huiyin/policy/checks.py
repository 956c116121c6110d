"""Checks a preset must pass against the organisation it is applied to (the catalogue of
categories, later others), on top of the file's own validation (``presets``).

The policy layer knows nothing of cases: the apps that own such data hand their checks
to the subscriber table (``huiyin/subscribers.py``, ``preset_checks``), which installs
them here at start-up. ``policy_activate`` runs them before it writes anything and
refuses, naming the rule, a preset one of them finds fault with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .presets import Preset


@dataclass(frozen=True)
class Problem:
    """What a check found: the preset key path at fault (``deadlines[3].when.category``)
    and the reason in Chinese, naming the rule."""

    path: str
    message: str


PresetCheck = Callable[[int, "Preset"], list[Problem]]  # (organization id, preset) -> problems
Named = tuple[str, PresetCheck]

_source: Callable[[], Iterable[Named]] = tuple


def install(source: Callable[[], Iterable[Named]]) -> None:
    """Where the checks come from: the subscriber table's ``preset_checks``, read at each
    use (so a table swapped in a test, or reloaded, is the one asked)."""
    global _source
    _source = source


def problems(organization_id: int, preset: Preset) -> list[Problem]:
    """Every installed check's findings for ``preset`` applied to the organisation."""
    found: list[Problem] = []
    for _name, check in _source():
        found.extend(check(organization_id, preset))
    return found
