"""Fixtures for the handling services: organisations running a shipped preset (the
deadline engine's helpers, reused), the intake desk, and the extra staff the handling
steps need (a second leader, the assisting department's people, an administrator)."""

from __future__ import annotations

import pytest

from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.policy.conftest import (  # noqa: F401 - fixtures, re-exported for tests/handling
    _fresh_calendars,
    activate,
    at,
    desk_clerk,
    drive,
    duty_head,
    intake_dept,
)


@pytest.fixture
def petition(org):
    """The petition office's rules: acceptance decision, two-level approval, review."""
    return activate(org, "petition_office")


@pytest.fixture
def construction(org):
    """The construction station's: return within 15 days, no self-transfer, no sign-for,
    the leader alone approves, rectification plan within 14 days."""
    return activate(org, "construction_station")


@pytest.fixture
def property_rules(org):
    """Property management: no acceptance decision, confirmation to close."""
    return activate(org, "property_management")


@pytest.fixture
def leader2(org):
    return make_staff(org, "leader2", [Role.LEADER])


@pytest.fixture
def housing_head(org, departments):
    return make_staff(org, "housing_head", [Role.DEPT_HEAD], departments["housing"])


@pytest.fixture
def housing_handler(org, departments):
    return make_staff(org, "housing_handler", [Role.HANDLER], departments["housing"])


@pytest.fixture
def city_colleague(org, departments):
    return make_staff(org, "city_colleague", [Role.HANDLER], departments["city"])


@pytest.fixture
def admin(org):
    return make_staff(org, "admin", [Role.ADMIN])
