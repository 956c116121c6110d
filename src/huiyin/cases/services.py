"""Writes to cases: registration, contacts, attachments and every lifecycle move.

Every function here is the one way to do its thing; views, commands, the demo
generator and (later) the API call them. Each runs in one transaction, locks
the case row before checking its state, writes its Event in the same
transaction and defers side effects with ``transaction.on_commit``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.core.errors import (
    DuplicateSubmission,
    InvalidTransition,
    PermissionDeniedError,
    StaleObject,
    ValidationFailed,
)
from huiyin.core.search import document
from huiyin.core.validators import checked_text
from huiyin.orgs.models import Department, Staff
from huiyin.orgs.roles import Cap

from . import validation
from .inputs import IntakeInput, PartyInput
from .models import (
    Attachment,
    Case,
    CaseRound,
    Category,
    Contact,
    Event,
    EventKind,
    Nature,
    Party,
)
from .permissions import check_can_edit as _check_can_edit
from .permissions import may_take
from .workflow import CaseState, Edge, Stage, find_edge, stages_with_defaults

QUERY_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


# --- events -----------------------------------------------------------------


def _event(case: Case, *, kind: str, actor: Staff | None, data: dict[str, Any]) -> Event:
    """Append an event to the case's hash chain. The caller holds the case row lock."""
    prev = Event.objects.filter(case=case).order_by("-id").values_list("hash", flat=True).first()
    # Store exactly what is hashed: the JSON round trip turns datetimes etc. into strings.
    data = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    event = Event(
        case=case, round=case.round, actor=actor, at=timezone.now(), kind=kind, data=data, prev_hash=prev or ""
    )
    event.hash = event.compute_hash()
    event.save()
    from huiyin.followup.hooks import on_case_event as plan_callbacks
    from huiyin.policy.hooks import on_case_event

    on_case_event(case=case, event=event)
    plan_callbacks(case=case, event=event)  # after the policy: it reads the callback clock
    return event


def case_record_event(case: Case, *, kind: str, actor: Staff | None, data: dict[str, Any]) -> Event:
    """Public form of ``_event`` for other apps (the policy engine's deadline steps,
    suspensions, extensions). The caller holds the case row lock, in its transaction."""
    return _event(case, kind=kind, actor=actor, data=data)


def _enqueue_notification(event: Event) -> None:
    from .tasks import notify_case_event_task

    transaction.on_commit(partial(notify_case_event_task.enqueue, event_id=event.pk))


# --- numbering and codes ----------------------------------------------------------


