"""Staff workbench views: parse, call one selector or service, render."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.middleware import HtmxDetails

from huiyin.access.network import client_ip
from huiyin.core import crypto, refusals
from huiyin.core.errors import (
    ApplicationError,
    DuplicateSubmission,
    PermissionDeniedError,
    ValidationFailed,
    http_status,
)
from huiyin.core.export_views import list_export
from huiyin.core.forms import put_errors
from huiyin.core.http import AuthedHttpRequest
from huiyin.core.notify import desk_mark_done, desk_mark_read
from huiyin.core.validators import normalize_phone
from huiyin.policy.services.versions import current_policy

from . import actions, bus, export, panels, receipts, selectors, services
from .errors import LookupLimited, RepeatRegistration
from .forms import ActionForm, ContactForm, EditForm, IntakeForm, LedgerFilterForm
from .models import Attachment, Case, Channel, Event
from .permissions import may_edit_case, may_register, may_reissue_receipt, may_reveal_pii
from .workflow import CaseState, complainant_kinds

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

    from huiyin.orgs.models import Staff

RECEIPT_CODES_SESSION_KEY = "receipt_codes"
# The case whose query code the next view of its page shows (once, for the clerk to read out).
RECEIPT_CODE_ONCE_SESSION_KEY = "receipt_code_once"
# Codes kept for the receipt page: the clerk's last few registrations or reissues. The
# session is read and written on every request, so it must not grow over a shift.
RECEIPT_CODES_KEPT = 5


class _HtmxRequest(AuthedHttpRequest):
    """A signed-in request as HtmxMiddleware leaves it (django-htmx's documented typing pattern)."""

    htmx: HtmxDetails


def _representatives(error: ApplicationError) -> dict[str, str]:
    # validation.party_errors names the n-th representative's fields rep{n}_phone, rep{n}_name...: one box lists them.
    return {field: "representatives" for field in error.field_errors() if re.fullmatch(r"rep\d+_\w+", field)}


def remember_code(request: HttpRequest, case: Case, code: str, *, show_once: bool = False) -> None:
    """Keep the plain query code in this session only, for the receipt (and with
    ``show_once``, the next view of the case page); the oldest of more than
    RECEIPT_CODES_KEPT codes is forgotten."""
    codes = dict(request.session.get(RECEIPT_CODES_SESSION_KEY, {}))
    codes.pop(str(case.pk), None)  # re-inserted last: newest at the end
    codes[str(case.pk)] = crypto.seal(code)  # the session row is readable: the code is not, as in the case row
    request.session[RECEIPT_CODES_SESSION_KEY] = dict(list(codes.items())[-RECEIPT_CODES_KEPT:])
    if show_once:
        request.session[RECEIPT_CODE_ONCE_SESSION_KEY] = str(case.pk)


def _code_to_show_once(request: HttpRequest, case: Case) -> str | None:
    """The query code just issued for this case, the first time its page is shown after."""
    if request.session.get(RECEIPT_CODE_ONCE_SESSION_KEY) != str(case.pk):
        return None
    del request.session[RECEIPT_CODE_ONCE_SESSION_KEY]
    return remembered_code(request, case)


def remembered_code(request: HttpRequest, case: Case) -> str | None:
    """The query code this session issued for the case (``remember_code``), if any."""
    sealed = request.session.get(RECEIPT_CODES_SESSION_KEY, {}).get(str(case.pk))
    return crypto.unseal(sealed) if isinstance(sealed, str) else None


@login_required
def desk(request: AuthedHttpRequest) -> HttpResponse:
    sections = [
        (key, selectors.flag_broken_chains(selectors.page(qs, 1, 15)[0]))
        for key, qs in selectors.my_desk(actor=request.user).items()
    ]
    return render(
        request,
        "cases/desk.html",
        {
            "sections": sections,
            "reminders": selectors.desk_reminders(actor=request.user),
            "desk_panels": panels.render_desk_panels(request, bus.table().desk_panels),
            "full_export": may_reveal_pii(request.user),
            "full_export_max": export.FULL_EXPORT_MAX,
        },
    )


@login_required
@require_POST
def reminder_done(request: _HtmxRequest, notification_id: int) -> HttpResponse:
    """已处理: the reminder (for a case: all the person's reminders about it) leaves the desk."""
    desk_mark_done(recipient=request.user, notification_id=notification_id)
    if request.htmx:
        return HttpResponse("")  # the desk swaps the reminder out
    return redirect("cases:desk")


def _ledger_request(request: AuthedHttpRequest) -> tuple[LedgerFilterForm, selectors.LedgerFilters, int, int | None]:
    """The ledger's filter form, its filters, the page number and the page counted from the end."""
    form = LedgerFilterForm(request.GET or None, organization_id=request.user.org_id)
    filters, page_number, end = form.ledger_query()
    return form, filters, page_number, end


def _filter_query(request: HttpRequest) -> str:
    """The request's query without the page: the filters, for links to other pages and exports."""
    query = request.GET.copy()
    for key in ("page", "end"):
        query.pop(key, None)
    return query.urlencode()


@dataclass(frozen=True)
class Pager:
    """Where a ledger page is: page ``number`` from the start, or ``end`` from the end (the
    last pages of a ledger whose size is only estimated), with its neighbours' links."""

    number: int | None
    end: int | None
    total: selectors.LedgerTotal
    has_previous: bool
    has_next: bool

    @property
    def last(self) -> int | None:
        return self.total.pages() if self.total.exact else None

    @property
    def count_text(self) -> str:
        return f"{self.total.count:,}"

    @property
    def pages_text(self) -> str:
        return f"{self.total.pages():,}"

    def _link(self, label: str, key: str, value: int, current: bool = False) -> dict:
        return {"label": label, "param": f"{key}={value}", "current": current}

    def links(self) -> list[dict]:
        """首页, 上一页, the page numbers around this one, 下一页, 末页 (None: not a link)."""
        items: list[dict] = []
        if self.end is not None:  # counted from the end: an estimated ledger's last pages
            items.append(self._link(_("首页"), "page", 1))
            if self.has_previous:
                items.append(self._link(_("上一页"), "end", self.end + 1))
            items.append({"label": _("倒数第 %(n)s 页") % {"n": self.end}, "param": None, "current": True})
            if self.has_next:
                items.append(self._link(_("下一页"), "end", self.end - 1))
                items.append(self._link(_("末页"), "end", 1))
            return items
        number = self.number or 1
        if number > 1:
            items.append(self._link(_("首页"), "page", 1))
            items.append(self._link(_("上一页"), "page", number - 1))
        if self.last is not None:
            top = min(self.last, number + 2)
        else:  # an estimated size: the next page is known to exist, none beyond it
            top = number + 1 if self.has_next else number
        for n in range(max(1, number - 2), top + 1):
            items.append(self._link(str(n), "page", n, current=n == number))
        if self.has_next:
            items.append(self._link(_("下一页"), "page", number + 1))
            if self.last is not None:
                items.append(self._link(_("末页"), "page", self.last))
            else:
                items.append(self._link(_("末页"), "end", 1))
        return items


def _ledger_page(request: AuthedHttpRequest) -> tuple[LedgerFilterForm, list[Case], Pager]:
    form, filters, page_number, end = _ledger_request(request)
    qs, total = selectors.ledger_with_total(actor=request.user, filters=filters)
    if end is not None and total.exact:  # a known size: the page from the start, numbered
        page_number, end = max(1, total.pages() - end + 1), None
    if end is not None:
        rows, has_previous = selectors.page_from_end(qs, end)
        pager = Pager(None, end, total, has_previous=has_previous, has_next=end > 1)
    else:
        rows, has_next = selectors.page(qs, page_number)
        pager = Pager(page_number, None, total, has_previous=page_number > 1, has_next=has_next)
    selectors.flag_broken_chains(rows)
    return form, rows, pager


@login_required
def ledger_view(request: AuthedHttpRequest) -> HttpResponse:
    if request.method == "POST":  # the search box: back to the list, the keyword encrypted in the link
        posted = LedgerFilterForm(request.POST, organization_id=request.user.org_id)
        query = posted.link_query()
        return redirect(reverse("cases:ledger") + (f"?{query}" if query else ""))
    form, rows, pager = _ledger_page(request)
    return render(
        request,
        "cases/ledger.html",
        {
            "form": form,
            "cases": rows,
            "pager": pager,
            "query": _filter_query(request),
            "full_export": may_reveal_pii(request.user),
            "full_export_max": export.FULL_EXPORT_MAX,
        },
        status=400 if form.errors else 200,  # a bad filter is named on the form; the rows are unfiltered
    )


# The print view prints the filtered list from its start, at most this many rows.
PRINT_MAX = 500


@login_required
def ledger_export(request: AuthedHttpRequest, fmt: str) -> HttpResponseBase:
    """The filtered ledger as a spreadsheet (``export.ledger_listing``). GET: masked as on
    the screen. POST (the button for those with the personal-data right): in full, each
    case logged as a full view first, at most FULL_EXPORT_MAX cases. A long export is
    written in the background with its progress shown (``core.export_views``)."""
    return list_export(request, "ledger", fmt)


@login_required
def desk_export(request: AuthedHttpRequest, fmt: str) -> HttpResponseBase:
    """Everything on my desk as a spreadsheet (``export.desk_listing``): masked (GET) or in
    full (POST), as the ledger's export."""
    return list_export(request, "desk", fmt)


def _plain(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


@login_required
def ledger_print(request: AuthedHttpRequest) -> HttpResponse:
    """The filtered list for paper: no navigation, the print style sheet, masked as on the
    screen, from its start and at most PRINT_MAX rows."""
    form, filters, _page, _end = _ledger_request(request)
    if form.errors:
        return _plain(" ".join(f"{form[f].label}：{e}" for f, errors in form.errors.items() for e in errors), 400)
    qs, total = selectors.ledger_with_total(actor=request.user, filters=filters)
    rows = list(qs[: PRINT_MAX + 1])
    return render(
        request,
        "cases/ledger_print.html",
        {
            "cases": rows[:PRINT_MAX],
            "cut": len(rows) > PRINT_MAX,
            "print_max": PRINT_MAX,
            "total": total,
            "total_text": f"{total.count:,}",
            "criteria": _criteria(form),
            "printed_at": timezone.localtime(),
            "query": _filter_query(request),
        },
    )


def _criteria(form: LedgerFilterForm) -> list[tuple[str, str]]:
    """The filters in words (label, value), for the printed page's heading."""
    if not form.is_bound:
        return []
    shown = []
    for name, value in form.cleaned_data.items():
        if name in ("page", "end") or value in (None, ""):
            continue
        field = form.fields[name]
        choices = dict(getattr(field, "choices", ()) or ())
        text = choices.get(value, value) if isinstance(value, str) and choices else value
        shown.append((str(field.label), str(text)))
    return shown


def _intake_kinds(user: Staff) -> list[dict[str, str]]:
    """The kinds of complainant a new case's policy has the intake record (the hospital's 门诊 /
    住院): the running policy's own, without its calendar (what a new case's policy reads)."""
    running = current_policy(user.organization) if user.organization is not None else None
    return complainant_kinds(running.preset().switches()) if running is not None else []


@login_required
def intake(request: AuthedHttpRequest, channel: str) -> HttpResponse:
    if channel not in Channel.values:
        raise Http404
    if not may_register(request.user):
        raise PermissionDenied
    form = IntakeForm(
        request.POST or None,
        request.FILES or None,
        organization_id=request.user.org_id,
        channel=channel,
        kinds=_intake_kinds(request.user),
    )
    repeat_refused = False  # the confirmation 确认为新的事项 is offered only after that refusal
    if request.method == "POST" and form.is_valid():
        data = form.to_input()
        uploads = form.cleaned_data.get("attachments") or []
        try:
            case, code = services.case_register(actor=request.user, data=data, uploads=uploads)
        except DuplicateSubmission as exc:
            messages.info(request, exc.message)
            existing = Case.objects.filter(number=exc.case_number, organization_id=request.user.org_id).first()
            return redirect("cases:detail", case_id=existing.pk) if existing else redirect("cases:ledger")
        except ApplicationError as exc:
            put_errors(form, exc, aliases=_representatives(exc))
            repeat_refused = isinstance(exc, RepeatRegistration)
        else:
            remember_code(request, case, code, show_once=True)
            messages.success(request, _("已登记：%(number)s") % {"number": case.number})
            return redirect("cases:detail", case_id=case.pk)
    return render(
        request,
        "cases/intake.html",
        {
            "form": form,
            "channel": channel,
            "channel_label": Channel(channel).label,
            "channels": Channel.choices,
            "caller_history": may_reveal_pii(request.user),
            "phone_script": selectors.phone_script(request.user) if channel == Channel.PHONE else None,
            "intake_panels": panels.render_intake_panels(request, channel, bus.table().intake_panels),
            "repeat_refused": repeat_refused,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def caller_history_view(request: AuthedHttpRequest) -> HttpResponse:
    phone = normalize_phone(request.POST.get("party_phone", ""))
    try:
        cases = selectors.caller_history(actor=request.user, phone=phone)
    except PermissionDeniedError as exc:
        # Nothing about the number: not even whether it has cases.
        return HttpResponse(f'<p class="text-muted small">{_escape(exc.message)}</p>', status=403)
    return render(request, "cases/_caller_history.html", {"cases": cases, "phone_given": len(phone) >= 7})


@login_required
def detail(request: AuthedHttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_get_for_actor(actor=request.user, case_id=case_id)
    desk_mark_read(recipient=request.user, case_id=case.pk)  # its reminders on the desk are seen
    return render(
        request, "cases/detail.html", case_page_context(request, case, new_query_code=_code_to_show_once(request, case))
    )


def case_page_context(request: AuthedHttpRequest, case: Case, **extra) -> dict:
    org_id = request.user.org_id
    # Read once for the page: the case's own section and the handling panel both list them.
    prefetch_related_objects([case], "assisting_departments")
    action_form = extra.pop("action_form", None) or ActionForm(
        organization_id=org_id, case=case, initial={"version": case.version}
    )
    allowed_now = actions.allowed_actions(request.user, case)
    # A refused action still on offer shows its form-wide errors in its own form; else on top.
    failed_offered = extra.get("failed_action") in {allowed.name for allowed in allowed_now}
    timeline = selectors.timeline(case)
    return {
        "case": case,
        "timeline": timeline,
        "action_panels": [(allowed.edge, action_form.fields_for(allowed.name)) for allowed in allowed_now],
        "action_form": action_form,
        "failed_offered": failed_offered,
        "contact_form": extra.pop("contact_form", None) or ContactForm(initial={"intake_token": uuid.uuid4().hex}),
        "co_parties": list(case.co_parties.all()),
        "assisting": list(case.assisting_departments.all()),
        "rounds": list(case.rounds.select_related("lead_department", "handler")),
        "attachments": list(case.attachments.all()),
        "caps": selectors.case_capabilities(request.user, case),
        "chain_ok": selectors.verify_event_chain(case, [row for _kind, _at, row in timeline if isinstance(row, Event)]),
        "panels": panels.render_case_panels(
            request, case, bus.table().case_panels, overrides=extra.pop("panel_overrides", None)
        ),
        **extra,
    }


def on_case_page(request: AuthedHttpRequest, case: Case, call: Callable[[], object], done: str) -> HttpResponse:
    """Run a service from a form on the case page (another app's panel); done: back to the case
    page. A refusal of this actor is a 403; any other refusal: the case page again with the
    reason under the field it names (``core.refusals``), what was typed given back, nothing stored."""
    try:
        call()
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
        refusals.remember(request, exc)
        return render(request, "cases/detail.html", case_page_context(request, case), status=http_status(exc))
    messages.success(request, done)
    return redirect("cases:detail", case_id=case.pk)


@login_required
@require_POST
def act(request: AuthedHttpRequest, case_id: int, action: str) -> HttpResponse:
    spec = actions.spec_for(action)
    if spec is None:
        raise Http404
    case = selectors.case_get_for_actor(actor=request.user, case_id=case_id)
    form = ActionForm(request.POST, organization_id=request.user.org_id, case=case)
    if form.is_valid():
        try:
            values = form.kwargs_for(action)
            expected = values.pop("expected_version", None)
            actions.perform(actor=request.user, case_id=case.pk, name=action, values=values, expected_version=expected)
        except PermissionDeniedError:
            raise  # a 403: the service refused this actor, whatever the page offered
        except ApplicationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("操作成功。"))
            return redirect("cases:detail", case_id=case.pk)
        if not form.errors:  # refused as a whole (permission): back to the page with the message
            return redirect("cases:detail", case_id=case.pk)
    # A refused form (the form's own checks or the service's) comes back open with its errors.
    case.refresh_from_db()
    return render(
        request,
        "cases/detail.html",
        case_page_context(request, case, action_form=form, failed_action=action),
        status=400,
    )


@login_required
def edit(request: AuthedHttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_get_for_actor(actor=request.user, case_id=case_id)
    if case.state == CaseState.ARCHIVED:  # the case page offers no edit form for it
        raise PermissionDenied(_("该件已归档，只能查看，不能修改。"))
    if not may_edit_case(request.user, case):
        raise PermissionDenied(_("您不能修改该件的登记信息：只有受理登记人员和主办部门的承办人员可以修改。"))
    initial = {
        "title": case.title,
        "text": case.text,
        "nature": case.nature,
        "category": case.category,
        "urgency": case.urgency,
        "location": case.location,
        "complainant_kind": case.complainant_kind,
        "version": case.version,
    }
    form = EditForm(
        request.POST or None,
        initial=initial,
        organization_id=request.user.org_id,
        kinds=complainant_kinds(case.stage_switches),
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        changes = {
            "title": d["title"],
            "text": d["text"],
            "nature": d["nature"],
            "urgency": d["urgency"],
            "location": d["location"],
            "category_id": d["category"].pk if d["category"] else None,
        }
        if "complainant_kind" in form.fields:  # the case's policy has kinds of complainant
            changes["complainant_kind"] = d["complainant_kind"]
        try:
            services.case_update(
                actor=request.user,
                case_id=case.pk,
                expected_version=d["version"],
                changes=changes,
                urgency_reason=d.get("urgency_reason") or "",
            )
        except PermissionDeniedError:
            raise
        except ApplicationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("cases:detail", case_id=case.pk)
    return render(request, "cases/edit.html", {"case": case, "form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def add_contact(request: _HtmxRequest, case_id: int) -> HttpResponse:
    """A repeat call on an existing case; from the case page or from the intake form's history panel."""
    case = selectors.case_get_for_actor(actor=request.user, case_id=case_id)
    form: IntakeForm | ContactForm
    if "party_phone" in request.POST:  # posted from the intake form: reuse its fields
        form = IntakeForm(request.POST, organization_id=request.user.org_id, channel=Channel.PHONE)
    else:
        form = ContactForm(request.POST)
    try:
        if not form.is_valid():  # a bogus channel, a garbled field: refused, not guessed
            raise ValidationFailed({k: [str(m) for m in v] for k, v in form.errors.items()})
        if isinstance(form, IntakeForm):
            text = form.cleaned_data.get("text", "")
            party = form.party_input() if form.cleaned_data.get("party_phone") else None
            channel, token = Channel.PHONE, form.cleaned_data.get("intake_token")
        else:
            text, party = form.cleaned_data.get("text", ""), None
            channel, token = form.cleaned_data["channel"], form.cleaned_data.get("intake_token")
        services.contact_add(
            actor=request.user, case_id=case.pk, channel=channel, text=text, party=party, intake_token=token or None
        )
    except DuplicateSubmission as exc:
        messages.info(request, exc.message)
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        message = _contact_error(form, exc)
        if request.htmx:  # the message for the panel, each field's for the form it came from
            return refusals.fragment(request, exc, message)
        messages.error(request, message)
        put_errors(form, exc)
        refusals.remember(request, exc)
        shown = form if isinstance(form, ContactForm) else None
        return render(request, "cases/detail.html", case_page_context(request, case, contact_form=shown), status=400)
    else:
        messages.success(request, _("已作为来电记录添加到案件 %(number)s。") % {"number": case.number})
    url = reverse("cases:detail", args=[case.pk])
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


def _contact_error(form: IntakeForm | ContactForm, exc: ApplicationError) -> str:
    """The refusal in one line naming the field, as the case page's message shows it."""
    field, *_rest = exc.field_errors()
    label = form.fields[field].label if field in form.fields else ""
    return f"{label}：{exc.message}" if label else str(exc.message)


def _escape(text: str | StrPromise) -> str:
    return escape(text)


@login_required
@require_POST
def upload_attachment(request: AuthedHttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_get_for_actor(actor=request.user, case_id=case_id)
    upload = request.FILES.get("attachment")
    try:
        if upload is None:
            raise ValidationFailed({"attachment": [_("请选择要上传的附件。")]})
        services.attachment_upload(actor=request.user, case_id=case.pk, upload=upload)
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        # The page again, the message under the file field (the one field of the form).
        messages.error(request, exc.message)
        refusals.remember(request, {"attachment": [exc.message]})
        return render(request, "cases/detail.html", case_page_context(request, case), status=http_status(exc))
    messages.success(request, _("附件已上传。"))
    return redirect("cases:detail", case_id=case.pk)


@login_required
def download_attachment(request: AuthedHttpRequest, attachment_id: int) -> HttpResponseBase:
    attachment = get_object_or_404(Attachment, pk=attachment_id, case__organization_id=request.user.org_id)
    selectors.case_get_for_actor(actor=request.user, case_id=attachment.case_id)
    if attachment.erased_at is not None:
        return HttpResponse(_("该附件已按保存期限删除。"), status=410, content_type="text/plain; charset=utf-8")
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name)


@login_required
@require_POST
def reveal(request: AuthedHttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_get_for_actor(actor=request.user, case_id=case_id)  # 404 / 403 before anything is logged
    try:
        revealed = services.party_reveal(actor=request.user, case_id=case.pk)
    except PermissionDeniedError as exc:
        return HttpResponse(f'<span class="text-danger">{_escape(exc.message)}</span>', status=403)
    return render(request, "cases/_revealed.html", {"revealed": revealed.values()})


@login_required
def receipt(request: AuthedHttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_get_for_actor(actor=request.user, case_id=case_id)
    code = remembered_code(request, case)
    return render(
        request,
        "cases/receipt.html",
        {"case": case, "may_reissue": may_reissue_receipt(request.user, case), **receipts.receipt_context(case, code)},
    )


@login_required
def receipt_pdf(request: AuthedHttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_get_for_actor(actor=request.user, case_id=case_id)
    code = remembered_code(request, case)
    pdf = receipts.render_pdf(case, code)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{case.number}.pdf"'
    return response


@login_required
@require_POST
def receipt_reissue(request: AuthedHttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_get_for_actor(actor=request.user, case_id=case_id)
    code = services.receipt_issue(actor=request.user, case_id=case.pk)
    remember_code(request, case, code)
    messages.success(request, _("已生成新的查询码，原查询码作废。"))
    return redirect("cases:receipt", case_id=case.pk)


def status_check(request: HttpRequest) -> HttpResponse:
    """Public status check with case number + query code (POST, so neither lands in a URL or log)."""
    result = error = None
    status = 200
    panels_html: list[SafeString] = []
    if request.method == "POST":
        try:
            result = services.public_lookup(
                number=request.POST.get("number", ""),
                code=request.POST.get("code", ""),
                client=client_ip(request) or "unknown",
            )
        except LookupLimited as limited:
            error, status = limited.message, 429
        if result:
            # A display-only attribute for the template, not a model field.
            result.latest_round = result.rounds.order_by("-number").first()  # type: ignore[attr-defined]
            panels_html = panels.render_case_panels(request, result, bus.table().public_panels)
        elif error is None:
            error = _("编号或查询码不正确。")
    return render(
        request, "cases/status.html", {"result": result, "error": error, "panels": panels_html}, status=status
    )
