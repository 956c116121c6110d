"""Writes of notifications (F62): messages queued for an event and sent by a task, the
organisation's templates and switches, the complainant's SMS opt-out.

A message is queued in the transaction of the work that causes it — the registration's
(the receipt carries the query code, which exists in clear only there) or an after-commit
subscriber's (one per event, ``cases.bus``) — and handed to ``message_send_task`` once
that transaction commits. The task sends it, records the attempt, and raises on failure
so the task queue tries again with backoff; out of attempts the message is marked failed
(listed on the case, and the task on /system/).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from huiyin.cases.inputs import IntakeInput, PartyInput
from huiyin.cases.models import Case, Channel, Event, Party
from huiyin.cases.services import case_record_event, case_register
from huiyin.cases.validation import email_error
from huiyin.core.errors import NotFound, PermissionDeniedError, StaleObject, ValidationFailed
from huiyin.core.locks import xact_lock
from huiyin.core.notify import sms_backend
from huiyin.core.outbox import enqueue_on_commit
from huiyin.core.privacy import mask_email, mask_phone
from huiyin.core.validators import clean_text, normalize_phone
from huiyin.core.versions import bump, check_fingerprint, outdated
from huiyin.orgs.models import Staff

from . import intake, permissions, rendering
from .backends import DeliveryFailed, GatewayError, message_id_for, send_email
from .errors import NotificationsError
from .events import NotificationsEvent
from .models import (
    MAIL_STATES,
    MESSAGE_STATES,
    ChannelSwitch,
    InboundMail,
    MailStatus,
    Message,
    MessageStatus,
    MessageTemplate,
    StaffContact,
)
from .purposes import LANGUAGES, SPECS, Audience, Medium
from .tasks import message_send_task

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

CODE_HIDDEN = "********"
LANGUAGE_CODES = tuple(code for code, _label in LANGUAGES)


# --- links ---------------------------------------------------------------------------------------


def status_page_link(case: Case) -> str:
    """The public status page (number + query code): the link until a portal provides one."""
    return settings.HUIYIN_PUBLIC_URL.rstrip("/") + reverse("public:status")


def _link_provider() -> Callable[[Case], str]:
    """``NOTIFICATION_LINK`` of the subscriber table (a dotted path), else the status page."""
    table = import_module(str(getattr(settings, "HUIYIN_EVENT_TABLE", "huiyin.subscribers")))
    path = getattr(table, "NOTIFICATION_LINK", "")
    return import_string(path) if path else status_page_link


def case_link(case: Case) -> str:
    return _link_provider()(case)


def staff_case_url(case: Case) -> str:
    return settings.HUIYIN_PUBLIC_URL.rstrip("/") + reverse("cases:detail", args=[case.pk])


# --- who gets what --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    medium: str
    address: str
    party: Party | None = None
    staff: Staff | None = None
    withheld: str = ""  # why it is not sent (the person opted out)

    @property
    def who(self) -> str:
        if self.party is not None:
            return f"p{self.party.pk}"
        return f"s{self.staff.pk}" if self.staff is not None else "v"  # v: a visitor without a case (reception)

    @property
    def masked(self) -> str:
        return mask_phone(self.address) if self.medium == Medium.SMS else mask_email(self.address)


def is_mobile(phone: str) -> bool:
    return len(phone) == 11 and phone.startswith("1") and phone.isdigit()


def complainant_targets(case: Case) -> list[Target]:
    party = case.party
    if party is None or party.erased_at is not None or not case.organization.notify_complainants:
        return []
    targets = []
    if is_mobile(party.phone or ""):
        reason = _("反映人已选择不接收短信") if party.sms_opt_out else ""
        targets.append(Target(Medium.SMS, party.phone, party=party, withheld=reason))
    if party.email:
        targets.append(Target(Medium.EMAIL, party.email, party=party))
    return targets


def staff_targets(people: Iterable[Staff]) -> list[Target]:
    """E-mail to each active person's address (their own choice, else the account's) and SMS
    to the mobile they gave (``staff_contact_save``); the switches decide which is sent."""
    people = [p for p in people if p.is_active]
    contacts = {c.staff_id: c for c in StaffContact.objects.filter(staff__in=people)}
    seen: set[int] = set()
    targets = []
    for person in people:
        if person.pk in seen:
            continue
        seen.add(person.pk)
        contact = contacts.get(person.pk)
        email = (contact.email if contact is not None else "") or person.email
        if email:
            targets.append(Target(Medium.EMAIL, email, staff=person))
        if contact is not None and contact.mobile:
            targets.append(Target(Medium.SMS, contact.mobile, staff=person))
    return targets


def _language(target: Target) -> str:
    chosen = target.party.language if target.party is not None else ""
    return chosen if chosen in LANGUAGE_CODES else rendering.DEFAULT_LANGUAGE


def base_values(case: Case) -> dict[str, Any]:
    return {
        "org": case.organization.name,
        "number": case.number,
        "title": case.title,
        "hotline": case.organization.hotline or settings.HUIYIN_HOTLINE,
    }


# --- queueing ---------------------------------------------------------------------------------------


def queue(
    *,
    case: Case | None,
    event: Event | None,
    purpose: str,
    targets: Iterable[Target],
    values: Mapping[str, Any],
    per_target: Callable[[Target], Mapping[str, Any]] | None = None,
    secret: str = "",
    key_base: str = "",
    organization_id: int | None = None,
    new_event: bool = False,
) -> list[Message]:
    """Queue ``purpose`` for each target whose medium the organisation has switched on,
    once per (event, purpose, medium, recipient); the send tasks start after commit.
    ``secret`` (the query code) is hidden in the text the case page shows. A message about
    no case (a booked visit: ``huiyin.reception``) names its ``organization_id`` and a
    ``key_base`` of its own. ``new_event``: the event was written in the caller's
    transaction, so no message of it exists yet and no other run can be queueing it: its
    messages are inserted without asking first and without a savepoint (the receipt)."""
    if new_event and (event is None or key_base):
        raise ValueError("new_event: the messages of an event just written, keyed by it")
    if case is None and (organization_id is None or not key_base):
        raise ValueError("a message without a case needs its organisation and a key base")
    org_id = case.organization_id if case is not None else organization_id
    assert org_id is not None  # checked above
    targets = [t for t in targets if t.medium in SPECS[purpose].media]
    if not targets:
        return []  # nobody to tell (an organisation that texts no complainant): no switch to read
    switches = {
        (s.purpose, s.medium): s.enabled for s in ChannelSwitch.objects.filter(organization_id=org_id, purpose=purpose)
    }
    queued = []
    base = key_base or f"event:{event.pk if event else 0}"
    for target in targets:
        if not switches.get((purpose, target.medium), SPECS[purpose].on_by_default):
            continue
        key = f"{base}:{purpose}:{target.medium}:{target.who}"
        if not new_event and Message.objects.filter(key=key).exists():
            continue  # an earlier run queued it
        language = _language(target)
        filled = {**values, **(per_target(target) if per_target else {})}
        text = rendering.render(org_id, purpose, target.medium, language, filled)
        shown = text.body.replace(secret, CODE_HIDDEN) if secret else text.body
        withheld = bool(target.withheld)  # kept on the case as not sent, with the reason
        row = Message(
            organization_id=org_id,
            case=case,
            event=event,
            key=key,
            purpose=purpose,
            medium=target.medium,
            audience=SPECS[purpose].audience,
            party=target.party,
            staff=target.staff,
            recipient="" if withheld else target.address,
            recipient_masked=target.masked,
            language=language,
            subject=text.subject,
            body="" if withheld else text.body,
            shown_body=shown,
            message_id=message_id_for(key) if target.medium == Medium.EMAIL else "",
            status=MessageStatus.WITHHELD if withheld else MessageStatus.QUEUED,
            reason=target.withheld,
        )
        if new_event:
            row.save(force_insert=True)
        else:
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                continue  # a concurrent run queued it first
        if row.status == MessageStatus.QUEUED:
            enqueue_on_commit(message_send_task, message_id=row.pk)
        queued.append(row)
    return queued


# --- sending ----------------------------------------------------------------------------------------


def _describe(exc: Exception) -> str:
    """What the case page and the log say about a failure: never the recipient or the text."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "SMTP recipient refused"
    if isinstance(exc, GatewayError):  # our own gateway's words, written without either
        return f"{type(exc).__name__}: {str(exc)[:120]}"
    return type(exc).__name__  # another backend's error may quote the number or the address


