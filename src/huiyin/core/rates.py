"""A rate shown with its sample, as the evaluation table and the survey report print it."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Rate:
    """A ratio with its sample: shown as "80.0%（8/10）", "—（0/0）" without one."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> str:
        return f"{self.numerator / self.denominator * 100:.1f}%" if self.denominator else "—"

    def __str__(self) -> str:
        return _("%(percent)s（%(n)d/%(d)d）") % {"percent": self.percent, "n": self.numerator, "d": self.denominator}
