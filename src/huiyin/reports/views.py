"""The dashboard and the periodic reports: parse, call one selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huiyin.core.errors import ApplicationError, NotFound, PermissionDeniedError
from huiyin.core.forms import put_errors
from huiyin.core.http import AuthedHttpRequest

from . import export, permissions, selectors, services
from .forms import CommentaryForm, PeriodForm, ReportRequestForm, period_presets
from .models import ReportStatus


@login_required
def dashboard(request: AuthedHttpRequest) -> HttpResponse:
    selectors.scope_for(request.user)  # 403 before anything else
    form = PeriodForm(request.GET, today=timezone.localdate())
    board = None
    if form.is_valid():
        board = selectors.dashboard(actor=request.user, period=form.period())
    charts = {}
    if board is not None:
        charts = {"volume": board.charts, "top": board.top}
    return render(
        request,
        "reports/dashboard.html",
        {
            "form": form,
            "board": board,
            "charts": charts,
            "presets": period_presets(timezone.localdate()),
        },
        status=200 if board else 400,
    )


# --- periodic reports -----------------------------------------------------------------------------


@login_required
def report_list(request: AuthedHttpRequest) -> HttpResponse:
    reports = selectors.reports_for(request.user)  # 403 for anyone else
    may_write = permissions.may_write_reports(request.user)
    form = ReportRequestForm(request.POST or None, initial={"kind": "month", "on": timezone.localdate()})
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied
        if form.is_valid():
            try:
                report = services.report_request(
                    actor=request.user, kind=form.cleaned_data["kind"], on=form.cleaned_data["on"]
                )
            except PermissionDeniedError:
                raise
            except ApplicationError as exc:
                put_errors(form, exc)
            else:
                if report.generation > 1:
                    messages.info(request, _("该期间的报告已有一份：按最新数据重新生成，分析意见保留。"))
                return redirect("reports:report", report_id=report.pk)
    return render(
        request,
        "reports/report_list.html",
        {"form": form, "reports": reports[:100], "may_write": may_write},
        status=400 if form.errors else 200,
    )


def _report_context(request: AuthedHttpRequest, report) -> dict:
    return {
        "report": report,
        "data": report.data or {},
        "title": export.title_of(report),
        "may_write": permissions.may_write_reports(request.user),
        "running": report.status in (ReportStatus.QUEUED, ReportStatus.RUNNING),
    }


@login_required
def report_detail(request: AuthedHttpRequest, report_id: int) -> HttpResponse:
    report = selectors.report_get(request.user, report_id)
    context = _report_context(request, report)
    context["form"] = CommentaryForm(initial={"commentary": report.commentary, "version": report.version})
    if report.status == ReportStatus.DONE:
        context["chart_data"] = {"trend": report.data.get("trend", {}), "tables": report.data.get("tables", [])[:1]}
    return render(request, "reports/report_detail.html", context)


@login_required
def report_progress(request: AuthedHttpRequest, report_id: int) -> HttpResponse:
    """The progress bar, polled by htmx while the task runs; when it is done the page reloads."""
    report = selectors.report_get(request.user, report_id)
    response = render(request, "reports/_progress.html", _report_context(request, report))
    if report.status not in (ReportStatus.QUEUED, ReportStatus.RUNNING) and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@require_POST
@login_required
def report_commentary(request: AuthedHttpRequest, report_id: int) -> HttpResponse:
    report = selectors.report_get(request.user, report_id)
    if not permissions.may_write_reports(request.user):
        raise PermissionDenied
    form = CommentaryForm(request.POST)
    if form.is_valid():
        try:
            services.commentary_save(
                actor=request.user,
                report_id=report.pk,
                commentary=form.cleaned_data["commentary"],
                expected_version=form.cleaned_data["version"],
            )
        except PermissionDeniedError:
            raise
        except ApplicationError as exc:
            put_errors(form, exc, aliases={"__all__": "commentary"})
        else:
            messages.success(request, _("分析意见已保存。"))
            return redirect("reports:report", report_id=report.pk)
    context = _report_context(request, report)
    context["form"] = form
    return render(request, "reports/report_detail.html", context, status=400)


@require_POST
@login_required
def report_regenerate(request: AuthedHttpRequest, report_id: int) -> HttpResponse:
    report = selectors.report_get(request.user, report_id)
    if not permissions.may_write_reports(request.user):
        raise PermissionDenied
    try:
        services.report_regenerate(actor=request.user, report_id=report.pk)
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("reports:report", report_id=report.pk)


def _file(report, content: bytes, content_type: str, suffix: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="report-{report.kind}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.{suffix}"'
    )
    return response


@login_required
def report_xlsx(request: AuthedHttpRequest, report_id: int) -> HttpResponse:
    report = selectors.report_get(request.user, report_id)
    if report.status != ReportStatus.DONE:
        raise NotFound(_("该报告尚未生成。"))
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _file(report, export.render_xlsx(report), content_type, "xlsx")


@login_required
def report_pdf(request: AuthedHttpRequest, report_id: int) -> HttpResponse:
    report = selectors.report_get(request.user, report_id)
    if report.status != ReportStatus.DONE:
        raise NotFound(_("该报告尚未生成。"))
    return _file(report, export.render_pdf(report), "application/pdf", "pdf")
