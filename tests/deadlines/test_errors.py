from __future__ import annotations

from huiyin.deadlines.errors import DeadlineError


def test_codes_keep_their_strings() -> None:
    assert DeadlineError.EXTENSION_TOO_LATE == "extension_too_late"
    assert DeadlineError.CASE_NOT_OPEN == "case_not_open"
    assert DeadlineError.NOT_EXTENDABLE == "not_extendable" and DeadlineError.BEYOND_LATEST == "beyond_latest"
    assert len(set(DeadlineError)) == 11
