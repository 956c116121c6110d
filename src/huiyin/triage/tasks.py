"""Retraining as a background task (the project's task queue): ids in, service inside."""

from __future__ import annotations

import logging

from django_tasks import task

from huiyin.core.errors import ApplicationError
from huiyin.orgs.models import Organization

log = logging.getLogger(__name__)


@task()
def retrain_task(organization_id: int) -> None:
    """Train from the organisation's own closed cases; bad data is kept as a refused row
    (the models page says why), not retried."""
    from .services import refused, train  # scikit-learn (heavy): loaded by the worker that trains

    organization = Organization.objects.get(pk=organization_id)
    try:
        result = train(organization, progress=log.debug)
    except ApplicationError as exc:
        refused(organization, exc, {"source": "cases"})
        return
    log.info(
        "triage model v%s for organisation %s: promoted=%s", result.model.version, organization_id, result.promoted
    )
