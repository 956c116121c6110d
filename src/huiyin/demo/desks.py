"""The demo's staff work their desks, as people do over weeks: each reminder older than two
working days was read within the working hours after it came; a notice about a case already
finished (the first receiver told it was closed, a department head told of an event) or a
result reported for information was also put away then. The last two working days' stay on
the desks, unread, for a new user to see (Thursday's and Friday's on a Monday); reminders of
live work stay open (read): a case still being handled, a callback's task, an answer
promised at a callback and its clock."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from huiyin.cases.workflow import CaseState
from huiyin.core.models import Notification
from huiyin.core.notify import KINDS_AFTER_CLOSING, desk_mark_read, desk_put_away
from huiyin.demo.days import weekday_from

FINISHED = (CaseState.CLOSED, CaseState.ARCHIVED, CaseState.NOT_ACCEPTED, CaseState.RETURNED, CaseState.TRANSFERRED)
LEFT_OPEN_WORKING_DAYS = 2  # the newest notices a new user finds on the desks
FOR_INFORMATION = ("result-report",)  # read is dealt with, whatever the case's state
OFFICE_OPENS, OFFICE_CLOSES = time(8, 30), time(17, 30)


def _seen(created: datetime, rng: random.Random) -> datetime:
    """When a notice that came at ``created`` was read: within three hours if it came in
    office hours, else in the first hour of the next working day (Monday after a weekend)."""
    local = timezone.localtime(created)
    if local.weekday() < 5 and OFFICE_OPENS <= local.time() < OFFICE_CLOSES:
        return created + timedelta(minutes=rng.randint(10, 180))
    day = weekday_from(local.date() + timedelta(days=0 if local.time() < OFFICE_OPENS else 1))
    opens = datetime.combine(day, OFFICE_OPENS, tzinfo=local.tzinfo)
    return opens + timedelta(minutes=rng.randint(0, 60))


def left_open_since(now: datetime) -> datetime:
    """The start of the working day two working days before ``now``'s day: what came since
    is still unread. Two working days, not 48 hours: opened on a Monday morning, the demo's
    desks show Thursday's and Friday's notices, not an empty weekend."""
    day = timezone.localdate(now)
    for _ in range(LEFT_OPEN_WORKING_DAYS):
        day -= timedelta(days=1)
        while day.weekday() >= 5:
            day -= timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=timezone.localtime(now).tzinfo)


def work_the_desks(org_id: int, *, now: datetime, seed: int = 0) -> int:
    """Read every reminder that came before the last two working days when its reader would
    have, and put away those nothing is left to do about; returns how many were put away."""
    rng = random.Random(seed)
    old = Notification.objects.filter(case__organization_id=org_id, created_at__lt=left_open_since(now))
    finished = (
        old.filter(case__state__in=FINISHED)
        .exclude(kind__in=KINDS_AFTER_CLOSING)
        .exclude(kind__startswith="clock:")  # a promised answer's clock outlives the closing
    )
    away = (finished | old.filter(kind__in=FOR_INFORMATION)).filter(done_at__isnull=True)
    put_away = sum(
        desk_put_away(notification_id=pk, at=min(_seen(created, rng), now))
        for pk, created in away.order_by("created_at", "id").values_list("pk", "created_at")
    )
    unread = old.filter(read_at__isnull=True).select_related("recipient").order_by("created_at", "id")
    for row in unread:
        desk_mark_read(recipient=row.recipient, notification_id=row.pk, at=min(_seen(row.created_at, rng), now))
    return put_away
