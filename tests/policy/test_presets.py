"""Policy presets (F30): the shipped presets load and carry the regulation figures;
deadline matching picks the most specific rule; bad input is refused with file, line
and key path. Pure Python: run with ``-p no:django``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huiyin.policy.presets import (
    UNIT_MAX,
    Duration,
    Preset,
    PresetError,
    list_presets,
    load_preset,
    load_preset_text,
)

PRESETS = Path(__file__).resolve().parents[2] / "presets"
SHIPPED = [
    "city_hotline",
    "company_front_office",
    "construction_station",
    "hospital",
    "petition_office",
    "property_management",
]


def preset(name: str) -> Preset:
    return load_preset(PRESETS / f"{name}.yaml")


# ------------------------------------------------------------------ shipped presets


def test_list_presets_names_all_six() -> None:
    assert list_presets(PRESETS) == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_preset_loads_and_is_documented(name: str) -> None:
    p = preset(name)
    assert p.name == name and p.version >= 1
    assert any("\u4e00" <= ch <= "\u9fff" for ch in p.label), "label should be Chinese"
    assert p.source and p.description
    for rule in p.deadlines:
        assert rule.source, f"{name}: {rule.stage} deadline has no source note"
        # a seed line, the regulation, or a figure the policy reference lists (12345 limits)
        assert "seeds/" in rule.source or "信访工作条例" in rule.source or "POLICY-REFERENCE.md" in rule.source
    for step in p.escalation:
        assert step.source
    assert [s.role for s in p.escalation][-1] == "leader"


@pytest.mark.parametrize("name", SHIPPED)
def test_snapshot_round_trips_through_json(name: str) -> None:
    p = preset(name)
    text = json.dumps(p.to_dict(), ensure_ascii=False)
    assert load_preset_text(text, f"{name}.json") == p


def test_hotline_dispatch_within_3_minutes_of_registration() -> None:
    p = preset("city_hotline")
    rule = p.match_deadline("dispatch", channel="phone", nature="complaint")
    assert rule is not None
    assert (rule.duration, rule.clock_from, rule.start) == (Duration(amount=3, unit="minutes"), "received", "immediate")
    assert p.match_deadline("dispatch", channel="letter") is None  # only 96310 calls
    assert p.daily_review is not None and p.daily_review.lookback_days == 3
    assert p.daily_review.repeats_first


def test_construction_station_figures() -> None:
    p = preset("construction_station")
    handover = p.match_deadline("handover")
    plan = p.match_deadline("rectification_plan")
    assert handover and (handover.amount, handover.unit, handover.clock_from) == (24, "hours", "received")
    assert plan and (plan.amount, plan.unit, plan.clock_from) == (14, "days", "notified")
    grounds = p.acceptance_grounds
    ret = grounds.return_within
    assert ret and (ret.stage, ret.amount, ret.unit, ret.start, ret.clock_from) == (
        "acceptance",
        15,
        "days",
        "next_day",
        "received",
    )
    assert grounds.self_transfer_allowed is False
    assert p.callback and p.callback.mandatory_for == ("group_visit", "forwarded_for_investigation")
    assert p.stages.rectification_plan and p.stages.approval


def test_property_management_figures() -> None:
    p = preset("property_management")
    urgent = p.match_deadline("reply", urgency="urgent")
    normal = p.match_deadline("reply", urgency="normal")
    assert urgent and (urgent.amount, urgent.unit) == (24, "hours")
    assert normal and (normal.amount, normal.unit) == (3, "days")
    overall = p.match_deadline("overall")
    assert overall and (overall.amount, overall.unit) == (2, "days")  # promised 1–2 days

    def window(category: str | None) -> tuple[int, str]:
        rule = p.match_deadline("callback", category=category)
        assert rule is not None
        return rule.amount, rule.unit

    assert window("safety_facility") == (2, "days")
    assert window("water_leak") == (3, "days")
    assert window("plumbing") == window(None) == (7, "days")
    assert len(p.callback_windows) == 3
    assert p.callback is not None
    assert {(s.role, s.label, s.min_share) for s in p.callback.shares} == {
        ("leader", "经理", 0.10),
        ("dept_head", "主管", 0.30),
        ("callback_officer", "维修负责人", 0.60),
    }
    assert p.callback.rectification_notice_within == Duration(amount=24, unit="hours")
    kpis = {k.code: k for k in p.kpis}
    valid = kpis["valid_complaint_rate"].target
    assert valid and (valid.op, valid.value) == ("below", 0.01)
    done = kpis["callback_processing_rate"].target
    assert done and (done.op, done.value) == ("at_least", 1.0)
    (escalated,) = p.deductions
    assert [lv.points for lv in escalated.levels] == [20, 30, 50]
    assert escalated.applies_to == ("dept_head", "handler")
    assert p.extension and p.extension.second_extension_forbidden
    assert p.stages.confirmation_to_close


def test_hospital_figures() -> None:
    p = preset("hospital")
    reply, overall = p.match_deadline("reply"), p.match_deadline("overall")
    assert reply and (reply.amount, reply.unit, reply.clock_from) == (7, "days", "dispatched")
    assert overall and (overall.amount, overall.unit) == (14, "days")
    assert p.extension and p.extension.max == Duration(amount=7, unit="days")


def test_petition_office_figures() -> None:
    p = preset("petition_office")

    def rule(stage: str) -> tuple[int, str, str, str, str]:
        r = p.match_deadline(stage, channel="letter", nature="complaint")
        assert r is not None
        return r.amount, r.unit, r.start, r.clock_from, r.on_holiday

    assert rule("acceptance") == (15, "days", "next_day", "received", "roll_forward")
    assert rule("overall") == (60, "days", "next_day", "accepted", "roll_forward")
    assert rule("review_request") == (30, "days", "next_day", "replied", "roll_forward")
    assert rule("review_decision") == (30, "days", "next_day", "received", "roll_forward")
    ext = p.extension
    assert ext and (ext.approver, ext.max, ext.notify_complainant) == ("leader", Duration(amount=30, unit="days"), True)
    grounds = p.acceptance_grounds
    assert [g.code for g in grounds.not_accepted] == [
        "congress_court_procuratorate",
        "legal_procedure",
        "already_handled",
        "no_substance",
        "out_of_jurisdiction",
    ]
    assert [g.code for g in grounds.not_reaccepted] == ["review_concluded", "review_not_requested_in_time"]
    legal = grounds.not_accepted[1]
    assert "诉讼、仲裁、行政复议" in legal.label
    assert legal.refer_to == ("court", "arbitration", "administrative_reconsideration")
    assert {"火灾", "燃气泄漏", "坍塌", "受伤"} <= set(p.urgency_keywords.urgent)


# ------------------------------------------------------------------ matching

MATCHING = """\
name: matching
label: 匹配测试
version: 1
description: 测试最具体规则优先
stages: {acceptance_decision: true, dispatch: true, sign_for: true, approval: false,
         rectification_plan: false, reply: true, callback: true, confirmation_to_close: false}
