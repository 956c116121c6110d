"""Long exports as background tasks, with their progress shown.

An export of more than ``HUIYIN_EXPORT_INLINE_ROWS`` rows is not streamed in the
response: at about a millisecond a row (the complainant's fields are decrypted to be
masked) a hundred thousand rows take minutes, longer than a web worker may hold a
request and with nothing to tell the person how far it is. Instead ``job_start`` keeps
what was asked (the list, its filters, the format) as an ``ExportJob`` and queues
``export_task`` after commit; the task rebuilds the list as the person who asked —
their rights as they are when it runs — writes the file with ``core.exports`` (the same
writer as the streamed export), counting the rows done as it goes, and stores it. The
export's page polls the progress (htmx) and downloads the file when it is done; only
the person who asked may download it, for ``HUIYIN_EXPORT_KEEP_HOURS``, after which the
sweeper deletes the file (``purge``) and the row stays as the record.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from huiyin.orgs.models import Staff

from . import exports
from .errors import ApplicationError, NotFound, PermissionDeniedError, ValidationFailed
from .models import EXPORT_STATUSES, ExportJob, ExportStatus

log = logging.getLogger(__name__)

# How often the task writes its progress: after a chunk, at most once in this many rows.
PROGRESS_EVERY = 1000


def keep_hours() -> float:
    return float(getattr(settings, "HUIYIN_EXPORT_KEEP_HOURS", 24))


def job_start(*, actor: Staff, source: str, fmt: str, query: str, full: bool = False) -> ExportJob:
    """Queue the export of list ``source`` with the filters ``query`` (a query string) as
    ``fmt``. The list is built once here as ``actor``, so that a person who may not see
    it, or a bad filter, is refused now rather than in the task."""
    if actor.org_id is None:  # the platform operator: no organisation, no lists
        raise PermissionDeniedError()
    if fmt not in exports.FORMATS:
        raise ValidationFailed({"fmt": [_("导出格式：请选择 Excel 或 CSV。")]})
    listing = exports.source(source)(actor, QueryDict(query), full)
    counted = listing.count(exports.inline_max())
    with transaction.atomic():
        job = ExportJob.objects.create(
            organization_id=actor.org_id,
            requested_by=actor,
            source=source,
            title=listing.title[:80],
            fmt=fmt,
            query=query,
            full=full,
            rows_total=counted,
        )
        transaction.on_commit(partial(_enqueue, job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from .tasks import export_task  # the task module imports this one: kept lazy to avoid a cycle

    export_task.enqueue(job_id=job_id)


def _progress(job_id: int, done: int) -> None:
    ExportJob.objects.filter(pk=job_id).update(rows_done=done)


def job_run(*, job_id: int) -> ExportJob | None:
    """The task: write the file of a queued export (again, if its worker died while it
    was running). A refusal (the person lost the right, a filter no longer applies) or an
    error fails the export with its reason; nothing is half stored."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).select_related("requested_by").first()
        if job is None or job.status not in (ExportStatus.QUEUED, ExportStatus.RUNNING):
            return job
        EXPORT_STATUSES.move(job, ExportStatus.RUNNING)
        job.started_at, job.rows_done = timezone.now(), 0
        job.save(update_fields=["status", "started_at", "rows_done"])
    written = told = 0

    def progress(done: int) -> None:
        nonlocal written, told
        written = done
        if done - told >= PROGRESS_EVERY:
            _progress(job.pk, done)
            told = done

    try:
        listing = exports.source(job.source)(job.requested_by, QueryDict(job.query), job.full)
        if listing.before_rows is not None:
            listing.before_rows(job.fmt)
        with tempfile.TemporaryFile() as spool:
            exports.write(listing, job.fmt, spool, progress)
            spool.seek(0)
            name = listing.filename(job.fmt)
            with transaction.atomic():
                row = ExportJob.objects.select_for_update().get(pk=job.pk)
                row.file.save(f"{row.pk}-{timezone.now():%Y%m%d%H%M%S}.{job.fmt}", File(spool), save=False)
                row.filename, row.size = name, row.file.size
                row.rows_done = written
                EXPORT_STATUSES.move(row, ExportStatus.DONE)
                row.finished_at = timezone.now()
                row.save()
            return row
    except ApplicationError as exc:
        return _failed(job.pk, str(exc.message))
    except Exception:  # recorded on the export for the person, with the traceback in the log
        log.exception("export %s failed", job.pk)
        return _failed(job.pk, _("导出时发生错误，请稍后重新导出；仍然失败请联系系统管理员。"))


def _failed(job_id: int, reason: str) -> ExportJob | None:
    with transaction.atomic():
        row = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if row is None or row.status not in (ExportStatus.QUEUED, ExportStatus.RUNNING):
            return row
        EXPORT_STATUSES.move(row, ExportStatus.FAILED)
        row.error, row.finished_at = reason, timezone.now()
        row.save(update_fields=["status", "error", "finished_at"])
        return row


def job_get(*, actor: Staff, job_id: int) -> ExportJob:
    """One of the person's own exports; anyone else's is not there for them (404)."""
    job = ExportJob.objects.filter(pk=job_id, requested_by=actor, organization_id=actor.org_id).first()
    if job is None:
        raise NotFound()
    return job


def jobs_for(actor: Staff, limit: int = 20) -> list[ExportJob]:
    """The person's latest exports, newest first."""
    return list(ExportJob.objects.filter(requested_by=actor, organization_id=actor.org_id)[:limit])


def purge(now: datetime | None = None) -> int:
    """Delete the files of exports finished more than ``HUIYIN_EXPORT_KEEP_HOURS`` ago
    (the sweeper's timetable, ``huiyin/subscribers.py``); the rows stay, as expired.
    Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(hours=keep_hours())
    purged = 0
    stale = ExportJob.objects.filter(
        status__in=EXPORT_STATUSES.sources(ExportStatus.EXPIRED), finished_at__lt=cutoff
    ).values_list("pk", flat=True)
    for job_id in list(stale[:1000]):
        with transaction.atomic():
            job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
            if job is None or job.status not in (ExportStatus.DONE, ExportStatus.FAILED):
                continue
            if job.file:
                job.file.delete(save=False)
            EXPORT_STATUSES.move(job, ExportStatus.EXPIRED)
            job.save(update_fields=["status", "file"])
            purged += 1
    return purged
