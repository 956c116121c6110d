"""What the API reads and writes: plain serializers over the services' inputs and the models."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from dataclasses import MISSING, fields
from datetime import datetime
from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import serializers

from huiyin.cases import bus
from huiyin.cases.actions import all_specs
from huiyin.cases.forms import KWARG_OF, ActionForm
from huiyin.cases.models import Attachment, Case, Category, Channel, Contact, Event, Nature, Party, Urgency
from huiyin.cases.workflow import CaseState, state_label
from huiyin.deadlines.basis import calendar_note, rule_basis
from huiyin.deadlines.models import STAGE_LABELS, ClockState
from huiyin.deadlines.selectors import ClockView
from huiyin.handling.documents import salutation
from huiyin.handling.models import Document, DocumentKind, DocumentStatus
from huiyin.orgs.actors import ActorKind
from huiyin.orgs.models import Department

from .errors import ApiError


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know (a typo is an error, not a silently ignored value)."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            known = set(self.fields)
            unknown = sorted({str(k).split(".")[0].split("[")[0] for k in data} - known)
            if unknown:
                raise serializers.ValidationError(
                    {name: [_("未知字段。")] for name in unknown}, code=ApiError.UNKNOWN_FIELD
                )
        return super().to_internal_value(data)


def _text(max_length: int | None = None, **kw: Any) -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, default="", max_length=max_length, **kw)


class PartyIn(StrictSerializer):
    name = _text(60)
    phone = _text(30)
    id_number = _text(30)
    address = _text(200)
    affiliation = _text(120)
    anonymous = serializers.BooleanField(required=False, default=False)


def _choice(choices: Any, **kw: Any) -> serializers.ChoiceField:
    """An enum in the OpenAPI document (the model's choices), refused with 400 when another value comes."""
    return serializers.ChoiceField(choices=choices, **kw)


class CaseIn(StrictSerializer):
    channel = _choice(Channel.choices)
    nature = _choice(Nature.choices)
    title = _text(120)
    text = serializers.CharField(max_length=settings.HUIYIN_TEXT_MAX_CHARS)
    party = PartyIn(required=False)
    category_id = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=2**62)
    urgency = _choice(Urgency.choices, required=False, default=Urgency.NORMAL)
    location = _text(200)
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    group_size = serializers.IntegerField(required=False, default=1, min_value=1, max_value=10_000)
    representatives = PartyIn(many=True, required=False)
    forwarded_by = _text(120)
    forwarded_ref = _text(60)
    complainant_kind = _text(
        20,
        help_text="Who the complainant is, where the organisation's policy has kinds of complainant "
        "(the hospital: outpatient or inpatient, each received by its own office); a case of such a "
        "policy is dispatched only once its kind is known. Refused under a policy without kinds.",
    )
    new_matter = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The caller already has an open case registered today and this is a new matter "
        "(otherwise a same-day repeat call is refused: add it to that case as a contact).",
    )


class ContactIn(StrictSerializer):
    channel = _choice(Channel.choices)
    text = serializers.CharField(max_length=settings.HUIYIN_TEXT_MAX_CHARS)


class AttachmentIn(StrictSerializer):
    file = serializers.FileField(allow_empty_file=False)


