"""Policy administration (capability ``administer``): the running policy and its rules,
loading a shipped preset, editing the policy as YAML (validated as a whole; an invalid
text is shown with file, line and key and never replaces the running policy), rolling
back to an earlier version, and the calendar's holidays / working days / closures.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from huiyin.core.errors import ApplicationError, PermissionDeniedError
from huiyin.core.forms import put_errors
from huiyin.core.http import AuthedHttpRequest
from huiyin.core.validators import whole_number
from huiyin.orgs.roles import Cap

from ..calendar import BusinessCalendar, statutory_year_known, statutory_years_range
from ..forms import (
    UNIT_LABELS,
    CalendarDayForm,
    CalendarRemoveForm,
    PolicyEditForm,
    PresetLoadForm,
)
from ..labels import CHANNEL_LABELS, CLOCK_FROM_LABELS, NATURE_LABELS, STAGE_LABELS, URGENCY_LABELS, preset_label
from ..models import (
    CalendarDayKind,
    PolicyVersion,
)
from ..preset_messages import message as preset_message
from ..preset_messages import problem as preset_problem
from ..presets import Preset, PresetError, list_presets, load_preset, load_preset_text
from ..services import (
    calendar_day_add,
    calendar_day_remove,
    calendar_days,
    current_policy,
    missing_departments,
    policy_activate,
    policy_deactivate,
    presets_dir,
    running_fingerprint,
)
from .common import role_label

if TYPE_CHECKING:
    from huiyin.orgs.models import Organization

# --- policy administration --------------------------------------------------------------


def _require_admin(request: AuthedHttpRequest) -> None:
    if not request.user.can(Cap.ADMINISTER):
        raise PermissionDenied(_("只有系统管理员可以管理时限政策。"))


def _organization(request: AuthedHttpRequest) -> Organization:
    """The signed-in user's organisation; like Staff.org_id, a user without one has no desk (403)."""
    org = request.user.organization
    if org is None:
        raise PermissionDenied(_("您的账号不属于任何单位，没有政策可管理。"))
    return org


def _preset_choices() -> list[tuple[str, str]]:
    choices = []
    for name in list_presets(presets_dir()):
        try:
            label = preset_label(load_preset(presets_dir() / f"{name}.yaml").label)
        except (PresetError, OSError) as exc:
            label = _("无效：%(error)s") % {"error": preset_message(exc) if isinstance(exc, PresetError) else exc}
        choices.append((name, f"{label}（{name}）"))
    return choices


