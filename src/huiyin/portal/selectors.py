"""What the portal reads: the organisation and its rules, the category tree, and a case as
its complainant may see it.

``case_status`` is a public filter, as the status page's panels are (``PUBLIC_PANELS`` in
``huiyin/subscribers.py``): stages in plain words, dates, the answer, the documents issued
to the complainant, the review opinions and the rating — never staff notes, the names of
staff (only the department), or anyone else's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huiyin.cases import bus, panels
from huiyin.cases.events import EventKind
from huiyin.cases.models import Case, CaseRound, Category
from huiyin.cases.workflow import CaseState
from huiyin.core.errors import NotFound
from huiyin.followup import services as followup_services
from huiyin.followup.models import Callback, CallbackMethod, CallbackStatus
from huiyin.handling import panels as handling_panels
from huiyin.handling import selectors as handling_selectors
from huiyin.handling.models import Document, Review
from huiyin.orgs.models import Organization
from huiyin.policy.presets import Preset
from huiyin.policy.services.versions import running_policy

S = CaseState

# --- the organisation -----------------------------------------------------------------------


def default_organization() -> Organization | None:
    """The organisation /portal/ opens: ``HUIYIN_PORTAL_ORGANIZATION``, or the only one."""
    if settings.HUIYIN_PORTAL_ORGANIZATION:
        return Organization.objects.filter(code=settings.HUIYIN_PORTAL_ORGANIZATION).first()
    found = list(Organization.objects.order_by("pk")[:2])
    return found[0] if len(found) == 1 else None


def organizations() -> list[Organization]:
    return list(Organization.objects.order_by("name")[:200])


def organization(code: str) -> Organization:
    org = Organization.objects.filter(code=code[:40]).first()
    if org is None:
        raise NotFound(_("找不到该单位的网上平台。"))
    return org


_PRESET = "_portal_running_preset"


def preset_for(org: Organization) -> Preset | None:
    """The organisation's running preset. A portal request asks several times (the form's
    kinds of complainant, anonymity, the consent text, the checks before registering) and
    never changes it, so the answer is kept on the organisation it read, which lives as long
    as the request; held with the calendar's stamp, so that the registration does not read
    either again (``versions.running_policy``)."""
    if _PRESET not in org.__dict__:
        version, _stamp = running_policy(org, hold=True)
        org.__dict__[_PRESET] = version.preset() if version is not None else None
    preset: Preset | None = org.__dict__[_PRESET]
    return preset


@dataclass(frozen=True)
class Kind:
    """A kind of complainant the preset has the intake record (``intake.complainant_kinds``:
    the hospital's outpatients and inpatients) and the office that receives it."""

    code: str
    label: str
    office: str


def complainant_kinds(org: Organization) -> list[Kind]:
    """The running preset's kinds of complainant, in its order; empty where it has none."""
    preset = preset_for(org)
    if preset is None:
        return []
    return [Kind(k.code, k.label, k.department_label or "") for k in preset.intake.complainant_kinds]


def anonymous_allowed(org: Organization) -> bool:
    """The preset lets the public submit without a name or phone number (``portal.anonymous``)."""
    preset = preset_for(org)
    return bool(preset and preset.portal and preset.portal.anonymous)


RETENTION_UNITS = {"days": gettext_lazy("日"), "months": gettext_lazy("个月"), "years": gettext_lazy("年")}


@dataclass(frozen=True)
class Consent:
    """The facts of the consent text (个人信息保护法 第十七条: who, why, how, how long, rights)."""

    org_name: str
    hotline: str
    retention: str  # "办结后保存 3 年"
    anonymous: bool


def consent(org: Organization) -> Consent:
    preset = preset_for(org)
    rule = preset.retention if preset else None
    if rule is not None:
        retention = _("办结（或不予受理、退回、转送）之日起保存 %(n)d %(unit)s，期满删除姓名、电话、地址和附件") % {
            "n": rule.keep_for,
            "unit": RETENTION_UNITS.get(rule.unit, rule.unit),
        }
    else:
        retention = _("按本单位档案管理规定的期限保存，期满删除")
    return Consent(
        org_name=org.name,
        hotline=org.hotline or settings.HUIYIN_HOTLINE,
        retention=retention,
        anonymous=anonymous_allowed(org),
    )


def map_settings() -> dict[str, Any] | None:
    """The map to place a pin on, where a tile server is configured (never required)."""
    if not settings.HUIYIN_PORTAL_TILE_URL:
        return None
    lat, _sep, lng = settings.HUIYIN_PORTAL_MAP_CENTER.partition(",")
    return {
        "tiles": settings.HUIYIN_PORTAL_TILE_URL,
        "lat": lat.strip(),
        "lng": lng.strip(),
        "zoom": settings.HUIYIN_PORTAL_MAP_ZOOM,
    }


# --- categories --------------------------------------------------------------------------------


def category_groups(org: Organization) -> list[tuple[str, list[tuple[int, str]]]]:
    """The tree as a grouped list: each top-level category a group, its own entry first
    ("其他"), then everything under it by path. A select with optgroups without JS; the
    page's filter box searches the same options."""
    rows = list(Category.objects.filter(organization=org).order_by("full_name").values("pk", "name", "path", "parent"))
    roots = [r for r in rows if r["parent"] is None]
    groups = []
    for root in roots:
        below = sorted(
            (r for r in rows if r["pk"] != root["pk"] and r["path"].startswith(root["path"] or "\0")),
            key=lambda r: r["path"],
        )
        options = [(root["pk"], _("%(name)s（其他）") % {"name": root["name"]})]
        names = {r["pk"]: r["name"] for r in rows}
        for r in below:
            trail = [names.get(int(p)) for p in r["path"].strip("/").split("/")[1:] if p.isdigit()]
            options.append((r["pk"], " / ".join(n for n in trail if n)))
        groups.append((root["name"], options))
    return groups


def category_ids(org: Organization) -> set[int]:
    return set(Category.objects.filter(organization=org).values_list("pk", flat=True))


# --- a case, as its complainant sees it ---------------------------------------------------------

STEPS = (
    gettext_lazy("提交"),
    gettext_lazy("受理"),
    gettext_lazy("办理"),
    gettext_lazy("答复"),
    gettext_lazy("办结"),
)
# Each state: the step it is at, and what it means in plain words.
PLAIN: dict[str, tuple[int, Any]] = {
    S.REGISTERED: (0, gettext_lazy("您的诉求已登记，工作人员正在审核是否受理。")),
    S.ACCEPTED: (1, gettext_lazy("已受理，正在交给承办部门办理。")),
    S.DISPATCHED: (2, gettext_lazy("已交承办部门，等待签收办理。")),
    S.IN_PROGRESS: (2, gettext_lazy("承办部门正在调查处理。")),
    S.PENDING_APPROVAL: (2, gettext_lazy("处理意见已拟出，正在审核。")),
    S.APPROVED: (2, gettext_lazy("处理意见已审定，即将答复您。")),
    S.REPLIED: (3, gettext_lazy("已经答复您，请阅读下面的答复。")),
    S.UNDER_REVIEW: (3, gettext_lazy("您请求的复查正在进行，复查意见出具后会告知您。")),
    S.UNDER_REREVIEW: (3, gettext_lazy("您请求的复核正在进行，复核意见出具后会告知您。")),
    S.CLOSED: (4, gettext_lazy("已办结。感谢您的反映。")),
    S.ARCHIVED: (4, gettext_lazy("已办结。感谢您的反映。")),
    S.NOT_ACCEPTED: (1, gettext_lazy("经审核，不予受理。")),
    S.NOT_REACCEPTED: (1, gettext_lazy("经审核，不再受理。")),
    S.RETURNED: (1, gettext_lazy("已退回。")),
    S.TRANSFERRED: (1, gettext_lazy("已转送有权处理的机关、单位办理。")),
    S.MERGED: (1, gettext_lazy("您反映的事项已有诉求件正在办理，已合并办理，您的反映一并处理。")),
}
ENDED_EARLY = frozenset({S.NOT_ACCEPTED, S.NOT_REACCEPTED, S.RETURNED, S.TRANSFERRED, S.MERGED})


@dataclass(frozen=True)
class Step:
    label: str
    done: bool
    current: bool


@dataclass(frozen=True)
class Window:
    """A step the complainant may take (rate, request review) and until when."""

    open: bool
    due: datetime | None
    level: int = 1


def _steps(case: Case) -> list[Step]:
    at, _text = PLAIN.get(case.state, (0, ""))
    if case.state in ENDED_EARLY:
        return [Step(str(STEPS[0]), True, False), Step(str(CaseState(case.state).label), True, True)]
    return [Step(str(label), i < at or (i == at and i == 4), i == at) for i, label in enumerate(STEPS)]


def _decision_text(case: Case) -> dict[str, str]:
    """Why a case ended early, as the complainant is told in writing: the ground and the body
    to turn to, or the body it was transferred to (never the internal note)."""
    if case.state not in ENDED_EARLY:
        return {}
    event = case.events.filter(kind=EventKind.STATE_CHANGED, data__to=case.state).order_by("-id").only("data").first()
    data = event.data if event else {}
    return {k: str(data[k]) for k in ("ground", "refer_to", "to_body") if data.get(k)}


def _answers(case: Case) -> list[dict[str, Any]]:
    rounds = CaseRound.objects.filter(case=case).exclude(reply_text="").order_by("-number")
    return [{"text": r.reply_text, "at": r.replied_at, "round": r.number} for r in rounds[:5]]


def _rating(case: Case) -> dict[str, Any] | None:
    row = (
        Callback.objects.filter(case=case, round=case.round, status=CallbackStatus.DONE)
        .exclude(satisfaction="")
        .first()
    )
    if row is None:
        return None
    return {"satisfaction": row.get_satisfaction_display(), "online": row.method == CallbackMethod.ONLINE}


def rating_window(case: Case) -> Window:
    return Window(open=followup_services.portal_rating_open(case), due=followup_services.portal_rating_due(case))


def review_window(case: Case) -> Window:
    """Review (复查) after the answer, re-review (复核) after the review opinion: while the case
    waits in 已答复, the preset has them, and this level was not requested yet. ``open`` is
    False after the limit (the form says until when it could be asked)."""
    window = handling_selectors.review_request_window(case)
    if window is None:
        return Window(open=False, due=None)
    level, due = window
    return Window(open=due is None or timezone.now() <= due, due=due, level=level)


def _reviews(case: Case) -> list[dict[str, Any]]:
    return [
        {
            "level": r.get_level_display(),
            "body": r.body,
            "requested_at": r.requested_at,
            "decision": r.get_decision_display() if r.decided_at else "",
            "opinion": r.opinion if r.decided_at else "",
            "decided_at": r.decided_at,
        }
        for r in Review.objects.filter(case=case).order_by("level")
    ]


# The public panel (``PUBLIC_PANELS`` in huiyin/subscribers.py) that lists the complainant's
# letters: on the portal each one links to its PDF.
LETTERS_PANEL = "handling"


def letters(case: Case) -> list[dict[str, Any]]:
    """The documents issued to the complainant (``handling.selectors.complainant_letters``),
    each with the portal's download address (by the document's id; the download is
    authorised by the browser holding the case, never by the id)."""
    org = case.organization.code
    return [
        {**handling_panels.public_letter(d), "url": reverse("portal:letter", kwargs={"org": org, "document_id": d.pk})}
        for d in handling_selectors.complainant_letters(case)
    ]


def letter(case: Case, document_id: int) -> Document | None:
    """A letter issued to the complainant of ``case``, or None for anything else the id names: a
    document to a department or another body, a draft, another case's, an id that does not exist."""
    return handling_selectors.complainant_letter(case, document_id)


def case_status(request: HttpRequest, case: Case) -> dict[str, Any]:
    """Everything the status page shows about the case, already filtered for the public."""
    _at, text = PLAIN.get(case.state, (0, ""))
    shown = letters(case)
    return {
        "case": case,
        "state_text": text,
        "state_label": CaseState(case.state).label if case.state in CaseState.values else case.state,
        "steps": _steps(case),
        "decision": _decision_text(case),
        "department": case.lead_department.name if case.lead_department_id and case.lead_department else "",
        "answers": _answers(case),
        "reviews": _reviews(case),
        "rating": _rating(case),
        "rating_window": rating_window(case),
        "review_window": review_window(case),
        "panels": panels.render_case_panels(
            request, case, bus.table().public_panels, overrides={LETTERS_PANEL: {"letters": shown}} if shown else None
        ),
    }
