"""Who may do what in supervision and the daily review, in one place.

``orgs.roles`` has no capability for supervising yet; until it has one (``supervise``,
held by the supervisor and the leader), the roles themselves decide. Either way the
answer is the same, so adding the capability later changes nothing here.
"""

from __future__ import annotations

from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap, Role

SUPERVISE = "supervise"  # the capability proposed for orgs.roles
_SUPERVISING_ROLES = frozenset({Role.SUPERVISOR, Role.LEADER})
_BOARD_ROLES = _SUPERVISING_ROLES | {Role.ANALYST}


def _roles(staff: Staff) -> set[str]:
    return set(staff.roles or [])


def can_supervise(staff: Staff) -> bool:
    """Issue and close supervision notices: supervisors and leaders."""
    return bool(staff.is_active and (staff.can(SUPERVISE) or _roles(staff) & _SUPERVISING_ROLES))


def sees_whole_board(staff: Staff) -> bool:
    return can_supervise(staff) or bool(_roles(staff) & _BOARD_ROLES)


def board_department(staff: Staff) -> int | None:
    """The one department a department head's board is limited to (None: whole board)."""
    if sees_whole_board(staff):
        return None
    return staff.department_id


def can_see_board(staff: Staff) -> bool:
    return sees_whole_board(staff) or bool(staff.is_dept_head and staff.department_id)


def can_answer_for(staff: Staff, department_id: int) -> bool:
    """The target department's head or handlers answer a notice."""
    return bool(staff.is_active and staff.department_id == department_id and staff.can(Cap.HANDLE))


def can_daily_review(staff: Staff) -> bool:
    """F34 is the intake clerk's routine; supervisors and leaders may look too."""
    return bool(staff.can(Cap.REGISTER) and staff.can(Cap.VIEW_ALL)) or can_supervise(staff)
