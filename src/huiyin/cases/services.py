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
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases.errors import CaseStale, InvalidTransition, LookupLimited, RepeatRegistration
from huiyin.cases.events import EventKind
from huiyin.core import limits
from huiyin.core.errors import DuplicateSubmission, NotFound, PermissionDeniedError, ValidationFailed
from huiyin.core.locks import xact_lock
from huiyin.core.search import document
from huiyin.core.validators import (
    NOTE_MAX,
    When,
    check_moment,
    checked_text,
    clean_text,
    happened_at,
    normalize_id_number,
    record_max,
)
from huiyin.orgs.actors import Actor, ActorKind, ExternalActor, actor_kind, staff_of, system_of
from huiyin.orgs.models import Department, Organization, Staff
from huiyin.orgs.roles import Cap

from . import bus, validation
from .inputs import IntakeInput, PartyInput
from .models import Attachment, Case, CaseRound, Channel, Contact, Event, Party, Urgency
from .permissions import acceptance_refusal, may_reissue_receipt, may_take, may_upload_attachment
from .permissions import check_can_edit as _check_can_edit
from .selectors import case_visible_to, cases_for
from .workflow import (
    EDGES,
    CaseState,
    Stage,
    complainant_kind,
    complainant_kind_name,
    complainant_kinds,
    find_edge,
    receiving_office_name,
    required_step,
    stages_with_defaults,
)

QUERY_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


# --- events -----------------------------------------------------------------


def _event(
    case: Case,
    *,
    kind: str,
    actor: Actor | None,
    data: dict[str, Any],
    at: datetime | None = None,
    first: bool = False,
) -> Event:
    """Append an event to the case's hash chain. The caller holds the case row lock.

    ``at``: when it happened, where history is recreated (the demo, an import); it may not
    come before the case's last event, so a case's history never runs backwards. ``first``:
    the case was inserted in this transaction, so the chain is empty (nothing to read)."""
    last = None if first else Event.objects.filter(case=case).order_by("-id").values_list("hash", "at").first()
    prev, last_at = last if last else ("", None)
    if at is not None and last_at is not None and at < last_at:
        raise ValidationFailed(
            {
                "at": [
                    _("发生时间不能早于该件上一条记录（%(at)s）。")
                    % {"at": f"{timezone.localtime(last_at):%Y-%m-%d %H:%M:%S}"}
                ]
            }
        )
    # Store exactly what is hashed: the JSON round trip turns datetimes etc. into strings.
    data = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    event = Event(
        case=case,
        round=case.round,
        actor=staff_of(actor),
        actor_kind=actor_kind(actor),
        actor_system=system_of(actor),
        # In UTC, as the database gives it back: the hash covers the time as written.
        at=(at or timezone.now()).astimezone(UTC),
        kind=kind,
        data=data,
        prev_hash=prev,
    )
    event.hash = event.compute_hash()
    event.save()
    bus.publish(case, event)
    return event


def _events_bulk(cases: Sequence[Case], *, kind: str, actor: Actor, data: Callable[[Case], dict[str, Any]]) -> None:
    """``_event`` for many cases at once (one query for the chains' heads, one insert):
    each case's event is chained to that case's last one, as ``_event`` does. The caller
    holds the cases' row locks (the heads are read after them)."""
    last_hash = Event.objects.filter(case_id=OuterRef("pk")).order_by("-id").values("hash")[:1]
    heads = dict(
        Case.objects.filter(pk__in=[c.pk for c in cases]).annotate(head=Subquery(last_hash)).values_list("pk", "head")
    )
    now = timezone.now()
    events = []
    for case in cases:
        event = Event(
            case=case,
            round=case.round,
            actor=staff_of(actor),
            actor_kind=actor_kind(actor),
            actor_system=system_of(actor),
            at=now,
            kind=kind,
            data=json.loads(json.dumps(data(case), cls=DjangoJSONEncoder)),
            prev_hash=heads.get(case.pk) or "",
        )
        event.hash = event.compute_hash()
        events.append(event)
    Event.objects.bulk_create(events)
    for case, event in zip(cases, events, strict=True):
        bus.publish(case, event)


def case_record_event(
    case: Case, *, kind: str, actor: Actor | None, data: dict[str, Any], at: datetime | None = None
) -> Event:
    """Public form of ``_event`` for other apps (the policy engine's deadline steps,
    suspensions, extensions). The caller holds the case row lock, in its transaction."""
    return _event(case, kind=kind, actor=actor, data=data, at=at)


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


