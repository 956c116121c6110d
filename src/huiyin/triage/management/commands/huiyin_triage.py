"""``huiyin triage train | evaluate | rollback | status``.

    huiyin triage train [--data FILE.csv ...] [--org CODE]
        Train from the files (columns ``label`` and ``text``, or ``text_seg``, or ``title`` +
        ``detail``), or from the organisation's own closed cases when no file is given.
        The new model goes into service only if it is not worse than the current one on a
        held-back fifth of the data.
    huiyin triage evaluate --data FILE.csv [--org CODE]
        The model in service on the file: one JSON line (macro_f1, accuracy, n, ms_per_case).
    huiyin triage rollback [--to VERSION] [--org CODE]
    huiyin triage status [--org CODE]
    huiyin triage index [--org CODE]
        The text bands repeat detection finds similar cases by, for cases registered before
        (new cases get theirs as they are registered).
    huiyin triage hot [--rebuild] [--org CODE]
        Hot issues: put the cases that have no cluster yet in theirs (the event bus does it
        for new and edited cases); with --rebuild every cluster is made again from scratch.

``--org`` may be left out when there is one organisation. Bad input (missing columns,
unknown labels, one class only) is refused with a message; the model in service stays.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from huiyin.core.errors import ApplicationError
from huiyin.orgs.models import Organization
from huiyin.triage import hot
from huiyin.triage.models import TriageModel
from huiyin.triage.repeats import index_all
from huiyin.triage.services import evaluate, rollback, train
from huiyin.triage.suggest import availability


def _cases_done(done: int, total: int) -> None:
    sys.stderr.write(f"[triage] {done}/{total} cases\n")


def _organization(code: str | None) -> Organization:
    if code:
        org = Organization.objects.filter(code=code).first()
        if org is None:
            raise CommandError(f"no organisation with the code {code!r}")
        return org
    orgs = list(Organization.objects.order_by("pk")[:2])
    if len(orgs) != 1:
        raise CommandError("say which organisation: --org CODE" if orgs else "no organisation yet (huiyin init)")
    return orgs[0]


class Command(BaseCommand):
    help = "Triage: train, evaluate and roll back the routing model (F12)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (
            ("train", "train a new model"),
            ("evaluate", "measure the model in service on a file"),
            ("rollback", "put the previous model back"),
            ("status", "the models and which is in service"),
            ("index", "text bands of older cases, for repeat detection"),
            ("hot", "hot-issue clusters: catch up, or --rebuild from scratch"),
        ):
            p = sub.add_parser(name, help=text)
            p.add_argument("--org", dest="org", help="organisation code")
            if name in ("train", "evaluate"):
                p.add_argument("--data", action="append", default=[], help="a CSV file (repeatable)")
            if name == "hot":
                p.add_argument("--rebuild", action="store_true", help="drop the clusters and make them again")
            if name == "rollback":
                p.add_argument("--to", type=int, dest="to", help="the version to put back")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        org = _organization(options.get("org"))
        try:
            if action == "train":
                self._train(org, options["data"])
            elif action == "evaluate":
                if not options["data"]:
                    raise CommandError("evaluate needs --data FILE.csv")
                self.stdout.write(json.dumps(evaluate(org, options["data"]), ensure_ascii=False))
            elif action == "index":
                done = index_all(org.pk, progress=lambda d, t: sys.stderr.write(f"[triage] {d}/{t} cases\n"))
                self.stdout.write(f"{done} cases indexed")
            elif action == "hot":
                if options.get("rebuild"):
                    done = hot.rebuild(org.pk, progress=_cases_done)
                    self.stdout.write(f"{done} cases clustered again")
                else:
                    self.stdout.write(f"{hot.catch_up(org.pk)} cases clustered")
            elif action == "rollback":
                row = rollback(org, to_version=options.get("to"))
                self.stdout.write(f"model v{row.version} back in service")
            else:
                self._status(org)
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} (the model in service is unchanged)") from exc

    def _train(self, org: Organization, files: list[str]) -> None:
        def progress(message: str) -> None:
            sys.stderr.write(f"[triage] {message}\n")
            sys.stderr.flush()

        result = train(org, files, progress=progress)
        verdict = "in service" if result.promoted else "not put into service"
        self.stdout.write(
            json.dumps({"version": result.model.version, "status": verdict, **result.metrics}, ensure_ascii=False)
        )

    def _status(self, org: Organization) -> None:
        status, notice, _row = availability(org.pk)
        self.stdout.write(f"triage for {org.code}: {status}{' — ' + notice if notice else ''}")
        for m in TriageModel.objects.filter(organization=org).order_by("-version")[:20]:
            self.stdout.write(
                f"v{m.version}\t{m.status}\t{m.created_at:%Y-%m-%d %H:%M}\tmacro_f1={m.metrics.get('macro_f1', '-')}"
                f"\trows={m.summary.get('rows', '-')}\t{m.note}"
            )
