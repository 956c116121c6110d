"""Error codes of notifications and the e-mail channel (``ApplicationError(msg, code=NotificationsError.X)``)."""

from __future__ import annotations

from huiyin.core.errors import ErrorCode


class NotificationsError(ErrorCode):
    UNKNOWN_VARIABLE = "unknown_variable"
    UNKNOWN_PURPOSE = "unknown_purpose"
    NO_PARTY = "no_party"
    MAIL_NOT_CONFIGURED = "mail_not_configured"
    MAIL_ALREADY_HANDLED = "mail_already_handled"
    GATEWAY_REFUSED = "gateway_refused"