def public_lookup(*, number: str, code: str, client: str) -> Case | None:
    """The receipts' status page (``/status/``): the case for a number and its query code, or
    None. Under the portal's limits, in the same buckets: look-ups per address, and wrong codes
    per number (in every organisation, whether the number exists or not) and per address, after
    which the number is refused for the window (``LookupLimited``) even with the right code."""
    number, code = number.strip()[:40], "".join(code.split())[:40]
    if not limits.hit("lookup_ip", client):
        wait = limits.retry_after("lookup_ip")
        raise LookupLimited(_("查询过于频繁，请 %(m)d 分钟后再试。") % {"m": limits.minutes(wait)}, retry_after=wait)
    subjects = [f"{pk}:{number.upper()}" for pk in Organization.objects.values_list("pk", flat=True)]
    tries = [*(("code_number", s) for s in subjects), ("code_ip", client)]
    tried = limits.attempt(tries)  # counted before the code is compared: see limits.attempt
    if tried.over is not None:
        wait = limits.retry_after(tried.over)
        raise LookupLimited(
            _("查询码错误次数过多，暂停查询，请 %(m)d 分钟后再试。") % {"m": limits.minutes(wait)}, retry_after=wait
        )
    candidates = Case.objects.filter(number=number).select_related("organization")[:20]
    found = next((c for c in candidates if query_code_matches(c, code)), None)
    if found is not None:
        limits.refund(tried)
        return found
    if not candidates:
        query_code_hash(number, code)  # the same work as for a number that exists
    return None


def _new_query_code() -> str:
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(8))


# --- parties ------------------------------------------------------------------------


def _party_for(org_id: int, data: PartyInput) -> Party | None:
    """Reuse the known caller with the same phone and name; otherwise a new party."""
    if data.anonymous and not (data.phone or data.email):
        return Party.objects.create(organization_id=org_id, anonymous=True)
    if not (data.name or data.phone or data.id_number or data.email):
        return None
    if data.phone or data.email:
        # A caller who gives only the number (or a sender only the address) is the person
        # last known under it. The phone or address is found by its keyed hash; the few
        # parties under it are compared by name here, because the stored name is encrypted.
        base = Party.objects.filter(organization_id=org_id, anonymous=data.anonymous)
        known = base.with_phone(data.phone) if data.phone else base.with_email(data.email)
        existing = next(
            (p for p in known.order_by("-id")[:50] if not data.name or p.name == data.name),
            None,
        )
        if existing:
            given = {
                "id_number": normalize_id_number(data.id_number),
                "address": data.address,
                "affiliation": data.affiliation,
                "email": data.email,
                "language": data.language,
                "sms_opt_out": data.sms_opt_out,  # only ever set here: an opt-out is withdrawn by staff
                "gender": data.gender,
                "age": data.age,
            }
            changed = [f for f, value in given.items() if value and getattr(existing, f) != value]
            for f in changed:
                setattr(existing, f, given[f])
            if changed:
                existing.save(update_fields=changed)
            return existing
    return Party.objects.create(
        organization_id=org_id,
        name=data.name,
        phone=data.phone,
        id_number=normalize_id_number(data.id_number),
        address=data.address,
        affiliation=data.affiliation,
        anonymous=data.anonymous,
        email=data.email,
        sms_opt_out=data.sms_opt_out,
        language=data.language,
        gender=data.gender,
        age=data.age,
    )


# --- registration ---------------------------------------------------------------------


def derive_title(text: str, limit: int = 30) -> str:
    """The first sentence of the text, so a clerk on the phone need not type a title."""
    first = re.split(r"[。！？!?\n]", (text or "").strip(), maxsplit=1)[0].strip()
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _require(actor: Actor, cap: str) -> None:
    if not actor.can(cap):
        raise PermissionDeniedError()


def _search_document(case: Case) -> str:
    return document(case.number, case.title, case.text, case.location)


# Ways in that the public uses on its own (网上信访, 电子邮件): a submission from outside the
# staff cannot claim a phone call or a visit that no one received.
PUBLIC_CHANNELS = frozenset({Channel.ONLINE, Channel.EMAIL})
# How long before its registration a matter may have come in (a letter found late, a
# forwarded file registered days after it arrived); more is a typo in the year.
RECEIVED_BEFORE_MAX = timedelta(days=366)


def _outside_rules(actor: Actor, data: IntakeInput) -> None:
    """What differs when the public or another system registers: the same form, fewer levers."""
    if not isinstance(actor, ExternalActor):
        return
    if actor.kind == ActorKind.PUBLIC:
        if data.channel not in PUBLIC_CHANNELS:
            raise ValidationFailed({"channel": [_("公众只能通过网上或电子邮件提交诉求。")]})
        # Urgency is the office's call (and the keyword rules'); the time is when it arrived.
        data.urgency = Urgency.NORMAL
        data.received_at = None
        data.forwarded_by = data.forwarded_ref = ""


def _check_uploads(uploads: Sequence[UploadedFile]) -> None:
    for upload in uploads:
        errors = validation.attachment_errors(upload)
        if errors:
            raise ValidationFailed({"attachments": [m for messages in errors.values() for m in messages]})


