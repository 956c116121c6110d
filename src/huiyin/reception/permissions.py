"""Who may do what at the reception: pure predicates of the actor (and the record).

* The calendars and the visits are the reception desk's: whoever registers matters
  (接线员、接待员、领导) and the administrators who set the schedules.
* Rooms, published hours and leader reception days are the office's schedule: its
  administrators and leaders manage them.
* A joint reception session brings departments together for cases: those who decide on
  cases (受理员、领导) convene it and record how it went.
* Booking, rescheduling, cancelling and marking a visit not come are the desk's; the check-in
  registers a case, so it needs the right to register.
* A leader sees their own reception days first; the leader of a day records how it went.
"""

from __future__ import annotations

from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Cap, Role

from .models import LeaderDay


def _is_leader(actor: Staff) -> bool:
    return Role.LEADER in (actor.roles or [])


def may_view_reception(actor: Staff) -> bool:
    return actor.can(Cap.REGISTER) or actor.can(Cap.ADMINISTER)


def may_manage_schedules(actor: Staff) -> bool:
    """Rooms, published hours, leader reception days."""
    return actor.can(Cap.ADMINISTER) or _is_leader(actor)


def may_convene_joint(actor: Staff) -> bool:
    return actor.can(Cap.DECIDE) and actor.can(Cap.VIEW_ALL)


def may_book(actor: Staff) -> bool:
    return actor.can(Cap.REGISTER)


def may_check_in(actor: Staff) -> bool:
    return actor.can(Cap.REGISTER)


def may_record_leader_day(actor: Staff, day: LeaderDay) -> bool:
    return may_manage_schedules(actor) or day.leader_id == actor.pk


def is_own_leader_day(actor: Staff, day: LeaderDay) -> bool:
    return day.leader_id == actor.pk
