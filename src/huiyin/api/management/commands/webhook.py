"""``huiyin webhook add|list|log|redeliver``: receivers of signed case notifications."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import URLValidator
from django.db import transaction

from huiyin.api import services, webhooks
from huiyin.api.models import Webhook, WebhookDelivery
from huiyin.core.errors import ApplicationError, NotFound
from huiyin.orgs.models import Organization


class Command(BaseCommand):
    help = "Add or list webhook receivers, show the delivery log, send a delivery again."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        add = sub.add_parser("add")
        add.add_argument("--org", required=True)
        add.add_argument("--url", required=True)
        add.add_argument("--type", action="append", default=[], choices=webhooks.EVENT_TYPES)
        for verb in ("list", "log"):
            sub.add_parser(verb).add_argument("--org", required=True)
        again = sub.add_parser("redeliver")
        again.add_argument("--org", required=True)
        again.add_argument("delivery_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(code=options["org"]).first()
        if org is None:
            raise CommandError(f"no organisation {options['org']!r}")
        verb = options["verb"]
        if verb == "add":
            try:
                URLValidator(schemes=["http", "https"])(options["url"])
                hook, secret = services.webhook_create(
                    organization=org, url=options["url"], event_types=options["type"]
                )
            except (ValidationError, ApplicationError) as exc:
                raise CommandError("not an http(s) URL of at most 500 characters") from exc
            self.stdout.write(f"{secret}\n")
            self.stderr.write(f"webhook {hook.pk}: the secret above signs every delivery; it is not shown again")
        elif verb == "list":
            for hook in Webhook.objects.filter(organization=org).order_by("id"):
                state = "active" if hook.active else "disabled"
                self.stdout.write(f"{hook.pk}\t{hook.url}\t{','.join(hook.event_types) or '*'}\t{state}\n")
        elif verb == "log":
            rows = WebhookDelivery.objects.filter(webhook__organization=org).order_by("-id")[:100]
            for d in rows:
                self.stdout.write(
                    "\t".join(
                        str(v)
                        for v in (
                            d.pk,
                            d.webhook_id,
                            d.event_type,
                            d.status,
                            d.attempts,
                            d.response_code or "",
                            d.last_error,
                        )
                    )
                    + "\n"
                )
        else:
            try:
                with transaction.atomic():
                    webhooks.redeliver(organization_id=org.pk, delivery_id=options["delivery_id"])
            except NotFound as exc:
                raise CommandError("no such delivery") from exc
            except ApplicationError as exc:
                raise CommandError(str(exc.message)) from exc
            self.stdout.write("queued\n")
