"""Handling work that does not move the case's state: assigning handlers, investigation
records and signatures, rectification notices and plans, documents and templates,
joint handling, and the higher authority's request for a result report.

Each function locks the case row, checks permission and state, writes its records and
its Event in one transaction; nothing is half-done. State moves are in
``huiyin.cases.services`` (the one state machine).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from datetime import datetime

from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases import services as case_services
from huiyin.cases.errors import CaseStale
from huiyin.cases.events import EventKind
from huiyin.cases.models import Case
from huiyin.cases.permissions import may_reveal_pii
from huiyin.cases.selectors import case_locked, case_visible_to
from huiyin.cases.workflow import OPEN_STATES, REVIEW_STATES, CaseState
from huiyin.core.errors import ApplicationError, NotFound, PermissionDeniedError, ValidationFailed
from huiyin.core.locks import xact_lock
from huiyin.core.validators import (
    ANSWER_MAX,
    NOTE_MAX,
    When,
    check_moment,
    checked_text,
    clean_text,
    happened_at,
    record_max,
)
from huiyin.core.versions import check_fingerprint
from huiyin.deadlines.events import DeadlineEvent
from huiyin.deadlines.models import Clock
from huiyin.deadlines.services.clocks import case_plan, clock_start_manual, clocks_stop
from huiyin.handling.events import HandlingEvent
from huiyin.orgs.models import Department, Staff

from . import documents, permissions, records, steps
from .document_texts import DocumentKind
from .errors import HandlingError
from .models import (
    DOCUMENT_STATUSES,
    AuthorityRequest,
    ConfirmationKind,
    Document,
    DocumentStatus,
    DocumentTemplate,
    Investigation,
    InvestigationKind,
    JointHandling,
    JointPart,
    NoticeMethod,
    PlanVerdict,
    Rectification,
)

WORKING_STATES = OPEN_STATES | REVIEW_STATES
SIGNATURE_MAX_BYTES = 1_000_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _lock(actor: Staff, case_id: int) -> Case:
    case = case_locked(actor=actor, case_id=case_id)
    if case is None or not case_visible_to(actor, case):
        raise PermissionDeniedError()
    return case


def _require_state(case: Case, states: Iterable[str] = WORKING_STATES) -> None:
    if case.state not in states:
        raise ApplicationError(
            _("案件当前状态为“%(state)s”，不能进行此操作。") % {"state": case.get_state_display()},
            code=HandlingError.WRONG_STATE,
        )


def _require_member(actor: Staff, case: Case) -> None:
    if not permissions.may_work_on_case(actor, case):
        raise PermissionDeniedError(_("只有承办人、主办或协办部门的人员可以办理本件。"))


def _require_lead(actor: Staff, case: Case) -> None:
    if not permissions.may_steer_handling(actor, case):
        raise PermissionDeniedError(_("只有承办人或主办部门的人员可以办理此环节。"))


def _record(case: Case, kind: str, actor: Staff, data: dict, at: datetime | None = None) -> None:
    case.version += 1
    case.save(update_fields=["version", "updated_at"])
    case_services.case_record_event(case, kind=kind, actor=actor, data=data, at=at)


def _text(value: str, field: str, message: str, *, limit: int | None = None, label: str | None = None) -> str:
    return case_services.required_text(value, field, message, limit=limit, label=label)


def _not_future(value: datetime | None, field: str, label: str) -> datetime:
    return check_moment(value, field, label, When.PAST) or timezone.now()


# --- handlers (F11) -----------------------------------------------------------------------------


def handler_assign(
    *,
    actor: Staff,
    case_id: int,
    handler_id: int,
    assisting_ids: Iterable[int] = (),
    expected_version: int | None = None,
) -> Case:
    """The lead department's head names the handler and assisting handlers."""
    with transaction.atomic():
        case = _lock(actor, case_id)
        _require_state(case, {CaseState.DISPATCHED, CaseState.IN_PROGRESS, CaseState.APPROVED})
        if expected_version is not None and case.version != expected_version:
            raise CaseStale()
        assert case.lead_department_id is not None, "every state above has a lead department"
        if not permissions.may_assign_handler(actor, case):
            raise PermissionDeniedError(_("只有主办部门负责人可以指定承办人。"))
        handler = Staff.objects.filter(pk=handler_id, department_id=case.lead_department_id, is_active=True).first()
        if handler is None:
            raise ValidationFailed({"handler": [_("承办人必须是主办部门的在岗人员。")]})
        departments = {case.lead_department_id, *case.assisting_departments.values_list("pk", flat=True)}
        helpers = list(
            Staff.objects.filter(pk__in=assisting_ids, department_id__in=departments, is_active=True).exclude(
                pk=handler.pk
            )
        )
        if len(helpers) != len(set(assisting_ids) - {handler.pk}):
            raise ValidationFailed({"assisting_handlers": [_("协办人必须是主办或协办部门的在岗人员。")]})
        steps.check_helpers(case, actor=actor, helper_ids={h.pk for h in helpers})
        before = case.handler_id
        case.handler = handler
        case.save(update_fields=["handler"])
        case.assisting_handlers.set(helpers)
        case_services.CaseRound.objects.filter(case=case, number=case.round).update(handler=handler)
        _record(
            case,
            HandlingEvent.HANDLER_ASSIGNED,
            actor,
            {"before": {"handler": before}, "handler_name": str(handler), "assisting_names": [str(h) for h in helpers]},
        )
    return case


