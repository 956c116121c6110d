"""Organisation-wide permissions: pure predicates of the staff member."""

from __future__ import annotations

from .models import Staff
from .roles import Cap


def may_administer(actor: Staff) -> bool:
    """The organisation's configuration: deadline policies, the working calendar, document templates."""
    return actor.can(Cap.ADMINISTER)
