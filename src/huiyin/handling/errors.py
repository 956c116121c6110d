"""Handling records, plans, documents and joint handling: the error codes this app raises (see ``core.errors``)."""

from huiyin.core.errors import ErrorCode


class HandlingError(ErrorCode):
    WRONG_STATE = "wrong_state"
    ARCHIVED = "archived"
    STAGE_OFF = "stage_off"
    TRANSFER_FORBIDDEN = "transfer_forbidden"
    REFUSAL_FORBIDDEN = "refusal_forbidden"
    NO_PROPOSAL = "no_proposal"
    REPORT_MISSING = "report_missing"
    NO_REVIEW = "no_review"
    REVIEW_TWICE = "review_twice"
    NOT_AVAILABLE = "not_available"
    ALREADY_CONFIRMED = "already_confirmed"
    PLAN_TWICE = "plan_twice"
    NO_PLAN = "no_plan"
    PLAN_NOT_ACCEPTED = "plan_not_accepted"
    NOT_DRAFT = "not_draft"
    NOT_REPORT = "not_report"
    NOT_APPROVED = "not_approved"
    CONCLUDED = "concluded"
    AUTHORITY_REQUEST_TWICE = "twice"
