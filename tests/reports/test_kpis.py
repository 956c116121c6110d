"""Every KPI of the property preset over March 2026 against figures worked out by hand,
on cases driven through the real services at chosen times (the roll-ups kept by the
consumer, as in production).

The property preset: no acceptance decision (a dispatch from 已登记 accepts), dispatch
and sign-for, the answer within 3 days counted from the day after the dispatch (reply
clock), the whole matter within 2 days counted from the day after receipt (overall
clock: the preset's closure-on-time stage), a callback after every answer, closing on
the complainant's satisfied callback, extensions by the department head.

    case  received   what happens                                           in March
    c1    03-02 09   dispatch 10, sign, reply 03-03 10, callback 满意 03-04   answered, closed (49 h)
                     10 (closes); a repeat call 03-03
    c2    02-27 09   dispatch 10, reply 03-02 10 (overall due 03-02 00:00:   answered, closed (75 h);
                     late), callback 满意 03-02 12                            overall late
    c3    03-09 09   reply 03-10 10, callback 不满意 03-11 (reopens), again:  answered ×2, reopened ×1,
                     dispatch 03-11 11, reply 03-13 10, callback 满意 03-14   closed (121 h)
    c4    03-16 09   suspended 03-16 12 – 03-18 12 (48 h), reply 03-19 10,    closed (27 h = 75 − 48);
                     callback 满意 03-19 12; overall due moved by the pause   overall on time
    c5    03-23 09   overall extended by 3 days (head), reply 03-26 10 after  closed (75 h); overall on
                     the first due time, callback 基本满意 03-26 12           time thanks to the extension
    c6    03-25 09   dispatched, never answered; the sweeper marks the        overall and reply overdue
                     clocks overdue; an escalation recorded 03-27             (late), 1 escalation
    c7    03-31 09   dispatch 10, reply 04-01 10, callback 04-01 12          received in March only
    c8    03-05 09   consultation answered on the spot 09:05                 answered, accepted
    c9    03-12 09   dispatched to city 10, sent back 11, to traffic 12,     2 dispatches, 1 sent back;
                     signed, reply 03-13 10, callback not yet made            answered
    c10   03-06 09   returned to the writer (退回)                             decided, not accepted

The hand-computed figures are in ``EXPECTED`` below, each with its working.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from huiyin.cases.services import contact_add
from huiyin.deadlines.models import Clock, Extension
from huiyin.deadlines.services.handling import case_resume, case_suspend, extension_decide, extension_request
from huiyin.evaluation.services import deduction_record
from huiyin.followup.models import Callback
from huiyin.followup.services import callback_record
from huiyin.policy import kpi_text
from huiyin.policy.services import current_policy
from huiyin.reports import kpis, rollups
from tests.reports.conftest import at

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
H = 3600


def _dispatch(drive, when, case, dept, handler, sign=True):
    drive.do(when, "dispatch", case, department_id=dept.pk, handler_id=handler.pk)
    if sign:
        drive.do(when + timedelta(minutes=30), "sign_for", case, actor=handler)


def _reply(drive, when, case, handler):
    drive.do(when, "reply", case, actor=handler, reply="已处理完毕。", remedy="已上门维修。")


def _callback(drive, when, case, officer, satisfaction):
    case.refresh_from_db()
    callback = Callback.objects.get(case=case, round=case.round)
    drive.call(
        when, callback_record, actor=officer, callback_id=callback.pk, outcome="reached", satisfaction=satisfaction
    )
    case.refresh_from_db()


@pytest.fixture
def march(property_rules, drive, departments, handler, other_handler, head, officer, supervisor):
    city, traffic = departments["city"], departments["traffic"]
    c = {}
    c["c1"] = drive.register(at(2026, 3, 2, 9))
    _dispatch(drive, at(2026, 3, 2, 10), c["c1"], city, handler)
    drive.call(at(2026, 3, 3, 8), contact_add, actor=drive.clerk, case_id=c["c1"].pk, channel="phone", text="催办。")
    _reply(drive, at(2026, 3, 3, 10), c["c1"], handler)
    _callback(drive, at(2026, 3, 4, 10), c["c1"], officer, "satisfied")

    c["c2"] = drive.register(at(2026, 2, 27, 9))
    _dispatch(drive, at(2026, 2, 27, 10), c["c2"], city, handler)
    _reply(drive, at(2026, 3, 2, 10), c["c2"], handler)
    _callback(drive, at(2026, 3, 2, 12), c["c2"], officer, "satisfied")

    c["c3"] = drive.register(at(2026, 3, 9, 9))
    _dispatch(drive, at(2026, 3, 9, 10), c["c3"], city, handler)
    _reply(drive, at(2026, 3, 10, 10), c["c3"], handler)
    _callback(drive, at(2026, 3, 11, 10), c["c3"], officer, "dissatisfied")  # reopens
    assert c["c3"].state == "accepted" and c["c3"].round == 2
    _dispatch(drive, at(2026, 3, 11, 11), c["c3"], city, handler)
    _reply(drive, at(2026, 3, 13, 10), c["c3"], handler)
    _callback(drive, at(2026, 3, 14, 10), c["c3"], officer, "satisfied")

    c["c4"] = drive.register(at(2026, 3, 16, 9))
    _dispatch(drive, at(2026, 3, 16, 10), c["c4"], city, handler)
    drive.call(at(2026, 3, 16, 12), case_suspend, actor=head, case_id=c["c4"].pk, reason="等待业主补充材料")
    drive.call(at(2026, 3, 18, 12), case_resume, actor=head, case_id=c["c4"].pk)
    _reply(drive, at(2026, 3, 19, 10), c["c4"], handler)
    _callback(drive, at(2026, 3, 19, 12), c["c4"], officer, "satisfied")

    c["c5"] = drive.register(at(2026, 3, 23, 9))
    _dispatch(drive, at(2026, 3, 23, 10), c["c5"], city, handler)
    ext = drive.call(
        at(2026, 3, 24, 9),
        extension_request,
        actor=handler,
        case_id=c["c5"].pk,
        stage="overall",
        amount=3,
        reason="需协调供水公司",
    )
    drive.call(at(2026, 3, 24, 10), extension_decide, actor=head, extension_id=ext.pk, approve=True)
    _reply(drive, at(2026, 3, 26, 10), c["c5"], handler)
    _callback(drive, at(2026, 3, 26, 12), c["c5"], officer, "basically_satisfied")

    c["c6"] = drive.register(at(2026, 3, 25, 9))
    _dispatch(drive, at(2026, 3, 25, 10), c["c6"], city, handler)
    drive.call(
        at(2026, 3, 27, 15),
        deduction_record,
        actor=supervisor,
        case_id=c["c6"].pk,
        rule="escalated_complaint",
        level="company_leader",
    )
    drive.sweep(at(2026, 3, 31, 23))

    c["c7"] = drive.register(at(2026, 3, 31, 9))
    _dispatch(drive, at(2026, 3, 31, 10), c["c7"], city, handler)
    _reply(drive, at(2026, 4, 1, 10), c["c7"], handler)
    _callback(drive, at(2026, 4, 1, 12), c["c7"], officer, "satisfied")

    c["c8"] = drive.register(at(2026, 3, 5, 9), nature="consultation")
    drive.do(at(2026, 3, 5, 9, 5), "answer_on_spot", c["c8"], reply="已当场解答。")

    c["c9"] = drive.register(at(2026, 3, 12, 9))
    _dispatch(drive, at(2026, 3, 12, 10), c["c9"], city, handler, sign=False)
    drive.do(at(2026, 3, 12, 11), "send_back", c["c9"], actor=handler, reason="不属于本科室职责")
    _dispatch(drive, at(2026, 3, 12, 12), c["c9"], traffic, other_handler)
    _reply(drive, at(2026, 3, 13, 10), c["c9"], other_handler)

    c["c10"] = drive.register(at(2026, 3, 6, 9))
    drive.do(at(2026, 3, 6, 10), "return", c["c10"], reason="不属于本单位职责范围", returned_to="来信人")

    rollups.catch_up()
    return c


def end_of(y: int, m: int, d: int):
    """A time limit in days ends with the last day (23:59:59.999999)."""
    return at(y, m, d) + timedelta(days=1, microseconds=-1)


def _clock(case, stage, round=1):
    return Clock.objects.get(case=case, stage=stage, round=round, subject_kind="case")


# code → (numerator, denominator or None, value), worked out by hand:
EXPECTED = {
    # c1, c3, c4, c5, c6, c7, c8, c9, c10 received in March (c2 in February).
    "intake_volume": (9, None, 9),
    # decisions in March: c1 c3 c4 c5 c6 c7 c9 (dispatch from 已登记), c8 (on the spot)
    # accept; c10 returned. c2's was in February.
    "acceptance_rate": (8, 9, 8 / 9),
    # the preset times no dispatch or sign-for: no sample.
    "dispatch_on_time_rate": (0, 0, None),
    "sign_for_on_time_rate": (0, 0, None),
    # reply clocks concluded in March: c2 (dispatched 02-27, due 03-03 00:00, answered
    # 03-02: on time), c1, c3 round 1 and round 2, c4, c5, c9 (its first clock, from the
    # dispatch to city, was stopped by the send-back: not counted) on time; c6 open past its
    # due time 03-29 00:00: late. c7 concluded in April.
    "reply_on_time_rate": (7, 8, 7 / 8),
    # overall clocks (2 days counted from the day after receipt, ending with the second
    # day): c2 due 03-01 (end of day), answered 03-02 10:00: late. c1 due 03-04, answered
    # 03-03: on time. c3 round 1 due 03-11, answered 03-10; round 2 (from the reopening
    # 03-11) due 03-13, answered 03-13 10:00: on time. c4 due 03-18 + 2 days paused =
    # 03-20, answered 03-19: on time (late without the pause). c5 due 03-25 + 3 days
    # extension = 03-28, answered 03-26: on time (late without it). c6 due 03-27, open:
    # late. c9 due 03-14, answered 03-13: on time. c8 answered on the spot: on time (its
    # clock stopped at once). Met: c1, c3 ×2, c4, c5, c8, c9 = 7; late: c2, c6 = 2.
    "closure_on_time_rate": (7, 9, 7 / 9),
    # received in March and accepted: 8 (c10 returned); closed now: c1 c3 c4 c5 c7.
    "closure_rate": (5, 8, 5 / 8),
    # rounds answered in March: c1, c2, c3 ×2, c4, c5, c8, c9 = 8; called back (done): c1,
    # c2, c3 ×2, c4, c5 = 6 (c8's and c9's callbacks not made).
    # (Every complainant left a phone number: all 8 could be called back.)
    "callback_rate": (6, 8, 6 / 8),
    # callbacks recorded as 无法回访 (no phone number): none.
    "no_contact_callbacks": (0, None, 0),
    # callbacks done in March with a rating: c1 c2 c3(不满意) c3 c4 c5(基本满意) = 6; satisfied 5.
    "satisfaction_rate": (5, 6, 5 / 6),
    # received in March with a repeat contact: c1.
    "repeat_complaint_rate": (1, 9, 1 / 9),
    # lead dispatches in March: c1, c3 ×2, c4, c5, c6, c7, c9 ×2 = 9; sent back: c9's first.
    "send_back_rate": (1, 9, 1 / 9),
    # answered in March (8), later reopened: c3's first round.
    "reopen_rate": (1, 8, 1 / 8),
    # closed in March: c1 49 h, c2 75 h, c3 121 h, c4 27 h, c5 75 h: 347 h / 5.
    "handling_time_mean": (347 * H, 5, 347 / 5),
    # nearest rank of 0.9 × 5 = 4.5 → 5th of 27, 49, 75, 75, 121: 121 h.
    "handling_time_p90": (121 * H, None, 121),
    # complaints received in March: all but c8 = 8; accepted and not found unfounded: 7 (c10
    # returned). The property preset divides by the households it serves (2000).
    "valid_complaint_rate": (7, 2000, 7 / 2000),
    "escalation_count": (1, None, 1),
    # callback tasks (problems found at callbacks): none.
    "callback_processing_rate": (0, 0, None),
}


@pytest.mark.django_db
def test_every_kpi_of_march_by_hand(march, org):
    c = march
    # The clock facts the working above rests on.
    assert _clock(c["c2"], "overall").due_at == end_of(2026, 3, 1)
    assert _clock(c["c4"], "overall").due_at == end_of(2026, 3, 20)
    assert _clock(c["c4"], "overall").paused_seconds == 48 * H
    assert _clock(c["c5"], "overall").due_at == end_of(2026, 3, 28)
    assert Extension.objects.get(case=c["c5"]).status == "approved"
    assert _clock(c["c6"], "overall").overdue_at is not None
    assert _clock(c["c3"], "overall", round=2).due_at == end_of(2026, 3, 13)

    preset = current_policy(org.pk).preset()
    values = {v.code: v for v in kpis.kpi_values(preset.kpis, org.pk, *MARCH)}
    assert set(values) == set(EXPECTED) == {k.code for k in preset.kpis}
    for code, (num, den, value) in EXPECTED.items():
        got = values[code]
        assert (got.numerator, got.denominator) == (num, den), code
        if value is None:
            assert got.value is None, code
        else:
            assert got.value == pytest.approx(value), code
    assert values["valid_complaint_rate"].target_met is True  # below 1 %
    assert values["satisfaction_rate"].display == "83.3%"
    assert values["handling_time_p90"].display == "121.0"


@pytest.mark.django_db
def test_department_scope_and_boundaries(march, org, departments):
    """A department's figures are its cases'; the day before and after the period change
    what counts."""
    preset = current_policy(org.pk).preset()
    by_code = {k.code: k for k in preset.kpis}
    traffic = departments["traffic"]
    sums = kpis.period_sums(org.pk, *MARCH, department_id=traffic.pk)
    assert kpis.kpi_value(by_code["intake_volume"], sums).value == 1  # c9, now traffic's
    assert kpis.kpi_value(by_code["send_back_rate"], sums).numerator == 1
    # February holds c2's receipt; April c7's answer and closing.
    feb = kpis.period_sums(org.pk, date(2026, 2, 1), date(2026, 2, 28))
    assert feb["received"] == 1 and feb["answered"] == 0
    april = kpis.period_sums(org.pk, date(2026, 4, 1), date(2026, 4, 30))
    assert (april["received"], april["answered"], april["closed"]) == (0, 1, 1)


def test_definition_names_numerator_denominator_and_period_rule():
    from huiyin.policy.presets import load_preset
    from huiyin.policy.services import presets_dir

    preset = load_preset(presets_dir() / "property_management.yaml")
    by_code = {k.code: k for k in preset.kpis}
    text = kpi_text.definition(by_code["closure_on_time_rate"])
    assert "在办结时限内完成的件次" in text and "÷" in text
    assert "含批准的延期，扣除挂起时间" in text and "到期仍未完成的计为超时" in text
    assert "按时限了结日期计" in text
    assert "90% 分位数" in kpi_text.definition(by_code["handling_time_p90"])


def test_every_measure_of_the_catalogue_is_computed():
    """Every measure a preset may name is a roll-up counter (or, timed, three per stage),
    and every preset's every KPI reads only those."""
    from huiyin.policy import presets
    from huiyin.policy.services import presets_dir
    from huiyin.reports.models import COUNTERS, PLAIN_COUNTERS, TIMED_STAGES

    assert TIMED_STAGES == presets.TIMED_STAGES
    plain = {code for code, m in presets.MEASURES.items() if not m.timed}
    assert plain == set(PLAIN_COUNTERS)
    for stage in TIMED_STAGES:
        assert {f"{stage}_done", f"{stage}_on_time", f"{stage}_overdue"} <= set(COUNTERS)
    for name in presets.list_presets(presets_dir()):
        preset = presets.load_preset(presets_dir() / f"{name}.yaml")
        assert preset.kpis, name
        sums = dict.fromkeys(COUNTERS, 1)
        for kpi in preset.kpis:
            if kpi.formula != "quantile":
                assert kpis.kpi_value(kpi, sums).value is not None, (name, kpi.code)


@pytest.mark.django_db
def test_quantile_estimated_from_the_histogram_above_the_exact_limit(march, org, settings):
    """Above HUIYIN_REPORTS_EXACT_QUANTILE_MAX closed cases the dashboard estimates the
    quantile from the roll-ups' buckets: 27 h in (24, 48], 49 h in (48, 72], 75 h twice in
    (72, 120], 121 h in (120, 168]; the 5th of 5 lies in the last, read at its top: 168 h."""
    preset = current_policy(org.pk).preset()
    p90 = next(k for k in preset.kpis if k.code == "handling_time_p90")
    sums = kpis.period_sums(org.pk, *MARCH)
    assert [sums[f"hist_{i:02d}"] for i in range(6, 10)] == [1, 1, 2, 1]
    settings.HUIYIN_REPORTS_EXACT_QUANTILE_MAX = 4
    estimated = kpis.kpi_value(p90, sums, organization_id=org.pk, first=MARCH[0], last=MARCH[1])
    assert estimated.estimated and estimated.value == 168 and estimated.display == "约 168.0"
    exact = kpis.kpi_value(p90, sums, organization_id=org.pk, first=MARCH[0], last=MARCH[1], exact=True)
    assert not exact.estimated and exact.value == 121
