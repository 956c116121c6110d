"""The front office's visitor log and company guest reception: the error codes this app
raises (see ``core.errors``)."""

from huiyin.core.errors import ErrorCode


class FrontOfficeError(ErrorCode):
    BADGE_IN_USE = "badge_in_use"
    NOT_CONFIGURED = "not_configured"
    OVER_BUDGET = "over_budget"
    RECEIPT_REQUIRED = "receipt_required"
    NOT_YOUR_STEP = "not_your_step"
    STALE = "stale"
