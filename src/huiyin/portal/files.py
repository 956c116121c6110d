"""Photos and files sent with a submission: type by content, size, and images made safe.

The type is read from the first bytes (magic numbers), never from the name or the browser's
word, and must agree with the name's extension. Images are decoded (a broken or
decompression-bomb image is refused), turned upright, shrunk to
``HUIYIN_PORTAL_IMAGE_MAX_SIDE`` and written anew without their metadata — EXIF (camera,
time, GPS position), comments — except the GPS position where the person ticked to keep it.
Everything is checked before anything is stored; ``cases.services.case_register`` then stores
the prepared files in the registration's transaction.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from huiyin.cases.validation import IMAGE_PIXELS_MAX
from huiyin.core.errors import ValidationFailed
from huiyin.core.files import short_name

FIELD = "attachments"  # the form field the messages go next to
NAME_MAX = 120  # characters of a file's name kept
MAX_PIXELS = IMAGE_PIXELS_MAX  # as for staff uploads: beyond it a decompression bomb is likely


@dataclass(frozen=True)
class Kind:
    name: str  # what the person is told ("JPEG 图片")
    extensions: tuple[str, ...]
    image_format: str | None = None  # Pillow's format: decoded, shrunk and stripped


JPEG = Kind("JPEG", ("jpg", "jpeg"), "JPEG")
PNG = Kind("PNG", ("png",), "PNG")
WEBP = Kind("WebP", ("webp",), "WEBP")
PDF = Kind("PDF", ("pdf",))
DOCX = Kind("Word (docx)", ("docx",))
DOC = Kind("Word (doc)", ("doc",))
KINDS = (JPEG, PNG, WEBP, PDF, DOCX, DOC)
ACCEPT = ",".join(f".{ext}" for kind in KINDS for ext in kind.extensions)


def sniff(head: bytes) -> Kind | None:
    """The file's type by its first bytes."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return DOCX
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return DOC
    return None


def _extension(name: str) -> str:
    return PurePath(name).suffix.lower().lstrip(".")


def _mb(size: float) -> str:
    return f"{size / 1048576:.1f}"


def prepare(uploads: list[UploadedFile], *, keep_location: bool) -> list[SimpleUploadedFile]:
    """Check every file, then return them ready to store (images re-encoded); or raise
    ValidationFailed naming each refused file, before anything is stored."""
    errors: list[str] = []
    limit_files, limit_size = settings.HUIYIN_PORTAL_FILES_MAX, settings.HUIYIN_PORTAL_FILE_MAX_BYTES
    if len(uploads) > limit_files:
        raise ValidationFailed(
            {FIELD: [_("最多上传 %(max)d 个文件，您选择了 %(n)d 个。") % {"max": limit_files, "n": len(uploads)}]}
        )
    ready: list[SimpleUploadedFile] = []
    for upload in uploads:
        name = short_name(PurePath((upload.name or "file").replace("\\", "/")).name, NAME_MAX) or "file"
        size = upload.size or 0
        extension = _extension(name)
        expected = next((k for k in KINDS if extension in k.extensions), None)
        if expected is None:
            errors.append(
                _("“%(name)s”的类型不能上传：请上传照片（JPG、PNG、WebP）、PDF 或 Word 文件。") % {"name": name}
            )
            continue
        if size > limit_size:
            errors.append(
                _("“%(name)s”过大：%(size)s MB，每个文件最大 %(max)s MB。")
                % {"name": name, "size": _mb(size), "max": _mb(limit_size)}
            )
            continue
        if size == 0:
            errors.append(_("“%(name)s”是空文件。") % {"name": name})
            continue
        upload.seek(0)
        data = upload.read(limit_size + 1)
        kind = sniff(data[:16])
        if kind is not expected:
            errors.append(
                _("“%(name)s”的内容与文件名不符：扩展名是 .%(ext)s，内容%(what)s。")
                % {
                    "name": name,
                    "ext": extension,
                    "what": _("是 %(kind)s 文件") % {"kind": kind.name} if kind else _("不是可以上传的类型"),
                }
            )
            continue
        if kind.image_format:
            try:
                data, name = _clean_image(data, name, kind, keep_location=keep_location)
            except ValueError as exc:
                errors.append(str(exc))
                continue
        ready.append(SimpleUploadedFile(name, data, content_type=_content_type(name)))
    if errors:
        raise ValidationFailed({FIELD: errors})
    return ready


def _content_type(name: str) -> str:
    return {
        "jpg": "image/jpeg",
        "png": "image/png",
        "pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "doc": "application/msword",
    }.get(_extension(name), "application/octet-stream")


def _clean_image(data: bytes, name: str, kind: Kind, *, keep_location: bool) -> tuple[bytes, str]:
    """Decode, turn upright, shrink, and write anew without metadata (but the GPS position,
    when kept). A WebP photo becomes a JPEG (what every office PC opens)."""
    broken = ValueError(_("“%(name)s”不是完整的图片，无法打开，请重新拍摄或选择。") % {"name": name})
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # past Pillow's own limit: no size is read
        raise ValueError(
            _("“%(name)s”的像素过多（超过 %(n)d 百万像素），请缩小后再上传。")
            % {"name": name, "n": MAX_PIXELS // 1_000_000}
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise broken from exc
    try:
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ValueError(
                _("“%(name)s”的像素过多（%(w)d×%(h)d），请缩小后再上传。") % {"name": name, "w": width, "h": height}
            )
        image.load()
        gps = dict(image.getexif().get_ifd(ExifTags.IFD.GPSInfo)) if keep_location else {}
        upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise broken from exc
    side = settings.HUIYIN_PORTAL_IMAGE_MAX_SIDE
    upright.thumbnail((side, side))
    upright.info = {}  # no comment, no XMP, no EXIF carried over by the encoder
    exif = Image.Exif()
    if gps:
        exif[ExifTags.IFD.GPSInfo] = gps
    out = io.BytesIO()
    stem = PurePath(name).stem or "photo"
    if kind is PNG:
        upright.save(out, "PNG", optimize=True, **({"exif": exif.tobytes()} if gps else {}))
        return out.getvalue(), f"{stem}.png"
    if upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    upright.save(out, "JPEG", quality=85, optimize=True, **({"exif": exif.tobytes()} if gps else {}))
    return out.getvalue(), f"{stem}.jpg"