class Ref(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PartyOut(serializers.Serializer):
    """Masked unless the full view was asked for and allowed (and logged)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    phone = serializers.CharField()
    id_number = serializers.CharField()
    address = serializers.CharField()
    anonymous = serializers.BooleanField()
    masked = serializers.BooleanField()


def party_out(party: Party | None, revealed: dict[str, dict[str, str]] | None) -> dict[str, Any] | None:
    if party is None:
        return None
    full = (revealed or {}).get(str(party.pk))
    if full is not None and party.erased_at is None:
        return {**full, "id": party.pk, "anonymous": party.anonymous, "masked": False}
    return {
        "id": party.pk,
        "name": party.display_name,
        "phone": party.masked_phone,
        "id_number": party.masked_id_number,
        "address": party.masked_address,
        "anonymous": party.anonymous,
        "masked": True,
    }


class CaseOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    channel = _choice(Channel.choices)
    nature = _choice(Nature.choices)
    urgency = _choice(Urgency.choices)
    title = serializers.CharField()
    text = serializers.CharField()
    location = serializers.CharField()
    state = _choice(CaseState.choices)
    state_label = serializers.CharField()
    received_at = serializers.DateTimeField()
    registered_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()
    category = Ref(allow_null=True)
    lead_department = Ref(allow_null=True)
    complainant_kind = serializers.CharField(help_text='"" when not recorded or the policy has no kinds.')
    submitter_kind = _choice(ActorKind.choices)
    party = PartyOut(allow_null=True)


def _ref(obj: Any, attr: str = "name") -> dict[str, Any] | None:
    return {"id": obj.pk, "name": getattr(obj, attr)} if obj is not None else None


def case_out(case: Case, revealed: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "id": case.pk,
        "number": case.number,
        "channel": case.channel,
        "nature": case.nature,
        "urgency": case.urgency,
        "title": case.title,
        "text": case.text,
        "location": case.location,
        "state": case.state,
        "state_label": str(state_label(case.state)),
        "received_at": case.received_at,
        "registered_at": case.registered_at,
        "closed_at": case.closed_at,
        "version": case.version,
        "category": _ref(case.category, "full_name") if case.category_id else None,
        "lead_department": _ref(case.lead_department) if case.lead_department_id else None,
        "complainant_kind": case.complainant_kind,
        "submitter_kind": case.submitter_kind,
        "party": party_out(case.party, revealed),
    }


class CaseCreated(CaseOut):
    query_code = serializers.CharField(help_text="The complainant's query code, shown once.")


class CasePage(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    results = CaseOut(many=True)


PAGE_DEFAULT, PAGE_LIMIT = 30, 100  # a list's page: its default and largest size


class CaseSearchIn(StrictSerializer):
    """The case list's filters in a request body: a keyword is often a caller's name or
    number, which a URL would carry into access logs, proxies and the client's history."""

    q = _text(help_text="keyword (full text) or a case number")
    channel = _choice(Channel.choices, required=False)
    nature = _choice(Nature.choices, required=False)
    urgency = _choice(Urgency.choices, required=False)
    state = _choice(["open", *CaseState.values], required=False)
    category_id = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=2**62)
    department_id = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=2**62
    )
    date_from = serializers.DateField(required=False, allow_null=True, default=None)
    date_to = serializers.DateField(required=False, allow_null=True, default=None)
    cursor = _text(200, help_text="the previous answer's next_cursor")
    limit = serializers.IntegerField(required=False, default=PAGE_DEFAULT, min_value=1, max_value=PAGE_LIMIT)


class CaseSearchPage(serializers.Serializer):
    next_cursor = serializers.CharField(
        allow_null=True, help_text="send it as `cursor` with the same filters for the next page"
    )
    results = CaseOut(many=True)


