"""Recompute running clocks after the calendar changed (an administrator added a holiday
for a year the package does not know, or an organisation closure).

Lock-free on purpose: each clock is written back with an optimistic check on its
``version``, so this never waits on (or deadlocks with) a case transition or the
sweeper; a clock that changed meanwhile is read again and retried.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from huiyin.policy.services.calendars import CalendarCache

from ..models import Clock, ClockState
from .clocks import reschedule

log = logging.getLogger(__name__)
_RETRIES = 3


def _recompute_one(clock_id: int, calendars: CalendarCache) -> bool:
    for _attempt in range(_RETRIES):
        clock = Clock.objects.select_related("policy_version").filter(pk=clock_id).first()
        if clock is None or clock.state == ClockState.STOPPED or clock.rule.get("source") == "manual":
            return False
        before = (clock.due_at, clock.warn_at, clock.next_action_at)
        calendar = calendars.get(clock.organization_id, clock.policy_version)
        reschedule(clock, calendar)
        if clock.state == ClockState.PAUSED:
            clock.next_action_at = None
        if (clock.due_at, clock.warn_at, clock.next_action_at) == before:
            return False
        updated = Clock.objects.filter(pk=clock.pk, version=clock.version).update(
            due_at=clock.due_at,
            warn_at=clock.warn_at,
            next_action_at=clock.next_action_at,
            version=clock.version + 1,
        )
        if updated:
            return True
    log.warning("clock %s kept changing; not recomputed", clock_id)
    return False


def clocks_recompute(*, organization_id: int | None, since: date, batch: int = 500) -> int:
    """Recompute the active clocks (of one organisation, or all for a global change)
    whose due time or next step is on or after ``since``. Returns how many changed."""
    start = timezone.make_aware(datetime.combine(since - timedelta(days=1), time.min))
    qs = Clock.objects.filter(state__in=(ClockState.RUNNING, ClockState.PAUSED)).filter(
        Q(due_at__gte=start) | Q(next_action_at__gte=start)
    )
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    changed, last = 0, 0
    calendars = CalendarCache()
    while True:
        ids = list(qs.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return changed
        with transaction.atomic():
            changed += sum(_recompute_one(pk, calendars) for pk in ids)
        last = ids[-1]
