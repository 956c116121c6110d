"""Writes of the deadline engine (services style): clocks, suspension, extensions, and the
policy a case lives by. ``cases.services`` imports ``policy_for_new_case`` from here."""

from __future__ import annotations

from .case_policy import CasePolicy, policy_for_new_case, policy_version_for_case
from .handling import (
    case_resume,
    case_suspend,
    extension_decide,
    extension_request,
)
from .recompute import clocks_recompute

__all__ = [
    "CasePolicy",
    "case_resume",
    "case_suspend",
    "clocks_recompute",
    "extension_decide",
    "extension_request",
    "policy_for_new_case",
    "policy_version_for_case",
]
