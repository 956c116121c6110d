"""The hospital's intake rule: 首诉负责 (seeds/000_e82992a73faf22c8.txt 医院投诉接待制度, lines 280–287)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huiyin.cases.actions import allowed_actions
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