def _hand_over(message: Message) -> None:
    if message.medium == Medium.SMS:
        sms_backend().send(phone=message.recipient, body=message.body, key=message.key)
    else:
        references = _thread_of(message)
        send_email(
            to=message.recipient,
            subject=message.subject,
            body=message.body,
            message_id=message.message_id,
            references=references,
        )


def _thread_of(message: Message) -> str:
    """A message to a complainant who wrote in answers their first mail (threading)."""
    if message.audience != Audience.COMPLAINANT or message.case_id is None:
        return ""
    first = (
        InboundMail.objects.filter(case_id=message.case_id)
        .exclude(message_id__startswith="<sha256:")
        .order_by("received_at")
        .values_list("message_id", flat=True)
        .first()
    )
    return first or ""


def message_send(message_id: int) -> str:
    """Send one queued message; returns its status. Raises when the hand-over failed and
    attempts are left, so the task queue retries it with backoff."""
    failure: Exception | None = None
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            return ""
        if message.status != MessageStatus.QUEUED:
            return message.status
        message.attempts += 1
        try:
            _hand_over(message)
        except Exception as exc:  # any failure of the gateway or the mail server: recorded, retried
            message.reason = _describe(exc)[:200]
            failure = DeliveryFailed(f"message {message.pk}: {message.reason}")
            log.warning("message %s attempt %d failed: %s", message.pk, message.attempts, message.reason)
            if message.attempts >= settings.HUIYIN_TASK_MAX_ATTEMPTS:
                MESSAGE_STATES.move(message, MessageStatus.FAILED)
        else:
            MESSAGE_STATES.move(message, MessageStatus.SENT)
            message.sent_at, message.reason = timezone.now(), ""
        message.save(update_fields=["status", "attempts", "reason", "sent_at"])
    if failure is not None:
        raise failure from None  # the original error (and its traceback's text) stays here
    return message.status


