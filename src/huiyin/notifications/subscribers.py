"""Reactions to case events (rows in huiyin/subscribers.py): each queues the messages an
event calls for, through ``services.queue`` (templates, switches, opt-out, exactly once).

The receipt and the rating link run inside the transaction of their event — the query code
and the one-use link they carry exist in clear only there; the others run after commit, one
task per event."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from huiyin.cases.models import CaseRound
from huiyin.cases.notifications import repeat_contact_recipients
from huiyin.core import reminders
from huiyin.core.notify import desk_notify
from huiyin.deadlines.events import DeadlineEvent
from huiyin.deadlines.models import Extension
from huiyin.handling.models import ReviewDecision
from huiyin.handling.notifications import approval_recipients, dispatch_recipients
from huiyin.handling.records import preset_of
from huiyin.orgs.models import Staff

from .models import InboundMail, Message
from .purposes import Purpose
from .services import (
    Target,
    base_values,
    case_link,
    complainant_targets,
    first_receiver_told_record,
    queue,
    result_reported_record,
    staff_case_url,
    staff_targets,
)

if TYPE_CHECKING:
    from huiyin.cases.models import Case, Event


def _when(value: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    moment = parse_datetime(value) if value else None
    return moment.strftime(fmt) if moment else ""


def _staff_name(target: Target) -> dict[str, Any]:
    return {"name": str(target.staff) if target.staff is not None else ""}


def receipt_on_registered(*, case: Case, event: Event) -> None:
    """In the registration's transaction: the receipt with the query code, by SMS and e-mail."""
    code = case.issued_query_code
    targets = complainant_targets(case) if code else []
    if not targets:
        return  # nobody to send it to: the link and the text are not made
    values = {
        **base_values(case),
        "query_code": code,
        "due": f"{case.promised_due_at:%Y-%m-%d}" if case.promised_due_at else "",
        "link": case_link(case),
    }
    queue(
        case=case,
        event=event,
        purpose=Purpose.RECEIPT,
        targets=targets,
        values=values,
        secret=code,
        new_event=True,  # written by this registration, a moment ago
    )


def rating_link_on_issued(*, case: Case, event: Event) -> None:
    """In the transaction that issued it: the one-use rating link, by SMS and e-mail (the case
    page's copy hides the link)."""
    url = case.issued_rating_link
    if not url:
        return
    values = {
        **base_values(case),
        "rating_link": url,
        "due": _when((event.data or {}).get("expires_at"), "%Y-%m-%d"),
    }
    queue(
        case=case,
        event=event,
        purpose=Purpose.RATING_LINK,
        targets=complainant_targets(case),
        values=values,
        secret=url,
    )


def reply_on_replied(*, event: Event) -> None:
    """The answer, and where to read and rate it."""
    case = event.case
    answered = CaseRound.objects.filter(case=case, number=event.round).values_list("reply_text", flat=True).first()
    values = {**base_values(case), "reply": answered or "", "link": case_link(case)}
    queue(case=case, event=event, purpose=Purpose.REPLY, targets=complainant_targets(case), values=values)


def review_on_decided(*, event: Event) -> None:
    case = event.case
    data = event.data or {}
    decision = str(data.get("decision", ""))
    values = {
        **base_values(case),
        "review": _("复查") if data.get("level") == 1 else _("复核"),
        "decision": str(ReviewDecision(decision).label) if decision in ReviewDecision.values else decision,
        "opinion": str(data.get("opinion", "")),
        "link": case_link(case),
    }
    queue(case=case, event=event, purpose=Purpose.REVIEW_DECISION, targets=complainant_targets(case), values=values)


def extension_on_decided(*, event: Event) -> None:
    """An approved extension the preset tells the complainant of: the new time limit and why."""
    data = event.data or {}
    if not (data.get("approved") and data.get("notify_complainant")):
        return
    extension = Extension.objects.filter(pk=int(data.get("extension_id") or 0), case_id=event.case_id).first()
    if extension is None or extension.new_due_at is None:
        return
    case = event.case
    values = {
        **base_values(case),
        "reason": extension.reason[:60],
        "due": timezone.localtime(extension.new_due_at).strftime("%Y-%m-%d"),
        "link": case_link(case),
    }
    queue(case=case, event=event, purpose=Purpose.EXTENSION, targets=complainant_targets(case), values=values)


