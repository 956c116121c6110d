"""A refused preset in the administrator's language.

``presets.py`` is pure Python and writes its refusals in English (``str(PresetError)``:
the command line, the logs). Each refusal keeps its template and values; this module gives
the screens the same refusal through gettext — Chinese in the Chinese interface, English
with the switch. A template without an entry here is shown as written (``tests/policy/
test_preset_messages.py`` fails on one).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from .presets import Got, PresetError

# presets.py template -> the message (a gettext msgid with the same ``{fields}``).
MESSAGES: dict[str, Any] = {
    '"{stage}" is the last word and cannot also be listed under extension.stages': _(
        "“{stage}”是最后期限，不能同时列在 extension.stages 下"
    ),
    "refusal_forbidden is true (首诉负责), so no {key} grounds may be listed": _(
        "refusal_forbidden 为 true（首诉负责），不能列出 {key} 理由"
    ),
    "required_steps.{key} needs stages.{flag} to be true": _("required_steps.{key} 需要 stages.{flag} 为 true"),
    '"{key}" is no longer a switch: every case has this stage; write true or leave the key out': _(
        "“{key}”已不再是开关：每件都有这一环节；请写 true 或删去这个键"
    ),
    'no "{stage}" deadline in this preset: the extension rule would match nothing': _(
        "本预设没有“{stage}”时限：延期规则匹配不到任何时限"
    ),
    "the approval chain is empty: at least one approver signs": _("审批流程为空：至少要有一级审批"),
    "expected a mapping, got {got}": _("应为映射（键: 值），实际是{got}"),
    'unknown key "{key}" (expected one of {expected})': _("未知的键“{key}”（可用的键：{expected}）"),
    'missing required key "{key}"': _("缺少必填的键“{key}”"),
    "时限数额 amount 过大：{amount} {name}（{unit}），以{name}计最多 {limit}（约一年）；请核对数字和单位 unit": _(
        "时限数额 amount 过大：{amount} {name}（{unit}），以{name}计最多 {limit}（约一年）；请核对数字和单位 unit"
    ),
    "an empty list matches nothing; leave the key out instead": _("空列表匹配不到任何值：请删去这个键"),
    "expected true or false, got {got}": _("应为 true 或 false，实际是{got}"),
    "expected a whole number, got {got} (write the number alone and the unit under `unit`)": _(
        "应为整数，实际是{got}（只写数字，单位写在 unit 下）"
    ),
    "expected a whole number, got {got}": _("应为整数，实际是{got}"),
    "must be at least {min}, got {x}": _("不能小于 {min}，当前为 {x}"),
    "数值过大：最多 {max}，当前 {x}": _("数值过大：最多 {max}，当前 {x}"),
    "expected a number, got {got}": _("应为数字，实际是{got}"),
    "must be within {range}, got {x}": _("应在 {range} 之内，当前为 {x}"),
    "expected a date written YYYY-MM-DD, got {got}": _("应为 YYYY-MM-DD 格式的日期，实际是{got}"),
    "expected text, got {got}": _("应为文字，实际是{got}"),
    'unknown {what} "{x}" (expected one of {expected})': _("{what}的取值“{x}”无效（可选：{expected}）"),
    "expected a list, got {got}": _("应为列表，实际是{got}"),
    '{what} "{code}" is listed twice (first at {first}, line {line})': _(
        "{what}“{code}”重复出现（首次在 {first}，第 {line} 行）"
    ),
    '"{name}" must be lower-case ASCII letters, digits and _': _("“{name}”只能由小写英文字母、数字和下划线组成"),
    '"{code}" must be lower-case ASCII letters, digits and _, at most {max} characters': _(
        "“{code}”只能由小写英文字母、数字和下划线组成，最多 {max} 个字符"
    ),
    'a "{stage}" deadline, but stages.{flag} is false': _("设置了“{stage}”时限，但 stages.{flag} 为 false"),
    'same stage and "when" as {first} (line {line}); which applies would be ambiguous': _(
        "与 {first}（第 {line} 行）的环节和适用条件 when 相同，无法确定适用哪一条"
    ),
    'cycle in the escalation chain: "{role}" already at {first} (line {line})': _(
        "升级链出现循环：“{role}”已在 {first}（第 {line} 行）出现"
    ),
    'unknown referral body "{code}" (declared: {declared})': _("未声明的引导单位“{code}”（已声明：{declared}）"),
    '"{word}" is listed under both urgent and major': _("“{word}”同时列在紧急 urgent 和重大 major 之下"),
    "callback rules given, but stages.callback is false": _("设置了回访规则，但 stages.callback 为 false"),
    "an approval chain given, but stages.approval is false": _("设置了审批链，但 stages.approval 为 false"),
    "an approver is listed twice in the chain": _("审批链中有审批人重复"),
    "stages.review is true, but no review section names the reviewing bodies": _(
        "stages.review 为 true，但没有 review 部分写明复查、复核机关"
    ),
    "review bodies given, but stages.review is false": _("写明了复查、复核机关，但 stages.review 为 false"),
    "the evaluation weights add up to 0; at least one must count": _("考评权重之和为 0：至少一项须计分"),
    "a ratio target must be within [0, 1]": _("比率目标值应在 [0, 1] 之内"),
    "at most {limit} {unit} (100 years)": _("最多 {limit} {unit}（100 年）"),
    "{day} is already listed at {first} (line {line})": _("{day} 已在 {first}（第 {line} 行）列出"),
    "YAML syntax error: {problem}": _("YAML 语法错误：{problem}"),
    '"{code}" is a quantile: a statistics return adds up its rows, use a rate or a count': _(
        "“{code}”是分位数：统计报表按行相加，请用比率或计数"
    ),
    '"{measure}" counts no deadline clocks: leave on_time out': _("“{measure}”不计时限，请删去 on_time"),
    '"{measure}" has no case-level figures to take a quantile of': _("“{measure}”没有逐件的数值，不能取分位数"),
    '"{measure}" is an amount of time: use mean or quantile': _(
        "“{measure}”是时长：请用 mean（平均）或 quantile（分位数）"
    ),
    '"{measure}" is counted by period rule "{basis}" ({basis_name}), not "{period}"': _(
        "“{measure}”按统计口径“{basis}”（{basis_name}）计，不是“{period}”"
    ),
    '"{measure}" is counted out of {expected}, not "{denominator}": a rate divides a part by its whole': _(
        "“{measure}”的分母是{expected}，不是“{denominator}”：比率是部分除以整体"
    ),
    "a quantile needs q within (0, 1), e.g. 0.9 for p90": _("分位数需要 0 与 1 之间的 q，例如 p90 写 0.9"),
    "a {formula} has no denominator": _("{formula} 没有分母"),
    'a {formula} is shown in {units}, not "{unit}"': _("{formula} 以 {units} 显示，不是“{unit}”"),
    'a {formula} is taken of an amount of time, not "{measure}"': _("{formula} 只能对时长计算，不能对“{measure}”"),
    "give either a measure or a constant (a whole number above 0), not both or neither": _(
        "请给出一个度量 measure 或一个常数 constant（大于 0 的整数），不能两者都有或都没有"
    ),
    'missing required key "denominator" (a {formula} divides by it)': _(
        "缺少必填的键“denominator”（{formula} 要除以它）"
    ),
    'missing required key "on_time": "{measure}" counts deadline clocks of a stage': _(
        "缺少必填的键“on_time”：“{measure}”统计某一环节的时限"
    ),
    "only a ratio's denominator may be a constant": _("只有比率的分母可以是常数"),
    "q is only for a quantile": _("q 只用于分位数"),
    'the mean of "{measure}" is over "{of}"': _("“{measure}”的平均值以“{of}”为分母"),
    "the numerator names a measure": _("分子须写明一个度量 measure"),
    'unknown KPI "{code}" (the preset\'s kpis: {codes})': _("未知的指标“{code}”（本预设的指标：{codes}）"),
}

# The names presets.py gives the values it checks (field metadata ``what``); a YAML key
# name stands for itself.
WHAT: dict[str, Any] = {
    "clock start": _("计时起点"),
    "referral body": _("引导单位"),
    "ground": _("理由"),
    "approver": _("审批人"),
    "keyword": _("关键词"),
    "role": _("角色"),
    "trigger": _("必须回访的情形"),
    "dissatisfaction rule": _("不满意时的处理方式"),
    "survey area": _("调查项目"),
    "period": _("周期"),
    "target op": _("目标比较方式"),
    "KPI unit": _("指标单位"),
    "level": _("级别"),
    "retention period": _("保存期限"),
    "retention unit": _("保存期限单位"),
    "attachment rule": _("附件处理方式"),
    "KPI": _("考核指标"),
    "deduction": _("扣分规则"),
    "activity": _("活动"),
}


def _got(value: object) -> str:
    """What a YAML value turned out to be, in the active language."""
    if isinstance(value, str):
        return gettext("文本“%(text)s”") % {"text": value}
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return gettext("空值")
    if isinstance(value, CommentedMap):
        return gettext("映射")
    if isinstance(value, CommentedSeq):
        return gettext("列表")
    if isinstance(value, dt.date):
        return gettext("日期")
    return repr(value)


def problem(error: PresetError) -> str:
    """The refusal's problem in the active language (as written when it has no entry)."""
    message = MESSAGES.get(error.template)
    if message is None:
        return error.problem
    values = {}
    for key, value in error.params.items():
        if isinstance(value, Got):
            values[key] = _got(value.value)
        elif key == "what":
            values[key] = str(WHAT.get(str(value), value))
        elif key == "name":  # a unit's Chinese name (presets.UNIT_NAMES), a catalogue entry of its own
            values[key] = gettext(str(value))
        else:
            values[key] = str(value)
    return str(message).format(**values)


def message(error: PresetError) -> str:
    """File, line, key path and problem, in the active language."""
    return gettext("%(file)s 第 %(line)d 行，%(path)s：%(problem)s") % {
        "file": error.filename,
        "line": error.line,
        "path": error.path or gettext("（顶层）"),
        "problem": problem(error),
    }
