"""Printable documents (文书, F11/F22–F26): which ones a case can have now, their
context from the records, the organisation's template, numbering, HTML and PDF.

A document is issued (rendered and stored) when someone asks for it, not at every
decision: what was printed stays as printed even if the template changes later. The
addressee's name is never stored in the body; it is put in when printed, in full for a
user allowed to see personal data (and logged), masked otherwise.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.template import Context, Engine, Library, TemplateSyntaxError, defaultfilters, defaulttags
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, CaseRound, Event
from huiyin.core.errors import ApplicationError, ValidationFailed
from huiyin.core.versions import fingerprint
from huiyin.deadlines.models import Clock, Extension, ExtensionStatus

from . import records
from .document_texts import DEFAULT_TEMPLATES, DocumentKind, sample_context
from .errors import HandlingError
from .models import AuthorityRequest, Dispatch, Document, DocumentTemplate, Investigation, Rectification, ReviewDecision
from .pdf import render_letter_pdf

K = DocumentKind


def _date(value: datetime | None) -> str:
    return f"{timezone.localtime(value):%Y年%m月%d日}" if value else ""


def _decision(case: Case, action: str) -> dict:
    event = Event.objects.filter(case=case, kind=EventKind.STATE_CHANGED, data__action=action).order_by("-id").first()
    return event.data if event else {}


def _base(case: Case) -> dict[str, str]:
    return {
        "org_name": case.organization.name,
        "case_number": case.number,
        "case_title": case.title,
        "received_date": _date(case.received_at),
        "channel_label": str(case.get_channel_display()),
        "today": _date(timezone.now()),
    }


def _overall_due(case: Case) -> str:
    clock = Clock.objects.filter(case=case, round=case.round, stage="overall").order_by("-id").first()
    return _date(clock.due_at if clock else case.promised_due_at)


def _review_hint(case: Case, level: int) -> str:
    preset = records.preset_of(case)
    if preset is None or preset.review is None:
        return ""
    _answered, due = records.review_limit(case, level)
    body = preset.review.review_body if level == 1 else preset.review.rereview_body
    act = _("复查") if level == 1 else _("复核")
    if due is None:
        return _("如不服本意见，可向%(body)s请求%(act)s。") % {"body": body, "act": act}
    return _("如不服本意见，可于%(due)s前向%(body)s请求%(act)s；逾期未请求的，同一事项不再受理。") % {
        "due": _date(due),
        "body": body,
        "act": act,
    }


@dataclass(frozen=True)
class Spec:
    """When a kind of document is available, what it says, and to whom it goes."""

    available: Callable[[Case], bool]
    context: Callable[[Case], dict[str, str]]
    addressee: Callable[[Case], str] = lambda case: ""  # blank: the complainant
    needs_approval: bool = False


_Row = TypeVar("_Row")


def _found(row: _Row | None) -> _Row:
    """A row the spec's availability check has already found (its fields are only asked for then)."""
    assert row is not None, "a document's fields are filled only when it is available"
    return row


def _rounds_reply(case: Case) -> CaseRound | None:
    return CaseRound.objects.filter(case=case, number=case.round).first()


def _lead_dispatch(case: Case) -> Dispatch | None:
    return Dispatch.objects.filter(case=case, round=case.round, is_lead=True).order_by("-id").first()


def _handling_notice(case: Case) -> dict[str, str]:
    d = _found(_lead_dispatch(case))
    assisting = Dispatch.objects.filter(
        case=case, round=case.round, is_lead=False, dispatched_at=d.dispatched_at
    ).select_related("department")
    return {
        "department": d.department.name,
        "assisting": "、".join(a.department.name for a in assisting),
        "instructions": d.instructions,
        "due_date": _date(d.due_at or case.promised_due_at),
        "case_text": case.text,
        "location": case.location,
    }


def _rectification(case: Case) -> Rectification | None:
    return Rectification.objects.filter(case=case, round=case.round).order_by("-id").first()


def _rectification_notice(case: Case) -> dict[str, str]:
    r = _found(_rectification(case))
    proposal = records.approved_proposal(case)
    outcome = proposal.text if proposal else r.requirements
    if r.requirements and proposal:
        outcome = f"{outcome}\n{r.requirements}"
    return {"unit": r.unit, "outcome": outcome, "plan_due_date": _date(r.plan_due_at)}


def _findings(case: Case) -> str:
    items = Investigation.objects.filter(case=case, round=case.round)
    return "\n".join(f"{_date(i.occurred_at)}{i.get_kind_display()}：{i.text}" for i in items)


