"""A booked visit as a subject of the deadline engine (``deadlines.subjects``).

Booking starts one clock per visit (kind ``appointment``, stage ``appointment``): its
warning time is the reminder (the preset's ``reception.remind_hours_before`` before the
visit; none for a visit booked later than that), its due time the moment the visit counts
as not come (``no_show_after_minutes`` after its start). The one deadline sweeper takes the
steps, exactly once (``ClockAction``); this handler says what they mean:

* warn: the reminder to the visitor (``messages.remind``, through the notification
  templates and backends);
* overdue: a visit still booked is recorded as not come (未到访); its places stay taken.

Checking in, cancelling or rescheduling stops the clock (a new time starts a new one).
Nobody on the staff is told: the steps are the visitor's and the calendar's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .messages import remind
from .models import APPOINTMENT_STATUSES, Appointment, AppointmentLog, AppointmentStatus, LogKind

if TYPE_CHECKING:
    from huiyin.cases.models import Event
    from huiyin.core.reminders import ReminderText
    from huiyin.deadlines.subjects import DueStep
    from huiyin.orgs.models import Staff

KIND = "appointment"
STAGE = "appointment"


def _appointment(due: DueStep) -> Appointment | None:
    assert due.clock.subject_id is not None  # an appointment's clock names its appointment
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("slot__room", "organization")
        .filter(pk=due.clock.subject_id)
        .first()
    )


class AppointmentSubject:
    follows_case = False

    def recipients(self, due: DueStep) -> tuple[list[Staff], bool]:
        return [], False

    def record(self, due: DueStep, recipients: list[Staff], fell_back: bool) -> Event | None:
        appointment = _appointment(due)
        if appointment is None or appointment.status != AppointmentStatus.BOOKED:
            return None
        at = due.stamp or due.now
        if due.step.action == "warn":
            remind(appointment, due.clock.pk)
            AppointmentLog.objects.create(appointment=appointment, kind=LogKind.REMINDED, at=at)
        elif due.step.action == "overdue":
            APPOINTMENT_STATUSES.move(appointment, AppointmentStatus.NO_SHOW)
            appointment.no_show_at = at
            appointment.version += 1
            appointment.save(update_fields=["status", "no_show_at", "version"])
            AppointmentLog.objects.create(appointment=appointment, kind=LogKind.NO_SHOW, at=at)
        return None

    def desk(self, due: DueStep) -> tuple[str, ReminderText | None]:
        return f"appointment:{due.clock.subject_id}:{due.step.action}", None