def case_register(
    *, actor: Actor, data: IntakeInput, uploads: Sequence[UploadedFile] = (), at: datetime | None = None
) -> tuple[Case, str]:
    """Register a matter from any channel (F01/F02), with the files it came with, as one
    transaction: a case never exists without the attachments its submission carried.
    Staff, the public (portal) and registered systems (API) all come through here.
    Returns the case and its query code (shown once on the receipt; only its hash is stored).
    ``at``: when it was registered, where history is recreated (``validators.happened_at``)."""
    _require(actor, Cap.REGISTER)
    now = happened_at(at)
    if at is not None and data.received_at is not None and data.received_at > now:
        raise ValidationFailed({"received_at": [_("收到时间不能晚于登记时间。")]})
    _outside_rules(actor, data)
    if not data.title.strip():
        data.title = derive_title(data.text)
    if actor.organization is None:  # a bare admin account has no ledger to register in
        raise PermissionDeniedError()
    policy = bus.case_policy(actor.organization)
    rules = policy.preset.intake if policy.preset is not None else None
    category = validation.validate_intake(data, organization_id=actor.org_id, rules=rules)
    if data.received_at is not None and data.received_at < now - RECEIVED_BEFORE_MAX:
        # a mistyped year (2001 for 2026): a case numbered in a ledger day and a reporting
        # period long closed, its deadlines overdue by years
        raise ValidationFailed(
            {
                "received_at": [
                    _("收到时间早于登记时间一年以上（%(day)s 之前），请核对年份。")
                    % {"day": f"{timezone.localtime(now - RECEIVED_BEFORE_MAX):%Y-%m-%d}"}
                ]
            }
        )
    repeat_rule = rules is not None and (rules.repeat_same_day or rules.repeat_while_open) and not data.new_matter
    _check_uploads(uploads)
    code = _new_query_code()
    stored: list[Attachment] = []
    try:
        with transaction.atomic():
            org = actor.organization
            if data.intake_token:
                # A second submit of the same form waits here for the first to commit and
                # finds its case, instead of failing on the token's unique constraint (an
                # error that would put the INSERT, complaint text and all, in the server log).
                xact_lock(f"intake:{data.intake_token}")
                existing = Case.objects.filter(intake_token=data.intake_token).values_list("number", flat=True).first()
                if existing:
                    raise DuplicateSubmission(existing)
            # Numbered in the ledger of the day the matter was received (a letter that
            # arrived yesterday joins yesterday's sequence), gapless either way.
            received_at = data.received_at or now
            number = next_case_number(organization_id=org.pk, day=timezone.localdate(received_at))
            if repeat_rule and rules is not None:
                # After the number: its row lock orders two registrations of the day, so a
                # caller's second registration at the same moment finds the first (committed
                # by then) and is refused as a repeat, as it would be a minute later. After the
                # form's own token too: a form sent twice is that registration, not a repeat.
                errors = validation.repeat_errors(data, organization_id=org.pk, same_day=not rules.repeat_while_open)
                if errors:
                    raise RepeatRegistration(errors)  # rolls the number back with the rest
            party = _party_for(org.pk, data.party)
            case = Case(
                organization=org,
                number=number,
                channel=data.channel,
                nature=data.nature,
                category=category,
                urgency=data.urgency,
                title=data.title.strip(),
                text=data.text.strip(),
                location=data.location.strip(),
                received_at=received_at,
                party=party,
                group_size=data.group_size,
                complainant_kind=data.complainant_kind,
                forwarded_by=data.forwarded_by,
                forwarded_ref=data.forwarded_ref,
                first_contact=staff_of(actor),
                submitter_kind=actor_kind(actor),
                submitter_system=system_of(actor),
                intake_token=data.intake_token or None,
                stage_switches=policy.stage_switches,
                policy_version=policy.version,
                query_code_hash=query_code_hash(number, code),
                registered_at=now,  # a recreated history has its own time
            )
            # Everything known before the one INSERT: the promise reads the category's rules.
            case.promised_due_at = policy.promised_due_at(case)
            case.search_document = _search_document(case)
            case.save(force_insert=True)
            # The policy and calendar just read, for the registration's subscribers (clocks,
            # urgency, receipt) in this transaction, instead of reading them again.
            policy.hold_for(case)
            # The code exists in clear only here: the subscribers of the registration (the
            # receipt sent to the complainant) read it from the case object, never the database.
            case.issued_query_code = code
            reps = [p for p in (_party_for(org.pk, r) for r in data.representatives) if p]
            if reps:
                case.co_parties.set(reps)
            CaseRound.objects.create(case=case, number=1, started_at=now)
            contact = Contact.objects.create(
                case=case,
                channel=data.channel,
                party=party,
                occurred_at=case.received_at,
                staff=staff_of(actor),
                text=case.text,
                is_initial=True,
            )
            _event(
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
                    **({"complainant_kind": data.complainant_kind} if data.complainant_kind else {}),
                },
                at=at,
                first=True,
            )
            for upload in uploads:
                stored.append(_store_attachment(case, upload, actor=actor, contact_id=contact.pk, at=at))
    except IntegrityError as exc:
        _discard_files(stored)
        # Two submits of one form raced past the check above: the token constraint caught it.
        if data.intake_token and "intake_token" in str(exc):
            earlier = Case.objects.filter(intake_token=data.intake_token).values_list("number", flat=True).first()
            raise DuplicateSubmission(earlier or "") from exc
        raise
    except BaseException:
        # Nothing half-saved: the rows rolled back, so the stored files go too.
        _discard_files(stored)
        raise
    return case, code


