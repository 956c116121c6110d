"""What the deadline screens share: durations humanised in Chinese ("剩余 2小时15分"),
"who is waiting on whom", the colours of a clock's state, and putting a service's
field-named errors onto a form."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huiyin.cases.models import Case
from huiyin.core.durations import DURATION_FORMATS, LEFT, OVERDUE, humanize, time_left_text  # noqa: F401
from huiyin.deadlines.events import DeadlineEvent
from huiyin.orgs.roles import Role
from huiyin.policy.views.common import role_label  # noqa: F401  (the panel uses it too)


def countdown_formats() -> dict[str, str]:
    """The formats for the page's countdown script (json_script)."""
    return {
        **{key: str(text) for key, text in DURATION_FORMATS.items()},
        "left": str(LEFT),
        "overdue": str(OVERDUE),
    }


# --- who is waiting on whom ---------------------------------------------------------------

# What the person or body a stage waits on still has to do (deadlines.selectors.WAITING_ON).
STAGE_TASKS = {
    "dispatch": gettext_lazy("派遣"),
    "sign_for": gettext_lazy("签收"),
    "first_contact": gettext_lazy("首次联系反映人"),
    "acceptance": gettext_lazy("作出受理决定"),
    "handover": gettext_lazy("移交承办人"),
    "investigation": gettext_lazy("调查核实"),
    "rectification_plan": gettext_lazy("提交整改方案"),
    "reply": gettext_lazy("答复"),
    "callback": gettext_lazy("回访"),
    "overall": gettext_lazy("办结"),
    "review_request": gettext_lazy("申请复查复核"),
    "review_decision": gettext_lazy("出具复查复核意见"),
    "callback_answer": gettext_lazy("答复回访中的询问"),
}


def _responsible_unit(case: Case) -> str:
    unit = (
        case.events.filter(kind=DeadlineEvent.UNIT_NOTIFIED, round=case.round)
        .order_by("-id")
        .values_list("data__unit", flat=True)
        .first()
    )
    return str(unit or _("责任单位"))


def waiting_text(case: Case, stage: str, waiting_on: str) -> str:
    """ "等待 市容环境科 签收", "等待 反映人 补充材料"."""
    if waiting_on == "complainant":
        who = _("反映人")
        what = _("补充材料") if stage != "review_request" else STAGE_TASKS[stage]
    elif waiting_on == "intake":
        who, what = str(case.first_contact or _("受理人员")), STAGE_TASKS.get(stage, "")
    elif waiting_on == "department":
        who, what = str(case.lead_department or _("承办部门")), STAGE_TASKS.get(stage, "")
    elif waiting_on == "callback_officer":
        who, what = str(Role.CALLBACK_OFFICER.label), STAGE_TASKS.get(stage, "")
    elif waiting_on == "responsible_unit":
        who, what = _responsible_unit(case), STAGE_TASKS.get(stage, "")
    else:  # handler: the handler, else the lead department, else the first contact
        who = str(case.handler or case.lead_department or case.first_contact or _("受理人员"))
        what = STAGE_TASKS.get(stage, "")
    return _("等待 %(who)s %(what)s") % {"who": who, "what": what}


TONES = {  # panel tone → Bootstrap contextual colour
    "ok": "success",
    "warned": "warning",
    "overdue": "danger",
    "paused": "secondary",
    "stopped": "light",
}