def next_case_number(*, organization_id: int, day) -> str:
    """Gapless per organisation and day: one atomic upsert whose row lock (PostgreSQL)
    or database write lock (SQLite, IMMEDIATE transactions) is held until commit, so a
    rolled-back registration also rolls back its number."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cases_casesequence (organization_id, day, last) VALUES (%s, %s, 1) "
            "ON CONFLICT (organization_id, day) DO UPDATE SET last = cases_casesequence.last + 1 "
            "RETURNING last",
            [organization_id, day],
        )
        (last,) = cursor.fetchone()
    return f"{day:%Y%m%d}-{last:05d}"


def query_code_hash(number: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{number}:{code.upper()}".encode(), hashlib.sha256).hexdigest()


def query_code_matches(case: Case, code: str) -> bool:
    return bool(case.query_code_hash) and hmac.compare_digest(case.query_code_hash, query_code_hash(case.number, code))


def _new_query_code() -> str:
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(8))


# --- parties ------------------------------------------------------------------------


def _party_for(org_id: int, data: PartyInput) -> Party | None:
    """Reuse the known caller with the same phone and name; otherwise a new party."""
    if data.anonymous and not data.phone:
        return Party.objects.create(organization_id=org_id, anonymous=True)
    if not (data.name or data.phone or data.id_number):
        return None
    if data.phone:
        # A caller who gives only the number is the person last known under it.
        known = Party.objects.filter(organization_id=org_id, phone=data.phone, anonymous=data.anonymous)
        existing = (known.filter(name=data.name) if data.name else known).order_by("-id").first()
        if existing:
            changed = [
                f
                for f in ("id_number", "address", "affiliation")
                if getattr(data, f) and getattr(existing, f) != getattr(data, f)
            ]
            for f in changed:
                setattr(existing, f, getattr(data, f))
            if changed:
                existing.save(update_fields=changed)
            return existing
    return Party.objects.create(
        organization_id=org_id,
        name=data.name,
        phone=data.phone,
        id_number=data.id_number.upper(),
        address=data.address,
        affiliation=data.affiliation,
        anonymous=data.anonymous,
    )


# --- registration ---------------------------------------------------------------------


def derive_title(text: str, limit: int = 30) -> str:
    """The first sentence of the text, so a clerk on the phone need not type a title."""
    first = re.split(r"[。！？!?\n]", (text or "").strip(), maxsplit=1)[0].strip()
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _require(actor: Staff, cap: str) -> None:
    if not actor.can(cap):
        raise PermissionDeniedError()


def _search_document(case: Case) -> str:
    return document(case.number, case.title, case.text, case.location)


def case_register(*, actor: Staff, data: IntakeInput) -> tuple[Case, str]:
    """Register a matter from any channel (F01/F02). Returns the case and its query code
    (shown once on the receipt; only its hash is stored)."""
    _require(actor, Cap.REGISTER)
    if not data.title.strip():
        data.title = derive_title(data.text)
    validation.validate_intake(data, organization_id=actor.organization_id)
    if data.intake_token:
        existing = Case.objects.filter(intake_token=data.intake_token).values_list("number", flat=True).first()
        if existing:
            raise DuplicateSubmission(existing)
    from huiyin.policy.services import policy_for_new_case

    now = timezone.now()
    code = _new_query_code()
    try:
        with transaction.atomic():
            org = actor.organization
            policy = policy_for_new_case(org)
            # Numbered in the ledger of the day the matter was received (a letter that
            # arrived yesterday joins yesterday's sequence), gapless either way.
            received_at = data.received_at or now
            number = next_case_number(organization_id=org.pk, day=timezone.localdate(received_at))
            party = _party_for(org.pk, data.party)
            case = Case.objects.create(
                organization=org,
                number=number,
                channel=data.channel,
                nature=data.nature,
                category_id=data.category_id,
                urgency=data.urgency,
                title=data.title.strip(),
                text=data.text.strip(),
                location=data.location.strip(),
                received_at=received_at,
                party=party,
                group_size=data.group_size,
                forwarded_by=data.forwarded_by,
                forwarded_ref=data.forwarded_ref,
                first_contact=actor,
                intake_token=data.intake_token or None,
                stage_switches=policy.stage_switches,
                policy_version=policy.version,
                query_code_hash=query_code_hash(number, code),
            )
            case.promised_due_at = policy.promised_due_at(case)
            case.search_document = _search_document(case)
            case.save(update_fields=["promised_due_at", "search_document"])
            reps = [p for p in (_party_for(org.pk, r) for r in data.representatives) if p]
            if reps:
                case.co_parties.set(reps)
            CaseRound.objects.create(case=case, number=1, started_at=now)
            Contact.objects.create(
                case=case,
                channel=data.channel,
                party=party,
                occurred_at=case.received_at,
                staff=actor,
                text=case.text,
                is_initial=True,
            )
            event = _event(
                case,
                kind=EventKind.REGISTERED,
                actor=actor,
                data={
                    "number": number,
                    "channel": data.channel,
                    "nature": data.nature,
                    "urgency": data.urgency,
                    "category_id": data.category_id,
                    "promised_due_at": case.promised_due_at,
                },
            )
            _enqueue_notification(event)
    except IntegrityError as exc:
        # Two submits of one form raced past the check above: the token constraint caught it.
        if data.intake_token and "intake_token" in str(exc):
            number = Case.objects.filter(intake_token=data.intake_token).values_list("number", flat=True).first()
            raise DuplicateSubmission(number or "") from exc
        raise
    return case, code


def contact_add(
    *,
    actor: Staff,
    case_id: int,
    channel: str,
    text: str,
    party: PartyInput | None = None,
    occurred_at: datetime | None = None,
    intake_token: str | None = None,
) -> Contact:
    """A repeat call / visit / letter about the same matter (F04): a contact on the case."""
    _require(actor, Cap.REGISTER)
    errors = validation.contact_errors(channel=channel, text=text, party=party)
    if errors:
        raise ValidationFailed(errors)
    if intake_token and Contact.objects.filter(intake_token=intake_token).exists():
        raise DuplicateSubmission(Case.objects.get(contacts__intake_token=intake_token).number)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id, organization_id=actor.organization_id)
        if case.state == CaseState.ARCHIVED:
            raise InvalidTransition(src=case.state, dst=case.state, reason=_("已归档的案件只读。"))
        contact_party = _party_for(case.organization_id, party) if party else case.party
        contact = Contact.objects.create(
            case=case,
            channel=channel,
            party=contact_party or case.party,
            occurred_at=occurred_at or timezone.now(),
            staff=actor,
            text=text.strip(),
            intake_token=intake_token or None,
        )
        case.version += 1
        case.save(update_fields=["version", "updated_at"])
        event = _event(
            case,
            kind=EventKind.CONTACT_ADDED,
            actor=actor,
            data={
                "contact_id": contact.pk,
                "channel": channel,
                "text": contact.text[:200],
            },
        )
        _enqueue_notification(event)
    return contact


def attachment_add(*, actor: Staff, case_id: int, upload: UploadedFile, contact_id: int | None = None) -> Attachment:
    errors = validation.attachment_errors(upload)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id, organization_id=actor.organization_id)
        from .selectors import case_visible_to

        if not case_visible_to(actor, case):
            raise PermissionDeniedError()
        if case.state == CaseState.ARCHIVED:
            raise InvalidTransition(src=case.state, dst=case.state, reason=_("已归档的案件只读。"))
        attachment = Attachment(
            case=case,
            contact_id=contact_id,
            original_name=upload.name[:255],
            content_type=getattr(upload, "content_type", "") or "",
            size=upload.size,
            uploaded_by=actor,
        )
        attachment.file.save(upload.name, upload, save=False)
        try:
            attachment.save()
            _event(
                case,
                kind=EventKind.ATTACHMENT_ADDED,
                actor=actor,
                data={
                    "attachment_id": attachment.pk,
                    "name": attachment.original_name,
                    "size": attachment.size,
                },
            )
        except Exception:
            # Nothing half-saved: the row rolls back, so the stored file goes too.
            attachment.file.delete(save=False)
            raise
    return attachment


def receipt_issue(*, actor: Staff, case_id: int) -> str:
    """Issue a new query code (the old one stops working) for a reprinted receipt."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id, organization_id=actor.organization_id)
        from .selectors import case_visible_to

        if not case_visible_to(actor, case):
            raise PermissionDeniedError()
        code = _new_query_code()
        case.query_code_hash = query_code_hash(case.number, code)
        case.save(update_fields=["query_code_hash", "updated_at"])
        _event(case, kind=EventKind.RECEIPT_ISSUED, actor=actor, data={"reissued": True})
    return code


