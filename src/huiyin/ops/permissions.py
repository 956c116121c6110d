"""Who sees how the service itself is doing: pure predicates of the staff member."""

from __future__ import annotations

from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap


def may_see_system_status(actor: Staff) -> bool:
    """Administrators (and the platform operator): processes, restarts, failed tasks.
    Counts and task names only, no case content, so any organisation's administrator
    may see the shared service's health."""
    return bool(actor.is_superuser or actor.can(Cap.ADMINISTER))


def may_retry_tasks(actor: Staff) -> bool:
    return may_see_system_status(actor)
