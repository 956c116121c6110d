"""The webhook deliveries, one task per attempt (``webhooks.attempt``), and the deferred Open311
registrations (``open311.register_submission``)."""

from __future__ import annotations

from django_tasks import task

from . import open311, webhooks


@task()
def deliver_webhook_task(delivery_id: int) -> None:
    webhooks.attempt(delivery_id)


@task()
def open311_register_task(submission_id: int) -> None:
    open311.register_submission(submission_id)