def _result_report(case: Case) -> dict[str, str]:
    request = AuthorityRequest.objects.get(case=case)
    proposal = records.approved_proposal(case)
    reply = _rounds_reply(case)
    outcome = proposal.text if proposal else (reply.reply_text if reply else "")
    return {
        "authority": request.authority,
        "authority_ref": request.reference,
        "findings": _findings(case),
        "outcome": outcome,
    }


def _review_context(level: int) -> Callable[[Case], dict[str, str]]:
    def context(case: Case) -> dict[str, str]:
        review = case.reviews.get(level=level)
        return {
            "review_body": review.body,
            "decision_label": str(ReviewDecision(review.decision).label),
            "opinion": review.opinion,
            "review_hint": _review_hint(case, 2) if level == 1 else "",
        }

    return context


def _extension(case: Case) -> dict[str, str]:
    ext = _found(
        Extension.objects.filter(clock__case=case, status=ExtensionStatus.APPROVED)
        .select_related("clock")
        .order_by("-id")
        .first()
    )
    return {"reason": ext.reason, "new_due_date": _date(ext.clock.due_at)}


def _has_extension(case: Case) -> bool:
    return Extension.objects.filter(clock__case=case, status=ExtensionStatus.APPROVED).exists()


@dataclass(frozen=True)
class _Decided:
    """Available once the case went through ``action`` (any round)."""

    action: str

    def __call__(self, case: Case) -> bool:
        return Event.objects.filter(case=case, kind=EventKind.STATE_CHANGED, data__action=self.action).exists()


def _decided(action: str) -> _Decided:
    return _Decided(action)


SPECS: dict[str, Spec] = {
    K.ACCEPTANCE_NOTICE: Spec(_decided("accept"), lambda c: {"overall_due_date": _overall_due(c)}),
    K.NOT_ACCEPTED_NOTICE: Spec(
        _decided("not_accept"), lambda c: {k: _decision(c, "not_accept").get(k, "") for k in ("ground", "refer_to")}
    ),
    K.NOT_REACCEPTED_NOTICE: Spec(
        _decided("not_reaccept"), lambda c: {"ground": _decision(c, "not_reaccept").get("ground", "")}
    ),
    K.RETURN_LETTER: Spec(
        _decided("return"),
        lambda c: {k: _decision(c, "return").get(k, "") for k in ("reason", "returned_to")},
        addressee=lambda c: _decision(c, "return").get("returned_to", ""),
    ),
    K.TRANSFER_LETTER: Spec(
        _decided("transfer"),
        lambda c: {"to_body": _decision(c, "transfer").get("to_body", "")},
        addressee=lambda c: _decision(c, "transfer").get("to_body", ""),
    ),
    K.HANDLING_NOTICE: Spec(
        lambda c: _lead_dispatch(c) is not None,
        _handling_notice,
        addressee=lambda c: _found(_lead_dispatch(c)).department.name,
    ),
    K.RECTIFICATION_NOTICE: Spec(
        lambda c: _rectification(c) is not None,
        _rectification_notice,
        addressee=lambda c: _found(_rectification(c)).unit,
    ),
    K.REPLY_LETTER: Spec(
        lambda c: bool((r := _rounds_reply(c)) and r.replied_at),
        lambda c: {"reply": _found(_rounds_reply(c)).reply_text, "review_hint": _review_hint(c, 1)},
    ),
    K.RESULT_REPORT: Spec(
        lambda c: AuthorityRequest.objects.filter(case=c).exists(),
        _result_report,
        addressee=lambda c: AuthorityRequest.objects.get(case=c).authority,
        needs_approval=True,
    ),
    K.REVIEW_DECISION: Spec(lambda c: c.reviews.filter(level=1, decided_at__isnull=False).exists(), _review_context(1)),
    K.REREVIEW_DECISION: Spec(
        lambda c: c.reviews.filter(level=2, decided_at__isnull=False).exists(), _review_context(2)
    ),
    K.EXTENSION_NOTICE: Spec(_has_extension, _extension),
}


def _known_from_panel(case: Case, panel: dict[str, Any]) -> dict[str, bool]:
    """The availability the handling panel's rows already answer (``selectors.handling_panel``),
    so the case page does not ask the database again for each document kind."""
    decided_levels = {r.level for r in panel["reviews"] if r.decided_at is not None}
    return {
        K.HANDLING_NOTICE: any(d.round == case.round and d.is_lead for d in panel["dispatches"]),
        K.RECTIFICATION_NOTICE: any(r.round == case.round for r in panel["rectifications"]),
        K.RESULT_REPORT: panel["authority"] is not None,
        K.REVIEW_DECISION: 1 in decided_levels,
        K.REREVIEW_DECISION: 2 in decided_levels,
    }


