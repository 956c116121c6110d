"""``huiyin retention apply [--dry-run] [--as-of DATE] [--organization CODE]``.

Erases the personal data of cases past their organisation's retention period (the
running preset's ``retention`` section; see ``huiyin.cases.retention``). ``--dry-run``
counts without changing anything; ``--as-of`` evaluates the rule as if it were that
day (to see what a period will erase). Prints counts only, never personal data.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from huiyin.cases.retention import retention_apply, summary
from huiyin.orgs.models import Organization


class Command(BaseCommand):
    help = "Apply the presets' retention rules: erase personal data of cases past their period (F81)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        apply = sub.add_parser("apply", help="erase personal data past the retention period")
        apply.add_argument("--dry-run", action="store_true", help="count what would be erased; change nothing")
        apply.add_argument("--as-of", help="evaluate as if today were this date (YYYY-MM-DD)")
        apply.add_argument("--organization", help="only this organisation (its code)")
        apply.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args, action: str, dry_run: bool, as_of: str | None, organization: str | None, **options):
        now = timezone.now()
        if as_of:
            try:
                day = date.fromisoformat(as_of)
            except ValueError as exc:
                raise CommandError(f"--as-of: not a date written YYYY-MM-DD: {as_of!r}") from exc
            now = timezone.make_aware(datetime.combine(day, time.max))
        orgs = Organization.objects.order_by("pk")
        if organization:
            orgs = orgs.filter(code=organization)
            if not orgs.exists():
                raise CommandError(f"no organisation with the code {organization!r}")
        reports, messages = retention_apply(now=now, dry_run=dry_run, organizations=orgs)
        if options["json"]:
            out = {"dry_run": dry_run, "as_of": now.isoformat(), "organizations": [summary(r) for r in reports]}
            self.stdout.write(json.dumps({**out, "outbound_messages": messages}, ensure_ascii=False, indent=2))
            return
        verb = "would erase" if dry_run else "erased"
        for r in reports:
            if r.rule is None:
                self.stdout.write(f"{r.organization.code}: no retention rule in the running policy; nothing {verb}")
                continue
            assert r.cutoff is not None
            others = "".join(f", {n}: {c}" for n, c in r.others.items())
            self.stdout.write(
                f"{r.organization.code}: keep {r.rule.keep_for} {r.rule.unit} "
                f"(cases finished before {timezone.localtime(r.cutoff):%Y-%m-%d %H:%M}): {r.cases} cases; "
                f"{verb} {r.parties_erased} parties ({r.parties_kept} kept: also on a case within its period), "
                f"{r.attachments_deleted} attachment files ({r.attachments_kept} kept by the rule){others}"
            )
        self.stdout.write(f"outbound messages: {verb} {messages}")
        if dry_run:
            self.stdout.write("dry run: nothing changed")
