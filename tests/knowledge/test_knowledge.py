"""The knowledge base (SPEC F07): entries searched by keyword and category by every staff
member, kept by the administrators, never losing a concurrent edit; past answers of finished
cases with the complainants' personal data masked; the standard phrases of a call."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huiyin.cases.models import Case, CaseRound, Category
from huiyin.cases.services import PartyInput
from huiyin.core.errors import NotFound, PermissionDeniedError, StaleObject, ValidationFailed
from huiyin.knowledge import selectors
from huiyin.knowledge.models import KnowledgeEntry
from huiyin.knowledge.services import entry_create, entry_update
from huiyin.orgs.models import Organization
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.policy.conftest import activate

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(org):
    return make_staff(org, "admin", [Role.ADMIN])


@pytest.fixture
def parking(org, category):
    """A second leaf beside 物业管理 under 城乡建设."""
    leaf = Category.objects.create(
        organization=org, parent=category.parent, name="小区停车", full_name="城乡建设/小区停车"
    )
    leaf.path = f"{category.parent.path}{leaf.pk}/"
    leaf.save()
    return leaf


@pytest.fixture
def entries(admin, category, parking):
    return {
        "fee": entry_create(
            actor=admin,
            title="物业费调整的答复口径",
            body="物业服务收费标准须经业主大会决定并公示，未经决定擅自涨价的，业主可要求按原标准收取。",
            source="《物业管理条例》",
            category_ids=[category.parent_id],  # 城乡建设: everything under it
        ),
        "parking": entry_create(
            actor=admin,
            title="地下停车场收费",
            body="停车收费实行明码标价，地下车库收费标准以公示为准。",
            category_ids=[parking.pk],
        ),
        "general": entry_create(actor=admin, title="来电接听要求", body="铃响即接，不主动挂断电话。"),
    }


def _titles(qs) -> set[str]:
    return {e.title for e in qs}


def test_keyword_search_finds_any_two_characters_of_the_text_and_each_run(entries, handler):
    assert _titles(selectors.entries(actor=handler, keyword="擅自涨价")) == {"物业费调整的答复口径"}
    assert _titles(selectors.entries(actor=handler, keyword="停车场")) == {"地下停车场收费"}
    assert _titles(selectors.entries(actor=handler, keyword="车库 公示")) == {"地下停车场收费"}
    assert _titles(selectors.entries(actor=handler, keyword="物业管理条例")) == {"物业费调整的答复口径"}  # the source
    assert _titles(selectors.entries(actor=handler, keyword="電話")) == {"来电接听要求"}  # traditional → simplified
    assert not selectors.entries(actor=handler, keyword="漏水").exists()


def test_a_category_finds_its_own_its_parents_and_the_general_entries(entries, handler, category, parking):
    assert _titles(selectors.entries(actor=handler, category_id=category.pk)) == {
        "物业费调整的答复口径",
        "来电接听要求",
    }
    assert _titles(selectors.entries(actor=handler, category_id=parking.pk)) == {
        "物业费调整的答复口径",
        "地下停车场收费",
        "来电接听要求",
    }


def test_an_inactive_entry_is_the_editors_only(entries, admin, handler):
    entry = entries["parking"]
    entry_update(actor=admin, entry_id=entry.pk, title=entry.title, body=entry.body, active=False)
    assert "地下停车场收费" not in _titles(selectors.entries(actor=handler, include_inactive=True))
    assert "地下停车场收费" in _titles(selectors.entries(actor=admin, include_inactive=True))
    with pytest.raises(NotFound):
        selectors.entry_get(actor=handler, entry_id=entry.pk)


def test_empty_title_or_text_is_named_in_chinese_and_nothing_is_saved(admin):
    with pytest.raises(ValidationFailed) as refused:
        entry_create(actor=admin, title="  ", body="")
    assert set(refused.value.errors) == {"title", "body"}
    assert "请填写标题" in refused.value.errors["title"][0] and "请填写正文" in refused.value.errors["body"][0]
    assert not KnowledgeEntry.objects.exists()


def test_a_handler_cannot_edit_an_administrator_can_and_another_organisations_entry_is_not_found(
    entries, admin, handler, client
):
    entry = entries["fee"]
    with pytest.raises(PermissionDeniedError):
        entry_create(actor=handler, title="t", body="b")
    with pytest.raises(PermissionDeniedError):
        entry_update(actor=handler, entry_id=entry.pk, title="t", body="b")
    client.force_login(handler)
    assert client.get(reverse("knowledge:new")).status_code == 403
    assert client.post(reverse("knowledge:edit", args=[entry.pk]), {"title": "t", "body": "b"}).status_code == 403
    assert client.get(reverse("knowledge:entry", args=[entry.pk])).status_code == 200

    elsewhere = Organization.objects.create(code="other", name="别处热线")
    their_admin = make_staff(elsewhere, "their_admin", [Role.ADMIN])
    with pytest.raises(NotFound):
        selectors.entry_get(actor=their_admin, entry_id=entry.pk)
    with pytest.raises(NotFound):
        entry_update(actor=their_admin, entry_id=entry.pk, title="改", body="改")
    assert not selectors.entries(actor=their_admin).exists()
    client.force_login(their_admin)
    assert client.get(reverse("knowledge:entry", args=[entry.pk])).status_code == 404
    assert client.get(reverse("knowledge:edit", args=[entry.pk])).status_code == 404

    client.force_login(admin)
    page = client.post(reverse("knowledge:new"), {"title": "", "body": "", "active": "on"})
    assert page.status_code == 400 and "请填写标题" in page.content.decode()
    done = client.post(
        reverse("knowledge:new"), {"title": "燃气泄漏处置", "body": "立即通知燃气公司抢修。", "active": "on"}
    )
    assert done.status_code == 302
    assert KnowledgeEntry.objects.get(title="燃气泄漏处置").created_by == admin


def test_two_administrators_editing_at_once_never_lose_a_change(entries, admin, org, client):
    entry = entries["general"]
    other = make_staff(org, "admin2", [Role.ADMIN])
    entry_update(actor=other, entry_id=entry.pk, title=entry.title, body="铃响三声内接听。", expected_version=1)
    with pytest.raises(StaleObject):
        entry_update(actor=admin, entry_id=entry.pk, title="改标题", body="另一份修改", expected_version=1)
    client.force_login(admin)
    page = client.post(
        reverse("knowledge:edit", args=[entry.pk]), {"title": "改标题", "body": "另一份修改", "version": "1"}
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert "已被其他人修改" in html and "另一份修改" in html  # what was typed is still there
    entry.refresh_from_db()
    assert (entry.body, entry.version) == ("铃响三声内接听。", 2)


@pytest.fixture
def answered(org, register, category, departments):
    """A closed case of 物业管理 whose answer names the complainant, their number and their home."""
    case = register(
        text="物业擅自上调物业费。",
        party=PartyInput(name="欧阳丽华", phone="13812345678", address="幸福路12号3单元501"),
    )
    Case.objects.filter(pk=case.pk).update(category=category, state="closed", lead_department=departments["city"])
    CaseRound.objects.filter(case=case).update(
        reply_text="欧阳丽华女士：经核实，物业公司未经业主大会决定上调物业费，已责令按原标准收取。"
        "如有疑问请联系13812345678的本人核对，或到幸福路12号3单元501所在小区物业处查询。",
        remedy="已多收的费用退还至欧阳丽华账户。",
        replied_at=case.received_at,
        lead_department=departments["city"],
    )
    return case


def test_past_answers_of_the_category_are_masked(answered, category, parking, handler, other_handler, clerk):
    (found,) = selectors.past_answers(actor=handler, category_id=category.pk)
    shown = found.reply + found.remedy
    assert "责令按原标准收取" in shown
    for personal in ("欧阳丽华", "13812345678", "幸福路12号3单元501"):
        assert personal not in shown
    assert "欧***" in shown and "138****5678" in shown and "幸福路****" in shown
    assert found.case_id == answered.pk  # the lead department's handler may open the case
    assert selectors.past_answers(actor=handler, category_id=parking.pk) == []
    assert len(selectors.past_answers(actor=clerk, keyword="物业费")) == 1  # the complaint or the answer
    assert len(selectors.past_answers(actor=clerk, keyword="原标准")) == 1
    assert selectors.past_answers(actor=clerk, keyword="停车") == []
    (seen_elsewhere,) = selectors.past_answers(actor=other_handler, category_id=category.pk)
    assert seen_elsewhere.case_id is None  # the answer, not the case it came from
    elsewhere = Organization.objects.create(code="other", name="别处热线")
    assert selectors.past_answers(actor=make_staff(elsewhere, "x", [Role.LEADER])) == []


def test_the_case_page_links_the_knowledge_of_its_category_and_the_phone_form_shows_the_phrases(
    answered, entries, org, handler, clerk, category, client
):
    Category.objects.filter(pk=category.pk).update(tags="safety_facility water_leak")  # the preset's rules
    activate(org, "property_management")
    client.force_login(handler)
    page = client.get(reverse("cases:detail", args=[answered.pk])).content.decode()
    assert 'id="knowledge-panel"' in page and "物业费调整的答复口径" in page and "地下停车场收费" not in page
    assert f"{reverse('knowledge:answers')}?category={category.pk}" in page
    assert "请您稍候，我为您做转接！" in page  # the call's phrases beside the case
    answers = client.get(reverse("knowledge:answers"), {"category": category.pk}).content.decode()
    assert "责令按原标准收取" in answers and "13812345678" not in answers and "欧阳丽华" not in answers
    client.force_login(clerk)
    form = client.get(reverse("cases:intake", args=["phone"])).content.decode()
    assert 'id="phone-phrases"' in form
    for said in ("请您稍候，我为您做转接！", "对不起，××现在不在工位上，请问是否需要为您留言？", "核对信息"):
        assert said in form
    assert 'id="nav-knowledge"' in form


def test_an_edit_without_its_version_is_refused(entries, admin, client):
    """A post that leaves the version out (a stale page, a script) is refused, not saved unchecked."""
    entry = entries["general"]
    client.force_login(admin)
    page = client.post(reverse("knowledge:edit", args=[entry.pk]), {"title": "改标题", "body": "未经核对的修改"})
    assert page.status_code == 400
    html = page.content.decode()
    assert "表单缺少有效的版本号" in html and "未经核对的修改" in html
    entry.refresh_from_db()
    assert entry.title != "改标题" and entry.version == 1
