"""A booked visit announced to the front office (F70), where the organisation runs one (its
running preset has a ``front_office`` section): booking a visit adds it to the front desk's
expected visitors of its day (``frontoffice.services.visitor_expect``, origin
``appointment``); cancelling it cancels the expected visitor; a new time cancels it and
announces the visit again on the new day. The reception sits above the front office in the
layers (docs/architecture.md), so it calls the front office's services directly, in the
booking's transaction: the two never disagree.

Who the front desk calls when the visitor arrives (the host): the leader of a leader
reception day, whoever convened a joint session, else the staff member who booked the
visit; for a visit booked on the portal into the ordinary hours, the first active member
of the reception desk (接待员). The expected visitor is announced by the booking staff member
where the front office lets them announce for that host, else by the host.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.core.validators import LINE_MAX
from huiyin.frontoffice import permissions as fo_permissions
from huiyin.frontoffice import services as fo_services
from huiyin.frontoffice.models import Visitor, VisitOrigin, VisitStatus
from huiyin.orgs.models import Staff
from huiyin.orgs.roles import Role
from huiyin.policy.models import preset_of
from huiyin.policy.services import current_policy

from .models import Appointment


def runs_front_office(organization_id: int) -> bool:
    policy = current_policy(organization_id)
    return policy is not None and preset_of(policy).front_office is not None


def _active(person: Staff | None) -> Staff | None:
    return person if person is not None and person.is_active else None


def host_for(appointment: Appointment, actor: Staff | None) -> Staff | None:
    slot = appointment.slot
    if slot.leader_day is not None and _active(slot.leader_day.leader):
        return slot.leader_day.leader
    if slot.joint_session is not None and _active(slot.joint_session.created_by):
        return slot.joint_session.created_by
    if _active(actor):
        return actor
    for person in Staff.objects.filter(organization_id=appointment.organization_id, is_active=True).order_by("pk"):
        if Role.RECEPTION in (person.roles or []):
            return person
    return None


def _purpose(appointment: Appointment) -> str:
    text = _("来访接待预约 %(code)s：%(purpose)s") % {"code": appointment.code, "purpose": appointment.purpose}
    return text if len(text) <= LINE_MAX else text[: LINE_MAX - 1] + "…"


def expect(appointment: Appointment, actor: Staff | None, at: datetime | None = None) -> Visitor | None:
    """Announce the visit to the front office (nothing where it runs none, or nobody can host)."""
    if not runs_front_office(appointment.organization_id):
        return None
    host = host_for(appointment, actor)
    if host is None:
        return None
    announcer = actor if actor is not None and fo_permissions.may_announce_for_others(actor) else host
    start = timezone.localtime(appointment.slot.starts_at)
    visitor = fo_services.visitor_expect(
        actor=announcer,
        expected_on=start.date(),
        expected_time=start.time(),
        name=appointment.name,
        phone=appointment.phone,
        purpose=_purpose(appointment),
        host_id=host.pk,
        origin=VisitOrigin.APPOINTMENT,
        at=at,
    )
    appointment.visitor = visitor
    appointment.save(update_fields=["visitor"])
    return visitor


def withdraw(appointment: Appointment, actor: Staff | None, reason: str, at: datetime | None = None) -> None:
    """The visit is cancelled or moved: its expected visitor, if still expected, is cancelled."""
    if appointment.visitor_id is None:
        return
    visitor = Visitor.objects.filter(pk=appointment.visitor_id).select_related("host").first()
    if visitor is None or visitor.status != VisitStatus.EXPECTED:
        return
    canceller = actor if actor is not None and fo_permissions.may_cancel_visit(actor, visitor) else visitor.host
    fo_services.visitor_cancel(actor=canceller, visitor_id=visitor.pk, reason=reason, at=at)


def move(appointment: Appointment, actor: Staff | None, at: datetime | None = None) -> Visitor | None:
    """A new time: the old expected visitor cancelled, the visit announced on its new day."""
    old = Visitor.objects.filter(pk=appointment.visitor_id).first() if appointment.visitor_id else None
    if old is not None and old.status != VisitStatus.EXPECTED:
        return None  # already received at the front desk: its record stays as it is
    withdraw(appointment, actor, _("来访预约已改期"), at)
    return expect(appointment, actor, at)
