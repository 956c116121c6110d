"""Survey campaigns and engagement activities (调查与走访): the service centre's pages,
the owners' questionnaire page (no login, the link is the key) and the report."""

from __future__ import annotations

import uuid
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huiyin.cases.models import Case
from huiyin.core.errors import (
    ApplicationError,
    DuplicateSubmission,
    PermissionDeniedError,
    ValidationFailed,
    http_status,
)
from huiyin.core.http import AuthedHttpRequest
from huiyin.core.validators import INT_MAX, form_fingerprint, form_version, parse_day, whole_number
from huiyin.orgs.models import Department, Staff
from huiyin.policy.services import current_policy

from . import permissions, report, selectors, services
from .models import Activity, Answer, Campaign

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _may_view(request: AuthedHttpRequest) -> None:
    if not permissions.may_view_surveys(request.user):
        raise PermissionDenied


def _date(value: str | None, field: str, label: str) -> date | None:
    return parse_day(value, field, label)


def _int(value: str | None, field: str, label: str, maximum: int = INT_MAX) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    number = whole_number(value, maximum=maximum)
    if number is None:
        raise ValidationFailed(
            {
                field: [
                    _("“%(label)s”应为不超过 %(max)d 的整数：%(v)s") % {"label": label, "max": maximum, "v": value[:20]}
                ]
            }
        )
    return number


def _engagement_kinds(organization_id: int):
    policy = current_policy(organization_id)
    return policy.preset().engagement if policy is not None else ()


@login_required
def index(request: AuthedHttpRequest) -> HttpResponse:
    _may_view(request)
    return _index_page(request)


def _index_page(request: AuthedHttpRequest, status: int = 200) -> HttpResponse:
    user = request.user
    kinds = _engagement_kinds(user.org_id)
    areas, report_to = services.preset_areas(user.org_id)
    return render(
        request,
        "surveys/index.html",
        {
            "campaigns": list(selectors.campaigns_for(user)[:50]),
            "areas": areas,
            "report_to": report_to,
            "may_run": permissions.may_run_surveys(user),
            "kinds": kinds,
            "progress": selectors.activity_plan_progress(user.org_id, kinds),
            "activities": list(selectors.activities_for(user)[:50]),
            "staff": Staff.objects.filter(organization_id=user.org_id, is_active=True).order_by("username"),
            "natures": (
                ("suggestion", _("建议")),
                ("complaint", _("投诉")),
                ("help", _("求助")),
                ("consultation", _("咨询")),
            ),
            "form": request.session.pop("survey_form", {}),
            "errors": request.session.pop("survey_errors", {}),
            "opinion_token": uuid.uuid4().hex,
        },
        status=status,
    )


def _failed(request: HttpRequest, exc: ApplicationError, form: dict | None = None) -> None:
    """Keep what was typed and the per-field messages for the page shown with the refusal."""
    messages.error(request, exc.message)
    if form is not None:
        request.session["survey_form"] = form
        request.session["survey_errors"] = exc.field_errors(unnamed="form")


def _refused_on_index(request: AuthedHttpRequest, exc: ApplicationError, form: dict | None = None) -> HttpResponse:
    """The surveys page again with the reason and what was typed (4xx), nothing stored."""
    _failed(request, exc, form)
    if not permissions.may_view_surveys(request.user):
        raise PermissionDenied
    return _index_page(request, status=http_status(exc))


def _refused_on_campaign(
    request: AuthedHttpRequest, campaign: Campaign, exc: ApplicationError, form: dict | None = None
) -> HttpResponse:
    _failed(request, exc, form)
    return _campaign_page(request, campaign, status=http_status(exc))


@login_required
@require_POST
def campaign_create(request: AuthedHttpRequest) -> HttpResponse:
    p = request.POST
    try:
        campaign = services.campaign_create(
            actor=request.user,
            title=p.get("title", ""),
            starts_on=_date(p.get("starts_on"), "starts_on", _("开始日期")),
            ends_on=_date(p.get("ends_on"), "ends_on", _("截止日期")),
            audience=p.get("audience", ""),
            audience_size=_int(p.get("audience_size"), "audience_size", _("发放份数"), services.AUDIENCE_MAX),
            extra_areas=p.get("extra_areas", ""),
        )
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        return _refused_on_index(
            request,
            exc,
            {k: p.get(k, "") for k in ("title", "starts_on", "ends_on", "audience", "audience_size", "extra_areas")},
        )
    messages.success(request, _("已创建调查：%(t)s") % {"t": campaign.title})
    return redirect("surveys:campaign", campaign.pk)


def _campaign_for(request: AuthedHttpRequest, campaign_id: int) -> Campaign:
    _may_view(request)
    campaign = selectors.campaigns_for(request.user).filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404
    return campaign


