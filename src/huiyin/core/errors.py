"""One error hierarchy for business rules.

Services raise these; views turn them into form errors (``core.forms.put_errors``)
or messages. ``field`` names the form field at fault so the UI can put the message
next to it; ``code`` is a member of an ``ErrorCode`` enum (``<app>/errors.py``),
never a free string, and is what an API client reads (``as_dict``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise  # a lazy translation, as _() below returns


class ErrorCode(StrEnum):
    """Base of each app's error codes (``<app>/errors.py``): a code is a member, never a free string."""


class CoreError(ErrorCode):
    APPLICATION_ERROR = "application_error"
    INVALID = "invalid"
    PERMISSION_DENIED = "permission_denied"
    INVALID_TRANSITION = "invalid_transition"
    STALE = "stale"
    DUPLICATE_SUBMISSION = "duplicate_submission"
    INVALID_STATUS = "invalid_status"
    NOT_FOUND = "not_found"


class ApplicationError(Exception):
    code: ErrorCode = CoreError.APPLICATION_ERROR

    def __init__(self, message: str | StrPromise, *, field: str | None = None, code: ErrorCode | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def field_errors(self, unnamed: str = NON_FIELD_ERRORS) -> dict[str, list[str]]:
        """The messages by the field at fault, translated; an error naming no field is filed under ``unnamed``."""
        return {self.field or unnamed: [str(self.message)]}

    def as_dict(self) -> dict[str, Any]:
        """The API error body: ``{"code", "message", "fields": {field: [messages]}}`` (every field of a
        ValidationFailed; none for an error that names no field)."""
        return {
            "code": str(self.code),
            "message": str(self.message),
            "fields": self.field_errors() if self.field else {},
        }


class ValidationFailed(ApplicationError):
    """Bad input: carries one message per field, nothing was saved."""

    code = CoreError.INVALID

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        first_field, messages = next(iter(errors.items()))
        super().__init__(messages[0], field=first_field)

    def field_errors(self, unnamed: str = NON_FIELD_ERRORS) -> dict[str, list[str]]:
        return {field or unnamed: [str(m) for m in messages] for field, messages in self.errors.items()}


class PermissionDeniedError(ApplicationError, PermissionDenied):
    """Also Django's PermissionDenied, so a view that lets it through answers 403, not 500."""

    code = CoreError.PERMISSION_DENIED

    def __init__(self, message: str | StrPromise | None = None):
        super().__init__(message or _("您没有执行此操作的权限。"))


class NotFound(ApplicationError, Http404):
    """The record named does not exist in the actor's organisation (or never did): also
    Django's Http404, so a view that lets it through answers 404, not 500."""

    code = CoreError.NOT_FOUND

    def __init__(self, message: str | StrPromise | None = None):
        super().__init__(message or _("找不到该记录：它不存在，或不属于您的单位。"))


class StaleObject(ApplicationError):
    """Optimistic-lock failure: someone else changed the record since the form was opened."""

    code = CoreError.STALE

    def __init__(self, message: str | StrPromise | None = None) -> None:
        super().__init__(message or _("该记录已被其他人修改，请刷新页面后重试，您的输入未丢失。"))


class DuplicateSubmission(ApplicationError):
    code = CoreError.DUPLICATE_SUBMISSION

    def __init__(self, case_number: str):
        self.case_number = case_number
        super().__init__(_("该表单已经提交过（案件编号 %(number)s），未重复登记。") % {"number": case_number})


class InvalidStatus(ApplicationError):
    """A record's status may not move that way (its ``StatusTable`` has no such edge):
    usually someone else moved it first."""

    code: ErrorCode = CoreError.INVALID_STATUS

    def __init__(
        self,
        *,
        what: str,
        src: str,
        dst: str,
        message: str | StrPromise | None = None,
        code: ErrorCode | None = None,
    ):
        self.src, self.dst = src, dst
        super().__init__(
            message
            or _("%(what)s当前为“%(src)s”，不能改为“%(dst)s”。请刷新页面查看最新状态。")
            % {"what": what, "src": src, "dst": dst},
            code=code,
        )


def http_status(error: ApplicationError) -> int:
    """The status a page refusing ``error`` answers with: 404 for a record that is not
    there (or not the actor's organisation's), 403 for a permission, else 400."""
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, PermissionDeniedError):
        return 403
    return 400
