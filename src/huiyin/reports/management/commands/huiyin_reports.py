"""``huiyin reports rebuild [--organization CODE] | catchup | status``: the roll-ups."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from huiyin.orgs.models import Organization
from huiyin.reports import rollups
from huiyin.reports.models import CaseFact, DayAxis, DayRollup, RollupCursor


class Command(BaseCommand):
    help = "Roll-ups for the dashboard and reports: rebuild from the cases, catch up on events, status."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild", "catchup", "status"])
        parser.add_argument("--organization", help="rebuild one organisation (its code)")
        parser.add_argument("--batch", type=int, default=rollups.BATCH)

    def handle(self, *args, action: str, organization: str | None, batch: int, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        started = time.monotonic()
        if action == "rebuild":
            org_id = None
            if organization:
                org = Organization.objects.filter(code=organization).first()
                if org is None:
                    raise CommandError(f"no organisation with code {organization!r}")
                org_id = org.pk
            last = [0.0]

            def progress(done: int, total: int) -> None:
                if time.monotonic() - last[0] > 5 or done == total:
                    last[0] = time.monotonic()
                    self.stdout.write(f"  {done}/{total} cases")

            n = rollups.rebuild(organization_id=org_id, batch=batch, progress=progress)
            self.stdout.write(f"rebuilt from {n} cases in {time.monotonic() - started:.1f} s")
            n = rollups.catch_up(batch=batch)
            self.stdout.write(f"then caught up on {n} events")
        elif action == "catchup":
            n = rollups.catch_up(batch=batch)
            self.stdout.write(f"caught up on {n} events in {time.monotonic() - started:.1f} s")
        cursor = RollupCursor.objects.filter(name=rollups.CURSOR).first()
        self.stdout.write(
            f"cursor: event {cursor.last_event_id if cursor else 0}, "
            f"{len(cursor.gaps or {}) if cursor else 0} gaps; "
            f"{CaseFact.objects.count()} case facts, {DayRollup.objects.count()} day rows, "
            f"{DayAxis.objects.count()} axis rows"
        )
