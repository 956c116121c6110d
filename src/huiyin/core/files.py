"""Names of files people send: cut to fit, the extension kept (attachments, receipts)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath

# A file system allows 255 bytes a name (ext4, XFS, NTFS), and the storage may add "_" and
# seven characters to a name already taken: what a person called their file, kept in full
# for display and download (``original_name``), is cut to this many bytes on disk.
NAME_BYTES_MAX = 200
_SUFFIX_BYTES_MAX = 16


def _bytes(text: str) -> int:
    return len(text.encode())


def _cut_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, never inside a character."""
    return text.encode()[:limit].decode(errors="ignore")


def _shortened(
    filename: str, limit: int, *, size: Callable[[str], int], cut: Callable[[str, int], str], suffix_max: int
) -> str:
    """``filename`` within ``limit`` (as ``size`` measures), its extension kept: the stem is
    cut. An "extension" longer than ``suffix_max`` is part of the stem."""
    if size(filename) <= limit:
        return filename
    suffix = PurePosixPath(filename).suffix
    if size(suffix) > suffix_max:
        suffix = ""
    stem = filename[: len(filename) - len(suffix)]
    return (cut(stem, limit - size(suffix)) or "file") + suffix


def storage_name(filename: str) -> str:
    """``filename`` short enough to store: at most NAME_BYTES_MAX bytes, the extension kept."""
    return _shortened(filename, NAME_BYTES_MAX, size=_bytes, cut=_cut_bytes, suffix_max=_SUFFIX_BYTES_MAX)


def short_name(filename: str, limit: int) -> str:
    """``filename`` in at most ``limit`` characters, the extension (up to ten) kept: cut off,
    a PDF would be refused as of a type that cannot be uploaded."""
    return _shortened(filename, limit, size=len, cut=lambda text, n: text[:n], suffix_max=10)
