"""The handling panels under bad input (issue 13, holes 2, 4, 10, 11): non-numeric or
foreign ids are a 4xx, impossible dates are refused naming the field, control characters
are not stored, text is bounded instead of silently cut — and nothing is stored."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huiyin.cases import services as cs
from huiyin.cases.models import Case, Event
from huiyin.handling import actions as handling_actions
from huiyin.handling import services as hs
from huiyin.handling.models import AuthorityRequest, Investigation, JointHandling
from huiyin.orgs.models import Organization
from huiyin.orgs.roles import Role
from tests.conftest import intake, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_progress(property_rules, register, clerk, handler, departments) -> Case:
    case = register()
    handling_actions.case_dispatch(
        actor=clerk, case_id=case.pk, department_id=departments["city"].pk, handler_id=handler.pk
    )
    handling_actions.case_sign_for(actor=handler, case_id=case.pk)
    case.refresh_from_db()
    return case


@pytest.fixture
def handler_client(client, handler):
    client.force_login(handler)
    return client


def _frozen(case: Case) -> tuple:
    case = Case.objects.get(pk=case.pk)
    return case.version, case.handler_id, Event.objects.filter(case=case).count()


@pytest.mark.parametrize("handler_id", ["abc", "1e9", "9" * 20, "-1", ""])
def test_a_handler_that_is_no_id_is_refused_not_a_500(client, head, in_progress, handler_id):
    client.force_login(head)
    before = _frozen(in_progress)
    form = {"handler": handler_id, "version": in_progress.version}
    response = client.post(reverse("handling:assign", args=[in_progress.pk]), form)
    assert response.status_code == 400  # int("abc") was a ValueError: a 500
    assert "承办人必须是主办部门的在岗人员" in response.content.decode()
    assert _frozen(in_progress) == before


@pytest.mark.parametrize("joint_id", ["abc", "0001-01-01T00:00", "999999999"])
def test_a_joint_handling_that_is_no_id_or_not_there_is_a_404(handler_client, in_progress, departments, joint_id):
    before = _frozen(in_progress)
    form = {"joint_id": joint_id, "department": departments["city"].pk, "text": "本部门负责维修。"}
    response = handler_client.post(reverse("handling:joint", args=[in_progress.pk, "part"]), form)
    assert response.status_code == 404 and "找不到该联合办理记录" in response.content.decode()
    assert _frozen(in_progress) == before


def test_a_department_that_is_no_id_is_refused_on_a_joint_part(head, handler_client, in_progress, departments):
    joint = hs.joint_convene(
        actor=head, case_id=in_progress.pk, topic="协调", department_ids=[d.pk for d in departments.values()]
    )
    before = _frozen(in_progress)
    form = {"joint_id": joint.pk, "department": "1e9", "text": "意见"}
    response = handler_client.post(reverse("handling:joint", args=[in_progress.pk, "part"]), form)
    assert response.status_code == 400 and "该部门未参加本次联合办理" in response.content.decode()
    assert _frozen(in_progress) == before


def test_another_organisations_joint_handling_is_a_404(handler_client, in_progress):
    other = Organization.objects.create(code="other", name="其他单位")
    stranger = make_staff(other, "stranger", [Role.LEADER])
    theirs, _code = cs.case_register(actor=stranger, data=intake())
    from huiyin.orgs.models import Department

    depts = [Department.objects.create(organization=other, code=c, name=c) for c in ("a", "b")]
    foreign = JointHandling.objects.create(
        case=theirs, round=1, topic="x", coordinator=stranger, convened_at=theirs.received_at
    )
    form = {"joint_id": foreign.pk, "department": depts[0].pk, "text": "意见"}
    response = handler_client.post(reverse("handling:joint", args=[in_progress.pk, "part"]), form)
    assert response.status_code == 404


@pytest.mark.parametrize("rectification_id", ["abc", "9" * 20])
def test_a_rectification_that_is_no_id_is_a_404(handler_client, in_progress, rectification_id):
    form = {"rectification_id": rectification_id, "plan_text": "方案"}
    response = handler_client.post(reverse("handling:rectification", args=[in_progress.pk, "plan"]), form)
    assert response.status_code == 404 and "找不到该整改记录" in response.content.decode()


def test_a_missing_investigation_is_a_404(handler_client, in_progress):
    response = handler_client.post(
        reverse("handling:investigation_confirm", args=[in_progress.pk, 999_999]), {"signature_drawn": ""}
    )
    assert response.status_code in (400, 404)  # no signature given is refused first
    png = (
        "data:image/png;base64,"
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    )
    response = handler_client.post(
        reverse("handling:investigation_confirm", args=[in_progress.pk, 999_999]), {"signature_drawn": png}
    )
    assert response.status_code == 404  # .get() raised DoesNotExist: a 500


@pytest.mark.parametrize(
    ("due_at", "message"),
    [
        ("2026-02-30T10:00", "报送时限不是有效的日期时间"),  # 30 February: parse_datetime raised, a 500
        ("2026-13-01T10:00", "报送时限不是有效的日期时间"),  # month 13
        ("9999-12-31T23:59", "报送时限不能晚于"),
        ("0001-01-01T00:00", "报送时限必须晚于现在"),
    ],
)
def test_an_impossible_or_absurd_authority_deadline_is_refused(client, leader, in_progress, due_at, message):
    client.force_login(leader)
    before = _frozen(in_progress)
    form = {"authority": "区住建局", "reference": "住建〔2026〕1号", "due_at": due_at}
    response = client.post(reverse("handling:authority", args=[in_progress.pk]), form)
    assert response.status_code == 400 and message in response.content.decode()
    assert not AuthorityRequest.objects.exists() and _frozen(in_progress) == before


def test_investigation_text_is_stored_without_control_characters(handler, in_progress):
    record = hs.investigation_add(
        actor=handler, case_id=in_progress.pk, kind="site_visit", text="现场\x00查看\x1b[0m：渗水。", place="3栋\x07"
    )
    record.refresh_from_db()  # on PostgreSQL the NUL itself was a 500
    assert (record.text, record.place) == ("现场查看：渗水。", "3栋")


def test_investigation_place_is_refused_when_too_long_not_cut(handler, in_progress):
    from huiyin.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as info:
        hs.investigation_add(actor=handler, case_id=in_progress.pk, kind="site_visit", text="查看", place="地" * 201)
    assert info.value.errors == {"place": ["地点过长：最多 200 字，当前 201 字。"]}
    assert not Investigation.objects.exists()


def test_an_investigation_dated_before_2000_is_refused(handler_client, in_progress):
    form = {"kind": "site_visit", "text": "查看", "occurred_at": "1900-01-01T09:00"}
    response = handler_client.post(reverse("handling:investigation_add", args=[in_progress.pk]), form)
    assert response.status_code == 400 and "调查时间不能早于 2000-01-01" in response.content.decode()
    assert not Investigation.objects.exists()


def test_an_investigation_dated_before_the_case_came_in_is_refused(handler_client, handler, in_progress):
    """A handler's afternoon: a site visit dated 2001-01-01 (or a week before the matter came
    in) was recorded on a case received today — like an answer, a record of the round is not
    older than the round."""
    from datetime import timedelta

    from django.utils import timezone

    from huiyin.core.errors import ValidationFailed

    before = _frozen(in_progress)
    form = {"kind": "site_visit", "text": "查看", "occurred_at": "2001-01-01T09:00"}
    response = handler_client.post(reverse("handling:investigation_add", args=[in_progress.pk]), form)
    assert response.status_code == 400
    html = response.content.decode()
    assert "调查时间不能早于本轮办理开始的时间" in html
    assert not Investigation.objects.exists() and _frozen(in_progress) == before

    with pytest.raises(ValidationFailed) as info:
        hs.investigation_add(
            actor=handler,
            case_id=in_progress.pk,
            kind="site_visit",
            text="查看",
            occurred_at=in_progress.received_at - timedelta(minutes=1),
        )
    assert list(info.value.errors) == ["occurred_at"]
    assert not Investigation.objects.exists()

    record = hs.investigation_add(
        actor=handler, case_id=in_progress.pk, kind="site_visit", text="查看", occurred_at=in_progress.received_at
    )
    assert record.occurred_at == in_progress.received_at <= timezone.now()


def test_the_assignment_form_keeps_the_assisting_handlers_already_named(
    client, head, handler, city_colleague, in_progress
):
    """A department head's afternoon: the form to name the handler showed no assisting
    handler selected, so changing the handler (or sending the form again) dropped the helpers
    named before without a word. The form starts from what is on the case."""
    hs.handler_assign(actor=head, case_id=in_progress.pk, handler_id=handler.pk, assisting_ids=[city_colleague.pk])
    client.force_login(head)
    html = client.get(reverse("cases:detail", args=[in_progress.pk])).content.decode()
    form = html[html.index('id="assign-form"') :]
    form = form[: form.index("</form>")]
    assert f'<option value="{city_colleague.pk}" selected>' in form
    assert f'name="version" value="{Case.objects.get(pk=in_progress.pk).version}"' in form


def test_an_assignment_from_a_stale_page_does_not_overwrite_a_newer_one(
    client, head, handler, city_colleague, in_progress
):
    """Two heads at once: the second, from a page opened before the first named 张磊 with a
    helper, put back its own choice over it. A page older than the case is refused."""
    stale = Case.objects.get(pk=in_progress.pk).version
    hs.handler_assign(actor=head, case_id=in_progress.pk, handler_id=city_colleague.pk, assisting_ids=[handler.pk])
    before = _frozen(in_progress)
    client.force_login(head)
    form = {"handler": handler.pk, "version": stale}
    response = client.post(reverse("handling:assign", args=[in_progress.pk]), form)
    assert response.status_code == 400 and "该案件已被其他人修改" in response.content.decode()
    assert _frozen(in_progress) == before
    assert list(Case.objects.get(pk=in_progress.pk).assisting_handlers.all()) == [handler]

    for version in (None, "", "0", "abc"):  # a form without a real version is refused, not taken unchecked
        data = {"handler": handler.pk} | ({"version": version} if version is not None else {})
        response = client.post(reverse("handling:assign", args=[in_progress.pk]), data)
        assert response.status_code == 400 and "表单缺少有效的版本号" in response.content.decode()
        assert _frozen(in_progress) == before
