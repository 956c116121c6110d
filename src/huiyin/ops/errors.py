"""Error codes of the service's own operations (``ApplicationError(msg, code=OpsError.X)``)."""

from __future__ import annotations

from huiyin.core.errors import ErrorCode


class OpsError(ErrorCode):
    TASK_NOT_FAILED = "task_not_failed"
