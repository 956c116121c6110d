"""The business calendar an organisation lives by, and its administrators' overrides.

Precedence (later wins on the same date): the national calendar (``chinesecalendar``)
< global overrides (CalendarDay rows without organisation: years the package does not
know yet) < the preset's own ``calendar`` section < the organisation's CalendarDay rows
(its closures and extra working days).

Cache: one BusinessCalendar per (organisation, policy version) per process, keyed by a
*stamp* of the override rows (count, highest id, latest update), which one indexed
aggregate query reads. A change in any process — this one, the admin, another machine —
changes the stamp, so no process keeps computing deadlines with a stale calendar.
Callers that build many deadlines at once (the sweeper) pass a ``CalendarCache`` to
read the stamp once per organisation per batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Count, DateTimeField, F, Field, Func, IntegerField, Max, Q, Subquery
from django.utils.translation import gettext as _

from huiyin.core.errors import PermissionDeniedError, ValidationFailed
from huiyin.core.validators import When, check_day, clean_text
from huiyin.orgs.roles import Cap

from ..calendar import BusinessCalendar, statutory_year_known
from ..models import CalendarDay, CalendarDayKind

if TYPE_CHECKING:
    from huiyin.orgs.models import Organization, Staff

    from ..models import PolicyVersion

Stamp = tuple[int, int, str]
_lock = threading.Lock()
_memo: dict[tuple[int | None, int | None, str], tuple[Stamp, BusinessCalendar]] = {}


def _rows(organization_id: int | None):
    scope = Q(organization__isnull=True)
    if organization_id is not None:
        scope |= Q(organization_id=organization_id)
    return CalendarDay.objects.filter(scope)


def _stamp(organization_id: int | None) -> Stamp:
    agg = _rows(organization_id).aggregate(n=Count("id"), top=Max("id"), changed=Max("updated_at"))
    return stamp_of(agg["n"], agg["top"], agg["changed"])


def stamp_of(n: int | None, top: int | None, changed: datetime | None) -> Stamp:
    return (n or 0, top or 0, changed.isoformat() if changed else "")


STAMP_FIELDS = ("calendar_n", "calendar_top", "calendar_changed")


def stamp_annotations(organization_id: int | None) -> dict[str, Subquery]:
    """The stamp's three aggregates as subqueries, for a statement that reads something else
    (the running policy: ``versions.running_policy``) to bring the stamp with it."""
    rows = _rows(organization_id).order_by()

    def aggregate(function: str, column: str, output: Field) -> Subquery:
        return Subquery(rows.annotate(v=Func(F(column), function=function, output_field=output)).values("v")[:1])

    return dict(
        zip(
            STAMP_FIELDS,
            (
                aggregate("COUNT", "id", IntegerField()),
                aggregate("MAX", "id", IntegerField()),
                aggregate("MAX", "updated_at", DateTimeField()),
            ),
            strict=True,
        )
    )


def _build(organization_id: int | None, policy_version: PolicyVersion | None) -> BusinessCalendar:
    holidays: dict[date, str] = {}
    workdays: dict[date, str] = {}

    def put(day: date, kind: str, name: str) -> None:
        holidays.pop(day, None)
        workdays.pop(day, None)
        (holidays if kind == CalendarDayKind.HOLIDAY else workdays)[day] = name

    rows = list(_rows(organization_id).values_list("organization_id", "date", "kind", "name"))
    for org_id, day, kind, name in rows:
        if org_id is None:
            put(day, kind, name)
    if policy_version is not None:
        section = policy_version.preset().calendar
        for item in section.holidays:
            put(item.date, CalendarDayKind.HOLIDAY, item.name)
        for item in section.workdays:
            put(item.date, CalendarDayKind.WORKDAY, item.name)
    for org_id, day, kind, name in rows:
        if org_id is not None:
            put(day, kind, name)
    return BusinessCalendar(extra_holidays=holidays, extra_workdays=workdays)


def calendar_for(
    *,
    organization_id: int | None,
    policy_version: PolicyVersion | None = None,
    stamp: Stamp | None = None,
) -> BusinessCalendar:
    """The calendar for deadlines of this organisation (and policy version's closures)."""
    stamp = stamp if stamp is not None else _stamp(organization_id)
    # created_at too: a database may hand out a rolled-back row's id again (as in preset_of).
    key = (
        (organization_id, policy_version.pk, policy_version.created_at.isoformat())
        if policy_version is not None
        else (organization_id, None, "")
    )
    hit = _memo.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    calendar = _build(organization_id, policy_version)
    with _lock:
        _memo[key] = (stamp, calendar)
    return calendar


@dataclass
class CalendarCache:
    """Calendars for one unit of work (a sweeper batch): one stamp query per organisation."""

    stamps: dict[int | None, Stamp] = field(default_factory=dict)

    def get(self, organization_id: int | None, policy_version: PolicyVersion | None) -> BusinessCalendar:
        if organization_id not in self.stamps:
            self.stamps[organization_id] = _stamp(organization_id)
        return calendar_for(
            organization_id=organization_id,
            policy_version=policy_version,
            stamp=self.stamps[organization_id],
        )


def invalidate_calendars() -> None:
    """Drop this process's calendars (the stamp check would catch the change anyway)."""
    with _lock:
        _memo.clear()


def _check_admin(actor: Staff | None, organization: Organization | None) -> None:
    """``actor=None`` is the operator at the command line."""
    if actor is None:
        return
    if organization is None:
        if not actor.is_superuser:
            raise PermissionDeniedError(_("只有系统超级管理员可以修改全国通用的节假日。"))
        return
    if actor.organization_id != organization.pk or not actor.can(Cap.ADMINISTER):
        raise PermissionDeniedError()


# Who must hear that the calendar changed (the deadline engine recomputes running clocks):
# callables (organization_id or None for a global change, the first day affected), run
# after commit. Apps above policy register in their AppConfig.ready().
_change_listeners: list[Callable[[int | None, date], None]] = []


def on_calendar_change(listener: Callable[[int | None, date], None]) -> None:
    """Register ``listener(organization_id, day)``, run after commit of every override change."""
    if listener not in _change_listeners:
        _change_listeners.append(listener)


def _after_change(organization_id: int | None, day: date) -> None:
    def run() -> None:
        invalidate_calendars()
        for listener in list(_change_listeners):
            listener(organization_id, day)

    transaction.on_commit(run)


def calendar_day_add(
    *,
    actor: Staff | None,
    organization: Organization | None,
    day: date,
    kind: str,
    name: str,
    replace: bool = False,
) -> CalendarDay:
    """Declare ``day`` a holiday or working day (globally when ``organization`` is None).

    A date already overridden at the same scope is refused unless ``replace``: one
    date cannot be both a holiday and a working day. Running clocks whose due time the
    change may move are recomputed by a task after commit.
    """
    _check_admin(actor, organization)
    check_day(day, "date", _("日期"), When.CALENDAR)
    name = clean_text(name).strip()
    if kind not in CalendarDayKind.values:
        raise ValidationFailed({"kind": [_("类型必须是 holiday 或 workday。")]})
    if not name:
        raise ValidationFailed({"name": [_("请填写名称（如：元旦、调休上班、单位闭馆）。")]})
    if len(name) > 60:
        raise ValidationFailed({"name": [_("名称最多 60 字。")]})
    with transaction.atomic():
        existing = CalendarDay.objects.select_for_update().filter(organization=organization, date=day).first()
        if existing is not None and not replace:
            raise ValidationFailed(
                {
                    "date": [
                        _("%(day)s 已设为%(kind)s（%(name)s）；如需更改请先删除。")
                        % {
                            "day": day.isoformat(),
                            "kind": existing.get_kind_display(),
                            "name": existing.name,
                        }
                    ]
                }
            )
        try:
            if existing is not None:
                existing.kind, existing.name, existing.created_by = kind, name, actor
                existing.save(update_fields=["kind", "name", "created_by", "updated_at"])
                row = existing
            else:
                with transaction.atomic():
                    row = CalendarDay.objects.create(
                        organization=organization, date=day, kind=kind, name=name, created_by=actor
                    )
        except IntegrityError as exc:  # a concurrent add of the same date
            raise ValidationFailed({"date": [_("%(day)s 已有设置。") % {"day": day.isoformat()}]}) from exc
        _after_change(organization.pk if organization else None, day)
    return row


def calendar_day_remove(*, actor: Staff | None, organization: Organization | None, day: date) -> bool:
    """Remove the override of ``day`` at this scope; False when there was none."""
    _check_admin(actor, organization)
    with transaction.atomic():
        deleted, _ignored = CalendarDay.objects.filter(organization=organization, date=day).delete()
        if deleted:
            _after_change(organization.pk if organization else None, day)
    return bool(deleted)


def calendar_days(
    *,
    organization: Organization | None,
    year: int | None = None,
    include_global: bool = True,
    every_organization: bool = False,
) -> list[CalendarDay]:
    """Overrides at one scope (global when ``organization`` is None), with the global ones
    for an organisation unless ``include_global`` is false; or all of them."""
    scope = Q(organization=organization) if organization is not None else Q(organization__isnull=True)
    if organization is not None and include_global:
        scope |= Q(organization__isnull=True)
    qs = CalendarDay.objects.select_related("organization")
    if not every_organization:
        qs = qs.filter(scope)
    if year:
        qs = qs.filter(date__year=year)
    return list(qs.order_by("date", "organization_id"))


__all__ = [
    "CalendarCache",
    "calendar_day_add",
    "calendar_day_remove",
    "calendar_days",
    "calendar_for",
    "invalidate_calendars",
    "on_calendar_change",
]


# --- years the holiday package does not know (warned before they start) --------------------

# From this day of the previous year (month, day) a coming year the package does not know is
# warned: the State Council announces the next year's holidays in the autumn.
WARN_FROM = (10, 1)


@dataclass(frozen=True)
class YearWarning:
    """A year whose statutory holidays and 调休 the holiday package does not know."""

    year: int
    started: bool  # the year has begun: deadlines are being counted Monday–Friday now
    supplied: int  # holiday / working-day rows administrators added for it

    @property
    def message(self) -> str:
        values = {"year": self.year, "n": self.supplied}
        if self.started:
            text = _(
                "内置节假日日历未收录 %(year)d 年：该年的法定节假日和调休目前按周一至周五计算工作日，"
                "时限可能算错。请升级 chinesecalendar，或在“工作日历”中补充 %(year)d 年的节假日和调休上班日。"
            )
        else:
            text = _(
                "内置节假日日历尚未收录 %(year)d 年：该年开始后，法定节假日和调休将按周一至周五计算工作日。"
                "请在国务院公布安排后升级 chinesecalendar，或在“工作日历”中补充 %(year)d 年的节假日和调休上班日。"
            )
        if self.supplied:
            text += _("（已补充 %(n)d 天，请核对是否完整。）")
        return text % values


def unknown_year_warnings(*, today: date, organization_id: int | None = None) -> list[YearWarning]:
    """The current year, and from WARN_FROM the next one, when the holiday package does
    not know them; each with the number of days administrators supplied for it (global
    rows, and the organisation's own when given)."""
    years = [today.year]
    if (today.month, today.day) >= WARN_FROM:
        years.append(today.year + 1)
    warnings = []
    for year in years:
        if statutory_year_known(year):
            continue
        supplied = _rows(organization_id).filter(date__year=year).count()
        warnings.append(YearWarning(year=year, started=year <= today.year, supplied=supplied))
    return warnings


def years_counted_monday_to_friday(*, first: date, last: date, organization_id: int | None = None) -> list[int]:
    """The years from ``first`` to ``last`` that the holiday package does not know and
    administrators supplied no holiday or working-day rows for: a deadline counted across
    them takes Monday to Friday as the working days (the case page says so)."""
    years = [y for y in range(first.year, last.year + 1) if not statutory_year_known(y)]
    if not years:
        return []
    supplied = set(_rows(organization_id).filter(date__year__in=years).values_list("date__year", flat=True))
    return [y for y in years if y not in supplied]