def contact_add(
    *,
    actor: Actor,
    case_id: int,
    channel: str,
    text: str,
    party: PartyInput | None = None,
    occurred_at: datetime | None = None,
    intake_token: str | None = None,
    uploads: Sequence[UploadedFile] = (),
    at: datetime | None = None,
) -> Contact:
    """A repeat call / visit / letter about the same matter (F04): a contact on the case.
    Staff record it; the e-mail channel adds one for a mail that answers the case.
    ``at``: when it was recorded, where history is recreated (``validators.happened_at``)."""
    _require(actor, Cap.REGISTER)
    now = happened_at(at)
    errors = validation.contact_errors(channel=channel, text=text, party=party, intake_token=intake_token)
    if errors:
        raise ValidationFailed(errors)
    _check_uploads(uploads)
    stored: list[Attachment] = []
    try:
        return _contact_add(
            actor=actor,
            case_id=case_id,
            channel=channel,
            text=text,
            party=party,
            occurred_at=occurred_at,
            intake_token=intake_token,
            uploads=uploads,
            stored=stored,
            at=at,
            now=now,
        )
    except BaseException:
        _discard_files(stored)  # nothing half-saved: the rows rolled back, so the files go too
        raise


def _contact_add(
    *,
    actor: Actor,
    case_id: int,
    channel: str,
    text: str,
    party: PartyInput | None,
    occurred_at: datetime | None,
    intake_token: str | None,
    uploads: Sequence[UploadedFile],
    stored: list[Attachment],
    at: datetime | None,
    now: datetime,
) -> Contact:
    with transaction.atomic():
        if intake_token:
            # As in case_register: the racing second submit finds the first one's contact.
            xact_lock(f"contact:{intake_token}")
            _refuse_duplicate_contact(intake_token)
        case = Case.objects.select_for_update().filter(pk=case_id, organization_id=actor.org_id).first()
        if case is None:
            raise NotFound()
        if case.state == CaseState.ARCHIVED:
            raise InvalidTransition(src=case.state, dst=case.state, reason=_("已归档的案件只读。"))
        contact_party = _party_for(case.organization_id, party) if party else case.party
        try:
            with transaction.atomic():
                contact = Contact.objects.create(
                    case=case,
                    channel=channel,
                    party=contact_party or case.party,
                    occurred_at=occurred_at or now,
                    staff=staff_of(actor),
                    text=clean_text(text).strip(),
                    intake_token=intake_token or None,
                )
        except IntegrityError as exc:
            # The same form posted to another case at the same moment: the token's unique
            # constraint caught it, and the loser is told it was already recorded.
            if intake_token:
                _refuse_duplicate_contact(intake_token)
            raise exc
        case.version += 1
        case.save(update_fields=["version", "updated_at"])
        _event(
            case,
            kind=EventKind.CONTACT_ADDED,
            actor=actor,
            data={
                "contact_id": contact.pk,
                "channel": channel,
                "text": contact.text[:200],
            },
            at=at,
        )
        for upload in uploads:
            stored.append(_store_attachment(case, upload, actor=actor, contact_id=contact.pk, at=at))
    return contact


def _refuse_duplicate_contact(intake_token: str | None) -> None:
    if not intake_token:
        return
    number = Case.objects.filter(contacts__intake_token=intake_token).values_list("number", flat=True).first()
    if number is not None:
        raise DuplicateSubmission(number)


def _store_attachment(
    case: Case, upload: UploadedFile, *, actor: Actor, contact_id: int | None, at: datetime | None = None
) -> Attachment:
    """Store one checked upload on a locked case and record it; the caller's transaction
    decides whether it stays (its file is removed by the caller if it does not)."""
    # A received upload always has a name and a size (attachment_errors checked it).
    assert upload.name is not None and upload.size is not None
    attachment = Attachment(
        case=case,
        contact_id=contact_id,
        original_name=upload.name[:255],
        content_type=getattr(upload, "content_type", "") or "",
        size=upload.size,
        uploaded_by=staff_of(actor),
    )
    field = attachment.file.field
    target = field.generate_filename(attachment, upload.name)
    partial = None if field.storage.exists(target) else target
    try:
        attachment.file.save(upload.name, upload, save=False)
    except BaseException:
        # The write failed part-way (disk full, the upload unreadable): no partial file stays.
        if partial and field.storage.exists(partial):
            field.storage.delete(partial)
        raise
    try:
        attachment.save()
        _event(
            case,
            kind=EventKind.ATTACHMENT_ADDED,
            actor=actor,
            data={"attachment_id": attachment.pk, "name": attachment.original_name, "size": attachment.size},
            at=at,
        )
    except BaseException:
        attachment.file.delete(save=False)
        raise
    return attachment


def _discard_files(attachments: Sequence[Attachment]) -> None:
    for attachment in attachments:
        attachment.file.delete(save=False)


