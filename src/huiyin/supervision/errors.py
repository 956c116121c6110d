"""Supervision notices: the error codes this app raises (see ``core.errors``)."""

from huiyin.core.errors import ErrorCode, InvalidStatus


class SupervisionError(ErrorCode):
    NOTICE_STATE = "supervision_state"


class NoticeStateError(InvalidStatus):
    """A notice cannot move that way (already answered or closed)."""

    code = SupervisionError.NOTICE_STATE
