"""Status tables for the records around a case (notices, callbacks, extensions, documents...).

The case itself moves through ``cases.workflow``; every other record with a status field
declares, next to its choices, which status may follow which, and its services move it
with ``TABLE.move(row, to)`` instead of hand-written ``if row.status != ...`` checks. A
move the table does not list raises ``InvalidStatus`` (a 409 to an API client, a message
on the page), so a record can never jump from "done" back to "due" because two people
clicked at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

from .errors import ErrorCode, InvalidStatus


class StatusTable:
    def __init__(
        self,
        choices: type[models.TextChoices],
        edges: Mapping[str, Iterable[str]],
        *,
        field: str = "status",
        error: type[InvalidStatus] = InvalidStatus,
    ) -> None:
        self.choices = choices
        self.field = field
        self.error = error
        self.edges: dict[str, frozenset[str]] = {str(src): frozenset(map(str, dsts)) for src, dsts in edges.items()}
        unknown = (set(self.edges) | {d for dsts in self.edges.values() for d in dsts}) - set(choices.values)
        if unknown:
            raise ValueError(f"{choices.__name__}: unknown statuses in the table: {sorted(unknown)}")

    def targets(self, src: str) -> frozenset[str]:
        return self.edges.get(str(src), frozenset())

    def allows(self, src: str, dst: str) -> bool:
        return str(dst) in self.targets(src)

    def sources(self, dst: str) -> list[str]:
        """The statuses a bulk update may move to ``dst`` from (``filter(status__in=...)``)."""
        return sorted(src for src, dsts in self.edges.items() if str(dst) in dsts)

    def check(self, row: Any, dst: str, *, message: str | None = None, code: ErrorCode | None = None) -> None:
        src = getattr(row, self.field)
        if not self.allows(src, dst):
            raise self.error(
                what=str(row._meta.verbose_name),
                src=str(self.choices(src).label),
                dst=str(self.choices(dst).label),
                message=message,
                code=code,
            )

    def move(self, row: Any, dst: str, *, message: str | None = None, code: ErrorCode | None = None) -> None:
        """Set ``row``'s status to ``dst`` if the table allows it; the caller saves the row
        (it holds the lock that made the read of the current status safe)."""
        self.check(row, dst, message=message, code=code)
        setattr(row, self.field, dst)
