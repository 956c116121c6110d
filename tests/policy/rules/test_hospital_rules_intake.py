"""The hospital's intake rule: 首诉负责 (seeds/000_e82992a73faf22c8.txt 医院投诉接待制度, lines 280–287)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huiyin.cases.actions import allowed_actions
from huiyin.cases.models import Case
from huiyin.core.errors import ApplicationError
from huiyin.handling import actions as handling_actions
from huiyin.handling.errors import HandlingError
from huiyin.policy.presets import PresetError, load_preset_text
from huiyin.policy.services import presets_dir
from tests.policy.conftest import activate, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def hospital(org):
    return activate(org, "hospital")


def test_no_refusal_is_offered_under_first_complaint_responsibility(hospital, drive, leader, client):
    """seeds/000_e82992a73faf22c8.txt line 282: 「1.接待患者及家属来院投诉,应实行“首诉负责制”,热情、耐心接待,
    并予以协调解释,不得推诿。」 — neither 不予受理, 不再受理 nor 退回 is offered on the case page."""
    case = drive.register(at(2026, 3, 2, 9), channel="visit")
    for actor in (drive.clerk, leader):
        offered = {a.name for a in allowed_actions(actor, case)}
        assert not offered & {"not_accept", "not_reaccept", "return"}, offered
    client.force_login(leader)
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'data-action="not_accept"' not in html and 'data-action="return"' not in html
    assert 'data-action="dispatch"' in html  # the complaint goes to be handled


@pytest.mark.parametrize(
    ("service", "kwargs"),
    [
        (handling_actions.case_not_accept, {"ground": "不属于本院", "refer_to": "卫健委"}),
        (handling_actions.case_not_reaccept, {"ground": "已处理过"}),
        (handling_actions.case_return, {"reason": "不属于本院", "returned_to": "投诉人"}),
    ],
)
def test_the_service_refuses_to_refuse_a_complaint(hospital, drive, service, kwargs):
    """seeds/000_e82992a73faf22c8.txt line 282: 「应实行“首诉负责制”……不得推诿。」 — enforced in the service, not
    only by hiding the button."""
    case = drive.register(at(2026, 3, 2, 9), channel="phone")
    with pytest.raises(ApplicationError) as refused, drive.at(at(2026, 3, 2, 10)):
        service(actor=drive.clerk, case_id=case.pk, **kwargs)
    assert refused.value.code == HandlingError.REFUSAL_FORBIDDEN and "首诉负责制" in refused.value.message
    case.refresh_from_db()
    assert case.state == "registered"


def test_a_preset_forbidding_refusal_may_list_no_grounds():
    """seeds/000_e82992a73faf22c8.txt line 282: 「不得推诿」 — the validator refuses a hospital preset that
    lists grounds for refusing."""
    text = (presets_dir() / "hospital.yaml").read_text(encoding="utf-8")
    bad = text.replace("  not_accepted: []\n", "  not_accepted:\n    - {code: elsewhere, label: 不属于本院}\n", 1)
    with pytest.raises(PresetError) as refused:
        load_preset_text(bad, "hospital.yaml")
    assert "refusal_forbidden" in str(refused.value) and "acceptance_grounds.not_accepted" in str(refused.value)


# --- 2. outpatients' complaints are received by 门诊部, inpatients' by 医务科 -----------------------

HOSPITAL_VISIT = {
    "party_phone": "13812345678",
    "party_name": "张伟",
    "nature": "complaint",
    "text": "住院期间护士多次未按时换药，家属反映后仍无人处理。",
    "urgency": "normal",
}


@pytest.fixture
def surgery(org):
    from huiyin.orgs.models import Department

    return Department.objects.create(organization=org, code="surgery", name="外科")


def _dispatch(drive, case, department, **kwargs):
    return drive.do(at(2026, 3, 2, 10), "dispatch", case, department_id=department.pk, **kwargs)


@pytest.mark.parametrize(("kind", "office"), [("inpatient", "医务科"), ("outpatient", "门诊部")])
def test_a_complaint_reaches_the_office_that_receives_its_kind(
    hospital, drive, client, surgery, hospital_offices, kind, office
):
    """seeds/000_e82992a73faf22c8.txt line 283: 「2.门诊部负责管理范围内的投诉接待,
    涉及其他科室或部门投诉由门诊部协调处理;凡住院患者及家属投诉反映问题,有医务科负责接待。」 — the kind is
    recorded at intake; the department complained about leads (investigates), the receiving office
    assists (receives and coordinates)."""
    from huiyin.handling.models import Dispatch

    client.force_login(drive.clerk)
    form = {**HOSPITAL_VISIT, "complainant_kind": kind, "intake_token": f"kind-{kind}"}
    response = client.post(reverse("cases:intake", args=["visit"]), form, follow=True)
    assert response.status_code == 200
    case = Case.objects.get()
    assert case.complainant_kind == kind
    assert office in response.content.decode()  # the case page names the receiving office
    _dispatch(drive, case, surgery)
    assert case.state == "in_progress" and case.lead_department == surgery  # the department investigates
    assert [d.name for d in case.assisting_departments.all()] == [office]  # the office receives, coordinates
    rows = Dispatch.objects.filter(case=case)
    assert {(r.department.name, r.is_lead) for r in rows} == {("外科", True), (office, False)}
    event = case.events.filter(data__action="dispatch").get()
    assert event.data["receiving_department_name"] == office


def test_the_office_leading_a_complaint_about_itself_is_not_also_assisting(hospital, drive, hospital_offices):
    """seeds/000_e82992a73faf22c8.txt line 283: 「门诊部负责管理范围内的投诉接待」 — a complaint about 门诊部
    itself is led by it, not also assisted by it."""
    case = drive.register(at(2026, 3, 2, 9), channel="visit", complainant_kind="outpatient")
    _dispatch(drive, case, hospital_offices["outpatient_dept"])
    assert case.lead_department.name == "门诊部" and not case.assisting_departments.exists()


def test_dispatch_is_refused_until_the_kind_is_known(hospital, drive, client, surgery, hospital_offices):
    """seeds/000_e82992a73faf22c8.txt line 283 (门诊部 / 医务科 负责接待): a matter from the API or
    e-mail may arrive without the kind; the case page says it is missing, dispatch is refused naming
    the field, and the dispatch form asks for it."""
    from huiyin.core.errors import ValidationFailed
    from huiyin.handling.actions import case_dispatch

    case = drive.register(at(2026, 3, 2, 9), channel="email")
    assert case.complainant_kind == ""
    with pytest.raises(ValidationFailed) as refused, drive.at(at(2026, 3, 2, 10)):
        case_dispatch(actor=drive.clerk, case_id=case.pk, department_id=surgery.pk)
    assert refused.value.field == "complainant_kind"
    assert "反映人类别" in refused.value.message and "派遣前须登记反映人类别" in refused.value.message
    assert "住院患者及家属的投诉由医务科接待" in refused.value.message
    case.refresh_from_db()
    assert case.state == "registered" and case.lead_department is None

    client.force_login(drive.clerk)
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "未登记（派遣前须登记" in html
    assert 'name="complainant_kind"' in html and "住院患者及家属（医务科接待）" in html
    response = client.post(
        reverse("cases:act", args=[case.pk, "dispatch"]), {"department": surgery.pk, "version": case.version}
    )
    assert response.status_code == 400 and "派遣前须登记反映人类别" in response.content.decode()
    response = client.post(
        reverse("cases:act", args=[case.pk, "dispatch"]),
        {"department": surgery.pk, "complainant_kind": "inpatient", "version": case.version},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.complainant_kind == "inpatient" and case.state == "in_progress"
    assert [d.name for d in case.assisting_departments.all()] == ["医务科"]
    # Once recorded, the dispatch form no longer asks.
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'name="complainant_kind"' not in html


def test_the_intake_and_edit_forms_require_the_kind(hospital, drive, client, hospital_offices, surgery):
    """seeds/000_e82992a73faf22c8.txt line 283: 「凡住院患者及家属投诉反映问题,有医务科负责接待」 — the staff intake
    and edit forms do not take a hospital complaint without 门诊/住院; a kind corrected later moves the
    receiving office with it."""
    client.force_login(drive.clerk)
    html = client.get(reverse("cases:intake", args=["phone"])).content.decode()
    assert "反映人类别" in html and "门诊患者及家属（门诊部接待）" in html
    response = client.post(reverse("cases:intake", args=["phone"]), {**HOSPITAL_VISIT, "intake_token": "no-kind"})
    assert (
        response.status_code == 400
        and "请选择反映人类别（门诊患者及家属、住院患者及家属）" in response.content.decode()
    )
    assert not Case.objects.exists()
    response = client.post(
        reverse("cases:intake", args=["phone"]), {**HOSPITAL_VISIT, "complainant_kind": "visitor", "intake_token": "x"}
    )
    assert response.status_code == 400 and not Case.objects.exists()

    case = drive.register(at(2026, 3, 2, 9), complainant_kind="outpatient")
    _dispatch(drive, case, surgery)
    edit = reverse("cases:edit", args=[case.pk])
    form = {"title": case.title, "text": case.text, "nature": case.nature, "urgency": case.urgency}
    response = client.post(edit, {**form, "version": case.version, "complainant_kind": ""})
    assert response.status_code == 400 and "请选择反映人类别" in response.content.decode()
    # Found later to be an inpatient: the receiving office follows.
    response = client.post(edit, {**form, "version": case.version, "complainant_kind": "inpatient"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.complainant_kind == "inpatient"
    assert [d.name for d in case.assisting_departments.all()] == ["医务科"]


def test_a_receiving_office_missing_from_the_tree_is_named(hospital, drive, surgery):
    """The preset names 医务科 by its department code: an organisation without it is told which."""
    from huiyin.core.errors import ValidationFailed
    from huiyin.handling.actions import case_dispatch

    case = drive.register(at(2026, 3, 2, 9), complainant_kind="inpatient")
    with pytest.raises(ValidationFailed) as refused, drive.at(at(2026, 3, 2, 10)):
        case_dispatch(actor=drive.clerk, case_id=case.pk, department_id=surgery.pk)
    assert "医务科" in refused.value.message and "medical_affairs" in refused.value.message


def test_the_service_refuses_a_kind_the_policy_does_not_have(hospital, drive, org):
    """The portal, the API and importers go through the same registration: an unknown kind is
    refused, naming the field; under a policy without kinds any kind is refused."""
    from huiyin.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        drive.register(at(2026, 3, 2, 9), complainant_kind="visitor")
    assert refused.value.field == "complainant_kind" and "outpatient（门诊患者及家属）" in refused.value.message
    activate(org, "city_hotline")
    with pytest.raises(ValidationFailed) as refused:
        drive.register(at(2026, 3, 2, 9), complainant_kind="inpatient")
    assert refused.value.field == "complainant_kind"


def test_other_presets_have_no_kind_of_complainant(org, drive, client, departments):
    """Line 283 is the hospital's rule: the petition office's forms do not ask, its dispatch does not wait."""
    activate(org, "petition_office")
    client.force_login(drive.clerk)
    assert 'name="complainant_kind"' not in client.get(reverse("cases:intake", args=["phone"])).content.decode()
    case = drive.register(at(2026, 3, 2, 9))
    drive.do(at(2026, 3, 2, 9, 30), "accept", case)
    drive.do(at(2026, 3, 2, 10), "dispatch", case, department_id=departments["city"].pk)
    assert case.state in ("dispatched", "in_progress") and not case.assisting_departments.exists()
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "反映人类别" not in html


def test_the_api_takes_the_kind_and_refuses_one_the_policy_does_not_have(hospital, org):
    """seeds/000_e82992a73faf22c8.txt line 283 (门诊/住院 分别接待): a system registering hospital complaints
    may give the kind; an unknown one is refused, naming the field; none at all is accepted (dispatch waits)."""
    from huiyin.orgs.models import ExternalSystem
    from huiyin.orgs.roles import Cap
    from tests.api.test_api import BODY, client_for, make_key

    system = ExternalSystem.objects.create(
        organization=org,
        code="his",
        name="医院信息系统",
        kind=ExternalSystem.Kind.API,
        caps=[Cap.REGISTER, Cap.VIEW_ALL],
    )
    _key, plain = make_key(org, system=system)
    response = client_for(plain).post("/api/v1/cases/", {**BODY, "complainant_kind": "inpatient"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["complainant_kind"] == "inpatient"
    assert Case.objects.get(pk=response.json()["id"]).complainant_kind == "inpatient"
    refused = client_for(plain).post("/api/v1/cases/", {**BODY, "complainant_kind": "visitor"}, format="json")
    assert refused.status_code == 400 and "complainant_kind" in refused.content.decode()
    response = client_for(plain).post("/api/v1/cases/", BODY, format="json")
    assert response.status_code == 201 and response.json()["complainant_kind"] == ""