def party_reveal(*, actor: Staff, case_id: int) -> dict[str, str]:
    """Full phone / ID number of the case's parties; only with the permission, always logged."""
    if not actor.can(Cap.VIEW_PII):
        raise PermissionDeniedError(_("您没有查看完整个人信息的权限。"))
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id, organization_id=actor.organization_id)
        from .selectors import case_visible_to

        if not case_visible_to(actor, case):
            raise PermissionDeniedError()
        parties = [p for p in [case.party, *case.co_parties.all()] if p]
        _event(case, kind=EventKind.PII_VIEWED, actor=actor, data={"party_ids": [p.pk for p in parties]})
    return {
        str(p.pk): {"name": p.name, "phone": p.phone, "id_number": p.id_number, "address": p.address} for p in parties
    }


def case_update(*, actor: Staff, case_id: int, expected_version: int, changes: dict[str, Any]) -> Case:
    """Edit registration details (category, urgency, title, text, location) with an
    optimistic lock: a stale form is refused, never silently overwrites."""
    allowed = {"category_id", "urgency", "title", "text", "location", "nature"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"fields not editable: {sorted(unknown)}")
    errors = validation.edit_errors(changes, organization_id=actor.organization_id)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id, organization_id=actor.organization_id)
        _check_can_edit(actor, case)
        if case.version != expected_version:
            raise StaleObject()
        before = {k: getattr(case, k) for k in changes}
        diff = {k: v for k, v in changes.items() if before[k] != v}
        if not diff:
            return case
        for key, value in diff.items():
            setattr(case, key, value)
        case.search_document = _search_document(case)
        case.version += 1
        case.save(update_fields=[*diff, "search_document", "version", "updated_at"])
        _event(
            case,
            kind=EventKind.UPDATED,
            actor=actor,
            data={
                "before": {k: before[k] for k in diff},
                "after": diff,
            },
        )
    return case


# --- lifecycle ----------------------------------------------------------------------------
#
# Each verb is one locking transition through ``_transition``. What a step produced
# beyond the state (who a case went to, the proposal and its signatures, the review) is
# written to the handling app's records in the same transaction (``huiyin.handling.records``).


