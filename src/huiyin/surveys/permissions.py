"""Who may do what with surveys, activities and rectification items: pure predicates of the actor."""

from __future__ import annotations

from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap

from .models import RectificationItem


def may_view_surveys(actor: Staff) -> bool:
    """The survey pages are read across the organisation: whole-ledger roles."""
    return actor.can(Cap.VIEW_ALL)


def may_run_surveys(actor: Staff) -> bool:
    """The service centre runs surveys and activities: leaders, callback desk, administrators."""
    return actor.can(Cap.VIEW_ALL) and (actor.can(Cap.CLOSE) or actor.can(Cap.ADMINISTER))


def may_add_rectification_item(actor: Staff) -> bool:
    """A rectification item is the director's (a leader's) instruction, or an administrator's."""
    return (actor.can(Cap.APPROVE) and actor.can(Cap.VIEW_ALL)) or actor.can(Cap.ADMINISTER)


def may_record_item_done(actor: Staff, item: RectificationItem) -> bool:
    """The responsible department's handling staff, or those who run surveys, record that an
    item was put right."""
    if may_run_surveys(actor):
        return True
    return actor.can(Cap.HANDLE) and actor.department_id is not None and actor.department_id == item.department_id
