"""Supervision notices: the error codes this app raises (see ``core.errors``)."""

from huiyin.core.errors import ErrorCode


class SupervisionError(ErrorCode):
    NOTICE_STATE = "supervision_state"
