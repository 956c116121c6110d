"""Error codes of the deadline engine (``ApplicationError(msg, code=DeadlineError.X)``)."""

from __future__ import annotations

from huiyin.core.errors import ErrorCode


class DeadlineError(ErrorCode):
    CASE_NOT_OPEN = "case_not_open"
    ALREADY_SUSPENDED = "already_suspended"
    NOT_SUSPENDED = "not_suspended"
    EXTENSION_NOT_ALLOWED = "extension_not_allowed"
    EXTENSION_TOO_LATE = "extension_too_late"
    SECOND_EXTENSION_FORBIDDEN = "second_extension_forbidden"
    NOT_EXTENDABLE = "not_extendable"  # the preset does not let this deadline be postponed
    BEYOND_LATEST = "beyond_latest"  # the postponement would pass the last-word deadline
    EXTENSION_PENDING = "extension_pending"
    EXTENSION_DECIDED = "extension_decided"
    CLOCK_STOPPED = "clock_stopped"
