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

_checks: list[tuple[str, PresetCheck]] = []


def install(checks: Iterable[tuple[str, PresetCheck]]) -> None:
    """Replace the installed checks (the subscriber table's ``preset_checks``)."""
    _checks.clear()
    _checks.extend(checks)


def problems(organization_id: int, preset: Preset) -> list[Problem]:
    """Every installed check's findings for ``preset`` applied to the organisation."""
    found: list[Problem] = []
    for _name, check in _checks:
        found.extend(check(organization_id, preset))
    return found
