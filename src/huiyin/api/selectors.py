"""Reads for the API: the workbench's selectors, narrowed by the key's departments."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from huiyin.cases import selectors as case_selectors
from huiyin.cases.models import Attachment, Case
from huiyin.core.errors import NotFound
from huiyin.handling.models import Document
from huiyin.orgs.actors import Actor, ExternalActor

from .models import ApiKey


def key_scope(qs: QuerySet[Case], actor: Actor, key: ApiKey | None) -> QuerySet[Case]:
    """A key limited to some departments sees the cases they lead (and a system's own)."""
    if key is None:
        return qs
    ids = [d.pk for d in key.departments.all()]
    if not ids:
        return qs
    scope = Q(lead_department_id__in=ids)
    if isinstance(actor, ExternalActor):
        scope |= Q(submitter_system_id=actor.system.pk)
    return qs.filter(scope)


def case_list(*, actor: Actor, key: ApiKey | None, filters: case_selectors.LedgerFilters) -> QuerySet[Case]:
    return key_scope(case_selectors.ledger(actor=actor, filters=filters), actor, key)  # type: ignore[arg-type]


def case_get(*, actor: Actor, key: ApiKey | None, case_id: int) -> Case:
    """The case as the workbench's ``case_get_for_actor`` gives it (404 elsewhere, 403 out of
    the actor's scope); outside the key's departments it is not there (404)."""
    case = case_selectors.case_get_for_actor(actor=actor, case_id=case_id)  # type: ignore[arg-type]
    if key is not None and not key_scope(Case.objects.filter(pk=case.pk), actor, key).exists():
        raise NotFound()
    return case


def attachment_get(*, actor: Actor, key: ApiKey | None, attachment_id: int) -> Attachment:
    attachment = Attachment.objects.filter(pk=attachment_id, case__organization_id=actor.org_id).first()
    if attachment is None:
        raise NotFound()
    case_get(actor=actor, key=key, case_id=attachment.case_id)
    return attachment


def documents_of(case: Case) -> QuerySet[Document]:
    return Document.objects.filter(case=case).select_related("to_party").order_by("created_at", "id")


def document_get(*, actor: Actor, key: ApiKey | None, document_id: int) -> Document:
    """A document on a case the actor may read (the workbench's check); elsewhere 404."""
    document = (
        Document.objects.select_related("case__organization", "to_party")
        .filter(pk=document_id, case__organization_id=actor.org_id)
        .first()
    )
    if document is None:
        raise NotFound()
    case_get(actor=actor, key=key, case_id=document.case_id)
    return document


# --- cursor pagination on the ledger's order (received_at, id), newest first ----------------------------


def encode_cursor(case: Case) -> str:
    return base64.urlsafe_b64encode(f"{case.received_at.isoformat()}|{case.pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _sep, pk = raw.rpartition("|")
        moment = parse_datetime(when)
        number = int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if moment is None or not 0 < number < 2**62:
        return None
    return moment, number


def after_cursor(qs: QuerySet[Case], position: tuple[datetime, int]) -> QuerySet[Case]:
    moment, pk = position
    return qs.filter(Q(received_at__lt=moment) | Q(received_at=moment, pk__lt=pk))
