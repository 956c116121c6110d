"""Reception (来访接待): the error codes this app raises (see ``core.errors``)."""

from huiyin.core.errors import ErrorCode


class ReceptionError(ErrorCode):
    NOT_PUBLISHED = "not_published"  # no such period in the published hours
    PAST = "past"
    TOO_FAR = "too_far"
    FULL = "full"
    SESSION_CLOSED = "session_closed"
    NOT_TODAY = "not_today"
    ALREADY_HANDLED = "already_handled"
    REPLAYED = "replayed"
