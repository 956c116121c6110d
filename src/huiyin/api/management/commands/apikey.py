"""``huiyin apikey create|revoke|list``: API keys for external systems and staff tokens."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from huiyin.api import services
from huiyin.api.models import ApiKey
from huiyin.cases.actions import all_specs
from huiyin.core.errors import ApplicationError
from huiyin.orgs.models import ExternalSystem, Organization, Staff


class Command(BaseCommand):
    help = "Create, revoke or list API keys (the plain key is printed once, at creation)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create")
        create.add_argument("--org", required=True, help="organisation code")
        owner = create.add_mutually_exclusive_group(required=True)
        owner.add_argument("--system", help="external system code (created as an API system if new)")
        owner.add_argument("--staff", help="staff username: a staff token acting as them")
        create.add_argument("--name", required=True)
        create.add_argument(
            "--scope", action="append", default=[], help="read, register, contact, attach, pii, action:<name>, action:*"
        )
        create.add_argument("--department", action="append", type=int, default=[], help="limit to a department id")
        create.add_argument("--days", type=int, default=365)
        create.add_argument("--caps", default="", help="for a new system: capabilities, comma-separated")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("--org", required=True)
        revoke.add_argument("prefix")
        listing = sub.add_parser("list")
        listing.add_argument("--org", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(code=options["org"]).first()
        if org is None:
            raise CommandError(f"no organisation {options['org']!r}")
        try:
            getattr(self, f"_{options['verb']}")(org, options)
        except ApplicationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.field_errors().items())) from exc

    def _create(self, org: Organization, options: dict[str, Any]) -> None:
        system = staff = None
        if options["system"]:
            caps = [c for c in options["caps"].split(",") if c]
            system, _created = ExternalSystem.objects.get_or_create(
                organization=org,
                code=options["system"],
                defaults={"name": options["name"], "kind": ExternalSystem.Kind.API, "caps": caps},
            )
        else:
            staff = Staff.objects.filter(organization=org, username=options["staff"]).first()
            if staff is None:
                raise CommandError(f"no staff member {options['staff']!r} in {org.code}")
        key, plain = services.key_create(
            organization=org,
            name=options["name"],
            scopes=options["scope"],
            action_names=[spec.name for spec in all_specs()],
            system=system,
            staff=staff,
            days=options["days"],
            department_ids=options["department"],
        )
        self.stdout.write(f"{plain}\n")
        self.stderr.write(f"key {key.prefix} expires {key.expires_at:%Y-%m-%d}; the key is not shown again")

    def _revoke(self, org: Organization, options: dict[str, Any]) -> None:
        key = services.key_revoke(organization=org, prefix=options["prefix"])
        self.stdout.write(f"revoked {key.prefix}\n")

    def _list(self, org: Organization, options: dict[str, Any]) -> None:
        for key in ApiKey.objects.filter(organization=org).select_related("system", "staff").order_by("id"):
            owner = key.system.code if key.system else f"staff:{key.staff.username if key.staff else '?'}"
            state = "revoked" if key.revoked_at else "expired" if key.expired else "active"
            self.stdout.write(f"{key.prefix}\t{owner}\t{key.name}\t{','.join(key.scopes)}\t{state}\n")
