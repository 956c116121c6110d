"""Who may do what on the deadline panel: pure functions of (actor, object). The services
decide again; these only say which actions to offer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from huiyin.cases.workflow import OPEN_STATES
from huiyin.orgs.roles import Cap

if TYPE_CHECKING:
    from huiyin.cases.models import Case
    from huiyin.orgs.models import Staff


def may_work_on(actor: Staff, case: Case) -> bool:
    """Whether to offer suspension and extension requests (the services decide)."""
    return case.state in OPEN_STATES and (actor.can(Cap.HANDLE) or actor.can(Cap.DECIDE))