def attachment_add(
    *, actor: Staff, case_id: int, upload: UploadedFile, contact_id: int | None = None, at: datetime | None = None
) -> Attachment:
    errors = validation.attachment_errors(upload)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id, organization_id=actor.org_id)
        if not case_visible_to(actor, case):
            raise PermissionDeniedError()
        if case.state == CaseState.ARCHIVED:
            raise InvalidTransition(src=case.state, dst=case.state, reason=_("已归档的案件只读。"))
        return _store_attachment(case, upload, actor=actor, contact_id=contact_id, at=at)


def attachment_upload(*, actor: Staff, case_id: int, upload: UploadedFile) -> Attachment:
    """A file uploaded to the case on its own (the case page, the intake form): only by those
    who may add files to this case (``permissions.may_upload_attachment``). A step that stores
    a file as part of its record (a callback's signature, an investigation's files) calls
    ``attachment_add`` under its own permission."""
    case = Case.objects.filter(pk=case_id, organization_id=actor.org_id).first()
    if case is None or not may_upload_attachment(actor, case):
        raise PermissionDeniedError()
    return attachment_add(actor=actor, case_id=case_id, upload=upload)


def receipt_issue(*, actor: Staff, case_id: int) -> str:
    """Issue a new query code (the old one stops working) for a reprinted receipt: only the
    desk that issues receipts (``permissions.may_reissue_receipt``)."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id, organization_id=actor.org_id)
        if not may_reissue_receipt(actor, case):
            raise PermissionDeniedError()
        code = _new_query_code()
        case.query_code_hash = query_code_hash(case.number, code)
        case.save(update_fields=["query_code_hash", "updated_at"])
        _event(case, kind=EventKind.RECEIPT_ISSUED, actor=actor, data={"reissued": True})
    return code


def party_reveal(*, actor: Staff, case_id: int) -> dict[str, dict[str, str]]:
    """Full phone / ID number / address / e-mail of the case's parties; only with the permission, always logged."""
    if not actor.can(Cap.VIEW_PII):
        raise PermissionDeniedError(_("您没有查看完整个人信息的权限。"))
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id, organization_id=actor.org_id).first()
        if case is None:
            raise NotFound()
        if not case_visible_to(actor, case):
            raise PermissionDeniedError()
        parties = [p for p in [case.party, *case.co_parties.all()] if p]
        _event(case, kind=EventKind.PII_VIEWED, actor=actor, data={"party_ids": [p.pk for p in parties]})
    return {
        str(p.pk): {"name": p.name, "phone": p.phone, "id_number": p.id_number, "address": p.address, "email": p.email}
        for p in parties
    }


# Cases whose events one transaction of a full export writes (their rows locked meanwhile).
EXPORT_LOG_CHUNK = 500


def party_export_log(*, actor: Staff, case_ids: Sequence[int], export: str) -> int:
    """A full export of the cases' personal data (the ledger as a spreadsheet with names,
    numbers and addresses in full): only with the personal-data right, and logged on every
    case with a complainant as a full view - the ``pii_viewed`` event the case page's
    reveal writes, naming the export - before any row is sent. Returns how many cases
    were logged; a case the actor may not see is refused, not skipped."""
    if not actor.can(Cap.VIEW_PII):
        raise PermissionDeniedError(_("您没有查看完整个人信息的权限。"))
    logged = 0
    for start in range(0, len(case_ids), EXPORT_LOG_CHUNK):
        chunk = set(case_ids[start : start + EXPORT_LOG_CHUNK])
        with transaction.atomic():
            cases = list(cases_for(actor).select_for_update().filter(pk__in=chunk).order_by("pk"))
            if len(cases) != len(chunk):
                raise PermissionDeniedError()
            named = [c for c in cases if c.party_id is not None]
            _events_bulk(
                named,
                kind=EventKind.PII_VIEWED,
                actor=actor,
                data=lambda c: {"party_ids": [c.party_id], "export": export},
            )
            logged += len(named)
    return logged


URGENCY_RANK: dict[str, int] = {"normal": 0, "urgent": 1, "major": 2}


def case_urgency_raise(case: Case, *, urgency: str, keyword: str, at: datetime | None = None) -> Event:
    """The preset's safety keyword in the matter raised its urgency (F13): stored on the
    case with the keyword, so the ledger, the desk and the case page show it and say why,
    and recorded as an event by the system. Called by an in-transaction subscriber
    (``deadlines.subscribers.raise_urgency``) with the case row locked."""
    before = case.urgency
    case.urgency, case.urgency_keyword = urgency, keyword
    case.save(update_fields=["urgency", "urgency_keyword", "updated_at"])
    return _event(
        case,
        kind=EventKind.URGENCY_RAISED,
        actor=None,
        data={"from": before, "to": urgency, "keyword": keyword, "automatic": True},
        at=at,  # with the registration or edit that carried the keyword
    )


def _lowering_raised(case: Case, changes: dict[str, Any]) -> bool:
    new = changes.get("urgency")
    return bool(
        new is not None and case.urgency_keyword and URGENCY_RANK.get(new, 0) < URGENCY_RANK.get(case.urgency, 0)
    )


