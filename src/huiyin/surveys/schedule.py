"""The preset's survey schedule (F42): "每年至少进行一次业主意见调查" becomes a survey round
the sweeper opens when one is due (``huiyin/subscribers.py``, ``periodic``).

For every organisation whose running policy has a ``survey`` section, ``rounds_due``
opens a round for the current period of ``survey.every`` (year, half year, quarter,
month) when the organisation has none that starts in it — one it made itself counts.
The round asks the preset's areas, runs from today to the end of the period, and waits
for the survey runners (told on their desk) to fill in the audience and 发放份数. Running
it again changes nothing: one round per organisation and period (a unique key).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.core import reminders
from huiyin.core.notify import desk_notify
from huiyin.orgs.models import Organization, Staff
from huiyin.policy.services import current_policy

from .models import Campaign
from .permissions import may_run_surveys

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Period:
    key: str  # "2026", "2026-H2", "2026-Q3", "2026-05"
    label: str  # 2026年度, 2026年下半年, 2026年第三季度, 2026年5月
    first: date
    last: date


def period_of(every: str, day: date) -> Period:
    """The period of ``survey.every`` that ``day`` falls in."""
    y = day.year
    if every == "month":
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return Period(f"{y}-{day.month:02d}", _("%(y)d年%(m)d月") % {"y": y, "m": day.month}, first, last)
    if every == "quarter":
        q = (day.month - 1) // 3 + 1
        first = date(y, 3 * q - 2, 1)
        last = (date(y, 3 * q, 1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return Period(f"{y}-Q{q}", _("%(y)d年第%(q)d季度") % {"y": y, "q": q}, first, last)
    if every == "half_year":
        h = 1 if day.month <= 6 else 2
        first, last = (date(y, 1, 1), date(y, 6, 30)) if h == 1 else (date(y, 7, 1), date(y, 12, 31))
        label = _("%(y)d年上半年") % {"y": y} if h == 1 else _("%(y)d年下半年") % {"y": y}
        return Period(f"{y}-H{h}", label, first, last)
    return Period(str(y), _("%(y)d年度") % {"y": y}, date(y, 1, 1), date(y, 12, 31))


def _runners(organization_id: int) -> list[Staff]:
    staff = Staff.objects.filter(organization_id=organization_id, is_active=True)
    return [s for s in staff if may_run_surveys(s)]


def open_round(organization: Organization, today: date) -> Campaign | None:
    """The organisation's round for the current period, opened if due; None when its
    policy has no survey or a round of the period exists already."""
    policy = current_policy(organization)
    survey = policy.preset().survey if policy is not None else None
    if survey is None:
        return None
    period = period_of(survey.every, today)
    if (
        Campaign.objects.filter(
            organization=organization, starts_on__gte=period.first, starts_on__lte=period.last
        ).exists()
        or Campaign.objects.filter(organization=organization, period=period.key).exists()
    ):
        return None
    title = _("%(period)s满意度调查") % {"period": period.label}
    try:
        with transaction.atomic():
            campaign = Campaign.objects.create(
                organization=organization,
                title=title,
                starts_on=today,
                ends_on=period.last,
                audience="",
                audience_size=None,
                areas=[{"code": a.code, "label": a.label} for a in survey.areas],
                report_to=survey.report_to,
                created_by=None,
                created_at=timezone.now(),
                period=period.key,
            )
            desk_notify(
                recipients=_runners(organization.pk),
                case=None,
                key=f"survey-round:{campaign.pk}",
                text=reminders.SURVEY_ROUND(title=title, end=f"{period.last:%Y-%m-%d}"),
            )
    except IntegrityError:  # another sweeper opened it at the same moment
        return None
    log.info("survey round %s opened for organisation %s", period.key, organization.pk)
    return campaign


def rounds_due(now: datetime | None = None) -> list[Campaign]:
    """Open the survey round of every organisation whose policy makes one due now."""
    today = timezone.localdate(now) if now is not None else timezone.localdate()
    opened = []
    for organization in Organization.objects.order_by("pk"):
        campaign = open_round(organization, today)
        if campaign is not None:
            opened.append(campaign)
    return opened