# The decisions by which the office does not handle a matter itself, told to the complainant.
DECISION_ACTIONS = ("not_accept", "not_reaccept", "return", "transfer")


def decision_told(data: dict[str, Any]) -> tuple[str, str, str]:
    """What the complainant is told of a decision not to handle the matter here: (the
    sentence, the reason, the body to turn to or that has it now)."""
    action = str(data.get("action", ""))
    if action == "not_accept":
        reason, body = str(data.get("ground", "")), str(data.get("refer_to", ""))
        said = _("不予受理，理由：%(reason)s") % {"reason": reason}
        if body:
            said += _("；请向%(body)s反映") % {"body": body}
    elif action == "not_reaccept":
        reason, body = str(data.get("ground", "")), ""
        said = _("不再受理，原因：%(reason)s") % {"reason": reason}
    elif action == "return":
        reason, body = str(data.get("reason", "")), str(data.get("returned_to", ""))
        said = _("经核查不属于本单位职责范围，已退回%(body)s，理由：%(reason)s") % {"body": body, "reason": reason}
    else:
        reason, body = "", str(data.get("to_body", ""))
        said = _("已转送%(body)s办理") % {"body": body}
    return said, reason, body


def decision_on_decided(*, event: Event) -> None:
    """不予受理 / 不再受理 / 退回 / 转送: the complainant is told the decision, why, and where to
    turn, by SMS and e-mail where they left a way to be reached (a visitor hears it at the desk
    too; a letter writer or an online complainant only this way)."""
    case = event.case
    said, reason, body = decision_told(event.data or {})
    values = {**base_values(case), "decision": said, "reason": reason, "refer_to": body, "link": case_link(case)}
    queue(case=case, event=event, purpose=Purpose.DECISION, targets=complainant_targets(case), values=values)


def _staff_values(case: Case) -> dict[str, Any]:
    return {**base_values(case), "case_url": staff_case_url(case)}


def staff_on_dispatch(*, event: Event) -> None:
    case = event.case
    queue(
        case=case,
        event=event,
        purpose=Purpose.DISPATCH,
        targets=staff_targets(dispatch_recipients(case)),
        values=_staff_values(case),
        per_target=_staff_name,
    )


def staff_on_approval(*, event: Event) -> None:
    case = event.case
    queue(
        case=case,
        event=event,
        purpose=Purpose.APPROVAL,
        targets=staff_targets(approval_recipients(case)),
        values=_staff_values(case),
        per_target=_staff_name,
    )


def staff_on_repeat_contact(*, event: Event) -> None:
    """A repeat call: the people the desk entry went to (``cases.notifications``), by e-mail or
    SMS where the organisation switched it on."""
    case = event.case
    values = {**_staff_values(case), "text": str((event.data or {}).get("text", ""))[:80]}
    queue(
        case=case,
        event=event,
        purpose=Purpose.REPEAT_CONTACT,
        targets=staff_targets(repeat_contact_recipients(event)),
        values=values,
        per_target=_staff_name,
    )


# The moves a first receiver is told of (``presets.FirstReceiverRules.told_on``), by step.
FIRST_RECEIVER_STEPS = {"reply": "reply", "answer_on_spot": "reply", "close": "close", "decide_rereview": "close"}
FIRST_RECEIVER_ACTIONS = tuple(FIRST_RECEIVER_STEPS)


def first_receiver_on_finished(*, event: Event) -> None:
    """首问负责 (property: seeds/000 行 73、77「第一接待人负责跟踪……直至客户满意为止」「处理完毕后……
    并告知第一接待人」): where the case's preset says so, the staff member who first received
    the matter is told that it was answered or closed — on their desk, by message where the
    organisation switched that on, and in the case's history. Not when they made the move."""
    case = event.case
    step = FIRST_RECEIVER_STEPS.get(str((event.data or {}).get("action", "")))
    preset = preset_of(case)
    if step is None or preset is None or step not in preset.first_receiver.told_on:
        return
    receiver = case.first_contact
    if receiver is None or not receiver.is_active or receiver.pk == event.actor_id:
        return
    said = gettext_noop("已答复反映人") if step == "reply" else gettext_noop("已办结")
    words = reminders.FIRST_RECEIVER(number=case.number, title=case.title, said=said)
    text = words.source()
    desk_notify(
        recipients=[receiver],
        case=case,
        key=f"event:{event.pk}:first-receiver",
        text=words,
        at=event.at,
        kind="first-receiver",
    )
    queue(
        case=case,
        event=event,
        purpose=Purpose.FIRST_RECEIVER,
        targets=staff_targets([receiver]),
        values={**_staff_values(case), "step": _(said)},
        per_target=_staff_name,
    )
    first_receiver_told_record(event=event, staff=receiver, step=step, text=text)