def receiving_department(case: Case) -> Department | None:
    """The office that receives the case's kind of complainant under its policy (the
    hospital: 门诊部 for outpatients, 医务科 for inpatients, ``workflow.complainant_kind``),
    found by its code in the organisation's tree; None when the case's kind names none.
    Refused, naming the office, when the tree has no department with that code."""
    kind = complainant_kind(case.stage_switches, case.complainant_kind)
    if kind is None:
        return None
    office = Department.objects.filter(organization_id=case.organization_id, code=kind["department"]).first()
    if office is None:
        raise ValidationFailed(
            {
                "complainant_kind": [
                    _(
                        "接待部门：本单位规定%(kind)s的投诉由%(office)s接待，但组织架构中没有代码为“%(code)s”的部门；"
                        "请系统管理员建立该部门，或在政策中改正部门代码。"
                    )
                    % {
                        "kind": complainant_kind_name(kind),
                        "office": receiving_office_name(kind),
                        "code": kind["department"],
                    }
                ]
            }
        )
    return office


def _kind_changed(case: Case, before: str, after: str) -> dict[str, Any]:
    """A dispatched case whose complainant turned out to be of another kind: its receiving
    office follows (the old one no longer assists, unless it leads; the new one does)."""
    if case.lead_department_id is None:
        return {}  # not dispatched: the dispatch adds the receiving office
    old = complainant_kind(case.stage_switches, before)
    new_office = receiving_department(case)
    if old is not None:
        case.assisting_departments.remove(
            *Department.objects.filter(organization_id=case.organization_id, code=old["department"]).exclude(
                pk=case.lead_department_id
            )
        )
    if new_office is not None and new_office.pk != case.lead_department_id:
        case.assisting_departments.add(new_office)
    return {"receiving_department": new_office.name} if new_office is not None else {}


def case_update(
    *,
    actor: Staff,
    case_id: int,
    expected_version: int,
    changes: dict[str, Any],
    urgency_reason: str = "",
) -> Case:
    """Edit registration details (category, urgency, title, text, location, the
    complainant's kind) with an optimistic lock: a stale form is refused, never silently
    overwrites. Lowering an urgency the preset's keywords raised needs ``urgency_reason``;
    after it the keywords no longer raise that case's urgency. The complainant's kind is one
    of the case's policy's (``workflow.complainant_kinds``), not blank where it has kinds."""
    allowed = {"category_id", "urgency", "title", "text", "location", "nature", "complainant_kind"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"fields not editable: {sorted(unknown)}")
    changes = {k: clean_text(v).strip() if isinstance(v, str) else v for k, v in changes.items()}
    errors = validation.edit_errors(changes, organization_id=actor.org_id)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id, organization_id=actor.org_id)
        _check_can_edit(actor, case)
        if case.version != expected_version:
            raise CaseStale()
        if "complainant_kind" in changes:
            check_complainant_kind(case, changes["complainant_kind"])
        before = {k: getattr(case, k) for k in changes}
        diff = {k: v for k, v in changes.items() if before[k] != v}
        if not diff:
            return case
        extra: dict[str, Any] = {}
        overridden: list[str] = []
        if _lowering_raised(case, diff):
            reason = required_text(
                urgency_reason,
                "urgency_reason",
                _("紧急程度是按关键词“%(keyword)s”自动提高的：调低请填写理由。") % {"keyword": case.urgency_keyword},
                limit=NOTE_MAX,
                label=_("调低理由"),
            )
            extra = {"urgency_reason": reason, "urgency_keyword": case.urgency_keyword}
            case.urgency_keyword, case.urgency_overridden = "", True
            overridden = ["urgency_keyword", "urgency_overridden"]
        for key, value in diff.items():
            setattr(case, key, value)
        if "complainant_kind" in diff:
            extra.update(_kind_changed(case, before["complainant_kind"], diff["complainant_kind"]))
        case.search_document = _search_document(case)
        case.version += 1
        case.save(update_fields=[*diff, *overridden, "search_document", "version", "updated_at"])
        _event(
            case,
            kind=EventKind.UPDATED,
            actor=actor,
            data={
                "before": {k: before[k] for k in diff},
                "after": diff,
                **extra,
            },
        )
    return case


def check_complainant_kind(case: Case, code: str) -> None:
    """The complainant's kind, checked against the case's own policy: one of its kinds, and
    not blank where it has kinds (an edit, a dispatch that records it)."""
    kinds = {k["code"]: complainant_kind_name(k) for k in complainant_kinds(case.stage_switches)}
    error = validation.complainant_kind_error(code, kinds)
    if not error and kinds and not code:
        error = kind_required_message(case)
    if error:
        raise ValidationFailed({"complainant_kind": [error]})


def kind_required_message(case: Case, *, dispatch: bool = False) -> str:
    """Why the case's policy needs the complainant's kind, naming the field and who receives which."""
    rules = "；".join(
        _("%(kind)s的投诉由%(office)s接待") % {"kind": complainant_kind_name(k), "office": receiving_office_name(k)}
        for k in complainant_kinds(case.stage_switches)
    )
    if dispatch:
        return _("反映人类别：本单位规定%(rules)s，派遣前须登记反映人类别，请选择后再派遣。") % {"rules": rules}
    return _("反映人类别：本单位规定%(rules)s，请选择反映人类别。") % {"rules": rules}