deadlines:
  - {stage: reply, amount: 10, unit: days, from: accepted}
  - {stage: reply, amount: 9, unit: days, from: accepted, when: {channel: phone}}
  - {stage: reply, amount: 8, unit: days, from: accepted, when: {nature: complaint}}
  - {stage: reply, amount: 7, unit: days, from: accepted,
     when: {channel: phone, nature: complaint}}
  - {stage: reply, amount: 6, unit: days, from: accepted, when: {category: roads}}
  - {stage: reply, amount: 5, unit: days, from: accepted, when: {urgency: [urgent, major]}}
  - {stage: reply, amount: 4, unit: days, from: accepted, when: {urgency: major}}
  - {stage: callback, amount: 3, unit: days, from: replied, when: {channel: [visit, letter]}}
  - {stage: callback, amount: 2, unit: days, from: replied, when: {channel: [visit, fax]}}
"""


def reply_days(**given: str | list[str] | None) -> int | None:
    rule = load_preset_text(MATCHING, "matching.yaml").match_deadline("reply", **given)  # type: ignore[arg-type]
    return rule.amount if rule else None


def test_default_rule_applies_when_nothing_more_specific_matches() -> None:
    assert reply_days() == 10
    assert reply_days(channel="letter", nature="consultation") == 10


def test_more_when_keys_win() -> None:
    assert reply_days(channel="phone") == 9
    assert reply_days(nature="complaint") == 8
    assert reply_days(channel="phone", nature="complaint") == 7


def test_equal_key_count_tie_breaks_category_over_urgency_over_nature_over_channel() -> None:
    assert reply_days(channel="phone", category="roads") == 6
    assert reply_days(nature="complaint", urgency="urgent") == 5
    assert reply_days(category="roads", urgency="urgent") == 6


def test_fewer_listed_values_win_then_file_order() -> None:
    assert reply_days(urgency="urgent") == 5
    assert reply_days(urgency="major") == 4  # {urgency: major} is narrower than [urgent, major]
    p = load_preset_text(MATCHING, "matching.yaml")
    first = p.match_deadline("callback", channel="visit")
    assert first and first.amount == 3  # same specificity: the earlier rule wins


def test_category_may_be_given_with_its_ancestors() -> None:
    assert reply_days(category=["roads/potholes", "roads"]) == 6
    assert reply_days(category="roads/potholes") == 10


def test_no_rule_for_stage_and_unknown_values() -> None:
    p = load_preset_text(MATCHING, "matching.yaml")
    assert p.match_deadline("dispatch") is None
    assert p.match_deadline("callback", channel="phone") is None
    with pytest.raises(ValueError, match="channel"):
        p.match_deadline("reply", channel="telephone")
    with pytest.raises(ValueError, match="stage"):
        p.match_deadline("replying")


# ------------------------------------------------------------------ refusals

BASE = """\
name: sample
label: 样例
version: 1
description: 测试用预设
stages:
  acceptance_decision: true
  dispatch: true
  sign_for: false
  approval: false
  rectification_plan: false
  reply: true
  callback: false
  confirmation_to_close: false
