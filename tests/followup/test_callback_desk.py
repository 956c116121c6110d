"""The callback desk: one callback at a time with the filtered queue beside it; the
number to dial revealed on the card and logged as the case page's full view; recording
a result moves on to the next callback of the same queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from huiyin.cases import services as cs
from huiyin.cases.events import EventKind
from huiyin.cases.models import Event
from huiyin.cases.services import PartyInput
from huiyin.core.periods import day_start
from huiyin.followup.models import Callback, CallbackAttempt
from huiyin.followup.selectors import QueueFilters, queue
from huiyin.handling import actions as handling_actions
from huiyin.orgs.roles import Role
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


def _answered(register, clerk, handler, department, *, channel, received_days_ago, phone, category=None):
    case = register(
        channel=channel,
        text=f"{department.name}：{channel} 诉求，楼道灯不亮。",
        party=PartyInput(name="王芳", phone=phone),
        received_at=timezone.now() - timedelta(days=received_days_ago),
        category_id=category.pk if category else None,
    )
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=department.pk)
    case.refresh_from_db()
    if case.state == "dispatched":
        handling_actions.case_sign_for(actor=handler, case_id=case.pk)
    cs.case_reply(actor=handler, case_id=case.pk, reply="已更换灯泡。", remedy="已更换楼道灯泡并检查线路。")
    callback = Callback.objects.get(case=case)
    Callback.objects.filter(pk=callback.pk).update(role=Role.CALLBACK_OFFICER)
    return Callback.objects.get(pk=callback.pk)


@pytest.fixture
def desk(property_rules, register, clerk, handler, other_handler, departments, category):
    """Four due callbacks: A city/phone/category, overdue, the oldest matter; B city/letter,
    due later today; C traffic/phone, due in three days, the newest matter; D traffic/visit,
    due in five days."""
    now = timezone.now()
    end_of_today = day_start(timezone.localdate() + timedelta(days=1))
    city, traffic = departments["city"], departments["traffic"]
    a = _answered(
        register, clerk, handler, city, channel="phone", received_days_ago=9, phone="13900000001", category=category
    )
    b = _answered(register, clerk, handler, city, channel="letter", received_days_ago=7, phone="13900000002")
    c = _answered(register, clerk, other_handler, traffic, channel="phone", received_days_ago=1, phone="13900000003")
    d = _answered(register, clerk, other_handler, traffic, channel="visit", received_days_ago=3, phone="13900000004")
    due = {a: now - timedelta(hours=1), b: now + (end_of_today - now) / 2, c: now + timedelta(days=3)}
    due[d] = now + timedelta(days=5)
    for callback, at in due.items():
        Callback.objects.filter(pk=callback.pk).update(due_at=at)
    return {name: Callback.objects.get(pk=cb.pk) for name, cb in zip("abcd", (a, b, c, d), strict=True)}


def _names(desk, rows) -> list[str]:
    by_pk = {cb.pk: name for name, cb in desk.items()}
    return [by_pk[row.pk] for row in rows]


def test_the_queue_filters_by_department_category_deadline_and_channel(desk, officer, departments, category):
    def names(**filters) -> list[str]:
        return _names(desk, queue(officer, QueueFilters(**filters)))

    assert names() == ["a", "b", "c", "d"]  # the earliest deadline first
    assert names(department_id=departments["city"].pk) == ["a", "b"]
    assert names(category_id=category.parent_id) == ["a"]  # a category with its subcategories
    assert names(channel="phone") == ["a", "c"]
    assert names(due="overdue") == ["a"]
    assert names(due="today") == ["b"]
    assert names(due="later") == ["c", "d"]
    assert names(department_id=departments["traffic"].pk, channel="visit") == ["d"]


def test_the_queue_sorts_by_deadline_or_by_the_oldest_matter(desk, officer):
    assert _names(desk, queue(officer, QueueFilters(sort="due"))) == ["a", "b", "c", "d"]
    assert _names(desk, queue(officer, QueueFilters(sort="oldest"))) == ["a", "b", "d", "c"]


def test_the_page_shows_one_callback_with_the_filtered_queue_beside_it(client, officer, desk, departments):
    client.force_login(officer)
    html = client.get(reverse("followup:queue"), {"department": departments["traffic"].pk}).content.decode()
    assert html.count('id="callback-card"') == 1
    assert f'id="callback-card" data-case="{desk["c"].case.number}"' in html
    assert "第 1 / 2 件" in html
    for name in "abcd":
        assert ("queue-item" in html and f'data-case="{desk[name].case.number}"' in html) == (name in "cd")
    # the next one is linked with the same filters
    assert f'href="?department={departments["traffic"].pk}&amp;c={desk["d"].pk}"' in html


def test_the_card_is_chosen_in_the_queue_and_a_stale_choice_falls_back_to_the_first(client, officer, desk):
    client.force_login(officer)
    html = client.get(reverse("followup:queue"), {"c": desk["b"].pk}).content.decode()
    assert f'id="callback-card" data-case="{desk["b"].case.number}"' in html and "第 2 / 4 件" in html
    html = client.get(reverse("followup:queue"), {"c": desk["b"].pk, "channel": "phone"}).content.decode()
    assert f'id="callback-card" data-case="{desk["a"].case.number}"' in html  # B is not a phone matter


def test_recording_a_result_moves_to_the_next_callback_of_the_same_queue(client, officer, desk):
    client.force_login(officer)
    a, c = desk["a"], desk["c"]
    url = reverse("followup:record", args=[a.pk]) + "?channel=phone&sort=due"
    response = client.post(url, {"key": "4", "method": "phone", "version": a.version, "next": c.pk})
    assert response.status_code == 302
    assert response["Location"] == f"/callbacks/?channel=phone&sort=due&c={c.pk}"
    assert CallbackAttempt.objects.filter(callback=a).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "已记录回访：未接通" in page and f'id="callback-card" data-case="{c.case.number}"' in page


def test_a_refused_record_stays_on_its_card_with_the_field_named(client, officer, desk):
    client.force_login(officer)
    b = desk["b"]
    response = client.post(
        reverse("followup:record", args=[b.pk]),
        {"key": "1", "method": "phone", "version": b.version, "findings": "查" * 20_000, "next": desk["c"].pk},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="callback-card" data-case="{b.case.number}"' in html
    assert 'id="cb-findings" name="findings" class="form-control form-control-sm is-invalid"' in html
    assert "回访情况过长" in html
    assert not CallbackAttempt.objects.filter(callback=b).exists()


def test_the_number_is_revealed_on_the_card_and_logged_as_the_case_pages_full_view(client, officer, desk):
    client.force_login(officer)
    a, b = desk["a"], desk["b"]
    response = client.post(reverse("followup:reveal", args=[a.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="tel:13900000001"' in html and "本次查看已记入办理过程" in html
    (logged,) = Event.objects.filter(case=a.case, kind=EventKind.PII_VIEWED)
    # The case page's reveal of another case, for comparison: the same event.
    assert client.post(reverse("cases:reveal", args=[b.case_id])).status_code == 200
    (on_case_page,) = Event.objects.filter(case=b.case, kind=EventKind.PII_VIEWED)
    assert logged.data == {"party_ids": [a.case.party_id]}
    assert (logged.actor, logged.kind, set(logged.data)) == (
        on_case_page.actor,
        on_case_page.kind,
        set(on_case_page.data),
    )


def test_only_who_has_the_callback_to_make_sees_the_number(client, org, departments, desk, analyst):
    traffic_head = make_staff(org, "traffic_head", [Role.DEPT_HEAD], departments["traffic"])
    client.force_login(traffic_head)  # a head calls back the department-head share, not the desk's
    response = client.post(reverse("followup:reveal", args=[desk["c"].pk]))
    assert response.status_code == 403 and "13900000003" not in response.content.decode()
    client.force_login(analyst)
    assert client.post(reverse("followup:reveal", args=[desk["c"].pk])).status_code == 403
    assert not Event.objects.filter(kind=EventKind.PII_VIEWED).exists()


def test_a_bad_filter_is_named_and_the_queue_unfiltered(client, officer, desk):
    client.force_login(officer)
    response = client.get(reverse("followup:queue"), {"due": "yesterday", "department": "abc"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-field="due"' in html and 'data-field="department"' in html and "第 1 / 4 件" in html


def test_a_callback_recorded_in_another_tab_is_named_and_its_input_stays_off_the_next_card(client, officer, desk):
    """Walk of a working day: the card for B was open in one tab while B's case was closed
    in another; 满意 then showed "该回访已记录" inside the next case's card, with what had
    been typed for B filled into that card's form."""
    client.force_login(officer)
    b, c = desk["b"], desk["c"]
    cs.case_close(actor=officer, case_id=b.case_id, satisfaction="satisfied", confirmed=True)  # other tab
    response = client.post(
        reverse("followup:record", args=[b.pk]),
        {"key": "1", "method": "phone", "version": b.version, "findings": "王女士表示满意", "next": c.pk},
    )
    assert response.status_code in (400, 409)
    html = response.content.decode()
    assert f"案件 {b.case.number} 的回访已记录" in html  # the message says which case
    assert f'id="callback-card" data-case="{b.case.number}"' not in html
    assert 'id="record-errors"' not in html  # not inside another case's card
    assert "王女士表示满意" not in html  # B's notes are not offered for the card now shown
    assert not CallbackAttempt.objects.filter(callback=b).exists()


def test_the_callback_script_gives_the_day_in_the_pages_language(client, officer, desk):
    """Walk of a working day: in English the script read "The matter ... you raised on 9月9日"."""
    client.force_login(officer)
    received = timezone.localtime(desk["a"].case.received_at)
    html = client.get(reverse("followup:queue"), {"c": desk["a"].pk}).content.decode()
    assert f"您{received.month}月{received.day}日反映的" in html
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("followup:queue"), {"c": desk["a"].pk}).content.decode()
    assert f"you raised on {received:%B} {received.day} has been handled" in html
    assert f"{received.month}月{received.day}日" not in html