@login_required
def campaign(request: AuthedHttpRequest, campaign_id: int) -> HttpResponse:
    return _campaign_page(request, _campaign_for(request, campaign_id))


def _campaign_page(
    request: AuthedHttpRequest, campaign: Campaign, links: list[str] | None = None, status: int = 200
) -> HttpResponse:
    items = list(selectors.items_for(campaign))
    today = timezone.localdate()
    return render(
        request,
        "surveys/campaign.html",
        {
            "campaign": campaign,
            "stats": selectors.campaign_stats(campaign),
            "items": items,
            "overdue": {i.pk for i in items if selectors.overdue(i, today)},
            "answers": Answer.choices,
            "may_run": permissions.may_run_surveys(request.user),
            "may_assign": permissions.may_add_rectification_item(request.user),
            "departments": Department.objects.filter(organization_id=request.user.org_id).order_by("name"),
            "links": links or [],
            "handed_out": services.handed_out(campaign),
            "audience_version": services.audience_version(campaign),
            "form": request.session.pop("survey_form", {}),
            "errors": request.session.pop("survey_errors", {}),
        },
        status=status,
    )


def _answers(post) -> dict[str, str]:
    return {key[len("area_") :]: value for key, value in post.items() if key.startswith("area_")}


@login_required
@require_POST
def response_enter(request: AuthedHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_for(request, campaign_id)
    p = request.POST
    try:
        services.response_enter(
            actor=request.user,
            campaign_id=campaign.pk,
            paper_number=p.get("paper_number", ""),
            answers=_answers(p),
            opinion=p.get("opinion", ""),
        )
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        return _refused_on_campaign(request, campaign, exc, dict(p.items()))
    messages.success(request, _("已录入问卷 %(n)s。") % {"n": p.get("paper_number", "").strip()[:30]})
    return redirect("surveys:campaign", campaign.pk)


@login_required
@require_POST
def invitations(request: AuthedHttpRequest, campaign_id: int) -> HttpResponse:
    """The new links are shown in this response only (never stored: the database keeps
    their hashes, the session nothing)."""
    campaign = _campaign_for(request, campaign_id)
    try:
        count = _int(request.POST.get("count"), "count", _("链接数量"), services.LINKS_AT_ONCE)
        links = services.invitations_issue(actor=request.user, campaign_id=campaign.pk, count=count)
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        return _refused_on_campaign(request, campaign, exc, {"count": request.POST.get("count", "")})
    messages.success(request, _("已生成 %(n)d 个问卷链接（每个只能填写一次，仅显示这一次）。") % {"n": len(links)})
    return _campaign_page(request, campaign, links)


@login_required
@require_POST
def audience_size(request: AuthedHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_for(request, campaign_id)
    p = request.POST
    try:
        services.campaign_set_audience_size(
            actor=request.user,
            campaign_id=campaign.pk,
            audience_size=_int(p.get("audience_size"), "audience_size", _("发放份数"), services.AUDIENCE_MAX),
            audience=p.get("audience") if "audience" in p else None,
            expected_version=form_fingerprint(p.get("version")),
        )
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        kept = {k: p.get(k, "") for k in ("audience_size", "audience", "version")}
        return _refused_on_campaign(request, campaign, exc, kept)
    messages.success(request, _("已修改发放份数。"))
    return redirect("surveys:campaign", campaign.pk)


@login_required
@require_POST
def close(request: AuthedHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_for(request, campaign_id)
    try:
        services.campaign_close(actor=request.user, campaign_id=campaign.pk)
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        return _refused_on_campaign(request, campaign, exc)
    return redirect("surveys:campaign", campaign.pk)


@login_required
@require_POST
def item_add(request: AuthedHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_for(request, campaign_id)
    p = request.POST
    try:
        services.item_add(
            actor=request.user,
            campaign_id=campaign.pk,
            problem=p.get("problem", ""),
            measure=p.get("measure", ""),
            area=p.get("area", ""),
            department_id=_int(p.get("department"), "department", _("责任部门")),
            due_on=_date(p.get("due_on"), "due_on", _("整改期限")),
        )
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        return _refused_on_campaign(request, campaign, exc, dict(p.items()))
    messages.success(request, _("已下达整改事项。"))
    return redirect("surveys:campaign", campaign.pk)


@login_required
@require_POST
def item_done(request: AuthedHttpRequest, campaign_id: int, item_id: int) -> HttpResponse:
    # The responsible department records it too, without the survey pages: no _campaign_for.
    campaign = Campaign.objects.filter(pk=campaign_id, organization_id=request.user.org_id).first()
    if campaign is None or not campaign.items.filter(pk=item_id).exists():
        raise Http404
    try:
        services.item_done(actor=request.user, item_id=item_id, note=request.POST.get("note", ""))
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        if not permissions.may_view_surveys(request.user):
            return HttpResponse(exc.message, status=http_status(exc), content_type="text/plain; charset=utf-8")
        return _refused_on_campaign(request, campaign, exc)
    messages.success(request, _("已登记整改情况。"))
    return redirect("surveys:campaign", campaign.pk)


@login_required
def report_pdf(request: AuthedHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_for(request, campaign_id)
    body = report.render_pdf(campaign, selectors.campaign_stats(campaign), campaign.organization.name)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="survey-{campaign.pk}.pdf"'
    return response


@login_required
def report_xlsx(request: AuthedHttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_for(request, campaign_id)
    response = HttpResponse(report.render_xlsx(campaign, selectors.campaign_stats(campaign)), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="survey-{campaign.pk}.xlsx"'
    return response


def answer(request: HttpRequest, token: str) -> HttpResponse:
    """The owner's questionnaire: no login, the one-use link is the key."""
    error = invitation = None
    done = False
    try:
        invitation = services.invitation_find(token)
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        error = exc.message
    chosen: dict[str, str] = {}
    if invitation is not None and request.method == "POST":
        chosen = _answers(request.POST)
        try:
            services.response_submit(token=token, answers=chosen, opinion=request.POST.get("opinion", ""))
        except PermissionDeniedError:
            raise
        except ApplicationError as exc:
            error = exc.message
        else:
            done = True
    return render(
        request,
        "surveys/answer.html",
        {
            "invitation": invitation,
            "campaign": invitation.campaign if invitation else None,
            "error": error,
            "done": done,
            "answers": Answer.choices,
            "chosen": chosen,
            "opinion": request.POST.get("opinion", ""),
        },
        status=400 if error and not done else 200,
    )


# --- activities ----------------------------------------------------------------------------------


@login_required
@require_POST
def activity_plan(request: AuthedHttpRequest) -> HttpResponse:
    p = request.POST
    try:
        services.activity_plan(
            actor=request.user,
            kind=p.get("kind", ""),
            planned_on=_date(p.get("planned_on"), "planned_on", _("计划日期")),
            place=p.get("place", ""),
            led_by_id=_int(p.get("led_by"), "led_by", _("负责人")),
        )
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        return _refused_on_index(request, exc, dict(p.items()))
    messages.success(request, _("已列入活动计划。"))
    return redirect("surveys:index")


@login_required
@require_POST
def activity_record(request: AuthedHttpRequest, activity_id: int) -> HttpResponse:
    _activity_for(request, activity_id)
    p = request.POST
    try:
        services.activity_record(
            actor=request.user,
            activity_id=activity_id,
            held_on=_date(p.get("held_on"), "held_on", _("举行日期")),
            attendance=_int(p.get("attendance"), "attendance", _("参加人数"), services.AUDIENCE_MAX),
            attendees=p.get("attendees", ""),
            minutes=p.get("minutes", ""),
            expected_version=form_version(p.get("version")),
        )
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        return _refused_on_index(request, exc, {**dict(p.items()), "activity": str(activity_id)})
    messages.success(request, _("已登记活动记录。"))
    return redirect("surveys:index")


def _activity_for(request: AuthedHttpRequest, activity_id: int) -> None:
    """404 for an activity that is not there or not the user's organisation's."""
    _may_view(request)
    if not Activity.objects.filter(pk=activity_id, organization_id=request.user.org_id).exists():
        raise Http404


@login_required
@require_POST
def activity_opinion(request: AuthedHttpRequest, activity_id: int) -> HttpResponse:
    _activity_for(request, activity_id)
    p = request.POST
    try:
        case = services.activity_opinion_to_case(
            actor=request.user,
            activity_id=activity_id,
            text=p.get("text", ""),
            nature=p.get("nature", "suggestion"),
            name=p.get("name", ""),
            phone=p.get("phone", ""),
            location=p.get("location", ""),
            intake_token=p.get("intake_token", "")[:64] or None,
        )
    except DuplicateSubmission as exc:  # the same form sent twice: one case, shown again
        messages.info(request, exc.message)
        case = Case.objects.filter(organization_id=request.user.org_id, number=exc.case_number).first()
        return redirect("cases:detail", case.pk) if case else redirect("surveys:index")
    except PermissionDeniedError:
        raise
    except ApplicationError as exc:
        form = {**{k: v for k, v in p.items() if k != "phone"}, "opinion_for": str(activity_id)}
        return _refused_on_index(request, exc, form)
    messages.success(request, _("意见已登记为案件 %(n)s。") % {"n": case.number})
    return redirect("cases:detail", case.pk)