def snapshot_yaml(snapshot: dict[str, Any], *, header: str = "") -> str:
    """A policy snapshot as YAML an administrator can read and edit: the shipped presets'
    key order, short records (``when``, ``after``, ``max``) on one line."""
    inline = {"when", "after", "max", "target", "rectification_notice_within"}

    def build(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            node = CommentedMap()
            for k, v in value.items():
                if k == "when" and not v:
                    continue  # an empty `when` is the default: matches everything
                node[k] = build(v, k)
            if key in inline:
                node.fa.set_flow_style()
            return node
        if isinstance(value, list):
            seq = CommentedSeq(build(v) for v in value)
            if value and all(not isinstance(v, dict | list) for v in value):
                seq.fa.set_flow_style()
            return seq
        return value

    data = build(snapshot)
    if header:
        data.yaml_set_start_comment(header)
    yaml = YAML()
    yaml.allow_unicode = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


LABELS = {
    "channel": CHANNEL_LABELS,
    "nature": NATURE_LABELS,
    "urgency": URGENCY_LABELS,
}
STAGE_SWITCHES = {
    "acceptance_decision": gettext_lazy("受理决定"),
    "sign_for": gettext_lazy("签收"),
    "approval": gettext_lazy("审批"),
    "rectification_plan": gettext_lazy("整改方案"),
    "callback": gettext_lazy("回访"),
    "confirmation_to_close": gettext_lazy("反映人确认后办结"),
    "review": gettext_lazy("复查复核"),
}
# What each required step means, as the policy page lists them (presets.RequiredSteps).
REQUIRED_STEPS = {
    "handler_named_at_dispatch": gettext_lazy("派遣时须指定承办人"),
    "signed_investigation": gettext_lazy("调查笔录经被调查人签字确认后才能提交审批"),
    "proposal_names_unit": gettext_lazy("拟办意见须写明责任单位"),
    "proposal_by_handler": gettext_lazy("拟办意见（调查报告）由承办人提交"),
    "notice_after_approval": gettext_lazy("处理原则经审批签发后才能通知责任单位"),
    "plan_told_before_reply": gettext_lazy("整改方案告知反映人后才能答复"),
    "remedy_in_reply": gettext_lazy("答复须写明补救措施"),
    "investigation_before_reply": gettext_lazy("有调查记录后才能答复"),
    "respondent_statement_before_reply": gettext_lazy("被投诉人书面情况备案后才能答复"),
}
CALLBACK_ITEMS = {
    "signature": gettext_lazy("被回访人签名"),
    "charges_checked": gettext_lazy("核对收费情况"),
    "attitude": gettext_lazy("维修人员服务情况"),
}


def required_step_rows(preset: Preset) -> list[str]:
    """The preset's required steps in words (the policy page)."""
    steps = preset.required_steps
    rows = [str(label) for key, label in REQUIRED_STEPS.items() if getattr(steps, key)]
    if steps.helpers_named_by:
        rows.append(_("增派协办人须经%(role)s同意") % {"role": role_label(steps.helpers_named_by)})
    if steps.on_site_callback:
        rows.append(
            _("上门回访须记录：%(items)s")
            % {"items": "、".join(str(CALLBACK_ITEMS[i]) for i in steps.on_site_callback)}
        )
    return rows


def _rule_rows(preset: Preset) -> list[dict[str, Any]]:
    rows = []
    for rule in preset.deadlines:
        when = []
        for key in ("channel", "nature", "urgency", "category"):
            values = getattr(rule.when, key)
            if values:
                names = LABELS.get(key, {})
                when.append("、".join(str(names.get(v, v)) for v in values))
        rows.append(
            {
                "stage": STAGE_LABELS.get(rule.stage, rule.stage),
                "label": preset_label(rule.label),
                "when": " · ".join(when) or _("所有案件"),
                "limit": f"{rule.amount} {UNIT_LABELS.get(rule.unit, rule.unit)}",
                "from": _("自%(event)s起") % {"event": CLOCK_FROM_LABELS.get(rule.clock_from, rule.clock_from)}
                + ("，" + _("次日起算") if rule.start == "next_day" else ""),
                "holiday": _("遇节假日顺延") if rule.on_holiday == "roll_forward" else "",
                "warn": f"{rule.warn_at:.0%}",
                "source": rule.source,
            }
        )
    return rows


def _policy_context(org, **extra: Any) -> dict[str, Any]:
    running = current_policy(org)
    preset = running.preset() if running is not None else None
    versions = list(PolicyVersion.objects.filter(organization=org).select_related("created_by").order_by("-version"))
    active_count = sum(1 for v in versions if v.active)
    return {
        "running": running,
        "preset": preset,
        "stage_switches": [(STAGE_SWITCHES[name], getattr(preset.stages, name)) for name in STAGE_SWITCHES]
        if preset
        else [],
        "rules": _rule_rows(preset) if preset else [],
        "escalation": [
            {
                "role": role_label(step.role),
                "label": preset_label(step.label),
                "after": f"{step.after.amount} {UNIT_LABELS.get(step.after.unit, step.after.unit)}",
            }
            for step in preset.escalation
        ]
        if preset
        else [],
        "extension": preset.extension if preset else None,
        "extension_stages": "、".join(str(STAGE_LABELS.get(x, x)) for x in preset.extension.stages)
        if preset and preset.extension
        else "",
        "extension_latest": STAGE_LABELS.get(preset.extension.latest, preset.extension.latest)
        if preset and preset.extension and preset.extension.latest
        else "",
        "required_steps": required_step_rows(preset) if preset else [],
        "required_steps_source": preset.required_steps.source if preset else "",
        "extension_approver": role_label(preset.extension.approver) if preset and preset.extension else "",
        "extension_unit": UNIT_LABELS.get(preset.extension.max.unit, "") if preset and preset.extension else "",
        "versions": versions,
        "can_withdraw": active_count > 1,
        "missing_departments": missing_departments(org.pk, preset) if preset else [],
        **extra,
    }


@login_required
def policy_index(request: AuthedHttpRequest) -> HttpResponse:
    _require_admin(request)
    return render(request, "policy/index.html", _policy_context(_organization(request), load_form=_load_form(request)))


def _load_form(request: AuthedHttpRequest) -> PresetLoadForm:
    running = current_policy(request.user.org_id)
    return PresetLoadForm(presets=_preset_choices(), initial={"preset": running.preset_name if running else None})


@login_required
@require_POST
def policy_load(request: AuthedHttpRequest) -> HttpResponse:
    """Activate a shipped preset file (validated first; a bad file changes nothing)."""
    _require_admin(request)
    org = _organization(request)
    form = PresetLoadForm(request.POST, presets=_preset_choices())
    if form.is_valid():
        name = form.cleaned_data["preset"]
        path = presets_dir() / f"{name}.yaml"
        try:
            preset = load_preset(path)
            version, created = policy_activate(
                organization=org,
                preset=preset,
                actor=request.user,
                source=path.name,
                note=form.cleaned_data["note"],
                text=path.read_text(encoding="utf-8"),
            )
        except PresetError as exc:
            form.add_error("preset", _("预设文件有误，未启用：%(error)s") % {"error": preset_message(exc)})
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        else:
            if created:
                messages.success(
                    request,
                    _("已启用预设“%(label)s”，政策版本 %(version)d。此后登记的案件按新版本计时。")
                    % {"label": version.label, "version": version.version},
                )
            else:
                messages.info(request, _("该预设与当前政策相同，未生成新版本。"))
            return redirect("policy:index")
    context = _policy_context(org, load_form=form)
    return render(request, "policy/index.html", context, status=400)


def _error_excerpt(text: str, line: int, around: int = 2) -> list[tuple[int, str, bool]]:
    lines = text.splitlines()
    first, last = max(1, line - around), min(len(lines), line + around)
    return [(n, lines[n - 1], n == line) for n in range(first, last + 1)]


@login_required
def policy_edit(request: AuthedHttpRequest) -> HttpResponse:
    """The running policy as YAML in a textarea; saving validates the whole text and
    activates it as a new version, or shows where it is wrong and changes nothing."""
    _require_admin(request)
    org = _organization(request)
    running = current_policy(org)
    source = running
    from_version = whole_number(request.GET.get("from")) if request.method == "GET" else None
    if from_version is not None:
        source = PolicyVersion.objects.filter(organization=org, version=from_version).first()
        if source is None:
            raise Http404
    shown = running or source
    filename = f"{shown.preset_name}.yaml" if shown else "policy.yaml"
    error = None
    if request.method == "POST":
        form = PolicyEditForm(request.POST)
        if form.is_valid():
            text = form.cleaned_data["text"]
            try:
                preset = load_preset_text(text, filename)
                version, created = policy_activate(
                    organization=org,
                    preset=preset,
                    actor=request.user,
                    source=_("界面编辑"),
                    note=form.cleaned_data["note"],
                    text=text,
                    expected=form.cleaned_data["version"],
                )
            except PresetError as exc:
                error = {
                    "filename": exc.filename,
                    "line": exc.line,
                    "path": exc.path or _("（顶层）"),
                    "problem": preset_problem(exc),
                    "excerpt": _error_excerpt(text, exc.line),
                }
                form.add_error("text", preset_message(exc))
            except PermissionDeniedError as exc:
                raise PermissionDenied(exc.message) from exc
            except ApplicationError as exc:  # another administrator's policy runs since the page was made
                put_errors(form, exc)
            else:
                if created:
                    messages.success(
                        request,
                        _("已保存为政策版本 %(version)d 并启用。此后登记的案件按新版本计时。")
                        % {"version": version.version},
                    )
                else:
                    messages.info(request, _("内容与当前政策相同，未生成新版本。"))
                return redirect("policy:index")
    else:
        header = ""
        if source is not None:
            header = _("政策版本 %(code)s（%(label)s）。保存后生成新版本并启用；已登记的案件仍按原版本计时。") % {
                "code": source.code,
                "label": source.label,
            }
        text = snapshot_yaml(source.snapshot, header=header) if source is not None else ""
        form = PolicyEditForm(initial={"text": text, "version": running_fingerprint(running)})
    return render(
        request,
        "policy/edit.html",
        {"form": form, "running": running, "source": source, "error": error, "filename": filename},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def policy_withdraw(request: AuthedHttpRequest, version: int) -> HttpResponse:
    """Roll back: withdraw a version; the newest remaining active one runs again."""
    _require_admin(request)
    org = _organization(request)
    row = PolicyVersion.objects.filter(organization=org, version=version, active=True).first()
    if row is None:
        raise Http404
    if PolicyVersion.objects.filter(organization=org, active=True).exclude(pk=row.pk).count() == 0:
        messages.error(request, _("这是唯一启用的政策版本，不能撤回；请载入预设或编辑政策。"))
        return redirect("policy:index")
    try:
        running = policy_deactivate(organization=org, version=version, actor=request.user)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    messages.success(
        request,
        _("已撤回政策版本 %(version)d，现行政策为版本 %(running)d。")
        % {"version": version, "running": running.version if running else 0},
    )
    return redirect("policy:index")


@login_required
@require_POST
def policy_reactivate(request: AuthedHttpRequest, version: int) -> HttpResponse:
    """Roll back to an older version: its snapshot becomes a new, running version."""
    _require_admin(request)
    org = _organization(request)
    row = PolicyVersion.objects.filter(organization=org, version=version).first()
    if row is None:
        raise Http404
    try:
        new, created = policy_activate(
            organization=org,
            preset=row.preset(),
            actor=request.user,
            source=f"version:{row.version}",
            note=_("恢复为版本 %(version)d") % {"version": row.version},
        )
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    except PresetError as exc:  # an old version whose values no longer pass (e.g. a limit beyond a year)
        messages.error(
            request,
            _("版本 %(version)d 的政策有误，未恢复：%(error)s")
            % {"version": row.version, "error": preset_message(exc)},
        )
        return render(request, "policy/index.html", _policy_context(org, load_form=_load_form(request)), status=400)
    if created:
        messages.success(
            request,
            _("已恢复版本 %(old)d 的政策，启用为版本 %(version)d。") % {"old": row.version, "version": new.version},
        )
    else:
        messages.info(request, _("该版本与当前政策相同，未生成新版本。"))
    return redirect("policy:index")


# --- calendar -------------------------------------------------------------------------------


@dataclass
class CalendarRow:
    day: Any  # CalendarDay
    scope: str  # org | global
    national: str
    removable: bool


@login_required
def calendar_view(request: AuthedHttpRequest) -> HttpResponse:
    """Holidays, working days and closures the administrators added to the national calendar."""
    _require_admin(request)
    org = _organization(request)
    allow_global = bool(request.user.is_superuser)
    form = CalendarDayForm(request.POST or None, allow_global=allow_global)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        scope_org = org if data["scope"] == "org" else None
        try:
            calendar_day_add(
                actor=request.user,
                organization=scope_org,
                day=data["date"],
                kind=data["kind"],
                name=data["name"],
            )
        except PermissionDeniedError as exc:
            form.add_error("scope", exc.message)
        except ApplicationError as exc:
            put_errors(form, exc, {"day": "date"})
        else:
            messages.success(
                request,
                _("已添加 %(day)s（%(name)s）。相关案件的到期时间将重新计算。")
                % {"day": data["date"].isoformat(), "name": data["name"]},
            )
            return redirect(f"{request.path}?year={data['date'].year}")
    year = _year(request.GET.get("year"))
    national = BusinessCalendar()
    rows = []
    for day in calendar_days(organization=org, year=year):
        scope = "global" if day.organization_id is None else "org"
        rows.append(
            CalendarRow(
                day=day,
                scope=scope,
                national=_national(national, day.date),
                removable=scope == "org" or allow_global,
            )
        )
    return render(
        request,
        "policy/calendar.html",
        {
            "form": form,
            "rows": rows,
            "year": year,
            "years": [(y, statutory_year_known(y)) for y in (year - 1, year, year + 1)],
            "known_range": statutory_years_range(),
            "kinds": dict(CalendarDayKind.choices),
        },
        status=400 if form.errors else 200,
    )


def _year(value: str | None) -> int:
    if value and value.isdigit() and 2000 <= int(value) <= 2100:
        return int(value)
    return timezone.localdate().year


def _national(calendar: BusinessCalendar, day: date) -> str:
    try:
        workday = calendar.is_workday(day)
        name = calendar.holiday_name(day)
    except (NotImplementedError, ValueError):
        return _("（国家日历未收录该年）")
    if workday:
        return _("工作日")
    return name or _("休息日")


@login_required
@require_POST
def calendar_remove(request: AuthedHttpRequest) -> HttpResponse:
    _require_admin(request)
    form = CalendarRemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("日期：请填写有效的日期。"))
        return redirect("policy:calendar")
    day = form.cleaned_data["date"]
    scope_org = request.user.organization if form.cleaned_data["scope"] == "org" else None
    try:
        removed = calendar_day_remove(actor=request.user, organization=scope_org, day=day)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    else:
        if removed:
            messages.success(request, _("已删除 %(day)s 的设置。") % {"day": day.isoformat()})
        else:
            messages.info(request, _("%(day)s 没有设置，无需删除。") % {"day": day.isoformat()})
    return redirect(f"{reverse('policy:calendar')}?year={day.year}")
