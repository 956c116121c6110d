"""Lifecycle stages a policy preset may switch on or off, and their defaults.

Configuration vocabulary: the case lifecycle (``cases.workflow``) reads it from here.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    """Lifecycle stages a policy preset may switch on or off (preset ``stages`` keys)."""

    ACCEPTANCE = "acceptance_decision", _("受理决定")
    SIGN_FOR = "sign_for", _("签收")
    APPROVAL = "approval", _("审批")
    CALLBACK = "callback", _("回访")
    REVIEW = "review", _("复查复核")


DEFAULT_STAGES: dict[str, bool] = {
    Stage.ACCEPTANCE: True,
    Stage.SIGN_FOR: True,
    Stage.APPROVAL: True,
    Stage.CALLBACK: True,
    Stage.REVIEW: False,
}


def stages_with_defaults(switches: Mapping[str, bool] | None) -> dict[str, bool]:
    merged = dict(DEFAULT_STAGES)
    merged.update({k: bool(v) for k, v in (switches or {}).items() if k in DEFAULT_STAGES})
    return merged
