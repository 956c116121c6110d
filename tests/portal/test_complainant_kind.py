"""The hospital's kinds of complainant on the portal (seeds/000_e82992a73faf22c8.txt line 283):
「门诊部负责管理范围内的投诉接待……凡住院患者及家属投诉反映问题,有医务科负责接待。」 — the person says
whether they are an outpatient or an inpatient (or family), which names the office that receives
the complaint; recorded on the case by the staff's own registration service."""

from __future__ import annotations

import pytest

from huiyin.cases.models import Case, Event
from huiyin.handling.actions import case_dispatch
from tests.policy.conftest import activate

from .conftest import receipt_of, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def hospital(org):
    return activate(org, "hospital")


HOSPITAL_TEXT = {"text": "住院期间护士多次未按时换药，家属反映后仍无人处理。"}


def test_the_form_offers_the_kinds_with_their_receiving_offices(client, hospital, org):
    html = client.get(f"/portal/{org.code}/submit/").content.decode()
    assert 'id="f-complainant_kind"' in html
    assert 'name="complainant_kind" value="outpatient"' in html
    assert 'name="complainant_kind" value="inpatient"' in html
    assert "门诊患者及家属（由门诊部接待）" in html and "住院患者及家属（由医务科接待）" in html


def test_a_preset_without_kinds_offers_none(client, hotline, org):
    html = client.get(f"/portal/{org.code}/submit/").content.decode()
    assert "complainant_kind" not in html


@pytest.mark.parametrize(("kind", "office"), [("inpatient", "医务科"), ("outpatient", "门诊部")])
def test_the_kind_is_recorded_and_the_dispatch_takes_its_office(
    client, hospital, org, hospital_offices, clerk, departments, kind, office
):
    response = submit(client, org, complainant_kind=kind, **HOSPITAL_TEXT)
    assert response.status_code == 302, response.content.decode()[:3000]
    case, _code = receipt_of(client, org)
    assert case.complainant_kind == kind
    registered = Event.objects.get(case=case, kind="registered")
    assert registered.data["complainant_kind"] == kind
    # The staff dispatch it as any other case: no call back to ask, the receiving office assists.
    case_dispatch(actor=clerk, case_id=case.pk, department_id=departments["city"].pk)
    case.refresh_from_db()
    assert case.state == "in_progress"
    assert [d.name for d in case.assisting_departments.all()] == [office]


def test_an_anonymous_submission_also_says_which(client, hospital, org):
    """The hospital allows anonymous online complaints; without the kind such a case could never
    be dispatched (nobody to ask), so the kind is required there too."""
    response = submit(client, org, anonymous="on", name="", phone="", complainant_kind="outpatient", **HOSPITAL_TEXT)
    assert response.status_code == 302
    case, _code = receipt_of(client, org)
    assert case.complainant_kind == "outpatient"
    assert case.party is None or case.party.anonymous


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        (None, "请选择反映人类别（门诊患者及家属、住院患者及家属）：决定由哪个部门接待您的投诉。"),
        ("visitor", "所选反映人类别无效"),
    ],
)
def test_without_a_valid_kind_nothing_is_registered(client, hospital, org, posted, message):
    response = submit(client, org, complainant_kind=posted, **HOSPITAL_TEXT)
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert 'id="err-complainant_kind"' in html and 'href="#f-complainant_kind"' in html
    assert not Case.objects.exists()


@pytest.mark.parametrize(("kind", "message"), [("", "请选择反映人类别"), ("visitor", "反映人类别“visitor”无效")])
def test_the_service_requires_the_kind_whatever_posts_it(hospital, org, kind, message):
    """ "Mandatory means enforced": the portal's service refuses, not only the page."""
    from huiyin.core.errors import ValidationFailed
    from huiyin.portal import services

    from .conftest import solved

    data = services.Submission(
        nature="complaint", text=HOSPITAL_TEXT["text"], name="张伟", consent=True, complainant_kind=kind, **solved()
    )
    with pytest.raises(ValidationFailed) as refused:
        services.submit(organization=org, data=data, uploads=[], client="198.51.100.7")
    assert message in refused.value.errors["complainant_kind"][0]
    assert not Case.objects.exists()


def test_a_kind_is_refused_where_the_preset_has_none(hotline, org):
    from huiyin.core.errors import ValidationFailed
    from huiyin.portal import services

    from .conftest import solved

    data = services.Submission(
        nature="complaint", text="路灯坏了。", name="张伟", consent=True, complainant_kind="inpatient", **solved()
    )
    with pytest.raises(ValidationFailed) as refused:
        services.submit(organization=org, data=data, uploads=[], client="198.51.100.8")
    assert "不区分反映人类别" in refused.value.errors["complainant_kind"][0]
    assert not Case.objects.exists()