class EventOut(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    kind = _choice(sorted(bus.table().kinds), help_text="the event kinds every app registers")
    kind_label = serializers.CharField()
    actor = serializers.CharField()
    actor_kind = _choice(["", *ActorKind.values], help_text="empty: the system itself (the sweeper)")
    data = serializers.DictField()


def event_out(event: Event) -> dict[str, Any]:
    return {
        "id": event.pk,
        "at": event.at,
        "kind": event.kind,
        "kind_label": str(event.kind_label),
        "actor": event.actor_label,
        "actor_kind": event.actor_kind or ("staff" if event.actor_id else ""),
        "data": event.data,
    }


class DeadlineOut(serializers.Serializer):
    stage = serializers.CharField(help_text="the preset's deadline stage (acceptance, reply, overall…)")
    stage_label = serializers.CharField()
    label = serializers.CharField(help_text="the preset's own name for this limit")
    state = _choice(ClockState.choices)
    state_label = serializers.CharField()
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    overdue = serializers.BooleanField()
    extensions_granted = serializers.IntegerField()
    pending_extension = serializers.BooleanField()
    basis = serializers.CharField(help_text="how the limit is counted and the rule it comes from")
    calendar_note = serializers.CharField(
        help_text='"" unless the count runs through a year the holiday calendar does not know'
    )


def deadline_out(case: Case, view: ClockView) -> dict[str, Any]:
    return {
        "stage": view.stage,
        "stage_label": str(STAGE_LABELS.get(view.stage, view.stage)),
        "label": view.label,
        "state": view.state,
        "state_label": str(ClockState(view.state).label),
        "started_at": view.started_at,
        "due_at": view.due_at,
        "overdue": view.overdue,
        "extensions_granted": view.clock.generation,
        "pending_extension": view.pending_extension,
        "basis": rule_basis(view.clock.rule),
        "calendar_note": calendar_note(case, view),
    }


class ContactOut(serializers.Serializer):
    id = serializers.IntegerField()
    channel = _choice(Channel.choices)
    occurred_at = serializers.DateTimeField()
    text = serializers.CharField()
    is_initial = serializers.BooleanField()


def contact_out(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "channel": contact.channel,
        "occurred_at": contact.occurred_at,
        "text": contact.text,
        "is_initial": contact.is_initial,
    }


class AttachmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()
    erased = serializers.BooleanField()


def attachment_out(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "name": attachment.original_name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "uploaded_at": attachment.uploaded_at,
        "erased": attachment.erased_at is not None,
    }


class DocumentOut(serializers.Serializer):
    """A printed letter or form on the case (文书); the addressee masked as on the workbench's page."""

    id = serializers.IntegerField()
    kind = _choice(DocumentKind.choices)
    kind_label = serializers.CharField()
    number = serializers.CharField()
    title = serializers.CharField()
    addressee = serializers.CharField()
    status = _choice(DocumentStatus.choices)
    created_at = serializers.DateTimeField()
    approved_at = serializers.DateTimeField(allow_null=True)
    sent_at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField(help_text="the PDF (GET; ?full=true names the complainant in full, scope pii)")


def document_out(document: Document, url: str) -> dict[str, Any]:
    return {
        "id": document.pk,
        "kind": document.kind,
        "kind_label": str(document.get_kind_display()),
        "number": document.number,
        "title": document.title,
        "addressee": salutation(document, full=False),
        "status": document.status,
        "created_at": document.created_at,
        "approved_at": document.approved_at,
        "sent_at": document.sent_at,
        "url": url,
    }


class CategoryOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    full_name = serializers.CharField()
    parent_id = serializers.IntegerField(allow_null=True)


def category_out(category: Category) -> dict[str, Any]:
    return {"id": category.pk, "name": category.name, "full_name": category.full_name, "parent_id": category.parent_id}


class DepartmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    parent_id = serializers.IntegerField(allow_null=True)
    handles_cases = serializers.BooleanField()


def department_out(department: Department) -> dict[str, Any]:
    return {
        "id": department.pk,
        "code": department.code,
        "name": department.name,
        "parent_id": department.parent_id,
        "handles_cases": department.handles_cases,
    }


class AllowedActionOut(serializers.Serializer):
    name = _choice(sorted(spec.name for spec in all_specs()))
    label = serializers.CharField()
    to = _choice(CaseState.choices)
    url = serializers.CharField()


# --- action inputs, generated from the registry's dataclasses ---------------------------------------------


def _form_choices(form_fields: tuple[str, ...]) -> dict[str, list[str]]:
    """The fixed lists the workbench's action form offers (reply method, satisfaction, outcome,
    review decision), keyed by the service's argument: the API's enums are the same values."""
    form = ActionForm(organization_id=0)
    found: dict[str, list[str]] = {}
    for name in form_fields:
        field = form.fields.get(name)
        if type(field) is forms.ChoiceField and field.choices:
            choices = cast(Iterable[tuple[Any, Any]], field.choices)
            found[KWARG_OF.get(name, name)] = [str(value) for value, _label in choices]
    return found


def _field_for(annotation: Any, default: Any, choices: list[str] | None = None) -> serializers.Field:
    optional = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        annotation = args[0]
        origin = typing.get_origin(annotation)
    kw: dict[str, Any] = {"required": False}
    if default is not MISSING:
        kw["default"] = list(default) if isinstance(default, tuple) else default
    if optional:
        kw["allow_null"] = True
    if annotation is bool:
        return serializers.BooleanField(**kw)
    if annotation is int:
        return serializers.IntegerField(min_value=0, max_value=2**62, **kw)
    if annotation is datetime:
        return serializers.DateTimeField(**kw)
    if origin in (tuple, list):
        return serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**62), max_length=100, **kw)
    if choices:
        return serializers.ChoiceField(choices=choices, allow_blank="" in choices, **kw)
    return serializers.CharField(allow_blank=True, max_length=settings.HUIYIN_TEXT_MAX_CHARS, **kw)


def action_serializer(name: str, input_type: type, form_fields: tuple[str, ...] = ()) -> type[StrictSerializer]:
    """A serializer of the action's typed input, plus ``version`` (the case version the client saw)."""
    hints = typing.get_type_hints(input_type)
    choices = _form_choices(form_fields)
    attrs: dict[str, Any] = {
        f.name: _field_for(hints[f.name], f.default if f.default is not MISSING else MISSING, choices.get(f.name))
        for f in fields(input_type)
    }
    attrs["version"] = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=2**31,
        help_text="The case version the client last read; a different one is refused with 409.",
    )
    class_name = "".join(part.title() for part in name.split("_")) + "ActionIn"
    return type(class_name, (StrictSerializer,), attrs)
