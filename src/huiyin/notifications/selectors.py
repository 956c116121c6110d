"""Reads of notifications and the e-mail channel, with the permission check built in."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from huiyin.cases.models import Case
from huiyin.core.errors import NotFound, PermissionDeniedError
from huiyin.orgs.models import Staff

from . import permissions, rendering
from .models import ChannelSwitch, InboundMail, MailStatus, Message, MessageTemplate, StaffContact
from .purposes import LANGUAGES, SPECS, Purpose

CASE_MESSAGES_SHOWN = 50


def case_messages(*, actor: Staff, case: Case) -> list[Message] | None:
    """What the case told whom, newest first (None: the actor may not see it)."""
    if not permissions.may_see_messages(actor, case):
        return None
    return list(
        Message.objects.filter(case=case)
        .only(
            "pk",
            "purpose",
            "medium",
            "audience",
            "recipient_masked",
            "status",
            "reason",
            "attempts",
            "created_at",
            "sent_at",
            "subject",
            "shown_body",
        )
        .order_by("-created_at", "-id")[:CASE_MESSAGES_SHOWN]
    )


@dataclass(frozen=True)
class TemplateRow:
    purpose: str
    label: str
    audience: str
    medium: str
    enabled: bool
    own_languages: tuple[str, ...]


def template_rows(*, actor: Staff) -> list[TemplateRow]:
    if not permissions.may_edit_templates(actor):
        raise PermissionDeniedError()
    org_id = actor.org_id
    switches = {(s.purpose, s.medium): s.enabled for s in ChannelSwitch.objects.filter(organization_id=org_id)}
    own: dict[tuple[str, str], list[str]] = {}
    for purpose, medium, language in MessageTemplate.objects.filter(organization_id=org_id).values_list(
        "purpose", "medium", "language"
    ):
        own.setdefault((purpose, medium), []).append(language)
    rows = []
    for purpose, label in Purpose.choices:
        spec = SPECS[purpose]
        for medium in spec.media:
            rows.append(
                TemplateRow(
                    purpose=purpose,
                    label=str(label),
                    audience=spec.audience,
                    medium=medium,
                    enabled=switches.get((purpose, medium), spec.on_by_default),
                    own_languages=tuple(sorted(own.get((purpose, medium), []))),
                )
            )
    return rows


def template_text(*, actor: Staff, purpose: str, medium: str, language: str) -> tuple[rendering.Text, bool]:
    if not permissions.may_edit_templates(actor):
        raise PermissionDeniedError()
    if purpose not in SPECS or medium not in SPECS[purpose].media or language not in dict(LANGUAGES):
        raise NotFound()
    return rendering.template_for(actor.org_id, purpose, medium, language)


def parked_mail(*, actor: Staff) -> QuerySet[InboundMail]:
    if not permissions.may_handle_mail(actor):
        raise PermissionDeniedError()
    return InboundMail.objects.filter(organization_id=actor.org_id, status=MailStatus.PARKED).order_by(
        "-received_at", "-id"
    )


def recent_mail(*, actor: Staff, limit: int = 20) -> list[InboundMail]:
    """The last mail taken in, whatever became of it (the parked-mail page's history)."""
    if not permissions.may_handle_mail(actor):
        raise PermissionDeniedError()
    return list(
        InboundMail.objects.filter(organization_id=actor.org_id)
        .exclude(status=MailStatus.PARKED)
        .select_related("case")
        .order_by("-received_at", "-id")[:limit]
    )


def mail_get(*, actor: Staff, mail_id: int) -> InboundMail:
    if not permissions.may_handle_mail(actor):
        raise PermissionDeniedError()
    mail = InboundMail.objects.filter(pk=mail_id, organization_id=actor.org_id).first()
    if mail is None:
        raise NotFound()
    return mail


def own_contact(*, actor: Staff) -> StaffContact | None:
    if not permissions.may_set_own_contact(actor):
        raise PermissionDeniedError()
    return StaffContact.objects.filter(staff=actor).first()
