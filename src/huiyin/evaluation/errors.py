"""Deductions and evaluation: the error codes this app raises (see ``core.errors``)."""

from huiyin.core.errors import ErrorCode


class EvaluationError(ErrorCode):
    DEDUCTION_RECORDED = "deduction_recorded"
