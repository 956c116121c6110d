"""One error body everywhere: ``{"code", "message", "fields"}``, the message in the request's language."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf
from rest_framework.response import Response

from huiyin.cases.errors import InvalidTransition
from huiyin.core.errors import (
    ApplicationError,
    CoreError,
    DuplicateSubmission,
    InvalidStatus,
    NotFound,
    PermissionDeniedError,
    StaleObject,
)

from .errors import ApiError

CONFLICTS = (StaleObject, InvalidTransition, InvalidStatus, DuplicateSubmission)


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"code": str(code), "message": str(message), "fields": fields or {}}


def application_status(error: ApplicationError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, PermissionDeniedError):
        return 403
    if isinstance(error, CONFLICTS):
        return 409
    return 400


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested field errors as ``{"party.phone": [...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, "" if name == "non_field_errors" and not prefix else name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _drf_code(exc: drf.APIException, fallback: str) -> str:
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else ""
    return code if code in ApiError.__members__.values() else fallback


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, ApplicationError):
        status = application_status(exc)
        body = exc.as_dict()
    elif isinstance(exc, Http404):
        status, body = 404, NotFound().as_dict()
    elif isinstance(exc, PermissionDenied):
        status, body = 403, PermissionDeniedError().as_dict()
    elif isinstance(exc, RequestDataTooBig):
        status, body = 413, error_body(ApiError.TOO_LARGE, _("请求内容过大。"))
    elif isinstance(exc, SuspiciousOperation):
        status, body = 400, error_body(ApiError.MALFORMED, _("请求无法解析。"))
    elif isinstance(exc, drf.ValidationError):
        fields = _flatten(exc.detail)
        unknown = any(code == ApiError.UNKNOWN_FIELD for code in _codes(exc.get_codes()))
        first = next(iter(fields.values()), [_("输入有误。")])[0]
        status, body = 400, error_body(ApiError.UNKNOWN_FIELD if unknown else CoreError.INVALID, first, fields)
    elif isinstance(exc, drf.ParseError):
        status, body = 400, error_body(ApiError.MALFORMED, _("请求内容无法解析：%(detail)s") % {"detail": exc.detail})
    elif isinstance(exc, drf.AuthenticationFailed | drf.NotAuthenticated):
        status = 401
        body = error_body(_drf_code(exc, ApiError.NOT_AUTHENTICATED), str(exc.detail))
        headers["WWW-Authenticate"] = "Bearer"
    elif isinstance(exc, drf.PermissionDenied):
        status, body = 403, error_body(_drf_code(exc, CoreError.PERMISSION_DENIED), str(exc.detail))
    elif isinstance(exc, drf.NotFound):
        status, body = 404, NotFound().as_dict()
    elif isinstance(exc, drf.MethodNotAllowed):
        status, body = 405, error_body(ApiError.METHOD_NOT_ALLOWED, _("不支持该请求方法。"))
    elif isinstance(exc, drf.NotAcceptable):
        status, body = 406, error_body(ApiError.NOT_ACCEPTABLE, _("无法按请求的格式返回。"))
    elif isinstance(exc, drf.UnsupportedMediaType):
        status, body = 415, error_body(ApiError.UNSUPPORTED_MEDIA_TYPE, _("不支持该请求内容类型。"))
    elif isinstance(exc, drf.Throttled):
        status = 429
        body = error_body(ApiError.THROTTLED, _("请求过于频繁，请稍后再试。"))
        if exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait) + 1)
    elif isinstance(exc, drf.APIException):
        status, body = exc.status_code, error_body(CoreError.APPLICATION_ERROR, str(exc.detail))
    else:
        return None
    return Response(body, status=status, headers=headers)


def _codes(codes: Any) -> list[str]:
    if isinstance(codes, dict):
        return [c for value in codes.values() for c in _codes(value)]
    if isinstance(codes, list):
        return [c for value in codes for c in _codes(value)]
    return [str(codes)]