def message_resend(*, actor: Staff, message_id: int) -> Message:
    """An administrator sends a failed message again (after fixing the gateway, say)."""
    if not permissions.may_resend(actor):
        raise PermissionDeniedError()
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id, organization_id=actor.org_id).first()
        if message is None:
            raise NotFound()
        MESSAGE_STATES.move(message, MessageStatus.QUEUED)
        message.attempts, message.reason = 0, ""
        message.save(update_fields=["status", "attempts", "reason"])
        enqueue_on_commit(message_send_task, message_id=message.pk)
    return message


def requeue_stale(*, older_than: timedelta = timedelta(minutes=15)) -> int:
    """Queued messages never tried (their task was lost between commit and enqueue, say):
    hand them to the queue again. A second task for a message that has one is harmless —
    the row lock and its status make the later one a no-op."""
    stale = list(
        Message.objects.filter(
            status=MessageStatus.QUEUED, attempts=0, created_at__lt=timezone.now() - older_than
        ).values_list("pk", flat=True)[:500]
    )
    for pk in stale:
        message_send_task.enqueue(message_id=pk)
    return len(stale)


# --- the organisation's templates and switches -------------------------------------------------------------


def _check_admin(actor: Staff) -> None:
    if not permissions.may_edit_templates(actor):
        raise PermissionDeniedError()


def _check_key(purpose: str, medium: str, language: str | None = None) -> None:
    if purpose not in SPECS or medium not in SPECS[purpose].media:
        raise NotFound()
    if language is not None and language not in LANGUAGE_CODES:
        raise NotFound()


def _check_unchanged(actor: Staff, purpose: str, medium: str, language: str, expected: str | None) -> None:
    """Refuse a template's save or reset made on a page another administrator's save has
    since outdated (``expected``: ``rendering.template_fingerprint`` when the page was made)."""
    xact_lock(f"message-template:{actor.org_id}:{purpose}:{medium}:{language}")
    current = rendering.template_fingerprint(actor.org_id, purpose, medium, language)
    check_fingerprint(current, expected, what=_("该通知模板"))