def action_available(actor: Staff, case: Case, edge: Edge) -> bool:
    """Permission plus what the records say (whose signature is due, which review is next)."""
    if not may_take(actor, case, edge):
        return False
    from huiyin.handling import records

    return records.action_open(actor, case, edge.action)


# Keys an ``apply`` function may return to steer the transition instead of logging data.
STAY = "_stay_with_event"  # value: an EventKind; the state does not change (a chain step)


def _transition(
    *,
    actor: Staff,
    case_id: int,
    action: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    apply: Callable[[Case], dict[str, Any]] | None = None,
    expected_version: int | None = None,
) -> Case:
    """The one locking transition: lock, check table ∩ policy ∩ permission, mutate, log."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id, organization_id=actor.organization_id)
        edge = find_edge(case.state, action, case.stage_switches)
        if edge is None:
            raise InvalidTransition(src=case.state, dst=_target_of(action), reason=_moved_on(case, expected_version))
        if expected_version is not None and case.version != expected_version:
            raise StaleObject()
        if not may_take(actor, case, edge):
            raise PermissionDeniedError()
        previous = case.state
        changes = apply(case) if apply else {}
        stay_kind = changes.pop(STAY, None)
        if stay_kind is None:
            case.state = edge.dst
        case.version += 1
        case.save()
        payload = {"action": action, "from": previous, "to": case.state, **(data or {}), **changes}
        if note:
            payload["note"] = note
        event = _event(case, kind=stay_kind or EventKind.STATE_CHANGED, actor=actor, data=payload)
        _enqueue_notification(event)
    return case


def _moved_on(case: Case, expected_version: int | None) -> str:
    """When a form was made for an earlier state, say so: someone else acted first."""
    if expected_version is not None and case.version != expected_version:
        last = Event.objects.filter(case=case).select_related("actor").order_by("-id").first()
        who = str(last.actor) if last and last.actor else _("其他人")
        return _("该件已由%(who)s处理，您的操作未执行。") % {"who": who}
    return ""


def _target_of(action: str) -> str:
    from .workflow import EDGES

    return next((e.dst for e in EDGES if e.action == action), action)


def _required(value: str, field_name: str, message: str) -> str:
    return checked_text(value, field_name, missing=message)


# --- acceptance decision (F10) ---------------------------------------------------------------


def case_accept(*, actor: Staff, case_id: int, note: str = "", expected_version: int | None = None) -> Case:
    return _transition(actor=actor, case_id=case_id, action="accept", note=note, expected_version=expected_version)


def case_not_accept(
    *,
    actor: Staff,
    case_id: int,
    ground: str,
    refer_to: str = "",
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """不予受理: a ground from the preset's list (or, where it lists none, in words) and the
    body the complainant should turn to, where the ground names one."""
    from huiyin.handling import records

    ground = _required(ground, "ground", _("请选择或填写不予受理的理由。"))

    def apply(case: Case) -> dict[str, Any]:
        return records.decision_ground(case, "not_accepted", ground=ground, refer_to=refer_to)

    return _transition(
        actor=actor, case_id=case_id, action="not_accept", note=note, apply=apply, expected_version=expected_version
    )


def case_not_reaccept(
    *,
    actor: Staff,
    case_id: int,
    ground: str,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    from huiyin.handling import records

    ground = _required(ground, "ground", _("请选择或填写不再受理的理由。"))

    def apply(case: Case) -> dict[str, Any]:
        return records.decision_ground(case, "not_reaccepted", ground=ground, refer_to="")

    return _transition(
        actor=actor, case_id=case_id, action="not_reaccept", note=note, apply=apply, expected_version=expected_version
    )


def case_return(
    *,
    actor: Staff,
    case_id: int,
    reason: str,
    returned_to: str = "",
    expected_version: int | None = None,
) -> Case:
    """退回: out of scope, returned with reasons to the writer or forwarding body; the event
    records whether it was within the preset's limit."""
    from huiyin.handling import records

    reason = _required(reason, "reason", _("请填写退回理由。"))
    returned_to = _required(returned_to, "returned_to", _("请填写退回至何人或何单位（来信人或原批转单位）。"))
    return _transition(
        actor=actor,
        case_id=case_id,
        action="return",
        apply=lambda c: {"reason": reason, "returned_to": returned_to, **records.return_limit(c)},
        expected_version=expected_version,
    )


