"""Survey campaigns, invitations and rectification items: the error codes this app raises (see ``core.errors``)."""

from huiyin.core.errors import ErrorCode


class SurveysError(ErrorCode):
    CLOSED = "closed"
    NOT_STARTED = "not_started"
    LINK_UNKNOWN = "unknown"
    LINK_USED = "used"
    ITEM_DONE = "done"
    NOT_HELD = "not_held"
