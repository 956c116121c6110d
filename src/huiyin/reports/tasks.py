"""Background work of the reports: generating a periodic report (ids in, service inside)."""

from __future__ import annotations

from django_tasks import task


@task()
def generate_report_task(report_id: int) -> None:
    from .services import report_generate  # the services enqueue this task: kept lazy to avoid a cycle

    report_generate(report_id=report_id)