def template_save(
    *,
    actor: Staff,
    purpose: str,
    medium: str,
    language: str,
    subject: str,
    body: str,
    expected: str | None = None,
) -> MessageTemplate:
    _check_admin(actor)
    _check_key(purpose, medium, language)
    subject, body = rendering.one_line(clean_text(subject)), clean_text(body).strip()
    if medium == Medium.SMS:
        subject = ""
    rendering.check_template(purpose, medium, subject, body)
    with transaction.atomic():
        _check_unchanged(actor, purpose, medium, language, expected)
        row, _created = MessageTemplate.objects.update_or_create(
            organization_id=actor.org_id,
            purpose=purpose,
            medium=medium,
            language=language,
            defaults={"subject": subject, "body": body, "updated_by": actor},
        )
    return row


def template_reset(*, actor: Staff, purpose: str, medium: str, language: str, expected: str | None = None) -> None:
    _check_admin(actor)
    _check_key(purpose, medium, language)
    with transaction.atomic():
        _check_unchanged(actor, purpose, medium, language, expected)
        MessageTemplate.objects.filter(
            organization_id=actor.org_id, purpose=purpose, medium=medium, language=language
        ).delete()


def switch_set(*, actor: Staff, purpose: str, medium: str, enabled: bool) -> ChannelSwitch:
    _check_admin(actor)
    _check_key(purpose, medium)
    row, _created = ChannelSwitch.objects.update_or_create(
        organization_id=actor.org_id,
        purpose=purpose,
        medium=medium,
        defaults={"enabled": enabled, "updated_by": actor},
    )
    return row


# --- the complainant's wish ----------------------------------------------------------------------------------


def sms_opt_out_set(*, actor: Staff, case_id: int, opt_out: bool) -> Party:
    """Record that the case's complainant wants no text messages (or wants them again)."""
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id, organization_id=actor.org_id).first()
        if case is None:
            raise NotFound()
        if not permissions.may_set_sms_opt_out(actor, case):
            raise PermissionDeniedError()
        party = case.party
        if party is None:
            raise ValidationFailed({"sms_opt_out": [_("该案件没有登记反映人，无需设置。")]})
        if party.sms_opt_out != opt_out:
            party.sms_opt_out = opt_out
            party.save(update_fields=["sms_opt_out"])
            case_record_event(
                case,
                kind=NotificationsEvent.CONTACT_PREFERENCE,
                actor=actor,
                data={"sms_opt_out": opt_out},
            )
    return party


# --- the first receiver (首问负责) ----------------------------------------------------------------------


def _after_move_record(event: Event, kind: str, data: dict) -> Event | None:
    """A system line in the case's history about what a subscriber did after ``event``'s
    commit: dated at the event, never before the case's last record."""
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=event.case_id).first()
        if case is None:
            return None
        last = Event.objects.filter(case=case).order_by("-id").values_list("at", flat=True).first()
        at = max(event.at, last) if last is not None else event.at
        return case_record_event(case, kind=kind, actor=None, data={**data, "source_event": event.pk}, at=at)


def first_receiver_told_record(*, event: Event, staff: Staff, step: str, text: str) -> Event | None:
    """A line in the case's history: its first receiver was told that the matter was answered
    or closed (``presets.FirstReceiverRules``), by the subscriber that told them, after the
    move's commit. Dated at the move (never before the case's last record), by the system."""
    return _after_move_record(
        event,
        NotificationsEvent.FIRST_RECEIVER_TOLD,
        {"staff_id": staff.pk, "staff_name": str(staff), "step": step, "text": text},
    )


def result_reported_record(*, event: Event, staff: list[Staff], text: str) -> Event | None:
    """A line in the case's history: the result was reported to the staff the preset names
    (``presets.ResultReportRules``: 管理处主任), by the subscriber that told them, after the
    answer's commit. Dated at the answer (never before the case's last record), by the system."""
    return _after_move_record(
        event,
        NotificationsEvent.RESULT_REPORTED,
        {"staff_ids": [s.pk for s in staff], "staff_names": [str(s) for s in staff], "text": text},
    )


