"""Reports: the error codes this app raises (see ``core.errors``)."""

from huiyin.core.errors import ErrorCode


class ReportsError(ErrorCode):
    BUSY = "busy"
