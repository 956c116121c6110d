"""Fixtures shared with the handling and deadline tests."""

from __future__ import annotations

from tests.handling.conftest import (  # noqa: F401 - fixtures for test_write_rights
    _fresh_calendars,
    activate,
    desk_clerk,
    duty_head,
    intake_dept,
    petition,
    property_rules,
)
