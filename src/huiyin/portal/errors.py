"""The public portal: the error codes it raises (see ``core.errors``)."""

from huiyin.core.errors import ApplicationError, ErrorCode


class PortalError(ErrorCode):
    CHALLENGE_MISSING = "challenge_missing"
    CHALLENGE_INVALID = "challenge_invalid"
    CHALLENGE_EXPIRED = "challenge_expired"
    ANSWER_WRONG = "answer_wrong"
    REPLAYED = "replayed"
    LIMITED = "limited"
    FILE_TYPE = "file_type"
    FILE_CONTENT = "file_content"
    FILE_SIZE = "file_size"
    FILE_COUNT = "file_count"
    IMAGE_BROKEN = "image_broken"
    LOOKUP_FAILED = "lookup_failed"
    LOOKUP_LOCKED = "lookup_locked"
    CONSENT = "consent"
    ANONYMOUS = "anonymous"
    REVIEW_CLOSED = "review_closed"


class TooManyRequests(ApplicationError):
    """A rate limit is spent: the portal answers 429, naming when to try again."""

    code = PortalError.LIMITED

    def __init__(self, message, *, field: str | None = None, retry_after: int = 60):
        self.retry_after = retry_after
        super().__init__(message, field=field, code=PortalError.LIMITED)