deadlines:
  - stage: acceptance
    amount: 15
    unit: days
    start: next_day
    from: received
  - stage: dispatch
    when: {channel: phone}
    amount: 3
    unit: minutes
    from: accepted
    warn_at: 0.5
acceptance_grounds:
  referral_bodies:
    - {code: court, label: 人民法院}
  not_accepted:
    - {code: legal_procedure, label: 应通过诉讼解决, refer_to: court}
urgency_keywords:
  urgent: [火灾, 燃气泄漏]
  major: [伤亡]
escalation:
  - {role: handler, after: {amount: 0, unit: hours}}
  - {role: dept_head, after: {amount: 1, unit: workdays}}
  - {role: leader, after: {amount: 3, unit: workdays}}
extension:
  approver: leader
  max: {amount: 30, unit: days}
  second_extension_forbidden: true
calendar:
  holidays:
    - {date: 2025-10-09, name: 单位检修停业}
  workdays:
    - {date: 2025-10-11, name: 补班}
"""


def test_base_sample_is_valid() -> None:
    p = load_preset_text(BASE, "sample.yaml")
    assert p.calendar.holidays[0].date == date(2025, 10, 9)
    assert p.deadlines[1].warn_at == 0.5 and p.deadlines[0].warn_at == 0.75


# (old text, new text, text on the line the error names, key path, words in the message)
REFUSALS = [
    (
        "stage: acceptance",
        "stage: acceptence",
        "stage: acceptence",
        "deadlines[0].stage",
        'unknown stage "acceptence" (expected one of dispatch, sign_for',
    ),
    (
        "unit: minutes",
        "unit: minute",
        "unit: minute",
        "deadlines[1].unit",
        'unknown unit "minute" (expected one of minutes, hours, working_hours, days, workdays)',
    ),
    ("    unit: minutes\n", "", "- stage: dispatch", "deadlines[1].unit", 'missing required key "unit"'),
    ("    amount: 15\n", "", "- stage: acceptance", "deadlines[0].amount", 'missing required key "amount"'),
    ("amount: 15", "amount: -15", "amount: -15", "deadlines[0].amount", "at least 1, got -15"),
    ("amount: 3\n", "amount: 0\n", "amount: 0", "deadlines[1].amount", "at least 1, got 0"),
    ("amount: 3\n", 'amount: "3"\n', 'amount: "3"', "deadlines[1].amount", 'expected a whole number, got string "3"'),
    (
        "amount: 15",
        "amount: 15 days",
        "amount: 15 days",
        "deadlines[0].amount",
        'got string "15 days" (write the number alone and the unit under `unit`)',
    ),
    ("amount: 15", "amount: 2.5", "amount: 2.5", "deadlines[0].amount", "whole number"),
    ("warn_at: 0.5", "warn_at: 1.5", "warn_at: 1.5", "deadlines[1].warn_at", "must be within (0, 1), got 1.5"),
    ("warn_at: 0.5", "warn_at: 0", "warn_at: 0", "deadlines[1].warn_at", "within (0, 1)"),
    ("warn_at: 0.5", "warn_at: 1", "warn_at: 1", "deadlines[1].warn_at", "within (0, 1)"),
    (
        "    from: accepted\n",
        "    from: accepted\n    amout: 3\n",
        "amout: 3",
        "deadlines[1].amout",
        'unknown key "amout"',
    ),
    ("calendar:", "deadline_rules: []\ncalendar:", "deadline_rules", "deadline_rules", 'unknown key "deadline_rules"'),
    (
        "{channel: phone}",
        "{channel: telephone}",
        "{channel: telephone}",
        "deadlines[1].when.channel",
        'unknown channel "telephone" (expected one of visit',
    ),
    ("{channel: phone}", "{channel: []}", "{channel: []}", "deadlines[1].when.channel", "empty list matches nothing"),
    ("{channel: phone}", "{urgent: true}", "{urgent: true}", "deadlines[1].when.urgent", 'unknown key "urgent"'),
    (
        "  - {role: leader, after",
        "  - {role: handler, after",
        "{role: handler, after: {amount: 3",
        "escalation[2].role",
        'cycle in the escalation chain: "handler" already at escalation[0]',
    ),
    ("{role: dept_head,", "{role: boss,", "{role: boss,", "escalation[1].role", 'unknown role "boss"'),
    (
        "after: {amount: 1, unit: workdays}",
        "after: {amount: 1, unit: weeks}",
        "unit: weeks",
        "escalation[1].after.unit",
        'unknown unit "weeks"',
    ),
    (
        "{date: 2025-10-11, name: 补班}",
        "{date: 2025-10-09, name: 补班}",
        "{date: 2025-10-09, name: 补班}",
        "calendar.workdays[0].date",
        "2025-10-09 is already listed at calendar.holidays[0].date",
    ),
    (
        "    - {date: 2025-10-09, name: 单位检修停业}\n",
        "    - {date: 2025-10-09, name: 单位检修停业}\n    - {date: 2025-10-09, name: 又一次}\n",
        "又一次",
        "calendar.holidays[1].date",
        "already listed at calendar.holidays[0].date (line",
    ),
    (
        "{date: 2025-10-11,",
        "{date: 2025-13-11,",
        "2025-13-11",
        "calendar.workdays[0].date",
        "expected a date written YYYY-MM-DD",
    ),
    (
        "  callback: false",
        "  callback: no",
        "callback: no",
        "stages.callback",
        'expected true or false, got string "no"',
    ),
    ("  callback: false\n", "", "stages:", "stages.callback", 'missing required key "callback"'),
    (
        "  - stage: dispatch\n",
        "  - stage: callback\n",
        "- stage: callback",
        "deadlines[1]",
        'a "callback" deadline, but stages.callback is false',
    ),
    (
        "refer_to: court",
        "refer_to: tribunal",
        "refer_to: tribunal",
        "acceptance_grounds.not_accepted[0].refer_to",
        'unknown referral body "tribunal"',
    ),
    (
        "major: [伤亡]",
        "major: [伤亡, 火灾]",
        "major: [伤亡, 火灾]",
        "urgency_keywords.major",
        '"火灾" is listed under both urgent and major',
    ),
    (
        "urgent: [火灾, 燃气泄漏]",
        "urgent: [火灾, 火灾]",
        "urgent: [火灾, 火灾]",
        "urgency_keywords.urgent[1]",
        'keyword "火灾" is listed twice',
    ),
    (
        "max: {amount: 30, unit: days}",
        "max: 30 days",
        "max: 30 days",
        "extension.max",
        'expected a mapping, got string "30 days"',
    ),
    ("version: 1", "version: v1", "version: v1", "version", "whole number"),
    ("name: sample", "name: Sample Preset", "name: Sample Preset", "name", "lower-case ASCII"),
]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "line_text", "path", "words"), REFUSALS, ids=[r[3] + ":" + r[1].strip()[:20] for r in REFUSALS]
)
def test_refusal_names_file_line_and_key_path(old: str, new: str, line_text: str, path: str, words: str) -> None:
    assert old in BASE
    text = BASE.replace(old, new, 1)
    with pytest.raises(PresetError) as caught:
        load_preset_text(text, "sample.yaml")
    err = caught.value
    line = line_of(text, line_text)
    assert (err.filename, err.line, err.path) == ("sample.yaml", line, path), str(err)
    assert str(err).startswith(f"sample.yaml, line {line}, {path}: "), str(err)
    assert words in str(err)


def test_duplicate_rule_for_same_stage_and_selector_is_ambiguous() -> None:
    extra = "  - {stage: dispatch, when: {channel: [phone]}, amount: 5, unit: minutes, from: accepted}\n"
    text = BASE.replace("acceptance_grounds:", extra + "acceptance_grounds:", 1)
    with pytest.raises(PresetError) as caught:
        load_preset_text(text, "sample.yaml")
    assert str(caught.value).startswith(
        f'sample.yaml, line {line_of(text, "[phone]")}, deadlines[2]: same stage and "when" as '
        f"deadlines[1] (line {line_of(text, '- stage: dispatch')}); which applies would be "
        "ambiguous"
    )


def test_yaml_syntax_errors_and_empty_files_are_refused_with_a_line() -> None:
    with pytest.raises(PresetError, match=r"^bad\.yaml, line 3, \(top level\): YAML syntax"):
        load_preset_text("name: x\nlabel: [a, b\nversion: 1\n", "bad.yaml")
    with pytest.raises(PresetError, match=r"^dup\.yaml, line 2, .*YAML syntax error"):
        load_preset_text("name: x\nname: y\n", "dup.yaml")
    with pytest.raises(
        PresetError,
        match=r"^ctl\.yaml, line 2, \(top level\): YAML syntax error: "
        r"unacceptable character #x0007",
    ):
        load_preset_text("name: x\nlabel: \x07\n", "ctl.yaml")
    with pytest.raises(
        PresetError,
        match=r"^empty\.yaml, line 1, \(top level\): expected a "
        r"mapping, got nothing",
    ):
        load_preset_text("", "empty.yaml")


def test_load_preset_reports_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "city_hotline.yaml"
    path.write_text(BASE.replace("unit: minutes", "unit: minute"), encoding="utf-8")
    with pytest.raises(PresetError) as caught:
        load_preset(path)
    assert str(caught.value).startswith(
        'city_hotline.yaml, line 23, deadlines[1].unit: unknown unit "minute" (expected one of '
        "minutes, hours, working_hours, days, workdays)"
    )
    assert list_presets(tmp_path) == ["city_hotline"]


@given(
    st.one_of(st.integers(min_value=-10_000, max_value=10_000), st.integers(min_value=-(2**40), max_value=2**40)),
    st.sampled_from(["minutes", "hours", "working_hours", "days", "workdays"]),
)
def test_any_whole_amount_within_its_units_bound_loads_and_nothing_else(amount: int, unit: str) -> None:
    text = BASE.replace("amount: 15\n    unit: days", f"amount: {amount}\n    unit: {unit}", 1)
    if 1 <= amount <= UNIT_MAX[unit]:
        rule = load_preset_text(text, "sample.yaml").deadlines[0]
        assert (rule.amount, rule.unit) == (amount, unit)
    elif amount < 1:
        with pytest.raises(PresetError, match=r"line 16, deadlines\[0\]\.amount: must be at "):
            load_preset_text(text, "sample.yaml")
    else:  # issue 13: 9,999,999,999 minutes saved, and every acceptance then failed
        with pytest.raises(PresetError, match=r"line 16, deadlines\[0\]\.amount: 时限数额 amount 过大") as info:
            load_preset_text(text, "sample.yaml")
        assert f"最多 {UNIT_MAX[unit]}" in str(info.value)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-5, max_value=5))
def test_warn_at_must_lie_strictly_between_0_and_1(fraction: float) -> None:
    text = BASE.replace("warn_at: 0.5", f"warn_at: {fraction!r}", 1)
    if 0 < fraction < 1:
        assert load_preset_text(text, "sample.yaml").deadlines[1].warn_at == fraction
    else:
        with pytest.raises(PresetError, match=r"line 25, deadlines\[1\]\.warn_at: must be within"):
            load_preset_text(text, "sample.yaml")


# ------------------------------------------------------------------ retention (F81)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_preset_has_a_retention_rule_with_its_source(name: str) -> None:
    rule = preset(name).retention
    assert rule is not None and rule.keep_for >= 1 and rule.unit == "years"
    assert "个人信息保护法" in rule.source and ("Huiyin 默认值" in rule.source)
    assert rule.attachments == ("keep" if name in ("petition_office", "construction_station") else "delete")


@pytest.mark.parametrize(
    ("block", "path", "words"),
    [
        ("retention: {keep_for: 0, unit: years}", "retention.keep_for", "at least 1"),
        ("retention: {keep_for: 2, unit: weeks}", "retention.unit", 'unknown retention unit "weeks"'),
        ("retention: {keep_for: 101, unit: years}", "retention.keep_for", "at most 100 years"),
        ("retention: {keep_for: 2, attachments: shred}", "retention.attachments", 'unknown attachment rule "shred"'),
    ],
)
def test_bad_retention_rules_are_refused(block: str, path: str, words: str) -> None:
    text = BASE + block + "\n"
    with pytest.raises(PresetError) as caught:
        load_preset_text(text, "sample.yaml")
    assert (caught.value.path, caught.value.line) == (path, line_of(text, "retention:")), str(caught.value)
    assert words in str(caught.value)
