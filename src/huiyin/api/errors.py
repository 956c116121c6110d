"""The API's own error codes (the rest come from the services' enums)."""

from __future__ import annotations

from huiyin.core.errors import ErrorCode


class ApiError(ErrorCode):
    NOT_AUTHENTICATED = "not_authenticated"
    KEY_INVALID = "key_invalid"
    KEY_EXPIRED = "key_expired"
    KEY_REVOKED = "key_revoked"
    SCOPE_MISSING = "scope_missing"
    THROTTLED = "throttled"
    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"
    UNKNOWN_FIELD = "unknown_field"
    GONE = "gone"
