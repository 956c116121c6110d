"""Names of stored files (attachments, receipts)."""

from __future__ import annotations

from pathlib import PurePosixPath

# A file system allows 255 bytes a name (ext4, XFS, NTFS), and the storage may add "_" and
# seven characters to a name already taken: what a person called their file, kept in full
# for display and download (``original_name``), is cut to this many bytes on disk.
NAME_BYTES_MAX = 200
_SUFFIX_BYTES_MAX = 16


def _cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, never inside a character."""
    return text.encode()[:limit].decode(errors="ignore")


def storage_name(filename: str) -> str:
    """``filename`` short enough to store: the stem cut, the extension kept."""
    if len(filename.encode()) <= NAME_BYTES_MAX:
        return filename
    path = PurePosixPath(filename)
    suffix = path.suffix if len(path.suffix.encode()) <= _SUFFIX_BYTES_MAX else ""
    stem = filename[: len(filename) - len(suffix)] if suffix else filename
    return (_cut(stem, NAME_BYTES_MAX - len(suffix.encode())) or "file") + suffix
