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
