"""Writes of the policy app (services style): policy versions and the business calendar's
overrides. Configuration only: the deadline engine's services are ``deadlines.services``."""

from __future__ import annotations

from .calendars import calendar_day_add, calendar_day_remove, calendar_days, calendar_for, on_calendar_change
from .versions import (
    DEFAULT_REPLY_DAYS,
    current_policy,
    missing_departments,
    organization_init,
    policy_activate,
    policy_activate_text,
    policy_deactivate,
    policy_version_by_code,
    presets_dir,
    running_fingerprint,
)

__all__ = [
    "DEFAULT_REPLY_DAYS",
    "calendar_day_add",
    "calendar_day_remove",
    "calendar_days",
    "calendar_for",
    "current_policy",
    "missing_departments",
    "on_calendar_change",
    "organization_init",
    "policy_activate",
    "policy_activate_text",
    "policy_deactivate",
    "policy_version_by_code",
    "presets_dir",
    "running_fingerprint",
]
