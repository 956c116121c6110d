"""The knowledge base from a case, in Chromium (SPEC F07): a handler answering a case of
物业管理 searches the entries of that category from the case page, opens one, and finds the
past answers of the category with the complainant's name and number masked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from huiyin.cases import services as cs
from huiyin.cases.models import Case, CaseRound
from huiyin.cases.services import PartyInput
from huiyin.demo.generator import DEMO_PASSWORD, build_organization
from huiyin.demo.knowledge import seed_knowledge
from huiyin.handling import actions as handling_actions
from tests.conftest import intake
from tests.policy.conftest import activate

pytestmark = pytest.mark.e2e

PROPERTY = "城乡建设/住房保障与物业/物业管理"


@pytest.fixture
def demo(db):
    demo = build_organization()
    activate(demo.org, "property_management")
    seed_knowledge(demo.org.pk, demo.staff["admin"], "property_management")
    return demo


def _case(demo, text: str, name: str, phone: str) -> Case:
    case, _code = cs.case_register(
        actor=demo.staff["clerk"],
        data=intake(text=text, category_id=demo.categories[PROPERTY].pk, party=PartyInput(name=name, phone=phone)),
    )
    handling_actions.case_dispatch(
        actor=demo.staff["clerk"], case_id=case.pk, department_id=demo.departments["property"].pk
    )
    return case


def test_a_handler_searches_the_knowledge_base_from_the_case_and_reads_past_answers(demo, logged_in_page):
    earlier = _case(demo, "物业擅自上调物业费，要求查处。", "欧阳丽华", "13812345678")
    Case.objects.filter(pk=earlier.pk).update(state="closed")
    CaseRound.objects.filter(case=earlier).update(
        reply_text="欧阳丽华女士：经核实，物业费未经业主大会决定上调，已责令按原标准收取，联系电话13812345678。",
        replied_at=earlier.received_at,
    )
    case = _case(demo, "小区物业费今年又涨了，想问问合不合规。", "王建国", "13900001111")

    page = logged_in_page("handler_property", DEMO_PASSWORD)
    page.goto(f"/cases/{case.pk}/")
    panel = page.locator("#knowledge-panel")
    expect(panel.get_by_role("link", name="物业费调整的答复口径")).to_be_visible()
    panel.locator("input[name=q]").fill("业主大会")
    panel.get_by_role("button", name="搜索").click()
    results = page.locator("#knowledge-results")
    expect(results.get_by_text("物业费调整的答复口径")).to_be_visible()
    expect(page.locator("#id_category")).to_have_value(PROPERTY)  # the search kept the case's category
    results.get_by_text("物业费调整的答复口径").click()
    expect(page.locator("#knowledge-entry")).to_contain_text("须经业主大会或业主共同决定")

    page.goto(f"/cases/{case.pk}/")
    page.locator("#knowledge-past-answers").click()
    answer = page.locator("[data-past-answer]")
    expect(answer).to_have_count(1)
    expect(answer).to_contain_text("已责令按原标准收取")
    expect(answer).to_contain_text("138****5678")
    expect(answer).not_to_contain_text("欧阳丽华")
    expect(answer).not_to_contain_text("13812345678")