def available_kinds(case: Case, panel: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """The documents the case can produce now. ``panel``: the handling panel's rows, where the
    caller has them (the case page)."""
    # The decisions the case went through, in one look-up rather than one per document kind.
    decided = set(Event.objects.filter(case=case, kind=EventKind.STATE_CHANGED).values_list("data__action", flat=True))
    known = _known_from_panel(case, panel) if panel is not None else {}

    def available(kind: str, spec: Spec) -> bool:
        if kind in known:
            return known[kind]
        check = spec.available
        return check.action in decided if isinstance(check, _Decided) else check(case)

    return [(kind, str(DocumentKind(kind).label)) for kind, spec in SPECS.items() if available(kind, spec)]


def template_for(organization_id: int, kind: str) -> tuple[str, str]:
    own = DocumentTemplate.objects.filter(organization_id=organization_id, kind=kind).first()
    return (own.title, own.body) if own else DEFAULT_TEMPLATES[kind]


def template_fingerprint(organization_id: int, kind: str) -> str:
    """The version of a document template as its edit page shows it (``core.versions``):
    the title and text in use (a default has no row to carry a version)."""
    return fingerprint(*template_for(organization_id, kind))


# Administrators edit the document templates: they render in an engine of their own that
# loads no other template and no tag library — only the filters and the plain tags
# (if, for, with…), never include / extends / load / debug / ssi-like reads.
DOCUMENT_TAGS = ("if", "for", "with", "now", "firstof", "cycle", "spaceless", "comment", "filter", "templatetag")
document_tags = Library()
document_tags.tags.update({name: defaulttags.register.tags[name] for name in DOCUMENT_TAGS})


class _DocumentEngine(Engine):
    def get_template_builtins(self, builtins: list[str]) -> list[Library]:
        return [defaultfilters.register, document_tags]


@functools.cache
def _engine() -> Engine:
    return _DocumentEngine(dirs=[], app_dirs=False, loaders=[], libraries={}, autoescape=False)


def render_body(body: str, context: dict[str, str]) -> str:
    return _engine().from_string(body).render(Context(context, autoescape=False)).strip()


def check_template(kind: str, title: str, body: str) -> None:
    """An edited template must compile and render with the kind's variables."""
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("请填写文书标题。")]
    try:
        rendered = render_body(body, sample_context(kind))
    except TemplateSyntaxError as exc:
        errors["body"] = [
            _("模板语法错误：%(error)s（可用的标签：%(tags)s）") % {"error": exc, "tags": "、".join(DOCUMENT_TAGS)}
        ]
    else:
        if not rendered:
            errors["body"] = [_("正文模板不能为空。")]
    if errors:
        raise ValidationFailed(errors)


def document_number(case: Case, kind: str) -> str:
    """The ledger number, with a running suffix after the first document of the case.
    The handling notice (《投诉处理通知单》) of a round carries the ledger number itself."""
    if kind == K.HANDLING_NOTICE and not Document.objects.filter(case=case, number=case.number).exists():
        return case.number
    n = Document.objects.filter(case=case).count() + 1
    number = f"{case.number}-{n:02d}"
    while Document.objects.filter(case=case, number=number).exists():
        n += 1
        number = f"{case.number}-{n:02d}"
    return number


def build(case: Case, kind: str) -> tuple[str, str, str]:
    """(title, body, addressee) of a new document of ``kind`` for ``case``."""
    spec = SPECS.get(kind)
    if spec is None:
        raise ValidationFailed({"kind": [_("未知的文书种类。")]})
    if not spec.available(case):
        raise ApplicationError(
            _("该件目前不能出具“%(kind)s”。") % {"kind": DocumentKind(kind).label},
            field="kind",
            code=HandlingError.NOT_AVAILABLE,
        )
    title, body = template_for(case.organization_id, kind)
    context = {**_base(case), **spec.context(case)}
    try:
        text = render_body(body, context)
    except TemplateSyntaxError as exc:  # saved before the engine lost a tag it uses
        raise ApplicationError(
            _("本单位的“%(kind)s”模板无法使用（%(error)s），请管理员在文书模板中修改或恢复默认模板。")
            % {"kind": DocumentKind(kind).label, "error": exc},
            field="kind",
            code=HandlingError.NOT_AVAILABLE,
        ) from exc
    return title, text, spec.addressee(case)


def salutation(document: Document, *, full: bool) -> str:
    if document.addressee:
        return document.addressee
    party = document.to_party
    if party is None or party.anonymous or not party.name:
        return _("反映人")
    return party.name if full else party.display_name


def render_pdf(document: Document, *, full: bool) -> bytes:
    return render_letter_pdf(
        org_name=document.case.organization.name,
        title=document.title,
        number=document.number,
        addressee=salutation(document, full=full),
        body=document.body,
        issued_on=_date(document.approved_at or document.created_at),
    )