# The answers whose result is reported to the roles the preset names (``ResultReportRules``).
RESULT_REPORT_ACTIONS = ("reply", "answer_on_spot")


def result_report_on_replied(*, event: Event) -> None:
    """Property: 「在处理完毕后应将结果回复住户和管理处主任」 (seeds/000 行 119、324、373): where the
    case's preset names roles (``result_report.to``), their active staff are told the answer —
    on their desk, by message where the organisation switched that on, and in the case's
    history. Not whoever gave the answer."""
    case = event.case
    preset = preset_of(case)
    if preset is None or not preset.result_report.to:
        return
    roles = set(preset.result_report.to)
    recipients = [
        s
        for s in Staff.objects.filter(organization_id=case.organization_id, is_active=True).order_by("pk")
        if roles & set(s.roles or []) and s.pk != event.actor_id
    ]
    if not recipients:
        return
    answered = CaseRound.objects.filter(case=case, number=event.round).values_list("reply_text", flat=True).first()
    reply = answered or ""
    words = reminders.RESULT_REPORT(number=case.number, title=case.title, reply=reply[:120])
    text = words.source()
    desk_notify(
        recipients=recipients,
        case=case,
        key=f"event:{event.pk}:result-report",
        text=words,
        at=event.at,
        kind="result-report",
    )
    queue(
        case=case,
        event=event,
        purpose=Purpose.RESULT_REPORT,
        targets=staff_targets(recipients),
        values={**_staff_values(case), "reply": reply},
        per_target=_staff_name,
    )
    result_reported_record(event=event, staff=recipients, text=text)


DEADLINE_PURPOSES = {
    DeadlineEvent.DEADLINE_WARNING: Purpose.WARNING,
    DeadlineEvent.DEADLINE_OVERDUE: Purpose.OVERDUE,
    DeadlineEvent.ESCALATED: Purpose.ESCALATED,
}


def staff_on_deadline(*, event: Event) -> None:
    """The people the sweeper's step named (their desk entries were written with it)."""
    case = event.case
    data = event.data or {}
    ids = [int(i) for i in data.get("recipients", [])]
    people = Staff.objects.filter(pk__in=ids, organization_id=case.organization_id).order_by("pk")
    major = data.get("reason") == "major"
    values = {
        **_staff_values(case),
        "stage": _("重大事项，请即时阅处") if major else str(data.get("stage_label", "")),
        "due": "" if major else _when(data.get("due_at")),
        "role": str(data.get("role_label", "")),
    }
    queue(
        case=case,
        event=event,
        purpose=DEADLINE_PURPOSES[DeadlineEvent(event.kind)],
        targets=staff_targets(people),
        values=values,
        per_target=_staff_name,
    )


DEADLINE_KINDS = tuple(DEADLINE_PURPOSES)


def erase_personal_data(cases, *, dry_run: bool) -> int:
    """The retention rule (cases.retention): messages of these cases lose their recipient and
    texts, mail taken in for them its sender and text; the rows (keys, dates, statuses) stay,
    so a rerun of a task still finds what was sent."""
    messages = Message.objects.filter(case__in=cases).exclude(recipient="", body="", shown_body="", subject="")
    mails = InboundMail.objects.filter(case__in=cases).exclude(sender="", text="", subject="")
    if dry_run:
        return messages.count() + mails.count()
    erased = messages.update(recipient="", recipient_masked="", body="", shown_body="", subject="")
    return erased + mails.update(sender="", sender_masked="", subject="", text="")
