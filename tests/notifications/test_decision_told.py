"""A matter the office does not handle itself is told to the complainant: 不予受理 with the
body to turn to, 不再受理 with the reason, 退回 with the reasons, 转送 with who has it now — by
SMS and e-mail, as the answer is (a letter writer or an online complainant hears of it no
other way)."""

from __future__ import annotations

import pytest
from django.core import mail

from huiyin.cases.inputs import PartyInput
from huiyin.cases.services import case_register
from huiyin.handling import actions as handling_actions
from huiyin.notifications.models import Message
from tests.conftest import intake
from tests.policy.conftest import activate

from .test_purposes_moved import EMAIL, PHONE, sms_lines

pytestmark = pytest.mark.django_db


@pytest.fixture
def letter(org, clerk, immediate_tasks, tmp_path, django_capture_on_commit_callbacks):
    """Register a letter from a complainant who left a phone number and an e-mail address,
    under the given preset; the receipt's messages are cleared."""

    def _letter(preset: str, **party):
        activate(org, preset)
        with django_capture_on_commit_callbacks(execute=True):
            case, _code = case_register(
                actor=clerk,
                data=intake(
                    channel="letter", party=PartyInput(**{"name": "张伟", "phone": PHONE, "email": EMAIL, **party})
                ),
            )
        mail.outbox.clear()
        (tmp_path / "outbox" / "sms.jsonl").unlink(missing_ok=True)
        return case

    return _letter


def test_a_matter_not_accepted_is_told_with_the_body_to_turn_to(
    letter, clerk, tmp_path, django_capture_on_commit_callbacks
):
    """seeds/002_36bb5ca978e61897.txt line 17: 「(3)对于我委不予受理的信访事项,
    应告知来访人该信访事项的责任归属单位」."""
    case = letter("petition_office")
    with django_capture_on_commit_callbacks(execute=True):
        handling_actions.case_not_accept(
            actor=clerk, case_id=case.pk, ground="congress_court_procuratorate", refer_to="court"
        )
    [sms] = sms_lines(tmp_path)
    assert sms["phone"] == PHONE
    assert "不予受理" in sms["body"] and "请向人民法院反映" in sms["body"] and case.number in sms["body"]
    [email] = mail.outbox
    assert email.to == [EMAIL] and "人民法院" in email.body and "属于各级人民代表大会" in email.body
    assert {m.medium for m in Message.objects.filter(case=case, purpose="decision")} == {"sms", "email"}


def test_a_matter_not_reaccepted_is_told_why(letter, clerk, tmp_path, django_capture_on_commit_callbacks):
    """seeds/002_36bb5ca978e61897.txt line 17: 「(4)对于我委不再受理的信访事项,应告知其不再受理的原因」."""
    case = letter("petition_office")
    with django_capture_on_commit_callbacks(execute=True):
        handling_actions.case_not_reaccept(actor=clerk, case_id=case.pk, ground="review_concluded")
    [sms] = sms_lines(tmp_path)
    assert "不再受理，原因：有权处理的党政机关已经复核终结的" in sms["body"]


def test_a_letter_returned_is_told_with_the_reasons(
    letter, clerk, leader, tmp_path, django_capture_on_commit_callbacks
):
    """seeds/000_e82992a73faf22c8.txt line 16: 「1、经核查后确定不属于本单位职责范围的信访函件应自收到之日起15日内
    申明理由后退还本人或退回原批转单位不得自行转送其他单位。」"""
    case = letter("construction_station")
    with django_capture_on_commit_callbacks(execute=True):
        handling_actions.case_return(
            actor=leader, case_id=case.pk, reason="反映的是道路养护问题，不属于工程质量监督", returned_to="来信人"
        )
    [sms] = sms_lines(tmp_path)
    assert "已退回来信人" in sms["body"] and "不属于工程质量监督" in sms["body"]
    [email] = mail.outbox
    assert "不属于工程质量监督" in email.body


def test_a_matter_transferred_is_told_who_has_it(letter, clerk, tmp_path, django_capture_on_commit_callbacks):
    """seeds/000_e82992a73faf22c8.txt line 231: 「对于需要其他部门处理的问题,接待人员要及时转送、交办,
    并告知来访群众。」"""
    case = letter("petition_office")
    with django_capture_on_commit_callbacks(execute=True):
        handling_actions.case_transfer(actor=clerk, case_id=case.pk, to_body="区住房和城乡建设局")
    [sms] = sms_lines(tmp_path)
    assert "已转送区住房和城乡建设局办理" in sms["body"]


def test_nothing_is_sent_without_a_way_to_reach_the_complainant(
    letter, clerk, tmp_path, django_capture_on_commit_callbacks
):
    case = letter("city_hotline", phone="", email="", address="幸福路12号")
    with django_capture_on_commit_callbacks(execute=True):
        handling_actions.case_not_accept(
            actor=clerk, case_id=case.pk, ground="out_of_scope", refer_to="其他相关职能部门"
        )
    assert not sms_lines(tmp_path) and not mail.outbox
    assert not Message.objects.filter(case=case, purpose="decision", medium="sms").exists()