# --- lifecycle ----------------------------------------------------------------------------
#
# Each verb is one locking transition through ``_transition``. What a step produced
# beyond the state (who a case went to, the proposal and its signatures, the review) is
# written to the handling app's records in the same transaction (``huiyin.handling.records``).


# Keys an ``apply`` function may return to steer the transition instead of logging data.
STAY = "_stay_with_event"  # value: an EventKind; the state does not change (a chain step)


def transition(
    *,
    actor: Actor,
    case_id: int,
    action: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    apply: Callable[[Case], dict[str, Any]] | None = None,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Case:
    """The one locking transition: lock, check table ∩ policy ∩ permission, mutate, log.
    ``at``: when it happened, where history is recreated (the event carries it; ``apply``
    is given it by the verb that builds it)."""
    note = checked_text(note, "note", limit=NOTE_MAX, label=_("备注"))
    if at is not None:
        happened_at(at)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id, organization_id=actor.org_id)
        edge = find_edge(case.state, action, case.stage_switches)
        if edge is None:
            raise InvalidTransition(src=case.state, dst=_target_of(action), reason=_moved_on(case, expected_version))
        if expected_version is not None and case.version != expected_version:
            raise CaseStale()
        if not may_take(actor, case, edge):
            raise PermissionDeniedError(acceptance_refusal(actor, case, edge))
        bus.check_guards(case, action)  # what other apps require first (huiyin/subscribers.py GUARDS)
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
        _event(case, kind=stay_kind or EventKind.STATE_CHANGED, actor=actor, data=payload, at=at)
    return case


def _moved_on(case: Case, expected_version: int | None) -> str:
    """When a form was made for an earlier state, say so: someone else acted first."""
    if expected_version is not None and case.version != expected_version:
        last = Event.objects.filter(case=case).select_related("actor").order_by("-id").first()
        who = str(last.actor) if last and last.actor else _("其他人")
        return _("该件已由%(who)s处理，您的操作未执行。") % {"who": who}
    return ""


def _target_of(action: str) -> str:
    return next((e.dst for e in EDGES if e.action == action), action)


def required_text(
    value: str, field_name: str, message: str, *, limit: int | None = None, label: str | None = None
) -> str:
    """Text a verb cannot do without: refused with ``message`` when blank, or naming ``label``
    when longer than ``limit`` (``HUIYIN_TEXT_MAX_CHARS`` by default); control characters cleaned."""
    return checked_text(value, field_name, missing=message, limit=limit, label=label)


# --- acceptance decision (F10) ---------------------------------------------------------------


def case_accept(
    *, actor: Staff, case_id: int, note: str = "", expected_version: int | None = None, at: datetime | None = None
) -> Case:
    return transition(
        actor=actor, case_id=case_id, action="accept", note=note, expected_version=expected_version, at=at
    )


def round_began(case: Case) -> datetime:
    """When the case's current handling round began: the first one when the matter came in
    (or registration, were it earlier), a reopened one when it was reopened."""
    started = CaseRound.objects.filter(case=case, number=case.round).values_list("started_at", flat=True).first()
    return min(case.received_at, started) if started and case.round == 1 else started or case.received_at


def check_in_round(case: Case, at: datetime, field: str, label: str) -> None:
    """A record of the round (an answer, an investigation) is not older than the round: a
    mistyped year (2001 for 2026) is refused naming the field."""
    earliest = round_began(case)
    if at < earliest:
        raise ValidationFailed(
            {
                field: [
                    _("%(label)s不能早于本轮办理开始的时间（%(at)s）。")
                    % {"label": label, "at": timezone.localtime(earliest).strftime("%Y-%m-%d %H:%M")}
                ]
            }
        )


# --- replies (F24) -----------------------------------------------------------------------------

REPLY_METHODS = ("phone", "letter", "sms", "in_person", "portal")


def _record_reply(
    case: Case, *, content: str, method: str, at: datetime, remedy: str = "", after_handling: bool = True
) -> dict[str, Any]:
    """The answer on the round. After handling (not a consultation answered at intake) the
    policy may require it to state the remedy (seeds/000 行 342: 答复采取何种补救措施)."""
    if after_handling and required_step(case.stage_switches, "remedy_in_reply") and not remedy:
        raise ValidationFailed({"remedy": [_("补救措施：本单位政策规定答复须告知反映人采取何种补救措施，请填写。")]})
    # An answer is given in its round: not before the round began (the first one from when
    # the matter came in), so a mistyped year cannot date it years before the case existed.
    check_in_round(case, at, "replied_at", _("答复时间"))
    CaseRound.objects.filter(case=case, number=case.round).update(
        reply_text=content,
        reply_method=method,
        replied_at=at,
        remedy=remedy,
    )
    data: dict[str, Any] = {"reply": content, "method": method, "replied_at": at}
    if remedy:
        data["remedy"] = remedy
    return data


