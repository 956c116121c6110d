"""The webhook deliveries, one task per attempt (``webhooks.attempt``)."""

from __future__ import annotations

from django_tasks import task

from . import webhooks


@task()
def deliver_webhook_task(delivery_id: int) -> None:
    webhooks.attempt(delivery_id)
