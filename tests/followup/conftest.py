from tests.handling.conftest import (  # noqa: F401 - fixtures shared with the handling tests
    _fresh_calendars,
    activate,
    at,
    construction,
    desk_clerk,
    drive,
    duty_head,
    housing_head,
    intake_dept,
    petition,
    property_rules,
)
