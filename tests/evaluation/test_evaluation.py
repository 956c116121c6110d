"""The evaluation table (F35) on a hand-computed example, driven through the real
services at controlled times.

Built by the ``example`` fixture (conftest.py). The organisation runs the property
preset (reply within 3 calendar days counted from the day after dispatch; weights on
time 0.4, callback 0.2, satisfaction 0.3, not reopened 0.1) with ``min_sample`` lowered
to 2, so two handlers are ranked and a third is not. The period is March 2026,
evaluated on 5 April.

Handler A (市容环境科, ``handler``):

    case  dispatched    reply due (end of)  answered          callback
    A1    03-02 10:00   03-05               03-03 on time     03-04 满意 → closed
    A2    03-09 10:00   03-12               03-20 late        03-21 不满意 → reopened (round 2)
    A3    03-16 10:00   03-19               never: overdue    — ; 越级到公司领导 recorded 03-25 (20 points)
    A4    03-23 10:00   03-26               03-24 on time     03-25 号码错误 → unreachable
    A5    02-25 10:00   02-28               03-02 late        03-03 满意 → closed
    A6    03-26 10:00   03-29               03-27 on time     still due
    A7    03-30 10:00   04-02               never             —  (due in April: not March's)
    A8    03-05 10:00   03-08               sent back 03-06: its clock stopped, not answered → not counted

    handled       A1 A2 A3 A4 A5 A6 = 6; on time A1 A4 A6 = 3            → 50.0%（3/6）
    callbacks     planned in March A5 A1 A2 A4 A6 = 5, done/unreachable 4 → 80.0%（4/5）
    satisfaction  done in March with a rating A5 A1 A2 = 3, satisfied 2  → 66.7%（2/3）
    reopen        A2 once / 6 handled                                   → 16.7%（1/6）
    deductions    20 (A3; charged to A and to the city head)
    score         100 × (0.4 × 3/6 + 0.2 × 4/5 + 0.3 × 2/3 + 0.1 × 5/6) − 20
                = 100 × (0.2 + 0.16 + 0.2 + 0.08333) − 20 = 64.333 − 20  → 44.3

Handler B (住房保障科, ``housing_handler``):

    B1    03-03 10:00   03-06               03-04 on time     03-05 基本满意 → closed;
                                                               越级到县级 recorded 04-02 (April: not counted)
    B2    03-05 10:00   03-08               03-10 late        03-11 满意 → closed
    B3    03-10 10:00   03-13               03-11 on time     03-12 不满意 → reopened
    B3/2  03-13 10:00   03-16               03-14 on time     03-15 满意 → closed
    B4    03-17 10:00   03-20               03-18 on time     reopened by the desk 03-19: callback cancelled

    handled 5 (B3 twice: once per round); on time 4      → 80.0%（4/5）
    callbacks 4 planned and not cancelled, 4 done        → 100.0%（4/4）
    satisfaction 满意/基本满意 3 of 4 rated                 → 75.0%（3/4）
    reopen B3 and B4: 2 / 5                              → 40.0%（2/5）
    score 100 × (0.4 × 0.8 + 0.2 × 1 + 0.3 × 0.75 + 0.1 × 0.6)
        = 32 + 20 + 22.5 + 6                             → 80.5

Handler C (交通管理科, ``other``): C1 dispatched 03-04, answered 03-05 on time, callback
03-06 满意: every rate 100 %, score 100.0, but 1 case < min_sample 2 → unranked.

The city head (``head``) handled nothing but carries A3's 20 points: listed, no score.

Ranking by staff: B 1st (80.5), A 2nd (44.3); C (样本不足, 1) and the head after them.
By department the same figures per department, A3's deduction counted once for the
city department (two people were charged): 住房保障科 1st, 市容环境科 2nd, 交通管理科
unranked.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from huiyin.deadlines.models import Clock
from huiyin.evaluation.selectors import Rate, Row, evaluation, rank_rows, score_of
from huiyin.policy.presets import EvaluationRules, load_preset
from huiyin.policy.services import policy_activate, presets_dir
from tests.evaluation.conftest import EVALUATED_AT, MARCH, handle
from tests.policy.conftest import at

pytestmark = pytest.mark.django_db


def figures(row) -> tuple:
    return (
        row.name,
        row.rank,
        row.handled,
        str(row.on_time),
        str(row.callback),
        str(row.satisfaction),
        str(row.reopen),
        row.deductions,
        row.score,
    )


def test_the_hand_computed_example_by_staff(example, org, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):  # aggregates grouped by unit, not a query per case
        table = evaluation(org.pk, *MARCH, "staff", now=EVALUATED_AT)
    assert (table.stage, table.rules.min_sample) == ("reply", 2)
    assert [figures(r) for r in table.rows] == [
        ("housing_handler", 1, 5, "80.0%（4/5）", "100.0%（4/4）", "75.0%（3/4）", "40.0%（2/5）", 0, 80.5),
        ("handler", 2, 6, "50.0%（3/6）", "80.0%（4/5）", "66.7%（2/3）", "16.7%（1/6）", 20, 44.3),
        ("other", None, 1, "100.0%（1/1）", "100.0%（1/1）", "100.0%（1/1）", "0.0%（0/1）", 0, 100.0),
        ("head", None, 0, "—（0/0）", "—（0/0）", "—（0/0）", "—（0/0）", 20, None),
    ]
    assert [r.department for r in table.rows] == ["住房保障科", "市容环境科", "交通管理科", "市容环境科"]


def test_the_hand_computed_example_by_department(example, org):
    table = evaluation(org.pk, *MARCH, "department", now=EVALUATED_AT)
    assert [figures(r) for r in table.rows] == [
        ("住房保障科", 1, 5, "80.0%（4/5）", "100.0%（4/4）", "75.0%（3/4）", "40.0%（2/5）", 0, 80.5),
        # A3's deduction charged two people, counted once for the department
        ("市容环境科", 2, 6, "50.0%（3/6）", "80.0%（4/5）", "66.7%（2/3）", "16.7%（1/6）", 20, 44.3),
        ("交通管理科", None, 1, "100.0%（1/1）", "100.0%（1/1）", "100.0%（1/1）", "0.0%（0/1）", 0, 100.0),
    ]


def test_the_period_decides_what_counts(example, org):
    # Evaluated on 25 March, A3 (due 19 March, unanswered) is already late; A6 (due 29
    # March) is not yet counted; the deduction (recorded 25 March 15:00) not yet made.
    early = evaluation(org.pk, at(2026, 3, 1), at(2026, 3, 25, 12), "staff", now=at(2026, 3, 25, 12))
    a = next(r for r in early.rows if r.name == "handler")
    # A5 late, A1 on time, A2 late, A3 overdue; A4's reply (24 March) on time
    assert (str(a.on_time), a.deductions) == ("40.0%（2/5）", 0)
    # An unanswered clock counts once its due time has passed: looked at on 18 March,
    # A3 (due 19 March) is not yet late, whatever the period.
    mid = evaluation(org.pk, *MARCH, "staff", now=at(2026, 3, 18, 12))
    assert next(str(r.on_time) for r in mid.rows if r.name == "handler") == "60.0%（3/5）"
    # April: A7 (due 2 April, unanswered) and the county-level deduction on B1 (30 points,
    # charged to B and the housing head)
    april = evaluation(org.pk, at(2026, 4, 1), at(2026, 5, 1), "staff", now=EVALUATED_AT)
    assert {r.name: (r.handled, str(r.on_time), r.deductions) for r in april.rows} == {
        "handler": (1, "0.0%（0/1）", 0),
        "housing_handler": (0, "—（0/0）", 30),
        "housing_head": (0, "—（0/0）", 30),
    }
    by_department = evaluation(org.pk, at(2026, 4, 1), at(2026, 5, 1), "department", now=EVALUATED_AT)
    assert {r.name: r.deductions for r in by_department.rows} == {"市容环境科": 0, "住房保障科": 30}


def test_a_department_head_sees_only_their_department(example, head, housing_head, handler, org):
    from huiyin.core.errors import PermissionDeniedError
    from huiyin.evaluation.selectors import evaluation_for

    city = evaluation_for(actor=head, start=MARCH[0], end=MARCH[1], by="staff", now=EVALUATED_AT)
    assert [r.name for r in city.rows] == ["handler", "head"]
    housing = evaluation_for(actor=housing_head, start=MARCH[0], end=MARCH[1], by="department", now=EVALUATED_AT)
    assert [r.name for r in housing.rows] == ["住房保障科"]
    with pytest.raises(PermissionDeniedError):
        evaluation_for(actor=handler, start=MARCH[0], end=MARCH[1])


def test_without_a_reply_deadline_the_overall_clock_times_the_answer(org, drive, departments, handler):
    preset = load_preset(presets_dir() / "property_management.yaml")
    preset = replace(preset, deadlines=tuple(r for r in preset.deadlines if r.stage != "reply"))
    policy_activate(organization=org, preset=preset, actor=None)
    city = departments["city"]
    # overall: 2 days from receipt, counted from the next day → due end of 4 March
    handle(drive, dept=city, handler=handler, dispatched=at(2026, 3, 2, 10), answered=at(2026, 3, 3, 10))
    handle(drive, dept=city, handler=handler, dispatched=at(2026, 3, 2, 11), answered=at(2026, 3, 6, 10))
    assert not Clock.objects.filter(stage="reply").exists()
    table = evaluation(org.pk, *MARCH, "staff", now=EVALUATED_AT)
    assert table.stage == "overall"
    assert [(r.name, str(r.on_time)) for r in table.rows] == [("handler", "50.0%（1/2）")]
    assert table.rows[0].rank is None  # 2 cases < the preset's min_sample of 10


def test_without_a_policy_nothing_is_timed_and_the_defaults_apply(org):
    table = evaluation(org.pk, *MARCH, "staff")
    assert (table.rows, table.rules) == ([], EvaluationRules())


def test_the_score_spreads_missing_weights_and_subtracts_deductions():
    rules = EvaluationRules()  # 0.4 / 0.2 / 0.3 / 0.1
    # Only on time (1/2) and not reopened (2/2): (0.4 × 0.5 + 0.1 × 1) / 0.5 = 0.6
    row = Row(unit_id=1, name="x", handled=2, on_time=Rate(1, 2), reopen=Rate(0, 2), deductions=5)
    assert score_of(row, rules) == 55.0
    # Only a satisfaction sample: its rate is the score
    assert score_of(Row(unit_id=2, name="y", satisfaction=Rate(2, 3)), rules) == 66.7
    assert score_of(Row(unit_id=3, name="z", deductions=20), rules) is None
    # More reopenings than cases handled count as a reopen rate of 100 %
    row = Row(unit_id=4, name="w", handled=1, on_time=Rate(1, 1), reopen=Rate(2, 1))
    assert score_of(row, rules) == 80.0
    # A rate whose weight is 0 does not count
    assert score_of(Row(unit_id=5, name="v", callback=Rate(0, 4)), replace(rules, callback=0.0)) is None


def test_ties_share_a_rank_and_small_samples_are_not_ranked():
    rows = [
        Row(unit_id=1, name="甲", handled=10, score=90.0),
        Row(unit_id=2, name="乙", handled=12, score=95.5),
        Row(unit_id=3, name="丙", handled=11, score=90.0),
        Row(unit_id=4, name="丁", handled=9, score=99.0),
        Row(unit_id=5, name="戊", handled=30, score=70.0),
        Row(unit_id=6, name="己", handled=0, score=None),
    ]
    ordered = rank_rows(rows, min_sample=10)
    assert [(r.name, r.rank) for r in ordered] == [
        ("乙", 1),
        ("丙", 2),
        ("甲", 2),
        ("戊", 4),
        ("丁", None),
        ("己", None),
    ]


def test_a_preset_timing_only_the_dispatch_still_counts_answered_rounds(org, drive, departments, handler):
    """A preset that times the dispatch (3 minutes), not the answer: its answered rounds
    are counted, the on-time rate has no sample and is left out of the score."""
    hotline = load_preset(presets_dir() / "city_hotline.yaml")
    dispatch_only = replace(hotline, deadlines=tuple(r for r in hotline.deadlines if r.stage == "dispatch"))
    policy_activate(organization=org, preset=dispatch_only, actor=None)
    case = drive.register(at(2026, 3, 2, 9))
    drive.do(at(2026, 3, 2, 9, 1), "accept", case)
    drive.do(at(2026, 3, 2, 9, 2), "dispatch", case, department_id=departments["city"].pk)
    drive.do(at(2026, 3, 2, 10), "sign_for", case, actor=handler)
    drive.do(at(2026, 3, 3, 10), "reply", case, actor=handler, reply="已清理。", remedy="清理")
    table = evaluation(org.pk, *MARCH, "staff", now=EVALUATED_AT)
    row = next(r for r in table.rows if r.unit_id == handler.pk)
    assert (row.handled, row.on_time.denominator, row.on_time.value) == (1, 0, None)
    assert (row.callback.numerator, row.callback.denominator) == (0, 1)  # the hotline calls every answered case back
    # only callback completion (0/1, weight 0.2) and not reopened (1 − 0/1, weight 0.1)
    # have a sample: 100 × (0.2 × 0 + 0.1 × 1) / 0.3 = 33.3
    assert row.score == 33.3


def test_the_hotline_times_the_answer_so_its_on_time_rate_has_a_sample(org, drive, departments, handler):
    """The 12345 limits (a complaint answered within 15 working days) time every answer:
    the hotline's on-time rate is no longer —(0/0)."""
    from tests.policy.conftest import activate as activate_preset

    activate_preset(org, "city_hotline")
    case = drive.register(at(2026, 3, 2, 9))
    drive.do(at(2026, 3, 2, 9, 1), "accept", case)
    drive.do(at(2026, 3, 2, 9, 2), "dispatch", case, department_id=departments["city"].pk)
    drive.do(at(2026, 3, 2, 10), "sign_for", case, actor=handler)
    drive.do(at(2026, 3, 3, 10), "reply", case, actor=handler, reply="已清理。")
    table = evaluation(org.pk, *MARCH, "staff", now=EVALUATED_AT)
    assert table.stage == "reply"
    row = next(r for r in table.rows if r.unit_id == handler.pk)
    assert (row.handled, row.on_time.numerator, row.on_time.denominator, row.on_time.value) == (1, 1, 1, 1.0)
    # on time (1/1, weight 0.4), callback completion (0/1, 0.2), not reopened (1, 0.1):
    # 100 × (0.4 × 1 + 0.2 × 0 + 0.1 × 1) / 0.7 = 71.4
    assert row.score == 71.4
