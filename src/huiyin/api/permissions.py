"""Who manages the organisation's integrations: API keys and webhook subscriptions."""

from __future__ import annotations

from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap


def may_manage_integrations(user: Staff) -> bool:
    """The organisation's own administrator (人员与部门, capability ``manage_staff``)."""
    return bool(user.is_active and user.organization_id is not None and user.can(Cap.MANAGE_STAFF))
