"""The business calendar, for operators and for checking.

    huiyin calendar is-workday 2026-10-01                 → yes | no
    huiyin calendar add 2026-09-30 3 workdays             → 2026-10-10
    huiyin calendar add 2026-09-30 15 days --roll forward → 2026-10-15
    huiyin calendar add "2026-09-30 10:00" 24 hours       → 2026-10-01T10:00:00+08:00
    huiyin calendar holidays add 2031-01-01 元旦 [--org CODE]
    huiyin calendar workdays add 2031-01-05 调休上班 [--org CODE]
    huiyin calendar holidays remove 2031-01-01 [--org CODE]
    huiyin calendar list [--year 2031] [--org CODE]

``add`` conventions: the start is a date or a local date-time (ISO; a bare date means
00:00 local time that day). ``days`` and ``workdays`` print the deadline *date* (the
deadline is the end of that day); ``minutes``, ``hours`` and ``working_hours`` print an
ISO timestamp in the server's time zone. By default the day of the start is not
counted (``--start next_day``, 民法典 第二百零一条: 3 days after 09-30 is 10-03) and a
last day on a holiday stays where it is (``--roll none``); ``--start immediate`` and
``--roll forward`` reproduce a preset rule that says so. ``workdays``: the n-th working
day after the start date. With ``--org`` the organisation's closures and running
preset's calendar apply; without, the national calendar and global overrides.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from huiyin.core.errors import ApplicationError
from huiyin.orgs.models import Organization
from huiyin.policy.calendar import BusinessCalendar
from huiyin.policy.models import CalendarDayKind
from huiyin.policy.services import (
    calendar_day_add,
    calendar_day_remove,
    calendar_days,
    calendar_for,
    current_policy,
)

UNITS = ("minutes", "hours", "working_hours", "days", "workdays")
UNIT_ALIASES = {
    "minute": "minutes",
    "hour": "hours",
    "day": "days",
    "workday": "workdays",
    "working_hour": "working_hours",
    "working-hours": "working_hours",
}


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _start(text: str) -> tuple[datetime, bool]:
    """(aware local datetime, whether a time was given)."""
    try:
        if len(text) == 10:
            return timezone.make_aware(datetime.combine(date.fromisoformat(text), time.min)), False
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"not a date or date-time (ISO): {text!r}") from exc
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return timezone.localtime(moment), True


class Command(BaseCommand):
    help = "Business calendar: check workdays, add deadlines, manage holiday/workday overrides."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, parser_class=CommandParser)
        p = sub.add_parser("is-workday", help="is DATE a working day? prints yes or no")
        p.add_argument("day")
        p.add_argument("--org", dest="code")
        p = sub.add_parser("add", help="START plus AMOUNT UNIT")
        p.add_argument("start")
        p.add_argument("amount", type=int)
        p.add_argument("unit")
        p.add_argument("--start", dest="start_rule", choices=("next_day", "immediate"), default="next_day")
        p.add_argument("--roll", choices=("none", "forward"), default="none")
        p.add_argument("--org", dest="code")
        for kind in ("holidays", "workdays"):
            p = sub.add_parser(kind, help=f"administrator-added {kind}")
            kind_sub = p.add_subparsers(dest="verb", required=True, parser_class=CommandParser)
            q = kind_sub.add_parser("add")
            q.add_argument("day")
            q.add_argument("name")
            q.add_argument("--org", dest="code")
            q.add_argument("--replace", action="store_true", help="replace an existing override of the date")
            q = kind_sub.add_parser("remove")
            q.add_argument("day")
            q.add_argument("--org", dest="code")
            q = kind_sub.add_parser("list")
            q.add_argument("--year", type=int)
            q.add_argument("--org", dest="code")
        p = sub.add_parser("list", help="all overrides")
        p.add_argument("--year", type=int)
        p.add_argument("--org", dest="code")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        org = self._org(options.get("code"))
        if action == "is-workday":
            self.stdout.write("yes" if self._calendar(org).is_workday(_date(options["day"])) else "no")
        elif action == "add":
            self.stdout.write(self._add(org, options))
        elif action == "list":
            self._list(org, options.get("year"), None)
        else:
            kind = CalendarDayKind.HOLIDAY if action == "holidays" else CalendarDayKind.WORKDAY
            self._override(org, kind, options)

    @staticmethod
    def _org(code: str | None) -> Organization | None:
        if not code:
            return None
        org = Organization.objects.filter(code=code).first()
        if org is None:
            raise CommandError(f"no organisation with code {code!r}")
        return org

    @staticmethod
    def _calendar(org: Organization | None) -> BusinessCalendar:
        if org is None:
            if "policy_calendarday" not in connection.introspection.table_names():
                # A fresh data directory (not migrated yet): the statutory calendar alone.
                return BusinessCalendar()
            return calendar_for(organization_id=None)
        return calendar_for(organization_id=org.pk, policy_version=current_policy(org))

    def _add(self, org: Organization | None, options: dict[str, Any]) -> str:
        unit = UNIT_ALIASES.get(options["unit"], options["unit"])
        if unit not in UNITS:
            raise CommandError(f"unknown unit {options['unit']!r} (expected one of {', '.join(UNITS)})")
        if options["amount"] < 0:
            raise CommandError("the amount cannot be negative")
        start, _has_time = _start(options["start"])
        result = self._calendar(org).add(
            start, options["amount"], unit, start_rule=options["start_rule"], roll=options["roll"]
        )
        if unit in ("days", "workdays"):
            return result.date().isoformat()
        return timezone.localtime(result).isoformat()

    def _override(self, org: Organization | None, kind: str, options: dict[str, Any]) -> None:
        verb = options["verb"]
        if verb == "list":
            self._list(org, options.get("year"), kind)
            return
        day = _date(options["day"])
        try:
            if verb == "add":
                row = calendar_day_add(
                    actor=None,
                    organization=org,
                    day=day,
                    kind=kind,
                    name=options["name"],
                    replace=options["replace"],
                )
                self.stdout.write(f"{row.date.isoformat()} {row.kind} {row.name}")
            elif not calendar_day_remove(actor=None, organization=org, day=day):
                raise CommandError(f"no override on {day.isoformat()}")
            else:
                self.stdout.write(f"{day.isoformat()} removed")
        except ApplicationError as exc:
            raise CommandError(str(exc.message)) from exc

    def _list(self, org: Organization | None, year: int | None, kind: str | None) -> None:
        """With --org: that organisation's overrides and the global ones; without: all."""
        for row in calendar_days(organization=org, year=year, every_organization=org is None):
            if kind and row.kind != kind:
                continue
            scope = row.organization.code if row.organization is not None else "*"
            self.stdout.write(f"{row.date.isoformat()}\t{row.kind}\t{row.name}\t{scope}")
