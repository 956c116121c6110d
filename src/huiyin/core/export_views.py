"""Exports of any list: the answer every list's export view gives (``export_response``), and
the pages of a long export written in the background (start, progress, download)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from . import export_jobs, exports
from .errors import ValidationFailed
from .http import AuthedHttpRequest
from .models import ExportStatus


def _plain(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _refused(exc: ValidationFailed) -> HttpResponse:
    """A bad filter: never the whole list instead of the filtered one; the reasons, 400."""
    return _plain(" ".join(m for messages in exc.field_errors().values() for m in messages), 400)


def export_response(request: AuthedHttpRequest, name: str, fmt: str, *, full: bool = False) -> HttpResponseBase:
    """The list ``name`` with the request's filters as ``fmt``. Up to
    ``HUIYIN_EXPORT_INLINE_ROWS`` rows: the file, streamed (a full export's cases logged
    first). More: a full export (a POST, confirmed on the list's page) is queued at once
    and its page shown; a masked one shows how many rows it holds and asks to write it
    in the background. The list's source refuses whoever may not see the list (403)."""
    try:
        listing = exports.source(name)(request.user, request.GET, full)
    except ValidationFailed as exc:
        return _refused(exc)
    cap = exports.inline_max()
    counted = listing.count(cap)
    if counted <= cap:
        if listing.before_rows is not None:
            listing.before_rows(fmt)
        return exports.streaming_response(listing, fmt)
    query = request.GET.urlencode()
    if full:
        job = export_jobs.job_start(actor=request.user, source=name, fmt=fmt, query=query, full=True)
        return redirect("exports:job", job_id=job.pk)
    return render(
        request,
        "core/export_confirm.html",
        {
            "listing": listing,
            "source": name,
            "fmt": fmt,
            "fmt_label": "Excel" if fmt == "xlsx" else "CSV",
            "query": query,
            "counted": f"{counted:,}",
            "inline_max": f"{cap:,}",
        },
    )


def list_export(request: AuthedHttpRequest, name: str, fmt: str) -> HttpResponseBase:
    """A list's export view: GET masked as on the screen, POST in full (the source asks
    for the personal-data right and logs the export)."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    return export_response(request, name, fmt, full=request.method == "POST")


@login_required
@require_POST
def start(request: AuthedHttpRequest) -> HttpResponseBase:
    """写入后台导出: the masked export of a long list, queued; its page follows it."""
    try:
        job = export_jobs.job_start(
            actor=request.user,
            source=request.POST.get("source", ""),
            fmt=request.POST.get("fmt", ""),
            query=request.POST.get("query", ""),
        )
    except ValidationFailed as exc:
        return _refused(exc)
    return redirect("exports:job", job_id=job.pk)


@login_required
@require_GET
def job(request: AuthedHttpRequest, job_id: int) -> HttpResponse:
    export = export_jobs.job_get(actor=request.user, job_id=job_id)
    return render(
        request,
        "core/export_job.html",
        {"job": export, "jobs": export_jobs.jobs_for(request.user), "keep_hours": f"{export_jobs.keep_hours():g}"},
    )


@login_required
@require_GET
def progress(request: AuthedHttpRequest, job_id: int) -> HttpResponse:
    """The progress bar, polled by htmx while the task runs; done, it offers the file (and
    the page's script downloads it once)."""
    export = export_jobs.job_get(actor=request.user, job_id=job_id)
    return render(request, "core/_export_progress.html", {"job": export, "poll": True})


@login_required
@require_GET
def download(request: AuthedHttpRequest, job_id: int) -> HttpResponseBase:
    export = export_jobs.job_get(actor=request.user, job_id=job_id)
    if export.status != ExportStatus.DONE or not export.file:
        return redirect(reverse("exports:job", kwargs={"job_id": export.pk}))
    content_type = exports.FORMATS.get(export.fmt, "application/octet-stream")
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=export.filename, content_type=content_type)