# --- investigation records (F20) ----------------------------------------------------------------------


def signature_upload(drawn: str) -> UploadedFile:
    """A signature drawn on screen arrives as a PNG data URL (investigations, callbacks)."""
    prefix = "data:image/png;base64,"
    if not drawn.startswith(prefix):
        raise ValidationFailed({"signature": [_("签名图像格式不正确，请重新签名。")]})
    try:
        data = base64.b64decode(drawn[len(prefix) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed({"signature": [_("签名图像格式不正确，请重新签名。")]}) from exc
    if not data.startswith(PNG_MAGIC):
        raise ValidationFailed({"signature": [_("签名图像格式不正确，请重新签名。")]})
    if len(data) > SIGNATURE_MAX_BYTES:
        raise ValidationFailed({"signature": [_("签名图像过大。")]})
    return SimpleUploadedFile("signature.png", data, content_type="image/png")


def _confirm(
    actor: Staff,
    case: Case,
    record: Investigation,
    *,
    scan: UploadedFile | None,
    drawn: str,
    at: datetime | None = None,
) -> None:
    if scan is not None:
        upload, kind = scan, ConfirmationKind.SCAN
    elif drawn:
        upload, kind = signature_upload(drawn), ConfirmationKind.DRAWN
    else:
        return
    attachment = case_services.attachment_add(actor=actor, case_id=case.pk, upload=upload, at=at)
    record.signature, record.confirmation, record.confirmed_at = attachment, kind, happened_at(at)
    record.save(update_fields=["signature", "confirmation", "confirmed_at"])


def investigation_add(
    *,
    actor: Staff,
    case_id: int,
    kind: str,
    text: str,
    occurred_at: datetime | None = None,
    place: str = "",
    interviewee: str = "",
    uploads: Iterable[UploadedFile] = (),
    signature_scan: UploadedFile | None = None,
    signature_drawn: str = "",
    at: datetime | None = None,
) -> Investigation:
    """An interview or site visit, with its files and, when given, the interviewee's
    confirmation (a signed scan or a signature drawn on screen). ``at``: when it was recorded,
    where history is recreated (``validators.happened_at``)."""
    if kind not in InvestigationKind.values:
        raise ValidationFailed({"kind": [_("请选择调查方式。")]})
    text = _text(text, "text", _("请填写调查内容。"), limit=record_max(), label=_("调查内容"))
    place = checked_text(place, "place", limit=200, label=_("地点"))
    interviewee = checked_text(interviewee, "interviewee", limit=120, label=_("被调查人"))
    if kind == InvestigationKind.INTERVIEW and not interviewee:
        raise ValidationFailed({"interviewee": [_("询问笔录须写明被询问人。")]})
    recorded = happened_at(at)
    occurred = check_moment(occurred_at, "occurred_at", _("调查时间"), When.PAST) or recorded
    uploads = list(uploads)
    for upload in [*uploads, *([signature_scan] if signature_scan else [])]:
        errors = case_services.validation.attachment_errors(upload)
        if errors:
            raise ValidationFailed(errors)
    if signature_drawn:
        signature_upload(signature_drawn)  # refuse a bad drawing before anything is saved
    with transaction.atomic():
        case = _lock(actor, case_id)
        _require_state(case)
        _require_member(actor, case)
        case_services.check_in_round(case, occurred, "occurred_at", _("调查时间"))
        record = Investigation.objects.create(
            case=case,
            round=case.round,
            kind=kind,
            occurred_at=occurred,
            place=place,
            interviewee=interviewee,
            text=text,
            recorded_by=actor,
        )
        files = [case_services.attachment_add(actor=actor, case_id=case.pk, upload=u) for u in uploads]
        record.attachments.set(files)
        _confirm(actor, case, record, scan=signature_scan, drawn=signature_drawn, at=at)
        _record(
            case,
            HandlingEvent.INVESTIGATION_RECORDED,
            actor,
            {
                "investigation_id": record.pk,
                "kind": kind,
                # Not the interviewee's name: the event log is never erased, the record is
                # (encrypted, and blanked by the retention rule).
                "text": text[:200],
                "confirmed": bool(record.confirmation),
            },
            at=at,
        )
    return record


def investigation_confirm(
    *,
    actor: Staff,
    investigation_id: int,
    signature_scan: UploadedFile | None = None,
    signature_drawn: str = "",
) -> Investigation:
    if signature_scan is None and not signature_drawn:
        raise ValidationFailed({"signature": [_("请上传签字扫描件或当场签名。")]})
    if signature_scan is not None:
        errors = case_services.validation.attachment_errors(signature_scan)
        if errors:
            raise ValidationFailed(errors)
    else:
        signature_upload(signature_drawn)
    with transaction.atomic():
        record = (
            Investigation.objects.select_related("case")
            .filter(pk=investigation_id, case__organization_id=actor.org_id)
            .first()
        )
        if record is None:
            raise NotFound()
        case = _lock(actor, record.case_id)
        _require_state(case)
        _require_member(actor, case)
        record = Investigation.objects.select_for_update().get(pk=record.pk)
        if record.confirmation:
            raise ApplicationError(_("该笔录已经签字确认。"), code=HandlingError.ALREADY_CONFIRMED)
        _confirm(actor, case, record, scan=signature_scan, drawn=signature_drawn)
        _record(
            case,
            HandlingEvent.INVESTIGATION_CONFIRMED,
            actor,
            {"investigation_id": record.pk, "confirmation": record.confirmation},
        )
    return record


# --- rectification (F22) ---------------------------------------------------------------------------------


def rectification_notify(
    *,
    actor: Staff,
    case_id: int,
    unit: str = "",
    method: str = NoticeMethod.LETTER,
    requirements: str = "",
    at: datetime | None = None,
) -> Rectification:
    """整改通知 to the responsible unit (by letter or phone): its written plan is now due
    within the preset's limit, timed and escalated by the deadline engine."""
    if method not in NoticeMethod.values:
        raise ValidationFailed({"method": [_("请选择通知方式（书面或电话）。")]})
    unit = checked_text(unit, "unit", limit=120, label=_("责任单位"))
    requirements = checked_text(requirements, "requirements", limit=NOTE_MAX, label=_("整改要求"))

    with transaction.atomic():
        case = _lock(actor, case_id)
        _require_state(case, {CaseState.IN_PROGRESS, CaseState.APPROVED})
        _require_lead(actor, case)
        if not (case.stage_switches or {}).get("rectification_plan"):
            raise ApplicationError(_("本单位的政策没有整改方案环节。"), code=HandlingError.STAGE_OFF)
        steps.check_notice(case)

        proposal = records.approved_proposal(case)
        unit = unit or (proposal.responsible_unit if proposal else "").strip()
        if not unit:
            raise ValidationFailed({"unit": [_("请填写责任单位。")]})
        row = Rectification.objects.create(
            case=case,
            round=case.round,
            unit=unit[:120],
            method=method,
            requirements=requirements,
            notified_by=actor,
            notified_at=happened_at(at),
        )
        _record(
            case,
            DeadlineEvent.UNIT_NOTIFIED,
            actor,
            {"rectification_id": row.pk, "unit": row.unit, "method": method, "note": row.requirements},
            at=at,
        )
        _follow_plan_clock(case, row)
    return row


def _follow_plan_clock(case: Case, row: Rectification) -> None:
    """The plan's due time, as the deadline engine's clock (started by the event) has it."""
    clock = Clock.objects.filter(case=case, round=case.round, stage="rectification_plan").order_by("-id").first()
    if clock is not None:
        row.plan_due_at = clock.due_at
        row.save(update_fields=["plan_due_at"])


def _rectification_locked(actor: Staff, rectification_id: int) -> tuple[Case, Rectification]:
    row = Rectification.objects.filter(pk=rectification_id, case__organization_id=actor.org_id).first()
    if row is None:
        raise NotFound(_("找不到该整改记录。"))
    case = _lock(actor, row.case_id)
    _require_lead(actor, case)
    return case, Rectification.objects.select_for_update().get(pk=row.pk)


def rectification_plan_receive(
    *, actor: Staff, rectification_id: int, plan_text: str, at: datetime | None = None
) -> Rectification:
    plan_text = _text(plan_text, "plan_text", _("请填写整改方案的主要内容。"), limit=ANSWER_MAX, label=_("整改方案"))
    with transaction.atomic():
        case, row = _rectification_locked(actor, rectification_id)
        _require_state(case)
        if row.plan_received_at and row.verdict != PlanVerdict.REVISE:
            raise ApplicationError(_("已收到该单位的整改方案。"), code=HandlingError.PLAN_TWICE)
        row.plan_text, row.plan_received_at, row.verdict = plan_text, happened_at(at), PlanVerdict.PENDING
        row.save(update_fields=["plan_text", "plan_received_at", "verdict"])
        _record(case, DeadlineEvent.PLAN_RECEIVED, actor, {"rectification_id": row.pk, "note": plan_text[:200]}, at=at)
    return row


def rectification_plan_check(
    *, actor: Staff, rectification_id: int, verdict: str, note: str = "", at: datetime | None = None
) -> Rectification:
    """Check the plan: workable, or back to the unit for revision (its plan is due again)."""
    if verdict not in (PlanVerdict.ACCEPTED, PlanVerdict.REVISE):
        raise ValidationFailed({"verdict": [_("请选择审核结论。")]})
    note = checked_text(note, "note", limit=NOTE_MAX, label=_("审核意见"))
    if verdict == PlanVerdict.REVISE:
        note = _text(note, "note", _("退回修改须写明意见。"))
    with transaction.atomic():
        case, row = _rectification_locked(actor, rectification_id)
        _require_state(case)
        if not row.plan_received_at or row.verdict:
            raise ApplicationError(_("没有待审核的整改方案。"), code=HandlingError.NO_PLAN)
        row.verdict, row.verdict_note, row.checked_by, row.checked_at = verdict, note, actor, happened_at(at)
        row.save(update_fields=["verdict", "verdict_note", "checked_by", "checked_at"])
        _record(
            case,
            HandlingEvent.PLAN_CHECKED,
            actor,
            {"rectification_id": row.pk, "verdict": verdict, "note": row.verdict_note},
            at=at,
        )
        if verdict == PlanVerdict.REVISE:  # the unit owes a revised plan, timed afresh
            _record(
                case,
                DeadlineEvent.UNIT_NOTIFIED,
                actor,
                {"rectification_id": row.pk, "unit": row.unit, "method": row.method, "note": row.verdict_note},
                at=at,
            )
            _follow_plan_clock(case, row)
    return row


def rectification_inform_complainant(
    *, actor: Staff, rectification_id: int, method: str, note: str = "", at: datetime | None = None
) -> Rectification:
    """Tell the complainant what the unit will do (将整改方案通知来信来访来电人)."""
    if method not in case_services.REPLY_METHODS:
        raise ValidationFailed({"method": [_("请选择告知方式。")]})
    note = checked_text(note, "note", limit=NOTE_MAX, label=_("告知情况"))
    with transaction.atomic():
        case, row = _rectification_locked(actor, rectification_id)
        _require_state(case)
        if row.verdict != PlanVerdict.ACCEPTED:
            raise ApplicationError(_("整改方案审核通过后才能告知反映人。"), code=HandlingError.PLAN_NOT_ACCEPTED)
        row.complainant_informed_at, row.complainant_informed_how = happened_at(at), method
        row.save(update_fields=["complainant_informed_at", "complainant_informed_how"])
        _record(
            case,
            HandlingEvent.COMPLAINANT_INFORMED,
            actor,
            {"rectification_id": row.pk, "method": method, "note": note},
            at=at,
        )
    return row


# --- documents (F11, F22–F26) ----------------------------------------------------------------------------


def document_issue(*, actor: Staff, case_id: int, kind: str, at: datetime | None = None) -> Document:
    """Render the organisation's template for ``kind`` with the case's records and keep it
    as issued; a result report starts as a draft that must be approved before sending."""
    with transaction.atomic():
        case = _lock(actor, case_id)
        if case.state == CaseState.ARCHIVED:
            raise ApplicationError(_("已归档的案件只读。"), code=HandlingError.ARCHIVED)
        if not permissions.may_issue_document(actor, case):
            raise PermissionDeniedError()
        title, body, addressee = documents.build(case, kind)
        spec = documents.SPECS[kind]
        doc = Document.objects.create(
            case=case,
            round=case.round,
            kind=kind,
            number=documents.document_number(case, kind),
            title=title,
            addressee=addressee,
            to_party=None if addressee else case.party,
            body=body,
            status=DocumentStatus.DRAFT if spec.needs_approval else DocumentStatus.ISSUED,
            created_by=actor,
            created_at=happened_at(at),
        )
        _record(
            case,
            HandlingEvent.DOCUMENT_ISSUED,
            actor,
            {"document_id": doc.pk, "kind": kind, "number": doc.number, "title": title, "status": doc.status},
            at=at,
        )
    return doc


def _document_locked(actor: Staff, document_id: int) -> tuple[Case, Document]:
    doc = Document.objects.filter(pk=document_id, case__organization_id=actor.org_id).first()
    if doc is None:
        raise NotFound(_("找不到该文书。"))
    case = _lock(actor, doc.case_id)
    return case, Document.objects.select_for_update().get(pk=doc.pk)


def document_print(*, actor: Staff, document_id: int) -> tuple[Document, bool]:
    """A document to print, and whether it names the complainant in full: it does for staff
    allowed to see personal data, and that full view is logged like any other."""
    with transaction.atomic():
        case, doc = _document_locked(actor, document_id)
        party = doc.to_party
        full = party is not None and not party.anonymous and may_reveal_pii(actor)
        if full:
            # A view changes nothing on the case: no version bump, so open edit forms stay valid.
            case_services.case_record_event(
                case,
                kind=EventKind.PII_VIEWED,
                actor=actor,
                data={"party_ids": [doc.to_party_id], "document_id": doc.pk},
            )
    return doc, full


def document_approve(*, actor: Staff, document_id: int) -> Document:
    """A leader approves the result report before it goes to the higher authority."""
    with transaction.atomic():
        case, doc = _document_locked(actor, document_id)
        if not permissions.may_approve_document(actor):
            raise PermissionDeniedError(_("查处结果报告须由领导审批。"))
        DOCUMENT_STATUSES.move(
            doc, DocumentStatus.ISSUED, message=_("该文书不在待审批状态。"), code=HandlingError.NOT_DRAFT
        )
        doc.approved_by, doc.approved_at = actor, timezone.now()
        doc.save(update_fields=["status", "approved_by", "approved_at"])
        _record(
            case,
            HandlingEvent.DOCUMENT_ISSUED,
            actor,
            {
                "document_id": doc.pk,
                "kind": doc.kind,
                "number": doc.number,
                "title": doc.title,
                "status": doc.status,
                "approved": True,
            },
        )
    return doc


def document_send(*, actor: Staff, document_id: int) -> Document:
    """Send the approved result report; the authority's clock stops."""
    with transaction.atomic():
        case, doc = _document_locked(actor, document_id)
        _require_lead(actor, case)
        if doc.kind != DocumentKind.RESULT_REPORT:
            raise ApplicationError(_("只有查处结果报告需要报送。"), code=HandlingError.NOT_REPORT)
        DOCUMENT_STATUSES.move(
            doc, DocumentStatus.SENT, message=_("查处结果报告须经审批后才能报送。"), code=HandlingError.NOT_APPROVED
        )
        now = timezone.now()
        doc.sent_at = now
        doc.save(update_fields=["status", "sent_at"])
        AuthorityRequest.objects.filter(case=case).update(report=doc)
        clocks_stop(case=case, at=now, reason="done", stages=("result_report",))
        _record(
            case, HandlingEvent.DOCUMENT_SENT, actor, {"document_id": doc.pk, "number": doc.number, "to": doc.addressee}
        )
    return doc


def _template_unchanged(actor: Staff, kind: str, expected: str | None) -> None:
    """Refuse a template's save or reset made on a page another administrator's save has
    since outdated (``expected``: ``documents.template_fingerprint`` when the page was made)."""
    xact_lock(f"document-template:{actor.org_id}:{kind}")
    current = documents.template_fingerprint(actor.org_id, kind)
    check_fingerprint(current, expected, what=_("该文书模板"))


def document_template_save(
    *, actor: Staff, kind: str, title: str, body: str, expected: str | None = None
) -> DocumentTemplate:
    if not permissions.may_edit_document_templates(actor):
        raise PermissionDeniedError()
    if kind not in DocumentKind.values:
        raise ValidationFailed({"kind": [_("未知的文书种类。")]})
    title = checked_text(title, "title", limit=60, label=_("文书标题"))
    body = clean_text(body)
    checked_text(body, "body", limit=record_max(), label=_("正文模板"))
    documents.check_template(kind, title, body)
    with transaction.atomic():
        _template_unchanged(actor, kind, expected)
        row, _created = DocumentTemplate.objects.update_or_create(
            organization_id=actor.org_id,
            kind=kind,
            defaults={"title": title.strip(), "body": body, "updated_by": actor},
        )
    return row


def document_template_reset(*, actor: Staff, kind: str, expected: str | None = None) -> None:
    if not permissions.may_edit_document_templates(actor):
        raise PermissionDeniedError()
    with transaction.atomic():
        _template_unchanged(actor, kind, expected)
        DocumentTemplate.objects.filter(organization_id=actor.org_id, kind=kind).delete()


# --- joint handling (F14) ------------------------------------------------------------------------------------


def joint_convene(
    *,
    actor: Staff,
    case_id: int,
    topic: str,
    department_ids: Iterable[int],
    meeting_at: datetime | None = None,
    place: str = "",
) -> JointHandling:
    """联合接访 / 协调: the convened departments join the case as assisting departments."""
    topic = _text(topic, "topic", _("请填写协调事项。"), limit=200, label=_("协调事项"))
    place = checked_text(place, "place", limit=200, label=_("地点"))
    check_moment(meeting_at, "meeting_at", _("会商时间"), When.PLANNED)
    department_ids = set(department_ids)
    with transaction.atomic():
        case = _lock(actor, case_id)
        _require_state(case)
        if not permissions.may_convene_joint(actor, case):
            raise PermissionDeniedError(_("只有派遣人员、领导或主办部门负责人可以发起联合办理。"))
        departments = list(Department.objects.filter(pk__in=department_ids, organization_id=actor.org_id))
        if len(departments) < 2 or len(departments) != len(department_ids):
            raise ValidationFailed({"departments": [_("联合办理至少需要两个部门。")]})
        joint = JointHandling.objects.create(
            case=case,
            round=case.round,
            topic=topic,
            coordinator=actor,
            convened_at=timezone.now(),
            meeting_at=meeting_at,
            place=place,
        )
        JointPart.objects.bulk_create([JointPart(joint=joint, department=d) for d in departments])
        case.assisting_departments.add(*[d for d in departments if d.pk != case.lead_department_id])
        _record(
            case,
            HandlingEvent.JOINT_CONVENED,
            actor,
            {"joint_id": joint.pk, "topic": joint.topic, "department_names": [d.name for d in departments]},
        )
    return joint


def _joint_locked(actor: Staff, joint_id: int) -> tuple[Case, JointHandling]:
    joint = JointHandling.objects.filter(pk=joint_id, case__organization_id=actor.org_id).first()
    if joint is None:
        raise NotFound(_("找不到该联合办理记录。"))
    case = _lock(actor, joint.case_id)
    _require_state(case)
    joint = JointHandling.objects.select_for_update().get(pk=joint.pk)
    if joint.concluded_at:
        raise ApplicationError(_("该联合办理已有结论。"), code=HandlingError.CONCLUDED)
    return case, joint


def joint_record_part(*, actor: Staff, joint_id: int, department_id: int, text: str) -> JointPart:
    """A department's part: by its own staff, or by the coordinator on its behalf."""
    text = _text(text, "text", _("请填写本部门的意见和职责。"), limit=ANSWER_MAX, label=_("部门意见"))
    with transaction.atomic():
        case, joint = _joint_locked(actor, joint_id)
        part = joint.parts.filter(department_id=department_id).select_related("department").first()
        if part is None:
            raise ValidationFailed({"department": [_("该部门未参加本次联合办理。")]})
        if not permissions.may_record_joint_part(actor, joint, department_id):
            raise PermissionDeniedError(_("只有该部门人员或协调人可以填写本部门意见。"))
        part.text, part.recorded_by, part.recorded_at = text, actor, timezone.now()
        part.save(update_fields=["text", "recorded_by", "recorded_at"])
        _record(
            case,
            HandlingEvent.JOINT_PART,
            actor,
            {"joint_id": joint.pk, "department_name": part.department.name, "text": text[:200]},
        )
    return part


def joint_conclude(*, actor: Staff, joint_id: int, outcome: str) -> JointHandling:
    outcome = _text(outcome, "outcome", _("请填写协调结果。"), limit=ANSWER_MAX, label=_("协调结果"))
    with transaction.atomic():
        case, joint = _joint_locked(actor, joint_id)
        if not permissions.may_conclude_joint(actor, joint):
            raise PermissionDeniedError(_("只有协调人可以填写协调结果。"))
        missing = [p.department.name for p in joint.parts.select_related("department") if not p.recorded_at]
        if missing:
            raise ValidationFailed({"outcome": [_("以下部门尚未填写意见：%(names)s") % {"names": "、".join(missing)}]})
        joint.outcome, joint.concluded_at = outcome, timezone.now()
        joint.save(update_fields=["outcome", "concluded_at"])
        _record(case, HandlingEvent.JOINT_CONCLUDED, actor, {"joint_id": joint.pk, "outcome": outcome[:500]})
    return joint


# --- a higher authority's request for investigation (查处) -------------------------------------------------------


def authority_request_set(
    *,
    actor: Staff,
    case_id: int,
    authority: str,
    due_at: datetime | None,
    reference: str = "",
) -> AuthorityRequest:
    """The higher authority forwarded the case for investigation and wants a result report
    by ``due_at``: a clock runs against that limit and closing waits for the report."""
    authority = _text(authority, "authority", _("请填写交办机关。"), limit=120, label=_("交办机关"))
    reference = checked_text(reference, "reference", limit=60, label=_("交办文号"))
    if due_at is None:
        raise ValidationFailed({"due_at": [_("报送时限必须晚于现在。")]})
    check_moment(due_at, "due_at", _("报送时限"), When.DUE)
    with transaction.atomic():
        case = _lock(actor, case_id)
        _require_state(case)
        if not permissions.may_set_authority_request(actor, case):
            raise PermissionDeniedError()
        if AuthorityRequest.objects.filter(case=case).exists():
            raise ApplicationError(_("该件已登记上级交办查处要求。"), code=HandlingError.AUTHORITY_REQUEST_TWICE)
        now = timezone.now()
        request = AuthorityRequest.objects.create(
            case=case,
            authority=authority,
            reference=reference,
            due_at=due_at,
            set_by=actor,
            set_at=now,
        )
        plan = case_plan(case)
        if plan is not None:
            clock_start_manual(
                case=case,
                plan=plan,
                stage="result_report",
                started_at=now,
                due_at=due_at,
                label=_("上级交办查处报告时限"),
                clock_from="authority",
            )
        _record(
            case,
            HandlingEvent.AUTHORITY_REQUEST,
            actor,
            {"authority": request.authority, "reference": request.reference, "due_at": due_at},
        )
    return request


__all__ = [
    "authority_request_set",
    "document_approve",
    "document_issue",
    "document_send",
    "document_template_reset",
    "document_template_save",
    "handler_assign",
    "investigation_add",
    "investigation_confirm",
    "joint_conclude",
    "joint_convene",
    "joint_record_part",
    "rectification_inform_complainant",
    "rectification_notify",
    "rectification_plan_check",
    "rectification_plan_receive",
]
