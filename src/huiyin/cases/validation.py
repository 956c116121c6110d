"""Domain validation shared by every entry point (workbench forms, commands, API).

Each function returns ``{field: [message, ...]}`` in Chinese naming the field,
or raises ValidationFailed; nothing is saved until all of it passes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from huiyin.core.errors import ValidationFailed
from huiyin.core.validators import When, clean_text, id_number_error, moment_error, normalize_phone, phone_error

from .inputs import IntakeInput, PartyInput
from .models import Category, Channel, Nature, Urgency

TITLE_MAX = 120
REPRESENTATIVES_MAX = 20  # 其他代表, one a line (a group visit sends at most five by the regulations)
_TOKEN = re.compile(r"[0-9A-Za-z_-]{1,64}")
Errors = dict[str, list[str]]

# First bytes of the binary types we accept; text and office formats are checked by extension.
_MAGIC = {
    "pdf": (b"%PDF",),
    "png": (b"\x89PNG",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def text_errors(errors: Errors, field: str, label: str, value: str, *, required: bool, limit: int) -> None:
    value = clean_text(value).strip()
    if required and not value:
        _add(errors, field, _("%(label)s不能为空。") % {"label": label})
    elif len(value) > limit:
        _add(
            errors,
            field,
            _("%(label)s过长：最多 %(max)d 字，当前 %(n)d 字，请删减后再提交（不会自动截断）。")
            % {"label": label, "max": limit, "n": len(value)},
        )


def party_errors(errors: Errors, party: PartyInput, prefix: str = "party_") -> None:
    # Normalised in place: what is stored is what was checked (no control characters).
    party.name, party.address = clean_text(party.name), clean_text(party.address)
    party.affiliation, party.id_number = clean_text(party.affiliation), clean_text(party.id_number)
    party.phone = normalize_phone(clean_text(party.phone))
    party.email = clean_text(party.email).strip()
    message = email_error(party.email)
    if message:
        _add(errors, f"{prefix}email", message)
    if party.language and party.language not in dict(settings.LANGUAGES):
        _add(errors, f"{prefix}language", _("通知语言无效。"))
    message = phone_error(party.phone)
    if message:
        _add(errors, f"{prefix}phone", message)
    message = id_number_error(party.id_number.strip())
    if message:
        _add(errors, f"{prefix}id_number", message)
    text_errors(errors, f"{prefix}name", _("姓名"), party.name, required=False, limit=60)
    text_errors(errors, f"{prefix}address", _("地址"), party.address, required=False, limit=200)
    text_errors(errors, f"{prefix}affiliation", _("工作单位"), party.affiliation, required=False, limit=120)


def email_error(email: str) -> str | None:
    if not email:
        return None
    try:
        validate_email(email)
    except DjangoValidationError:
        return _("电子邮箱格式不正确：请输入如 name@example.com 的地址。")
    if len(email) > 254:
        return _("电子邮箱过长：最多 254 个字符。")
    return None


def validate_intake(data: IntakeInput, *, organization_id: int) -> None:
    """Checks a registration; its text is cleaned of control characters in place first, so
    what is stored is what was checked."""
    errors: Errors = {}
    data.title, data.text, data.location = clean_text(data.title), clean_text(data.text), clean_text(data.location)
    data.forwarded_by, data.forwarded_ref = clean_text(data.forwarded_by), clean_text(data.forwarded_ref)
    if data.channel not in Channel.values:
        _add(errors, "channel", _("请选择受理渠道。"))
    if data.nature not in Nature.values:
        _add(errors, "nature", _("请选择诉求性质。"))
    if data.urgency not in Urgency.values:
        _add(errors, "urgency", _("紧急程度无效。"))
    text_errors(errors, "title", _("标题"), data.title, required=True, limit=TITLE_MAX)
    text_errors(errors, "text", _("诉求内容"), data.text, required=True, limit=settings.HUIYIN_TEXT_MAX_CHARS)
    text_errors(errors, "location", _("事发地点"), data.location, required=False, limit=200)
    if (
        data.category_id is not None
        and not Category.objects.filter(pk=data.category_id, organization_id=organization_id).exists()
    ):
        _add(errors, "category", _("所选分类不存在。"))
    party_errors(errors, data.party)
    if not data.party.anonymous and not (data.party.name.strip() or data.party.phone or data.party.email):
        _add(errors, "party_name", _("请填写反映人姓名或联系电话；不愿留名请勾选“匿名”。"))
    if data.received_at is not None:
        message = moment_error(data.received_at, When.PAST, _("收到时间"))
        if message:
            _add(errors, "received_at", message)
    if data.group_size < 1 or data.group_size > 10000:
        _add(errors, "group_size", _("来访人数应在 1 到 10000 之间。"))
    if len(data.representatives) > REPRESENTATIVES_MAX:
        _add(
            errors,
            "representatives",
            _("其他代表最多 %(max)d 人（每行一人），当前 %(n)d 行。")
            % {"max": REPRESENTATIVES_MAX, "n": len(data.representatives)},
        )
    else:
        for i, rep in enumerate(data.representatives):
            party_errors(errors, rep, prefix=f"rep{i}_")
    if data.channel == Channel.FORWARDED and not data.forwarded_by.strip():
        _add(errors, "forwarded_by", _("上级转办件请填写转办单位。"))
    text_errors(errors, "forwarded_by", _("转办单位"), data.forwarded_by, required=False, limit=120)
    text_errors(errors, "forwarded_ref", _("转办文号"), data.forwarded_ref, required=False, limit=60)
    token_error = intake_token_error(data.intake_token)
    if token_error:
        _add(errors, "intake_token", token_error)
    if errors:
        raise ValidationFailed(errors)


def intake_token_error(token: str | None) -> str | None:
    """A form's one-time token (hidden): made by the form itself, so anything else is a
    garbled or forged page."""
    if token and not _TOKEN.fullmatch(token):
        return _("表单标识无效（页面可能已损坏）：请刷新页面后重新填写提交。")
    return None


def contact_errors(*, channel: str, text: str, party: PartyInput | None, intake_token: str | None = None) -> Errors:
    errors: Errors = {}
    if channel not in Channel.values:
        _add(errors, "channel", _("请选择受理渠道。"))
    token_error = intake_token_error(intake_token)
    if token_error:
        _add(errors, "intake_token", token_error)
    text_errors(errors, "text", _("来电/来访内容"), text, required=True, limit=settings.HUIYIN_TEXT_MAX_CHARS)
    if party:
        party_errors(errors, party)
    return errors


def edit_errors(changes: dict[str, Any], *, organization_id: int) -> Errors:
    errors: Errors = {}
    if "title" in changes:
        text_errors(errors, "title", _("标题"), changes["title"], required=True, limit=TITLE_MAX)
    if "text" in changes:
        text_errors(errors, "text", _("诉求内容"), changes["text"], required=True, limit=settings.HUIYIN_TEXT_MAX_CHARS)
    if "location" in changes:
        text_errors(errors, "location", _("事发地点"), changes["location"], required=False, limit=200)
    if "urgency" in changes and changes["urgency"] not in Urgency.values:
        _add(errors, "urgency", _("紧急程度无效。"))
    if "nature" in changes and changes["nature"] not in Nature.values:
        _add(errors, "nature", _("请选择诉求性质。"))
    if (
        changes.get("category_id") is not None
        and not Category.objects.filter(pk=changes["category_id"], organization_id=organization_id).exists()
    ):
        _add(errors, "category", _("所选分类不存在。"))
    return errors


def attachment_errors(upload: UploadedFile) -> Errors:
    errors: Errors = {}
    extension = Path(upload.name or "").suffix.lower().lstrip(".")
    allowed = [t.lower() for t in settings.HUIYIN_ATTACHMENT_TYPES]
    if extension not in allowed:
        _add(
            errors,
            "attachment",
            _("附件“%(name)s”的类型不允许：仅支持 %(types)s。") % {"name": upload.name, "types": "、".join(allowed)},
        )
        return errors
    limit = settings.HUIYIN_ATTACHMENT_MAX_BYTES
    if upload.size is not None and upload.size > limit:  # an upload always knows its size
        _add(
            errors,
            "attachment",
            _("附件“%(name)s”过大：%(size).1f MB，上限 %(max).0f MB。")
            % {"name": upload.name, "size": upload.size / 1048576, "max": limit / 1048576},
        )
        return errors
    if upload.size == 0:
        _add(errors, "attachment", _("附件“%(name)s”是空文件。") % {"name": upload.name})
        return errors
    magic = _MAGIC.get(extension)
    if magic:
        head = upload.read(8)
        upload.seek(0)
        if not head.startswith(magic):
            _add(errors, "attachment", _("附件“%(name)s”的内容与扩展名不符。") % {"name": upload.name})
    return errors
