"""Default wording of the printable documents (文书).

Each body is a Django template rendered to plain text: paragraphs separated by blank
lines, a single newline kept as a line break. The address line, the signature and the
date are not part of the body; the letter renderer (``pdf.render_letter_pdf``) adds
them. An organisation may replace any of these texts with its own
(``DocumentTemplate``); the variables available are the ones listed in
``sample_context`` for the kind.

Common variables: org_name, case_number, case_title, received_date, channel_label,
today. All values are strings and may be empty, so optional parts sit in ``{% if %}``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    ACCEPTANCE_NOTICE = "acceptance_notice", _("受理告知书")
    NOT_ACCEPTED_NOTICE = "not_accepted_notice", _("不予受理告知书")
    NOT_REACCEPTED_NOTICE = "not_reaccepted_notice", _("不再受理告知书")
    RETURN_LETTER = "return_letter", _("退回函")
    TRANSFER_LETTER = "transfer_letter", _("转送函")
    HANDLING_NOTICE = "handling_notice", _("投诉处理通知单")
    RECTIFICATION_NOTICE = "rectification_notice", _("整改通知书")
    REPLY_LETTER = "reply_letter", _("答复意见书")
    RESULT_REPORT = "result_report", _("查处结果报告")
    REVIEW_DECISION = "review_decision", _("复查意见书")
    REREVIEW_DECISION = "rereview_decision", _("复核意见书")
    EXTENSION_NOTICE = "extension_notice", _("延期告知书")


# Fragments shared by several bodies (kept as template text, so each body below is a
# complete template an organisation can copy and edit).
_MATTER = "“{{ case_title }}”事项{% if case_number %}（编号：{{ case_number }}）{% endif %}"
_WHEN_HOW = (
    "{% if received_date %}于{{ received_date }}{% endif %}{% if channel_label %}通过{{ channel_label }}渠道{% endif %}"
)
_RECEIVED = "您" + _WHEN_HOW + "反映的" + _MATTER
_ARRIVED = "本单位" + _WHEN_HOW + "收到"


def _paragraphs(*parts: str) -> str:
    """Paragraphs separated by blank lines. An optional paragraph is written together
    with the next one as ``"{% if x %}...\\n\\n{% endif %}..."``, so leaving it out
    leaves no empty paragraph behind."""
    return "\n\n".join(parts)


def _review_body(*, act: str, previous: str, closing: str) -> str:
    """复查 and 复核 opinions differ only in the act, what it looks at and the last words."""
    return _paragraphs(
        "您不服" + _MATTER + "的" + previous + "，提出" + act + "请求。"
        "{{ review_body }}依法进行了" + act + "，现将" + act + "意见告知如下：",
        "{{ opinion }}",
        "综上，决定{{ decision_label }}原" + previous + "。",
        closing + "特此告知。",
    )


DEFAULT_TEMPLATES: dict[str, tuple[str, str]] = {
    DocumentKind.ACCEPTANCE_NOTICE: (
        "受理告知书",
        _paragraphs(
            _RECEIVED + "收悉。经审查，该事项属于本单位职责范围，符合受理条件，现决定予以受理。",
            "本单位将依照有关规定认真调查核实，并"
            "{% if overall_due_date %}于{{ overall_due_date }}前{% else %}在规定期限内{% endif %}"
            "将办理结果书面答复您。",
            "办理期间，您可凭编号和查询码查询办理进度；如有新的情况或者补充材料，请及时与我们联系。",
            "特此告知。",
        ),
    ),
    DocumentKind.NOT_ACCEPTED_NOTICE: (
        "不予受理告知书",
        _paragraphs(
            _RECEIVED + "收悉。",
            "经审查，该事项不符合受理条件，本单位决定不予受理。理由和依据：{{ ground }}",
            "{% if refer_to %}请您依照有关法律、行政法规规定的程序，向{{ refer_to }}提出。\n\n{% endif %}特此告知。",
        ),
    ),
    DocumentKind.NOT_REACCEPTED_NOTICE: (
        "不再受理告知书",
        _paragraphs(
            _RECEIVED + "收悉。",
            "经审查，本单位决定对该事项不再受理。理由和依据：{{ ground }}",
            "请您理解和支持。如今后出现新的事实和理由，可以依法另行提出。",
            "特此告知。",
        ),
    ),
    DocumentKind.RETURN_LETTER: (
        "退回函",
        _paragraphs(
            _ARRIVED + "{% if returned_to %}{{ returned_to }}{% endif %}提交的" + _MATTER + "有关材料。",
            "经审查，现将该材料予以退回。退回理由：{{ reason }}",
            "原材料随函退回，请查收。如补正有关内容或者明确办理单位后，可以依照规定重新提出。",
            "特此函告。",
        ),
    ),
    DocumentKind.TRANSFER_LETTER: (
        "转送函",
        _paragraphs(
            _ARRIVED + "的" + _MATTER + "，经审查，不属于本单位职责范围，属于{{ to_body }}职责范围。",
            "根据有关规定，现将该事项及有关材料转送{{ to_body }}，请依法处理，并将处理结果直接答复投诉人。",
            "特此函告。",
        ),
    ),
    DocumentKind.HANDLING_NOTICE: (
        "投诉处理通知单",
        _paragraphs(
            "现将" + _MATTER + "交由你部门"
            "{% if assisting %}主办，{{ assisting }}协办{% else %}办理{% endif %}。"
            + _ARRIVED
            + "该投诉，主要内容如下：",
            "{{ case_text }}{% if location %}\n事发地点：{{ location }}{% endif %}",
            "{% if instructions %}办理要求：{{ instructions }}\n\n{% endif %}"
            "请接此通知后认真调查核实，依法依规妥善处理，并"
            "{% if due_date %}于{{ due_date }}前{% else %}在规定期限内{% endif %}"
            "将处理结果书面报送本单位。不能按期办结的，应当及时说明理由。",
            "特此通知。",
        ),
    ),
    DocumentKind.RECTIFICATION_NOTICE: (
        "整改通知书",
        _paragraphs(
            "关于" + _MATTER + "，经调查核实并经研究，现提出如下处理意见：",
            "{{ outcome }}",
            "请你单位按照上述意见认真整改，"
            "{% if plan_due_date %}于{{ plan_due_date }}前{% else %}在规定期限内{% endif %}"
            "将整改方案书面报送本单位，并按方案抓好落实；整改完成后，及时书面报告整改情况。"
            "本单位将对整改情况进行跟踪督查。",
            "特此通知。",
        ),
    ),
    DocumentKind.REPLY_LETTER: (
        "答复意见书",
        _paragraphs(
            _RECEIVED + "收悉。本单位高度重视，依法进行了调查核实，现答复如下：",
            "{{ reply }}",
            "{% if review_hint %}{{ review_hint }}\n\n{% endif %}特此答复。",
        ),
    ),
    DocumentKind.RESULT_REPORT: (
        "查处结果报告",
        _paragraphs(
            "{{ authority }}{% if authority_ref %}（{{ authority_ref }}）{% endif %}交办的"
            "“{{ case_title }}”事项"
            "{% if case_number %}（本单位编号：{{ case_number }}）{% endif %}，"
            "本单位{% if received_date %}于{{ received_date }}收到后{% endif %}高度重视，"
            "认真组织调查核实，依法依规进行处理。现将查处结果报告如下：",
            "一、调查核实情况",
            "{{ findings }}",
            "二、处理结果",
            "{{ outcome }}",
            "特此报告。",
        ),
    ),
    DocumentKind.REVIEW_DECISION: (
        "复查意见书",
        _review_body(
            act="复查",
            previous="处理意见",
            closing="{% if review_hint %}{{ review_hint }}\n\n{% endif %}",
        ),
    ),
    DocumentKind.REREVIEW_DECISION: (
        "复核意见书",
        _review_body(
            act="复核",
            previous="复查意见",
            closing="根据有关规定，本复核意见为终结意见。您就同一事项以同一事实和理由再次提出的，不再受理。\n\n",
        ),
    ),
    DocumentKind.EXTENSION_NOTICE: (
        "延期告知书",
        _paragraphs(
            _RECEIVED + "，本单位已依法受理，正在办理中。",
            "该事项未能在原定期限内办结，经批准，办理期限延长至{{ new_due_date }}。延期理由：{{ reason }}",
            "本单位将抓紧办理，并在延长的期限内将办理结果书面答复您。给您带来不便，敬请谅解。",
            "特此告知。",
        ),
    ),
}


_COMMON_SAMPLE: dict[str, str] = {
    "org_name": "示范市东城区住房和城乡建设局",
    "case_number": "20261123-00001",
    "case_title": "阳光花园小区3号楼电梯长期停运",
    "received_date": "2026年11月23日",
    "channel_label": "来信",
    "today": "2026年11月30日",
}

_SAMPLE_EXTRAS: dict[str, dict[str, str]] = {
    DocumentKind.ACCEPTANCE_NOTICE: {"overall_due_date": "2027年1月22日"},
    DocumentKind.NOT_ACCEPTED_NOTICE: {
        "ground": "您反映的电梯维修费用分摊问题属于物业服务合同纠纷，依法应当通过诉讼、仲裁等"
        "法定途径解决（《信访工作条例》第三十一条第（一）项）。",
        "refer_to": "示范市东城区人民法院",
    },
    DocumentKind.NOT_REACCEPTED_NOTICE: {
        "ground": "该事项已于2026年9月15日经复核终结，您仍以同一事实和理由再次提出（《信访工作条例》第三十五条）。",
    },
    DocumentKind.RETURN_LETTER: {
        "reason": "来件未载明反映人的真实姓名和联系方式，所反映问题缺少具体时间、地点等基本事实，无法核实办理。",
        "returned_to": "示范市东城区信访局",
    },
    DocumentKind.TRANSFER_LETTER: {"to_body": "示范市东城区市场监督管理局"},
    DocumentKind.HANDLING_NOTICE: {
        "department": "物业管理科",
        "assisting": "城建监察大队、建筑质量安全科",
        "instructions": "请于接单后2个工作日内到现场核查电梯停运情况，"
        "督促物业服务企业制定维修方案，并做好投诉人的沟通解释工作。",
        "due_date": "2026年12月14日",
        "case_text": "投诉人反映，阳光花园小区3号楼两部电梯自2026年10月起相继停运，"
        "物业服务企业以维修资金未到位为由迟迟不予维修，楼内多名老人出行困难，"
        "请求有关部门督促尽快修复。",
        "location": "示范市东城区阳光花园小区3号楼",
    },
    DocumentKind.RECTIFICATION_NOTICE: {
        "unit": "示范市安居物业服务有限公司",
        "outcome": "一、立即委托具备资质的电梯维护保养单位对3号楼两部电梯进行全面检修，"
        "确保安全运行；\n"
        "二、依照规定申请使用专项维修资金，并向业主公示维修方案和费用；\n"
        "三、加强日常巡查和维护保养，建立电梯故障应急响应机制。",
        "plan_due_date": "2026年12月10日",
    },
    DocumentKind.REPLY_LETTER: {
        "reply": "经调查核实，阳光花园小区3号楼两部电梯因主机老化相继停运属实。本单位已责成"
        "示范市安居物业服务有限公司申请使用专项维修资金，对两部电梯更换主机。目前1号电梯已于"
        "2026年12月20日修复并经检验合格投入使用，2号电梯预计于2027年1月10日前修复。"
        "本单位将持续跟踪督促，确保按期完成。",
        "review_hint": "如不服本答复意见，可自收到本意见之日起30日内向示范市东城区人民政府请求复查。",
    },
    DocumentKind.RESULT_REPORT: {
        "authority": "示范市人民政府信访局",
        "authority_ref": "示信转〔2026〕118号",
        "findings": "经现场核查，阳光花园小区3号楼两部电梯自2026年10月起因主机老化停运，"
        "物业服务企业未及时申请使用专项维修资金组织维修，投诉反映的问题属实。",
        "outcome": "本单位已向示范市安居物业服务有限公司下达整改通知书，责令其限期修复电梯；"
        "1号电梯已于2026年12月20日修复投入使用，2号电梯正在维修。本单位已将办理结果书面答复"
        "投诉人，并将持续跟踪督促。",
    },
    DocumentKind.REVIEW_DECISION: {
        "review_body": "示范市东城区人民政府",
        "decision_label": "维持",
        "opinion": "经复查，示范市东城区住房和城乡建设局已对电梯停运问题进行调查核实，"
        "责成物业服务企业限期修复，并书面答复了您。原处理意见认定事实清楚，处理适当。",
        "review_hint": "如不服本复查意见，可自收到本意见之日起30日内向示范市人民政府请求复核。",
    },
    DocumentKind.REREVIEW_DECISION: {
        "review_body": "示范市人民政府",
        "decision_label": "维持",
        "opinion": "经复核，原复查意见认定事实清楚，依据正确，程序合法，处理适当。"
        "您提出的由物业服务企业承担全部维修费用的请求，缺乏事实和法律依据。",
        "review_hint": "",
    },
    DocumentKind.EXTENSION_NOTICE: {
        "reason": "该事项涉及专项维修资金使用审批，需要业主表决并会同有关部门现场复核。",
        "new_due_date": "2027年2月21日",
    },
}


def sample_context(kind: str) -> dict[str, str]:
    """A realistic full context for ``kind``: for tests and the template preview page."""
    return {**_COMMON_SAMPLE, **_SAMPLE_EXTRAS[DocumentKind(kind)]}
