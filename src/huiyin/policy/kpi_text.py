"""A KPI in words (the presets' ``kpis``): its formula, numerator and denominator, the
on-time rule and the period rule, as every page that shows a KPI says them — the
statistics (``huiyin.reports``) and the evaluation table alike."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from .labels import STAGE_LABELS, preset_label
from .presets import MEASURES, Kpi

# The period rules (huiyin.policy.presets.KPI_BASES) as the pages say them.
PERIOD_RULES = {
    "received": gettext_lazy("按受理日期计：期间内收到的件，其后的受理、办结、重复来电按现状计入收到所在的期间"),
    "event": gettext_lazy("按发生日期计：计入该环节（决定、派遣、答复、办结、回访、登记）发生的期间"),
    "concluded": gettext_lazy("按时限了结日期计：时限在期间内完成的，或到期仍未完成、到期日在期间内的"),
}


# What the satisfaction measures count besides the callbacks (``reports.kpis.FEEDBACK_MEASURES``,
# the evaluation table alike): the front office's feedback forms.
FEEDBACK_MEASURES = ("callbacks_rated", "callbacks_satisfied")
FEEDBACK_NOTE = gettext_lazy(
    "满意度另计前台的访客反馈表（按录入日期，计入被访人及其部门）和公司接待的来宾反馈（按接待总结日期，"
    "计入申请人及接待部门）；按渠道、类别、属地统计时只计回访"
)


def definition(kpi: Kpi) -> str:
    """The KPI in words: formula, numerator and denominator, on-time rule, period rule."""
    label = preset_label(kpi.label)
    num = preset_label(kpi.numerator.label) or MEASURES[kpi.numerator.measure].label
    parts: list[str] = []
    if kpi.formula == "ratio" and kpi.denominator is not None:
        den = preset_label(kpi.denominator.label) or (
            MEASURES[kpi.denominator.measure].label if kpi.denominator.measure else str(kpi.denominator.constant)
        )
        if kpi.denominator.constant:
            den = _("%(den)s（%(n)d）") % {"den": den, "n": kpi.denominator.constant}
        parts.append(_("%(label)s = %(num)s ÷ %(den)s") % {"label": label, "num": num, "den": den})
    elif kpi.formula == "count":
        parts.append(_("%(label)s = %(num)s") % {"label": label, "num": num})
    elif kpi.formula == "mean":
        parts.append(_("%(label)s = %(num)s ÷ 办结件数") % {"label": label, "num": num})
    else:
        parts.append(
            _("%(label)s = %(num)s的 %(q)d%% 分位数（最近秩）") % {"label": label, "num": num, "q": round(kpi.q * 100)}
        )
    if kpi.on_time is not None:
        stage = str(STAGE_LABELS.get(kpi.on_time.stage, kpi.on_time.stage))
        rule = _("按时：“%(stage)s”时限在到期时间前完成（到期时间含批准的延期，扣除挂起时间）") % {"stage": stage}
        if kpi.on_time.open_overdue == "late":
            rule += _("；到期仍未完成的计为超时")
        parts.append(rule)
    measures = {kpi.numerator.measure, kpi.denominator.measure if kpi.denominator is not None else ""}
    if measures & set(FEEDBACK_MEASURES):
        parts.append(str(FEEDBACK_NOTE))
    parts.append(_("期间：%(rule)s") % {"rule": PERIOD_RULES[kpi.period]})
    if kpi.note:
        parts.append(preset_label(kpi.note))
    end = pgettext("sentence end", "。")
    return (end.join(parts) + end).strip()


TARGET_SIGNS = {"at_least": "≥", "at_most": "≤", "above": ">", "below": "<"}


def target_text(kpi: Kpi) -> str:
    """The KPI's target as the pages print it: "≥ 100%", "< 1%", "" without one."""
    if kpi.target is None:
        return ""
    value = kpi.target.value
    shown = f"{value * 100:g}%" if kpi.unit == "percent" else f"{value:g}"
    return f"{TARGET_SIGNS[kpi.target.op]} {shown}"


def target_met(kpi: Kpi, value: float | None) -> bool | None:
    """A figure against the KPI's target (None: no figure or no target)."""
    if kpi.target is None or value is None:
        return None
    goal = kpi.target.value
    return {
        "at_least": value >= goal,
        "at_most": value <= goal,
        "above": value > goal,
        "below": value < goal,
    }[kpi.target.op]
