"""What the public does on the portal, each through the service staff use for the same thing.

* ``submit``: the challenge (the proof of work, or without JavaScript the question and its
  lower limits) and the limits first, then the files (type by content, images shrunk and
  stripped), then ``cases.services.case_register`` with the public actor — the case, its
  number and its files in one transaction (nothing half-saved).
* ``lookup``: number + query code, rate limited; a wrong code says nothing about whether the
  number exists, and the number (existing or not) locks after a few wrong codes.
* ``category_suggestions``: ``triage.suggest`` for the text being typed, public names only.
* ``rate``: ``followup.services.portal_rating_submit`` (lands on the case like a callback).
* ``request_review``: ``handling.actions.case_request_review`` / ``_rereview``, the service
  staff use to register a review request, with the public holding the case as the actor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from huiyin.cases import validation
from huiyin.cases.inputs import IntakeInput, PartyInput
from huiyin.cases.models import Case, Channel
from huiyin.cases.services import case_register, derive_title, query_code_hash, query_code_matches
from huiyin.core import limits
from huiyin.core.errors import ApplicationError, DuplicateSubmission, NotFound, ValidationFailed
from huiyin.core.validators import NOTE_MAX, checked_text, clean_text, normalize_phone
from huiyin.followup.models import Callback
from huiyin.followup.services import portal_rating_submit
from huiyin.handling import documents
from huiyin.handling.actions import case_request_rereview, case_request_review
from huiyin.orgs.actors import public_actor
from huiyin.orgs.models import Organization
from huiyin.triage.suggest import suggest

from . import challenge, files, selectors
from .errors import PortalError, TooManyRequests


@dataclass
class Submission:
    nature: str
    text: str
    title: str = ""
    category_id: int | None = None
    location: str = ""
    latitude: str = ""
    longitude: str = ""
    name: str = ""
    phone: str = ""
    anonymous: bool = False
    keep_location: bool = False
    consent: bool = False
    complainant_kind: str = ""  # one of the preset's kinds of complainant, where it has any
    challenge: str = ""
    solution: str = ""
    question: str = ""  # without JavaScript: the question's token and the person's answer
    answer: str = ""


def _too_many(bucket: str, field: str | None, message: str) -> TooManyRequests:
    wait = limits.retry_after(bucket)
    return TooManyRequests(message % {"m": limits.minutes(wait)}, field=field, retry_after=wait)


def _coordinates(data: Submission) -> str:
    """A map pin as text after the address ("（地图位置 30.27412, 120.15507）"), if both are numbers in range."""
    try:
        lat, lng = float(data.latitude), float(data.longitude)
    except ValueError:
        return ""
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return ""
    return _("（地图位置 %(lat).5f, %(lng).5f）") % {"lat": lat, "lng": lng}


def _intake(org: Organization, data: Submission, token: str) -> IntakeInput:
    errors: dict[str, list[str]] = {}
    anonymous_ok = selectors.anonymous_allowed(org)
    if not data.consent:
        errors["consent"] = [_("请阅读个人信息处理说明，勾选同意后再提交。")]
    if data.anonymous and not anonymous_ok:
        errors["anonymous"] = [_("本单位网上反映须留姓名和联系电话，不能匿名。")]
    name = "" if data.anonymous else clean_text(data.name).strip()
    phone = normalize_phone(clean_text(data.phone).strip())
    if not anonymous_ok and not data.anonymous:
        if not name:
            errors["name"] = [_("请填写姓名。")]
        if not phone:
            errors["phone"] = [_("请填写手机号码，以便告知办理结果。")]
    elif not data.anonymous and not (name or phone):
        errors["name"] = [_("请填写姓名或手机号码；不愿留名请勾选“匿名反映”。")]
    validation.text_errors(errors, "text", _("具体内容"), data.text, required=True, limit=text_limit())
    if data.category_id is not None and data.category_id not in selectors.category_ids(org):
        errors["category"] = [_("所选分类不存在，请重新选择。")]
    kind = _kind_error(org, data)
    if kind:
        errors["complainant_kind"] = [kind]
    location = clean_text(data.location).strip()
    pin = _coordinates(data)
    if len(location) + len(pin) > 200:
        errors["location"] = [
            _("事发地点过长：最多 %(max)d 字，当前 %(n)d 字。") % {"max": 200 - len(pin), "n": len(location)}
        ]
    if errors:
        raise ValidationFailed(errors)
    intake = IntakeInput(
        channel=Channel.ONLINE,
        nature=data.nature,
        title=data.title.strip() or derive_title(clean_text(data.text)),
        text=data.text,
        location=location + pin,
        category_id=data.category_id,
        party=PartyInput(name=name, phone=phone, anonymous=data.anonymous),
        complainant_kind=data.complainant_kind.strip(),
        # Each submission is its own matter: the same-day repeat rule asks a clerk to confirm
        # a new matter, which the public cannot; staff merge repeats as contacts.
        new_matter=True,
        intake_token=token,
    )
    # Checked now, before the challenge is used up and the limits counted: a typo costs nothing.
    # By the preset's intake rules too, as the registration will (kinds of complainant).
    preset = selectors.preset_for(org)
    validation.validate_intake(intake, organization_id=org.pk, rules=preset.intake if preset is not None else None)
    return intake


def _kind_error(org: Organization, data: Submission) -> str:
    """Where the preset has kinds of complainant (the hospital: 门诊 / 住院, seeds/000 line
    283), the person says which: the kind names the office that receives the complaint, and a
    case is dispatched only once its kind is known — an anonymous submission without it could
    never be. Required here as on the staff intake (a kind the preset lacks is refused by
    ``validation.validate_intake``, which names the ones it has)."""
    kinds = selectors.complainant_kinds(org)
    if not kinds or data.complainant_kind.strip():
        return ""
    return _("请选择反映人类别（%(kinds)s）：决定由哪个部门接待您的投诉。") % {
        "kinds": "、".join(k.label for k in kinds)
    }


def text_limit() -> int:
    """The longest text the portal takes (never more than the workbench's)."""
    return min(settings.HUIYIN_PORTAL_TEXT_MAX_CHARS, settings.HUIYIN_TEXT_MAX_CHARS)


def _checked(data: Submission, client: str) -> tuple[challenge.Checked, bool]:
    """The solved proof of work, or — from a browser without JavaScript, which posts the
    question the page keeps in ``<noscript>`` — the answered question: (checked, without_js).
    A wrong answer counts against the address, so the answer cannot be guessed by trying."""
    if not data.question:
        return challenge.verify(data.challenge, data.solution), False
    if limits.spent("nojs_wrong_ip", client):
        raise _too_many("nojs_wrong_ip", challenge.QUESTION_FIELD, _("验证问题答错次数过多，请 %(m)d 分钟后再试。"))
    try:
        return challenge.verify_answer(data.question, data.answer), True
    except ApplicationError as error:
        if error.code == PortalError.ANSWER_WRONG:
            limits.hit("nojs_wrong_ip", client)
        raise


def _slower_path(client: str) -> None:
    """Submissions without JavaScript have their own, lower limits: per address, and for the
    whole site (a program that answers the question cannot flood the ledger this way; when the
    site's allowance is spent, people without JavaScript are asked to wait or call)."""
    if not limits.hit("submit_nojs_ip", client):
        raise _too_many(
            "submit_nojs_ip",
            challenge.QUESTION_FIELD,
            _("未启用 JavaScript 的提交次数已达上限，请 %(m)d 分钟后再试，或启用 JavaScript 后提交。"),
        )
    if not limits.hit("submit_nojs_all", "site"):
        raise _too_many(
            "submit_nojs_all",
            challenge.QUESTION_FIELD,
            _("目前未启用 JavaScript 的提交较多，请 %(m)d 分钟后再试，或启用 JavaScript 后提交，或拨打热线反映。"),
        )


def submit(
    *, organization: Organization, data: Submission, uploads: list[UploadedFile], client: str
) -> tuple[Case, str]:
    """Register a matter from the portal; returns the case and its query code (shown once)."""
    checked, without_js = _checked(data, client)
    intake = _intake(organization, data, challenge.intake_token(checked))
    prepared = files.prepare(uploads, keep_location=data.keep_location)
    if not limits.hit("submit_ip", client):
        raise _too_many("submit_ip", challenge.FIELD, _("提交过于频繁，请 %(m)d 分钟后再试。"))
    if without_js:
        _slower_path(client)
    if intake.party.phone and not limits.hit("submit_phone", intake.party.phone):
        raise _too_many(
            "submit_phone", "phone", _("该手机号码今天提交的诉求已达上限，请 %(m)d 分钟后再试，或拨打热线。")
        )
    challenge.consume(checked)
    try:
        return case_register(actor=public_actor(organization), data=intake, uploads=prepared)
    except DuplicateSubmission as exc:
        raise challenge.replayed() from exc


SUGGEST_TEXT = 2000  # what a suggestion reads of the typed text
SUGGESTED = 3


def category_suggestions(*, organization: Organization, title: str, text: str, client: str) -> list[dict[str, Any]]:
    """The categories triage suggests for what the person is typing: each category's id and
    public name only (no department, no confidence words, no staff data); nothing when the
    organisation has no model in service. Rate-limited per address like the other pages."""
    if not limits.hit("suggest_ip", client):
        raise _too_many("suggest_ip", "text", _("操作过于频繁，请 %(m)d 分钟后再试。"))
    result = suggest(
        clean_text(title)[:200], clean_text(text)[:SUGGEST_TEXT], channel=Channel.ONLINE, organization=organization
    )
    if result.status != "ok":
        return []
    return [{"id": c.id, "name": c.full_name} for c in result.categories[:SUGGESTED]]


def lookup(*, organization: Organization, number: str, code: str, client: str) -> Case:
    """The case for a number and its query code, or one refusal whatever was wrong."""
    number = clean_text(number).strip().upper()[:40]
    code = "".join(clean_text(code).split()).upper()[:40]
    subject = f"{organization.pk}:{number}"
    if not limits.hit("lookup_ip", client):
        raise _too_many("lookup_ip", "number", _("查询过于频繁，请 %(m)d 分钟后再试。"))
    tries = [("code_number", subject), ("code_ip", client)]
    tried = limits.attempt(tries)  # counted before the code is compared: see limits.attempt
    if tried.over is not None:
        wait = limits.retry_after(tried.over)
        raise TooManyRequests(
            _("查询码错误次数过多，暂停查询，请 %(m)d 分钟后再试。") % {"m": limits.minutes(wait)},
            field="code",
            retry_after=wait,
        )
    case = Case.objects.select_related("organization").filter(organization=organization, number=number).first()
    if case is not None and query_code_matches(case, code):
        limits.refund(tried)
        return case
    if case is None:
        query_code_hash(number, code)  # the same work as for a number that exists
    raise ApplicationError(_("编号或查询码不正确，请核对受理凭证。"), field="code", code=PortalError.LOOKUP_FAILED)


def _acting(client: str) -> None:
    if not limits.hit("act_ip", client):
        raise _too_many("act_ip", None, _("操作过于频繁，请 %(m)d 分钟后再试。"))


def rate(*, case: Case, satisfaction: str, comment: str, client: str) -> Callback:
    _acting(client)
    actor = public_actor(case.organization, case_id=case.pk)
    return portal_rating_submit(actor=actor, case_id=case.pk, satisfaction=satisfaction, comment=comment)


def request_review(*, case: Case, reason: str, client: str) -> Case:
    """复查 after the answer, 复核 after the review opinion; refused after the preset's limit
    (the message names the date), as for staff."""
    _acting(client)
    reason = checked_text(
        reason, "reason", missing=_("请写明请求复查（复核）的事项和理由。"), limit=NOTE_MAX, label=_("理由")
    )
    window = selectors.review_window(case)
    service = case_request_rereview if window.level == 2 else case_request_review
    actor = public_actor(case.organization, case_id=case.pk)
    return service(actor=actor, case_id=case.pk, reason=reason, on_behalf=False)


def letter_pdf(*, cases: list[Case], document_id: int, client: str) -> tuple[str, bytes]:
    """A letter issued to the complainant of one of ``cases`` (those the browser holds) as a
    PDF: (file name, bytes). Anything else the id names is ``NotFound``. The addressee's name
    is masked, as on any copy printed without the personal-data right (the person holds the
    case by its number and code or a link, which may have been passed on)."""
    if not limits.hit("download_ip", client):
        raise _too_many("download_ip", None, _("下载过于频繁，请 %(m)d 分钟后再试。"))
    for case in cases:
        document = selectors.letter(case, document_id)
        if document is not None:
            return f"{document.number}.pdf", documents.render_pdf(document, full=False)
    raise NotFound(_("找不到该文书。"))
