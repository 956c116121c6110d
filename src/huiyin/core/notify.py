"""Notifications: desk entries for staff, SMS to complainants through a pluggable
gateway backend (the real SMS gateway is outside; the default writes to a file)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .privacy import mask_phone

log = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, *, phone: str, body: str, key: str) -> None: ...


class FileSmsBackend:
    """Appends one JSON line per message to <data dir>/outbox/sms.jsonl."""

    def send(self, *, phone: str, body: str, key: str) -> None:
        outbox = Path(settings.DATA_DIR) / "outbox"
        outbox.mkdir(parents=True, exist_ok=True)
        with (outbox / "sms.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"key": key, "phone": phone, "body": body}, ensure_ascii=False) + "\n")


class ConsoleSmsBackend:
    def send(self, *, phone: str, body: str, key: str) -> None:
        log.info("SMS to %s: %s", mask_phone(phone), body)  # never the full number in logs


def sms_backend() -> SmsBackend:
    path = getattr(settings, "HUIYIN_SMS_BACKEND", "huiyin.core.notify.FileSmsBackend")
    return import_string(path)()


def send_sms_once(*, phone: str, body: str, key: str) -> bool:
    from .models import OutboundMessage

    try:
        with transaction.atomic():
            OutboundMessage.objects.create(key=key, channel="sms", recipient=phone, body=body)
    except IntegrityError:
        return False  # already sent by an earlier run of the task
    sms_backend().send(phone=phone, body=body, key=key)
    return True


def desk_notify(*, recipients, case, key: str, text: str) -> None:
    from .models import Notification

    for staff in recipients:
        Notification.objects.get_or_create(recipient=staff, key=key, defaults={"case": case, "text": text[:300]})


def notify_for_event(event_id: int) -> None:
    from huiyin.cases.models import Event, EventKind
    from huiyin.orgs.models import Staff

    event = Event.objects.select_related("case", "case__party").filter(pk=event_id).first()
    if event is None:
        return
    case = event.case
    key = f"event:{event.pk}"
    texting = case.organization.notify_complainants and case.party and case.party.phone.startswith("1")
    if event.kind == EventKind.REGISTERED and texting:
        body = _("【%(org)s】您反映的问题已登记，编号%(number)s，请凭受理凭证上的查询码查询办理进度。") % {
            "org": case.organization.name,
            "number": case.number,
        }
        send_sms_once(phone=case.party.phone, body=body, key=key)
    action = event.data.get("action")
    if action == "dispatch":
        department_staff = Staff.objects.filter(department_id=case.lead_department_id, is_active=True)
        recipients = [case.handler] if case.handler else [s for s in department_staff if s.is_dept_head]
        desk_notify(
            recipients=recipients,
            case=case,
            key=key,
            text=_("新派遣案件 %(number)s：%(title)s") % {"number": case.number, "title": case.title},
        )
    elif action in ("submit_for_approval",):
        approvers = [
            s
            for s in Staff.objects.filter(organization_id=case.organization_id, is_active=True)
            if s.can("approve") and (s.can("view_all") or s.department_id == case.lead_department_id)
        ]
        desk_notify(
            recipients=approvers,
            case=case,
            key=key,
            text=_("待审批：%(number)s %(title)s") % {"number": case.number, "title": case.title},
        )