def case_transfer(
    *,
    actor: Staff,
    case_id: int,
    to_body: str,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    from huiyin.handling import records

    to_body = _required(to_body, "to_body", _("请填写转送单位。"))

    def apply(case: Case) -> dict[str, Any]:
        records.check_transfer_allowed(case)
        return {"to_body": to_body}

    return _transition(
        actor=actor, case_id=case_id, action="transfer", note=note, apply=apply, expected_version=expected_version
    )


# --- replies (F24) -----------------------------------------------------------------------------

REPLY_METHODS = ("phone", "letter", "sms", "in_person", "portal")


def _record_reply(case: Case, *, content: str, method: str, at: datetime) -> dict[str, Any]:
    CaseRound.objects.filter(case=case, number=case.round).update(
        reply_text=content,
        reply_method=method,
        replied_at=at,
    )
    return {"reply": content, "method": method, "replied_at": at}


def _reply_transition(
    *,
    actor: Staff,
    case_id: int,
    action: str,
    reply: str,
    method: str,
    replied_at: datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """The ways a complainant gets answered: on the spot, or after handling (and approval)."""
    reply = _required(reply, "reply", _("请填写答复内容。"))
    if method not in REPLY_METHODS:
        raise ValidationFailed({"method": [_("请选择答复方式（电话、书面、短信、当面或网上）。")]})
    now = timezone.now()
    if replied_at is not None and replied_at > now:
        raise ValidationFailed({"replied_at": [_("答复时间不能晚于现在。")]})
    at = replied_at or now
    return _transition(
        actor=actor,
        case_id=case_id,
        action=action,
        expected_version=expected_version,
        apply=lambda c: _record_reply(c, content=reply, method=method, at=at),
    )


def case_answer_on_spot(
    *,
    actor: Staff,
    case_id: int,
    reply: str,
    method: str = "phone",
    expected_version: int | None = None,
) -> Case:
    """F06: consultations answered at intake; counted, and callback-eligible."""
    return _reply_transition(
        actor=actor,
        case_id=case_id,
        action="answer_on_spot",
        reply=reply,
        method=method,
        expected_version=expected_version,
    )


def case_reply(
    *,
    actor: Staff,
    case_id: int,
    reply: str,
    method: str = "phone",
    replied_at: datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    return _reply_transition(
        actor=actor,
        case_id=case_id,
        action="reply",
        reply=reply,
        method=method,
        replied_at=replied_at,
        expected_version=expected_version,
    )


# --- dispatch and sign-for (F11) ------------------------------------------------------------------


def _dispatch_apply(
    actor: Staff,
    *,
    department_id: int,
    assisting_ids: Iterable[int],
    handler_id: int | None,
    instructions: str,
    due_at: datetime | None,
) -> Callable[[Case], dict[str, Any]]:
    def apply(case: Case) -> dict[str, Any]:
        from huiyin.handling import records

        # Checked after the state: an illegal move is reported as such, whatever the form says.
        department = Department.objects.filter(pk=department_id, organization_id=actor.organization_id).first()
        if department is None:
            raise ValidationFailed({"department": [_("请选择主办部门。")]})
        if due_at is not None and due_at <= timezone.now():
            raise ValidationFailed({"due_at": [_("办理时限必须晚于现在。")]})
        assisting = list(
            Department.objects.filter(pk__in=assisting_ids, organization_id=actor.organization_id).exclude(
                pk=department.pk
            )
        )
        handler = None
        if handler_id:
            handler = Staff.objects.filter(pk=handler_id, department=department, is_active=True).first()
            if handler is None:
                raise ValidationFailed({"handler": [_("承办人必须是主办部门的在岗人员。")]})
        before = {"lead_department": case.lead_department_id, "handler": case.handler_id}
        case.lead_department, case.handler = department, handler
        case.assisting_departments.set(assisting)
        case.assisting_handlers.clear()
        CaseRound.objects.filter(case=case, number=case.round).update(lead_department=department, handler=handler)
        records.dispatch_recorded(
            case, actor=actor, lead=department, assisting=assisting, instructions=instructions, due_at=due_at
        )
        return {
            "before": before,
            "after": {"lead_department": department.pk, "handler": handler_id, "assisting": [d.pk for d in assisting]},
            "instructions": instructions,
            "due_at": due_at,
            # Names as they were at the time, for the timeline.
            "department_name": department.name,
            "assisting_names": [d.name for d in assisting],
            "handler_name": str(handler) if handler else "",
        }

    return apply


def case_dispatch(
    *,
    actor: Staff,
    case_id: int,
    department_id: int,
    assisting_ids: Iterable[int] = (),
    handler_id: int | None = None,
    instructions: str = "",
    due_at: datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    apply = _dispatch_apply(
        actor,
        department_id=department_id,
        assisting_ids=assisting_ids,
        handler_id=handler_id,
        instructions=instructions,
        due_at=due_at,
    )
    return _transition(actor=actor, case_id=case_id, action="dispatch", apply=apply, expected_version=expected_version)


def case_redispatch(
    *,
    actor: Staff,
    case_id: int,
    department_id: int,
    assisting_ids: Iterable[int] = (),
    handler_id: int | None = None,
    instructions: str = "",
    due_at: datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """改派 before the department signed for it: the earlier dispatch stays in the history."""
    apply = _dispatch_apply(
        actor,
        department_id=department_id,
        assisting_ids=assisting_ids,
        handler_id=handler_id,
        instructions=instructions,
        due_at=due_at,
    )
    return _transition(
        actor=actor, case_id=case_id, action="redispatch", apply=apply, expected_version=expected_version
    )


def case_sign_for(
    *,
    actor: Staff,
    case_id: int,
    handler_id: int | None = None,
    expected_version: int | None = None,
) -> Case:
    def apply(case: Case) -> dict[str, Any]:
        from huiyin.handling import records

        handler = case.handler or actor
        if handler_id and handler_id != handler.pk:
            handler = Staff.objects.filter(pk=handler_id, department_id=case.lead_department_id, is_active=True).first()
            if handler is None:
                raise ValidationFailed({"handler": [_("承办人必须是主办部门的在岗人员。")]})
        before = case.handler_id
        case.handler = handler
        CaseRound.objects.filter(case=case, number=case.round).update(handler=handler)
        records.dispatch_answered(case, actor=actor, signed=True)
        return {"before": {"handler": before}, "after": {"handler": handler.pk}, "handler_name": str(handler)}

    return _transition(actor=actor, case_id=case_id, action="sign_for", apply=apply, expected_version=expected_version)


def case_send_back(*, actor: Staff, case_id: int, reason: str, expected_version: int | None = None) -> Case:
    """退单: back to the dispatcher's queue with the reason; the department lets go of it."""
    reason = _required(reason, "reason", _("请填写退单理由。"))

    def apply(case: Case) -> dict[str, Any]:
        from huiyin.handling import records

        before = {"lead_department": case.lead_department_id, "handler": case.handler_id}
        department_name = case.lead_department.name if case.lead_department else ""
        records.dispatch_answered(case, actor=actor, signed=False, reason=reason)
        case.lead_department, case.handler = None, None
        case.assisting_departments.clear()
        case.assisting_handlers.clear()
        return {"before": before, "reason": reason, "sent_back_by": department_name}

    return _transition(actor=actor, case_id=case_id, action="send_back", apply=apply, expected_version=expected_version)


# --- proposal and approval (F21) ---------------------------------------------------------------------


def case_submit_for_approval(
    *,
    actor: Staff,
    case_id: int,
    proposal: str,
    outcome: str = "",
    responsible_unit: str = "",
    expected_version: int | None = None,
) -> Case:
    """The handler proposes the outcome and the responsible unit; the preset's chain signs."""
    from huiyin.handling import records

    proposal = _required(proposal, "proposal", _("请填写拟办意见（处理结果）。"))
    outcome = records.check_outcome(outcome)

    def apply(case: Case) -> dict[str, Any]:
        made = records.proposal_submitted(
            case, actor=actor, text=proposal, outcome=outcome, responsible_unit=responsible_unit.strip()
        )
        return {
            "proposal": proposal,
            "outcome": outcome,
            "responsible_unit": responsible_unit.strip(),
            "proposal_id": made.pk,
            "chain": made.chain,
        }

    return _transition(
        actor=actor, case_id=case_id, action="submit_for_approval", apply=apply, expected_version=expected_version
    )


def case_approve(*, actor: Staff, case_id: int, comments: str = "", expected_version: int | None = None) -> Case:
    """Sign the pending proposal at the level that is due; the last signature approves it."""

    def apply(case: Case) -> dict[str, Any]:
        from huiyin.handling import records

        step, last = records.proposal_signed(case, actor=actor, approved=True, comments=comments.strip())
        data = {"level": step.level, "role": step.role, "comments": step.comments}
        return data if last else {**data, STAY: EventKind.APPROVAL_SIGNED}

    return _transition(actor=actor, case_id=case_id, action="approve", apply=apply, expected_version=expected_version)


def case_reject_approval(*, actor: Staff, case_id: int, reason: str, expected_version: int | None = None) -> Case:
    """Return the proposal to the handler with comments (退回修改)."""
    reason = _required(reason, "reason", _("请填写退回意见。"))

    def apply(case: Case) -> dict[str, Any]:
        from huiyin.handling import records

        step, _last = records.proposal_signed(case, actor=actor, approved=False, comments=reason)
        return {"level": step.level, "role": step.role, "reason": reason}

    return _transition(
        actor=actor, case_id=case_id, action="reject_approval", apply=apply, expected_version=expected_version
    )


# --- closure, reopening, archive (F25) ---------------------------------------------------------------

SATISFACTION = ("satisfied", "basically_satisfied", "dissatisfied")


def case_close(
    *,
    actor: Staff,
    case_id: int,
    satisfaction: str = "",
    callback_note: str = "",
    confirmed: bool = False,
    confirmation_note: str = "",
    expected_version: int | None = None,
    upheld_by_head: bool = False,
) -> Case:
    """Close after a reply, by the preset's rules: with the callback stage on the callback
    result is required (a dissatisfied complainant reopens the case instead, F41, unless
    the preset lets the department head decide and the head upheld the answer); with
    ``confirmation_to_close`` the complainant's confirmation; a higher authority's
    investigation request needs its result report sent first."""

    def apply(case: Case) -> dict[str, Any]:
        from huiyin.followup.services import refuse_while_head_decides
        from huiyin.handling import records

        stages = stages_with_defaults(case.stage_switches)
        if stages[Stage.CALLBACK] and satisfaction not in SATISFACTION:
            raise ValidationFailed({"satisfaction": [_("本单位要求回访后办结：请填写回访满意度。")]})
        if satisfaction == "dissatisfied" and not upheld_by_head:
            raise ValidationFailed({"satisfaction": [_("反映人不满意，不能办结，请选择“重办”。")]})
        if (case.stage_switches or {}).get("confirmation_to_close") and not confirmed:
            raise ValidationFailed({"confirmed": [_("本单位要求反映人确认后办结：请记录反映人已确认处理结果。")]})
        records.check_closable(case)
        refuse_while_head_decides(case)
        now = timezone.now()
        case.closed_at = now
        CaseRound.objects.filter(case=case, number=case.round).update(
            satisfaction=satisfaction,
            ended_at=now,
            confirmed_by_complainant=confirmed,
            confirmation_note=confirmation_note.strip(),
        )
        return {
            "satisfaction": satisfaction,
            "callback_note": callback_note,
            "confirmed": confirmed,
            "confirmation_note": confirmation_note.strip(),
            "upheld_by_head": upheld_by_head,
        }

    return _transition(actor=actor, case_id=case_id, action="close", apply=apply, expected_version=expected_version)


def case_reopen(*, actor: Staff, case_id: int, reason: str, expected_version: int | None = None) -> Case:
    """重办: a new handling round; the previous round's record stays as it was."""
    reason = _required(reason, "reason", _("请填写重办理由。"))

    def apply(case: Case) -> dict[str, Any]:
        from huiyin.followup.services import refuse_while_head_decides

        refuse_while_head_decides(case)
        now = timezone.now()
        CaseRound.objects.filter(case=case, number=case.round, ended_at__isnull=True).update(ended_at=now)
        previous_round = case.round
        case.round += 1
        case.handler = None
        case.assisting_handlers.clear()
        case.closed_at = None
        CaseRound.objects.create(
            case=case, number=case.round, started_at=now, reason=reason, lead_department=case.lead_department
        )
        return {"reason": reason, "previous_round": previous_round}

    return _transition(actor=actor, case_id=case_id, action="reopen", apply=apply, expected_version=expected_version)


def case_archive(*, actor: Staff, case_id: int, expected_version: int | None = None) -> Case:
    return _transition(actor=actor, case_id=case_id, action="archive", expected_version=expected_version)


# --- review and re-review (F26) ------------------------------------------------------------------------


def case_request_review(
    *,
    actor: Staff,
    case_id: int,
    reason: str,
    requested_at: datetime | None = None,
    on_behalf: bool = True,
    expected_version: int | None = None,
) -> Case:
    """复查: requested within the preset's limit of the written answer."""
    return _review_request(
        actor=actor,
        case_id=case_id,
        level=1,
        reason=reason,
        requested_at=requested_at,
        on_behalf=on_behalf,
        expected_version=expected_version,
    )


def case_request_rereview(
    *,
    actor: Staff,
    case_id: int,
    reason: str,
    requested_at: datetime | None = None,
    on_behalf: bool = True,
    expected_version: int | None = None,
) -> Case:
    """复核: requested within the preset's limit of the review opinion."""
    return _review_request(
        actor=actor,
        case_id=case_id,
        level=2,
        reason=reason,
        requested_at=requested_at,
        on_behalf=on_behalf,
        expected_version=expected_version,
    )


def _review_request(
    *,
    actor: Staff,
    case_id: int,
    level: int,
    reason: str,
    requested_at: datetime | None,
    on_behalf: bool,
    expected_version: int | None,
) -> Case:
    reason = _required(reason, "reason", _("请填写请求复查（复核）的事项和理由。"))
    now = timezone.now()
    if requested_at is not None and requested_at > now:
        raise ValidationFailed({"requested_at": [_("请求时间不能晚于现在。")]})
    at = requested_at or now

    def apply(case: Case) -> dict[str, Any]:
        from huiyin.handling import records

        review = records.review_requested(case, actor=actor, level=level, reason=reason, at=at, on_behalf=on_behalf)
        return {"review_id": review.pk, "level": level, "reason": reason, "body": review.body, "requested_at": at}

    action = "request_review" if level == 1 else "request_rereview"
    return _transition(actor=actor, case_id=case_id, action=action, apply=apply, expected_version=expected_version)


def case_decide_review(
    *,
    actor: Staff,
    case_id: int,
    decision: str,
    opinion: str,
    expected_version: int | None = None,
) -> Case:
    return _review_decision(
        actor=actor, case_id=case_id, level=1, decision=decision, opinion=opinion, expected_version=expected_version
    )


def case_decide_rereview(
    *,
    actor: Staff,
    case_id: int,
    decision: str,
    opinion: str,
    expected_version: int | None = None,
) -> Case:
    """The re-review opinion is final: the case closes and the matter is concluded for good."""
    return _review_decision(
        actor=actor, case_id=case_id, level=2, decision=decision, opinion=opinion, expected_version=expected_version
    )


def _review_decision(
    *,
    actor: Staff,
    case_id: int,
    level: int,
    decision: str,
    opinion: str,
    expected_version: int | None,
) -> Case:
    opinion = _required(opinion, "opinion", _("请填写复查（复核）意见。"))

    def apply(case: Case) -> dict[str, Any]:
        from huiyin.handling import records

        review = records.review_decided(case, actor=actor, level=level, decision=decision, opinion=opinion)
        if level == 2:
            case.review_concluded = True
            case.closed_at = review.decided_at
            CaseRound.objects.filter(case=case, number=case.round).update(ended_at=review.decided_at)
        return {"review_id": review.pk, "level": level, "decision": decision, "opinion": opinion}

    action = "decide_review" if level == 1 else "decide_rereview"
    return _transition(actor=actor, case_id=case_id, action=action, apply=apply, expected_version=expected_version)


ACTIONS: dict[str, Callable[..., Case]] = {
    "accept": case_accept,
    "not_accept": case_not_accept,
    "not_reaccept": case_not_reaccept,
    "return": case_return,
    "transfer": case_transfer,
    "answer_on_spot": case_answer_on_spot,
    "dispatch": case_dispatch,
    "redispatch": case_redispatch,
    "sign_for": case_sign_for,
    "send_back": case_send_back,
    "submit_for_approval": case_submit_for_approval,
    "approve": case_approve,
    "reject_approval": case_reject_approval,
    "reply": case_reply,
    "close": case_close,
    "reopen": case_reopen,
    "archive": case_archive,
    "request_review": case_request_review,
    "decide_review": case_decide_review,
    "request_rereview": case_request_rereview,
    "decide_rereview": case_decide_rereview,
}


def categories_valid(organization_id: int, category_id: int | None) -> bool:
    return category_id is None or Category.objects.filter(pk=category_id, organization_id=organization_id).exists()


__all__ = ["IntakeInput", "PartyInput", "case_register", "contact_add", "ACTIONS", "Nature"]
