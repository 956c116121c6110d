"""The audit trail's proof (F82).

    huiyin audit verify [--no-record]    every case's event chain, against the audit key and
                                         every anchor; lists the broken cases, records them for
                                         the ledger's badge, exits 1 when anything is wrong
    huiyin audit anchor [--lag SECONDS]  append the heads of recently changed cases to the
                                         anchor log now (the sweeper does this every minute)

Run ``verify`` from a timer (nightly, say) and watch its exit status.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from huiyin.cases import audit
from huiyin.cases.models import Case, ChainBreakReason


class Command(BaseCommand):
    help = "Verify the case event chains and the anchor log, or anchor chain heads now."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="verify every chain; exit 1 when any is broken")
        verify.add_argument(
            "--no-record", action="store_true", help="do not record the broken cases for the ledger's badge"
        )
        anchor = sub.add_parser("anchor", help="anchor the heads of recently changed cases now")
        anchor.add_argument(
            "--lag", type=float, default=None, help="leave events younger than this many seconds (default: settings)"
        )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "anchor":
            lag = options["lag"]
            run = audit.anchor(lag=None if lag is None else timedelta(seconds=lag))
            self.stdout.write(f"anchored {run.anchored} case(s) up to event {run.upto}")
            self._list_broken(run.broken)
            if run.broken:
                raise CommandError(f"{len(run.broken)} case(s) with a broken chain were not anchored", returncode=1)
            return
        report = audit.verify_all(record=not options["no_record"])
        log = report.log
        if not log.exists:
            self.stdout.write(
                f"WARNING: no anchor log at {report.log_path}: removed last events cannot be detected "
                "(the sweeper or `huiyin audit anchor` writes it)"
            )
        for problem in log.problems:
            self.stdout.write(f"anchor log {report.log_path}: {problem}")
        self._list_broken(report.broken)
        self.stdout.write(
            f"verified {report.cases} case(s), {report.events} event(s), "
            f"{len(log.anchors)} anchored case(s) in {log.lines} anchor line(s): "
            f"{len(report.broken)} broken, {len(log.problems)} anchor log problem(s)"
        )
        if not report.ok:
            raise CommandError("the audit trail does not verify", returncode=1)

    def _list_broken(self, broken: dict[int, str]) -> None:
        numbers = dict(Case.objects.filter(pk__in=list(broken)).values_list("pk", "number"))
        for case_id, reason in sorted(broken.items()):
            label = numbers.get(case_id, "(case row missing)")
            self.stdout.write(f"BROKEN case {case_id} {label}: {reason} ({ChainBreakReason(reason).label})")