def _reply_transition(
    *,
    actor: Staff,
    case_id: int,
    action: str,
    reply: str,
    method: str,
    replied_at: datetime | None = None,
    expected_version: int | None = None,
    remedy: str = "",
    at: datetime | None = None,
) -> Case:
    """The ways a complainant gets answered: on the spot, or after handling (and approval).
    ``remedy``: the remedy taken or planned, required where the policy says the answer
    must state it (``required_steps.remedy_in_reply``)."""
    reply = required_text(reply, "reply", _("请填写答复内容。"), limit=record_max(), label=_("答复内容"))
    remedy = checked_text(remedy, "remedy", limit=NOTE_MAX, label=_("补救措施"))
    if method not in REPLY_METHODS:
        raise ValidationFailed({"method": [_("请选择答复方式（电话、书面、短信、当面或网上）。")]})
    now = happened_at(at)
    answered = check_moment(replied_at, "replied_at", _("答复时间"), When.PAST) or now
    return transition(
        actor=actor,
        case_id=case_id,
        action=action,
        expected_version=expected_version,
        apply=lambda c: _record_reply(
            c, content=reply, method=method, at=answered, remedy=remedy.strip(), after_handling=action == "reply"
        ),
        at=at,
    )


def case_answer_on_spot(
    *,
    actor: Staff,
    case_id: int,
    reply: str,
    method: str = "phone",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Case:
    """F06: consultations answered at intake; counted, and callback-eligible."""
    return _reply_transition(
        actor=actor,
        case_id=case_id,
        action="answer_on_spot",
        reply=reply,
        method=method,
        expected_version=expected_version,
        at=at,
    )


def case_reply(
    *,
    actor: Staff,
    case_id: int,
    reply: str,
    method: str = "phone",
    replied_at: datetime | None = None,
    expected_version: int | None = None,
    remedy: str = "",
    at: datetime | None = None,
) -> Case:
    return _reply_transition(
        actor=actor,
        case_id=case_id,
        action="reply",
        reply=reply,
        method=method,
        replied_at=replied_at,
        expected_version=expected_version,
        remedy=remedy,
        at=at,
    )


# --- closure, reopening, archive (F25) ---------------------------------------------------------------

SATISFACTION = ("satisfied", "basically_satisfied", "dissatisfied")


def case_close(
    *,
    actor: Actor,
    case_id: int,
    satisfaction: str = "",
    callback_note: str = "",
    confirmed: bool = False,
    confirmation_note: str = "",
    expected_version: int | None = None,
    upheld_by_head: bool = False,
    at: datetime | None = None,
) -> Case:
    """Close after a reply, by the preset's rules: with the callback stage on the callback
    result is required (a dissatisfied complainant reopens the case instead, F41, unless
    the preset lets the department head decide and the head upheld the answer); with
    ``confirmation_to_close`` the complainant's confirmation; a higher authority's
    investigation request needs its result report sent first."""
    if satisfaction and satisfaction not in SATISFACTION:
        raise ValidationFailed({"satisfaction": [_("请选择回访满意度：满意、基本满意或不满意。")]})
    callback_note = checked_text(callback_note, "callback_note", limit=NOTE_MAX, label=_("回访情况"))
    confirmation_note = checked_text(confirmation_note, "confirmation_note", limit=NOTE_MAX, label=_("确认方式和情况"))
    now = happened_at(at)

    def apply(case: Case) -> dict[str, Any]:
        stages = stages_with_defaults(case.stage_switches)
        if stages[Stage.CALLBACK] and satisfaction not in SATISFACTION:
            raise ValidationFailed({"satisfaction": [_("本单位要求回访后办结：请填写回访满意度。")]})
        if satisfaction == "dissatisfied" and not upheld_by_head:
            raise ValidationFailed({"satisfaction": [_("反映人不满意，不能办结，请选择“重办”。")]})
        if (case.stage_switches or {}).get("confirmation_to_close") and not confirmed:
            raise ValidationFailed({"confirmed": [_("本单位要求反映人确认后办结：请记录反映人已确认处理结果。")]})
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

    return transition(
        actor=actor, case_id=case_id, action="close", apply=apply, expected_version=expected_version, at=at
    )


def case_reopen(
    *, actor: Actor, case_id: int, reason: str, expected_version: int | None = None, at: datetime | None = None
) -> Case:
    """重办: a new handling round; the previous round's record stays as it was."""
    reason = required_text(reason, "reason", _("请填写重办理由。"), limit=NOTE_MAX, label=_("重办理由"))
    now = happened_at(at)

    def apply(case: Case) -> dict[str, Any]:
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

    return transition(
        actor=actor, case_id=case_id, action="reopen", apply=apply, expected_version=expected_version, at=at
    )


def case_archive(
    *, actor: Staff, case_id: int, expected_version: int | None = None, at: datetime | None = None
) -> Case:
    return transition(actor=actor, case_id=case_id, action="archive", expected_version=expected_version, at=at)