# --- parked mail (the e-mail channel, intake.py) ----------------------------------------------------------


def _locked_mail(actor: Staff, mail_id: int, version: int | None) -> InboundMail:
    if not permissions.may_handle_mail(actor):
        raise PermissionDeniedError()
    mail = InboundMail.objects.select_for_update().filter(pk=mail_id, organization_id=actor.org_id).first()
    if mail is None:
        raise NotFound()
    if outdated(mail, version):
        raise StaleObject()
    return mail


def _forget_raw(mail: InboundMail) -> None:
    name = mail.raw_path
    if name:
        transaction.on_commit(lambda: (intake.raw_dir() / name).unlink(missing_ok=True))


def mail_register(
    *, actor: Staff, mail_id: int, nature: str, title: str, text: str, version: int | None = None
) -> tuple[Case, str, list[str]]:
    """A clerk registers a parked mail as a case (the e-mail channel, the sender as the
    complainant): returns the case, its query code and the names of the attached files the
    upload checks refused (not kept; the mail's original stays in the mailbox)."""
    with transaction.atomic():
        mail = _locked_mail(actor, mail_id, version)
        MAIL_STATES.check(mail, MailStatus.REGISTERED, code=NotificationsError.MAIL_ALREADY_HANDLED)
        raw = intake.read_raw(mail)
        parsed = intake.parse(raw) if raw is not None else None
        uploads = parsed.attachments if parsed is not None else []
        refused = parsed.refused if parsed is not None else []
        sender_ok = bool(mail.sender) and email_error(mail.sender) is None
        party = PartyInput(
            name=parsed.sender_name if parsed is not None else "",
            email=mail.sender if sender_ok else "",
            anonymous=not sender_ok,
        )
        data = IntakeInput(channel=Channel.EMAIL, nature=nature, title=title, text=text, party=party)
        case, code = case_register(actor=actor, data=data, uploads=uploads)
        MAIL_STATES.move(mail, MailStatus.REGISTERED)
        mail.case, mail.handled_by, mail.handled_at = case, actor, timezone.now()
        bump(mail, ["status", "case", "handled_by", "handled_at"])
        _forget_raw(mail)
    return case, code, refused


def mail_discard(*, actor: Staff, mail_id: int, reason: str, version: int | None = None) -> InboundMail:
    """A clerk discards a parked mail (spam, a duplicate sent from elsewhere), with the reason."""
    reason = clean_text(reason).strip()
    if not reason:
        raise ValidationFailed({"reason": [_("请填写作废原因。")]})
    if len(reason) > 200:
        raise ValidationFailed({"reason": [_("作废原因最多 200 字，当前 %(n)d 字。") % {"n": len(reason)}]})
    with transaction.atomic():
        mail = _locked_mail(actor, mail_id, version)
        MAIL_STATES.move(mail, MailStatus.DISCARDED, code=NotificationsError.MAIL_ALREADY_HANDLED)
        mail.discard_reason, mail.handled_by, mail.handled_at = reason, actor, timezone.now()
        bump(mail, ["status", "discard_reason", "handled_by", "handled_at"])
        _forget_raw(mail)
    return mail


# --- a staff member's own notification contacts -------------------------------------------------------------


def staff_contact_save(*, actor: Staff, email: str, mobile: str) -> StaffContact:
    """Where the actor gets their notices besides the desk (blank: the account's e-mail, no SMS)."""
    if not permissions.may_set_own_contact(actor):
        raise PermissionDeniedError()
    email, mobile = clean_text(email).strip().lower(), normalize_phone(clean_text(mobile))
    errors: dict[str, list[str]] = {}
    message = email_error(email)
    if message:
        errors["email"] = [message]
    if mobile and not is_mobile(mobile):
        errors["mobile"] = [_("手机号码格式不正确：请输入11位手机号（如 13812345678）。")]
    if errors:
        raise ValidationFailed(errors)
    row, _created = StaffContact.objects.update_or_create(staff=actor, defaults={"email": email, "mobile": mobile})
    return row
