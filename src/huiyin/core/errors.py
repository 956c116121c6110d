"""One error hierarchy for business rules.

Services raise these; views turn them into form errors or messages. ``field``
names the form field at fault so the UI can put the message next to it.
"""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _


class ErrorCode(StrEnum):
    """Base of each app's error codes (``<app>/errors.py``): a code is a member, never a free string."""


class CoreError(ErrorCode):
    APPLICATION_ERROR = "application_error"
    INVALID = "invalid"
    PERMISSION_DENIED = "permission_denied"
    INVALID_TRANSITION = "invalid_transition"
    STALE = "stale"
    DUPLICATE_SUBMISSION = "duplicate_submission"


class ApplicationError(Exception):
    code = "application_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        if code:
            self.code = code


class ValidationFailed(ApplicationError):
    """Bad input: carries one message per field, nothing was saved."""

    code = "invalid"

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        first_field, messages = next(iter(errors.items()))
        super().__init__(messages[0], field=first_field)


class PermissionDeniedError(ApplicationError, PermissionDenied):
    """Also Django's PermissionDenied, so a view that lets it through answers 403, not 500."""

    code = "permission_denied"

    def __init__(self, message: str | None = None):
        super().__init__(message or _("您没有执行此操作的权限。"))


class InvalidTransition(ApplicationError):
    code = "invalid_transition"

    def __init__(self, *, src: str, dst: str, reason: str = ""):
        self.src, self.dst = src, dst
        from huiyin.cases.workflow import state_label

        message = _("案件当前状态为“%(src)s”，不能变更为“%(dst)s”。") % {
            "src": state_label(src),
            "dst": state_label(dst),
        }
        if reason:
            message = f"{message}{reason}"
        super().__init__(message)


class StaleObject(ApplicationError):
    """Optimistic-lock failure: someone else changed the record since the form was opened."""

    code = "stale"

    def __init__(self) -> None:
        super().__init__(_("该案件已被其他人修改，请刷新页面后重试，您的输入未丢失。"))


class DuplicateSubmission(ApplicationError):
    code = "duplicate_submission"

    def __init__(self, case_number: str):
        self.case_number = case_number
        super().__init__(_("该表单已经提交过（案件编号 %(number)s），未重复登记。") % {"number": case_number})
