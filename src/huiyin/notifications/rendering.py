"""Message texts: the organisation's template (or the default) with its ``{{ variable }}``
placeholders filled. Only named placeholders are replaced — no tags, filters or
attribute look-ups — so an administrator's template can reach nothing but the values
given to it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _

from huiyin.core.errors import ApplicationError
from huiyin.core.versions import fingerprint

from .errors import NotificationsError
from .models import ChannelSwitch, MessageTemplate
from .purposes import SPECS, Medium

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
SMS_MAX = 500  # characters of one SMS template (the gateway splits long texts)
SUBJECT_MAX = 200
BODY_MAX = 5000
DEFAULT_LANGUAGE = "zh-hans"


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def one_line(text: str) -> str:
    """A subject on one line: every line break (CR too, which a mail header refuses as
    BadHeaderError, and the Unicode separators) becomes a space."""
    return _LINE_BREAKS.sub(" ", text).strip()


def fill(template: str, values: Mapping[str, object]) -> str:
    return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), template)


def unknown_variables(purpose: str, *texts: str) -> list[str]:
    allowed = set(SPECS[purpose].variables)
    return sorted({m.group(1) for text in texts for m in PLACEHOLDER.finditer(text)} - allowed)


def check_template(purpose: str, medium: str, subject: str, body: str) -> None:
    """A field error naming the field and the unknown variable, or nothing."""
    for field, text in (("subject", subject), ("body", body)):
        unknown = unknown_variables(purpose, text)
        if not unknown:
            continue
        raise ApplicationError(
            _("模板中有未知变量：%(names)s。可用变量见下方列表。") % {"names": "、".join(unknown)},
            field=field,
            code=NotificationsError.UNKNOWN_VARIABLE,
        )
    if not body.strip():
        raise ApplicationError(_("正文不能为空。"), field="body")
    limit = SMS_MAX if medium == Medium.SMS else BODY_MAX
    if len(body) > limit:
        raise ApplicationError(
            _("正文过长：最多 %(max)d 字，当前 %(n)d 字。") % {"max": limit, "n": len(body)}, field="body"
        )
    if medium == Medium.EMAIL and not subject.strip():
        raise ApplicationError(_("邮件主题不能为空。"), field="subject")
    if len(subject) > SUBJECT_MAX:
        raise ApplicationError(
            _("邮件主题过长：最多 %(max)d 字，当前 %(n)d 字。") % {"max": SUBJECT_MAX, "n": len(subject)},
            field="subject",
        )


def default_text(purpose: str, medium: str, language: str) -> Text:
    spec = SPECS[purpose]
    with translation.override(language):
        if medium == Medium.SMS:
            return Text("", str(spec.sms or ""))
        return Text(str(spec.subject), str(spec.body))


def template_for(organization_id: int, purpose: str, medium: str, language: str) -> tuple[Text, bool]:
    """(the text, whether it is the organisation's own) for a purpose, medium and language."""
    row = MessageTemplate.objects.filter(
        organization_id=organization_id, purpose=purpose, medium=medium, language=language
    ).first()
    if row is not None:
        return Text(row.subject, row.body), True
    return default_text(purpose, medium, language), False


def template_fingerprint(organization_id: int, purpose: str, medium: str, language: str) -> str:
    """The version of a template as its edit page shows it (``core.versions``): the text in
    use and whether it is the organisation's own (a default has no row to carry a version)."""
    return text_fingerprint(*template_for(organization_id, purpose, medium, language))


def text_fingerprint(text: Text, own: bool) -> str:
    return fingerprint(own, text.subject, text.body)


def enabled(organization_id: int, purpose: str, medium: str) -> bool:
    row = ChannelSwitch.objects.filter(organization_id=organization_id, purpose=purpose, medium=medium).first()
    return row.enabled if row is not None else SPECS[purpose].on_by_default


def render(organization_id: int, purpose: str, medium: str, language: str, values: Mapping[str, object]) -> Text:
    text, _own = template_for(organization_id, purpose, medium, language)
    return Text(one_line(fill(text.subject, values))[:SUBJECT_MAX], fill(text.body, values))
