"""Writes of the policy app (services style): policy versions, the business calendar's
overrides, deadline clocks, suspension, extensions. ``cases.services`` imports
``policy_for_new_case`` from here."""

from __future__ import annotations

from .calendars import calendar_day_add, calendar_day_remove, calendar_days, calendar_for
from .handling import (
    case_resume,
    case_suspend,
    extension_decide,
    extension_request,
)
from .recompute import clocks_recompute
from .versions import (
    DEFAULT_REPLY_DAYS,
    CasePolicy,
    current_policy,
    organization_init,
    policy_activate,
    policy_activate_text,
    policy_deactivate,
    policy_for_new_case,
    policy_version_for_case,
    presets_dir,
)

__all__ = [
    "DEFAULT_REPLY_DAYS",
    "CasePolicy",
    "calendar_day_add",
    "calendar_day_remove",
    "calendar_days",
    "calendar_for",
    "case_resume",
    "case_suspend",
    "clocks_recompute",
    "current_policy",
    "extension_decide",
    "extension_request",
    "organization_init",
    "policy_activate",
    "policy_activate_text",
    "policy_deactivate",
    "policy_for_new_case",
    "policy_version_for_case",
    "presets_dir",
]
