"""Background work of the core: writing a long export's file (ids in, service inside)."""

from __future__ import annotations

from django_tasks import task

from .export_jobs import job_run


@task()
def export_task(job_id: int) -> None:
    job_run(job_id=job_id)
