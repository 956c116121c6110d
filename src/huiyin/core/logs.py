"""Log lines carry no raw control characters: whatever a message or a traceback quotes
(a path, an exception about someone's text), escape sequences and NUL bytes are written
as ``\\x1b``, ``\\x00``… so they cannot repaint an operator's terminal or forge a line."""

from __future__ import annotations

import logging
import re

# Everything a log line may not hold raw; newline and tab stay (tracebacks are multi-line).
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class SafeFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(super().format(record))


def _verbose() -> bool:
    """The operator asked for everything (HUIYIN_LOG_LEVEL=DEBUG)."""
    return logging.getLogger().getEffectiveLevel() <= logging.DEBUG


class ExpectedClientErrors(logging.Filter):
    """A refused, missing or malformed request (4xx: 403, 404, 400, a CSRF failure) is the
    user's business, shown to them on a translated page: no log line and no traceback at
    the default level. Server errors (5xx) stay, with their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        from_request = record.name == "django.request" or record.name.startswith("django.security")
        if from_request and (status is None or status < 500) and record.levelno < logging.ERROR:
            return _verbose()
        return True


class OneLineTaskFailures(logging.Filter):
    """A failed background task is one line (which task, which error): the traceback is kept
    with the task, on the system status page and in ``huiyin tasks status``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django_tasks") and record.exc_info and not _verbose():
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()}: {type(error).__name__}" if error is not None else record.getMessage()
            record.args = ()
            record.exc_info = record.exc_text = None
        return True
