"""Error codes of notifications and the e-mail channel (``ApplicationError(msg, code=NotificationsError.X)``)."""

from __future__ import annotations

from huiyin.core.errors import ErrorCode


class NotificationsError(ErrorCode):
    UNKNOWN_VARIABLE = "unknown_variable"
    MAIL_ALREADY_HANDLED = "mail_already_handled"
