from tests.handling.conftest import _fresh_calendars, property_rules  # noqa: F401 - shared fixtures
