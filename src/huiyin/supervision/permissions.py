"""Who may do what in supervision and the daily review: pure predicates of the staff member.

Supervising is the ``supervise`` capability (supervisors and leaders hold it); the whole
board is also open to analysts; a department head sees their own department's part.
"""

from __future__ import annotations

from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap, Role

_BOARD_ROLES = frozenset({Role.SUPERVISOR, Role.LEADER, Role.ANALYST})


def _roles(staff: Staff) -> set[str]:
    return set(staff.roles or [])


def may_supervise(staff: Staff) -> bool:
    """Issue and close supervision notices: supervisors and leaders."""
    return bool(staff.is_active and staff.can(Cap.SUPERVISE))


def may_see_whole_board(staff: Staff) -> bool:
    return may_supervise(staff) or bool(_roles(staff) & _BOARD_ROLES)


def board_department(staff: Staff) -> int | None:
    """The one department a department head's board is limited to (None: whole board)."""
    if may_see_whole_board(staff):
        return None
    return staff.department_id


def may_see_board(staff: Staff) -> bool:
    return may_see_whole_board(staff) or bool(staff.is_dept_head and staff.department_id)


def may_answer_for(staff: Staff, department_id: int) -> bool:
    """The target department's head or handlers answer a notice."""
    return bool(staff.is_active and staff.department_id == department_id and staff.can(Cap.HANDLE))


def may_daily_review(staff: Staff) -> bool:
    """F34 is the intake clerk's routine; supervisors and leaders may look too."""
    return bool(staff.can(Cap.REGISTER) and staff.can(Cap.VIEW_ALL)) or may_supervise(staff)
