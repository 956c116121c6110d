"""The evaluation table, its Excel export and the deduction form: parse, call one
selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.cases.selectors import case_get_by_number
from huiyin.core.errors import ApplicationError, PermissionDeniedError
from huiyin.core.export_views import export_response
from huiyin.core.forms import put_errors
from huiyin.core.http import AuthedHttpRequest
from huiyin.handling.records import role_label
from huiyin.policy.labels import preset_label
from huiyin.policy.services import current_policy

from . import permissions, selectors, services
from .export import period_label, remark
from .forms import DeductionForm, PeriodForm, period_presets


def _period_form(request: AuthedHttpRequest) -> PeriodForm:
    return PeriodForm(request.GET, today=timezone.localdate())


@login_required
def table(request: AuthedHttpRequest) -> HttpResponse:
    selectors.scope_for(request.user)  # 403 before anything else
    form = _period_form(request)
    result = None
    if form.is_valid():
        start, end = form.period()
        result = selectors.evaluation_for(actor=request.user, start=start, end=end, by=form.cleaned_data["by"])
    rows = [(row, remark(row, result.rules.min_sample)) for row in result.rows] if result else []
    return render(
        request,
        "evaluation/table.html",
        {
            "form": form,
            "table": result,
            "rows": rows,
            "period": period_label(result) if result else "",
            "by": result.by if result else selectors.BY_STAFF,
            "query": request.GET.urlencode(),
            "presets": period_presets(timezone.localdate()),
            "may_record": permissions.may_record_deductions(request.user),
            "kpis": selectors.kpi_rows(request.user.org_id, result),
        },
        status=200 if result else 400,
    )


@login_required
def export(request: AuthedHttpRequest, fmt: str = "xlsx") -> HttpResponseBase:
    """The table as a spreadsheet (``export.evaluation_listing``); a bad period goes back
    to the table with the message."""
    selectors.scope_for(request.user)
    if not _period_form(request).is_valid():
        messages.error(request, _("请检查考评期间。"))
        return redirect("evaluation:table")
    return export_response(request, "evaluation", fmt)


@login_required
def deductions(request: AuthedHttpRequest) -> HttpResponse:
    actor = request.user
    if not permissions.may_record_deductions(actor):
        raise PermissionDenied

    policy = current_policy(actor.org_id)
    rules = policy.preset().deductions if policy is not None else ()
    form = DeductionForm(request.POST or None, deductions=rules)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        case = case_get_by_number(actor=actor, number=d["case_number"])
        if case is None:
            form.add_error("case_number", _("找不到该案件。"))
        else:
            try:
                entries = services.deduction_record(
                    actor=actor, case_id=case.pk, rule=d["rule"], level=d["level"], note=d["note"]
                )
            except PermissionDeniedError:
                raise
            except ApplicationError as exc:
                put_errors(form, exc, aliases={"case": "case_number"})
            else:
                messages.success(
                    request,
                    _("已登记 %(number)s 越级投诉扣分（%(n)d 条）。") % {"number": case.number, "n": len(entries)},
                )
                return redirect("evaluation:deductions")

    return render(
        request,
        "evaluation/deductions.html",
        {
            "form": form,
            "rules": [(preset_label(d.label), [role_label(r) for r in d.applies_to]) for d in rules],
            "entries": selectors.recent_deductions(actor),
        },
        status=400 if form.errors else 200,
    )
