"""Domain validation shared by every entry point (workbench forms, commands, API).

Each function returns ``{field: [message, ...]}`` in Chinese naming the field,
or raises ValidationFailed; nothing is saved until all of it passes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, UnidentifiedImageError

from huiyin.core.errors import ValidationFailed
from huiyin.core.validators import When, clean_text, id_number_error, moment_error, normalize_phone, phone_error
from huiyin.policy.labels import preset_label

from .categories import ANCESTORS_JOINED
from .inputs import IntakeInput, PartyInput
from .models import Case, Category, Channel, Gender, Nature, Party, Urgency
from .workflow import OPEN_STATES

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

    from huiyin.policy.presets import IntakeRules

TITLE_MAX = 120
AGE_MAX = 150
IMAGE_PIXELS_MAX = 40_000_000  # a 40-megapixel photo; beyond it a decompression bomb is likely
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
    if party.gender not in ("", *Gender.values):
        _add(errors, f"{prefix}gender", _("性别无效：请选择男或女。"))
    if party.age is not None and not 0 <= party.age <= AGE_MAX:
        _add(errors, f"{prefix}age", _("年龄应在 0 到 %(max)d 岁之间。") % {"max": AGE_MAX})


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


def validate_intake(data: IntakeInput, *, organization_id: int, rules: IntakeRules | None = None) -> Category | None:
    """Checks a registration; its text is cleaned of control characters in place first, so
    what is stored is what was checked. ``rules``: what the organisation's preset requires
    of a registration (``intake``), if it runs one. Returns the chosen category (read once
    here; the registration's rules and clocks read it from the case)."""
    errors: Errors = {}
    data.title, data.text, data.location = clean_text(data.title), clean_text(data.text), clean_text(data.location)
    data.forwarded_by, data.forwarded_ref = clean_text(data.forwarded_by), clean_text(data.forwarded_ref)
    data.complainant_kind = (data.complainant_kind or "").strip()
    if data.channel not in Channel.values:
        _add(errors, "channel", _("请选择受理渠道。"))
    if data.nature not in Nature.values:
        _add(errors, "nature", _("请选择诉求性质。"))
    if data.urgency not in Urgency.values:
        _add(errors, "urgency", _("紧急程度无效。"))
    # A blank title is taken from the text (services.derive_title): with no text either, the
    # text's own "不能为空" says what is missing, not a second message under a field marked optional.
    has_text = bool(clean_text(data.text).strip())
    text_errors(errors, "title", _("标题"), data.title, required=has_text, limit=TITLE_MAX)
    text_errors(errors, "text", _("诉求内容"), data.text, required=True, limit=settings.HUIYIN_TEXT_MAX_CHARS)
    text_errors(errors, "location", _("事发地点"), data.location, required=False, limit=200)
    category = None
    if data.category_id is not None:
        # With its ancestors, joined: the rules' terms read them (``categories.category_terms``).
        category = (
            Category.objects.filter(pk=data.category_id, organization_id=organization_id)
            .select_related(ANCESTORS_JOINED)
            .first()
        )
        if category is None:
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
    kinds = {k.code: preset_label(k.label) for k in rules.complainant_kinds} if rules is not None else {}
    kind_error = complainant_kind_error(data.complainant_kind, kinds)
    if kind_error:
        _add(errors, "complainant_kind", kind_error)
    if rules is not None:
        preset_intake_errors(errors, data, rules)
    if errors:
        raise ValidationFailed(errors)
    return category


def complainant_kind_error(code: str, kinds: Mapping[str, str]) -> str:
    """A kind of complainant the policy does not have (``kinds``: code -> label, from
    ``presets.ComplainantKind`` or its copy in a case's switches); "" when ``code`` is blank
    or one of them."""
    if not code or code in kinds:
        return ""
    if not kinds:
        return _("反映人类别：本单位政策不区分反映人类别，请不要填写。")
    listed = "、".join(f"{c}（{label}）" for c, label in kinds.items())
    return _("反映人类别“%(code)s”无效（可选：%(codes)s）。") % {"code": code, "codes": listed}


# What each of the preset's visit fields (``intake.visit_fields``) asks of a visit's
# registration: (form field, is it missing, the message naming it).
_VISIT_FIELD_ERRORS: dict[str, tuple[str, Callable[[PartyInput, IntakeInput], bool], StrPromise]] = {
    "name": (
        "party_name",
        lambda p, d: p.anonymous or not p.name.strip(),
        gettext_lazy("来访登记须填写来访人姓名（不能匿名）。"),
    ),
    "gender": ("party_gender", lambda p, d: not p.gender, gettext_lazy("来访登记须填写性别。")),
    "age": ("party_age", lambda p, d: p.age is None, gettext_lazy("来访登记须填写年龄。")),
    "affiliation": (
        "party_affiliation",
        lambda p, d: not p.affiliation.strip(),
        gettext_lazy("来访登记须填写单位（工作单位）。"),
    ),
    "purpose": ("text", lambda p, d: not d.text.strip(), gettext_lazy("来访登记须填写来访事由（诉求内容）。")),
    "contact": (
        "party_phone",
        lambda p, d: not (p.phone or p.address.strip()),
        gettext_lazy("来访登记须填写联系方式（电话或地址）。"),
    ),
    "id_number": ("party_id_number", lambda p, d: not p.id_number.strip(), gettext_lazy("来访登记须填写身份证号码。")),
}


def preset_intake_errors(errors: Errors, data: IntakeInput, rules: IntakeRules) -> None:
    """The preset's registration rules (``presets.IntakeRules``), each named on its field."""
    party = data.party
    if rules.contact_required and not party.anonymous and not (party.phone or party.address.strip()):
        _add(
            errors,
            "party_phone",
            _("请问询并填写联系电话或地址，便于反馈和回访；反映人不愿提供的，请勾选“匿名”。"),
        )
    if data.channel != Channel.VISIT:
        return
    for name in rules.visit_fields:
        field, missing, message = _VISIT_FIELD_ERRORS[name]
        if missing(party, data) and not errors.get(field):  # one message a field
            _add(errors, field, str(message))
    named = 1 if party.name.strip() and not party.anonymous else 0
    group_errors(errors, representatives=named + len(data.representatives), group_size=data.group_size, rules=rules)


def group_errors(
    errors: Errors,
    *,
    representatives: int,
    group_size: int,
    rules: IntakeRules,
    field: str = "representatives",
    size_field: str = "group_size",
) -> None:
    """A group visit (多人走访) elects at most the preset's ``representatives_max`` representatives
    (the complainant and the others together), and the visitors are at least as many as the
    representatives: the visit's registration and its booking (``huiyin.reception``) alike."""
    limit = rules.representatives_max
    if limit is None:
        return
    if representatives > limit:
        _add(
            errors,
            field,
            _(
                "多人走访应当推选代表，代表不超过 %(max)d 人：当前反映人与其他代表共 %(n)d 人，"
                "请只登记推选的代表，来访人数填在“来访人数”。"
            )
            % {"max": limit, "n": representatives},
        )
    if group_size < representatives:
        _add(
            errors,
            size_field,
            _("来访人数（%(size)d）少于登记的代表人数（%(n)d）。") % {"size": group_size, "n": representatives},
        )


def repeat_errors(
    data: IntakeInput, *, organization_id: int, same_day: bool = True, now: datetime | None = None
) -> Errors:
    """A new registration from someone whose earlier case is still open — registered today
    under the same phone number (``same_day``, the preset's ``intake.repeat_same_day``), or on
    any day under the same phone or ID number (``repeat_while_open``): refused unless the
    clerk confirmed a new matter; the message names the open case to add the contact to."""
    party = data.party
    if data.new_matter or not (party.phone or party.id_number.strip()):
        return {}
    parties = Party.objects.filter(organization_id=organization_id)
    by_phone = list(parties.with_phone(party.phone).values_list("pk", flat=True)) if party.phone else []
    by_id: list[int] = []
    if not same_day and party.id_number.strip():
        by_id = list(parties.with_id_number(party.id_number).values_list("pk", flat=True))
    if not by_phone and not by_id:
        return {}
    cases = Case.objects.filter(organization_id=organization_id, party_id__in=by_phone + by_id, state__in=OPEN_STATES)
    if same_day:
        today = timezone.localdate(now or timezone.now())
        cases = cases.filter(received_at__gte=timezone.make_aware(datetime.combine(today, time.min)))
    found = cases.order_by("-received_at").values_list("number", "party_id").first()
    if found is None:
        return {}
    number, party_id = found
    field = "party_phone" if party_id in by_phone else "party_id_number"
    if same_day:
        message = _(
            "该号码今天已登记在办案件 %(number)s：同一事项的重复来电原则上只录入一次，"
            "请在该案件上“新增来电/来访记录”（承办人会收到通知）；"
            "确属新的事项，请勾选“确认为新的事项”后再登记。"
        )
    else:
        message = _(
            "该反映人有已受理或正在办理的事项 %(number)s：同一事项不另立新件，"
            "请在该件上“新增来电/来访记录”（承办人会收到通知）；"
            "确属新的事项，请勾选“确认为新的事项”后再登记。"
        )
    return {field: [message % {"number": number}]}


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
        elif extension in ("png", "jpg", "jpeg"):
            pixels = _pixels_error(upload)
            if pixels:
                _add(errors, "attachment", pixels)
    return errors


def _pixels_error(upload: UploadedFile) -> str | None:
    """A picture of a few kilobytes that decodes to hundreds of megapixels (a decompression
    bomb) is refused as the portal refuses it (``portal.files``). Only the header is read; a
    header Pillow cannot read is left as it was (the file is stored as sent, never decoded here)."""
    too_many = _("附件“%(name)s”的像素过多（%(size)s），请缩小后再上传。")
    try:
        with Image.open(upload) as image:
            width, height = image.size
    except Image.DecompressionBombError:  # Pillow's own limit, far above ours: no size to name
        return too_many % {"name": upload.name, "size": _("超过 %(n)d 百万像素") % {"n": IMAGE_PIXELS_MAX // 1_000_000}}
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    finally:
        upload.seek(0)
    if width * height > IMAGE_PIXELS_MAX:
        return too_many % {"name": upload.name, "size": f"{width}×{height}"}
    return None
