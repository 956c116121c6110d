"""Who may administer staff and departments: pure predicates of the actor."""

from __future__ import annotations

from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap


def may_manage_staff(actor: Staff) -> bool:
    """The organisation's administrator (capability ``manage_staff``), for their own
    organisation only: an account without one (a bare platform superuser) has nothing
    to administer here — the platform operator works in Django's /admin/."""
    return bool(actor.is_active and actor.organization_id is not None and actor.can(Cap.MANAGE_STAFF))
