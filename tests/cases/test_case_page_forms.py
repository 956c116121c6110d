"""The case page's forms through Django's test client (issue 14, part B): every refusal is
named next to its field, handler lists follow the department, the category list is a tree
that works without a script, and the next actions come before the panels.

The browser side (the script that puts messages next to plain-HTML fields, the pickers) is in
tests/e2e/test_case_page_forms.py."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from huiyin.cases.forms import ActionForm, IntakeForm
from huiyin.cases.models import Attachment, Case, Category
from huiyin.core.refusals import SCRIPT_ID
from huiyin.handling import actions as handling_actions
from huiyin.handling.models import Investigation
from huiyin.orgs.models import Department, Organization
from huiyin.orgs.roles import Role
from tests.conftest import make_staff
from tests.policy.conftest import activate

pytestmark = pytest.mark.django_db


@pytest.fixture
def property_rules(org):
    return activate(org, "property_management")


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
def dispatched(property_rules, register, clerk, departments) -> Case:
    case = register()
    handling_actions.case_dispatch(actor=clerk, case_id=case.pk, department_id=departments["city"].pk)
    case.refresh_from_db()
    return case


def _refusal(html: str) -> dict:
    found = re.search(rf'<script id="{SCRIPT_ID}" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the page carries no refusal for the script"
    return json.loads(found.group(1))


# --- 1. errors next to their fields --------------------------------------------------------


def test_an_empty_repeat_call_on_the_case_page_is_named_under_its_text_field(client, clerk, register):
    case = register()
    client.force_login(clerk)
    response = client.post(reverse("cases:add_contact", args=[case.pk]), {"channel": "phone", "text": "  "})
    html = response.content.decode()
    assert response.status_code == 400
    # The contact form itself comes back with the message under 内容 (not only on top).
    assert 'data-field="text">来电/来访内容不能为空。' in html
    assert _refusal(html)["errors"] == {"text": ["来电/来访内容不能为空。"]}
    assert case.contacts.count() == 1  # the registration's only


def test_an_empty_repeat_call_from_the_intake_panel_answers_htmx_with_a_fragment(client, clerk, register):
    case = register()
    client.force_login(clerk)
    form = {"party_phone": "13812345678", "nature": "complaint", "urgency": "normal", "text": ""}
    response = client.post(reverse("cases:add_contact", args=[case.pk]), form, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 400  # swapped in by huiyin/forms.js: a fragment, not a page
    assert "<html" not in body and 'role="alert"' in body and "诉求内容：来电/来访内容不能为空。" in body
    data = json.loads(re.search(r"<script data-refusal[^>]*>(.*?)</script>", body, re.S).group(1))
    assert data["errors"] == {"text": ["来电/来访内容不能为空。"]}
    assert data["values"] == {}  # the intake form still holds what was typed: nothing echoed
    assert case.contacts.count() == 1


def test_a_refused_panel_form_carries_its_messages_and_what_was_typed(client, handler, in_progress):
    client.force_login(handler)
    form = {"kind": "interview", "text": "现场查看楼道漏水点。", "interviewee": "", "csrfmiddlewaretoken": "x"}
    response = client.post(reverse("handling:investigation_add", args=[in_progress.pk]), form)
    assert response.status_code == 400
    refusal = _refusal(response.content.decode())
    assert refusal["action"] == reverse("handling:investigation_add", args=[in_progress.pk])
    assert refusal["errors"] == {"interviewee": ["询问笔录须写明被询问人。"]}
    assert refusal["values"]["text"] == ["现场查看楼道漏水点。"]
    assert "csrfmiddlewaretoken" not in refusal["values"]
    assert not Investigation.objects.filter(case=in_progress).exists()


def test_an_upload_without_a_file_is_named_on_the_file_field(client, clerk, register):
    case = register()
    client.force_login(clerk)
    response = client.post(reverse("cases:upload_attachment", args=[case.pk]), {})
    assert response.status_code == 400
    assert _refusal(response.content.decode())["errors"] == {"attachment": ["请选择要上传的附件。"]}


def test_a_page_that_was_not_refused_carries_no_refusal(client, clerk, register):
    case = register()
    client.force_login(clerk)
    assert SCRIPT_ID not in client.get(reverse("cases:detail", args=[case.pk])).content.decode()


# --- 2. handlers follow the department -------------------------------------------------------


def test_dispatch_lists_handlers_grouped_by_department_each_naming_it(client, clerk, handler, other_handler, register):
    activate(clerk.organization, "property_management")
    case = register()
    client.force_login(clerk)
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    dispatch = html[html.index('data-action="dispatch"') :]
    dispatch = dispatch[: dispatch.index("</details>")]
    select = dispatch[dispatch.index('name="handler"') :]
    select = select[: select.index("</select>")]
    assert 'data-follows="department"' in select
    assert f'<optgroup label="{handler.department.name}">' in select
    assert f'value="{handler.pk}" data-department="{handler.department_id}"' in select
    assert f'value="{other_handler.pk}" data-department="{other_handler.department_id}"' in select
    assert f'value="{clerk.pk}"' not in select  # no department that handles cases: not a handler


def test_dispatch_to_a_handler_outside_the_chosen_department_is_refused_on_the_handler_field(
    client, clerk, other_handler, register, departments
):
    activate(clerk.organization, "property_management")
    case = register()
    client.force_login(clerk)
    form = {"department": departments["city"].pk, "handler": other_handler.pk, "version": case.version}
    response = client.post(reverse("cases:act", args=[case.pk, "dispatch"]), form)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_dispatch-handler"' in html
    assert 'data-field="handler">承办人必须是主办部门的在岗人员。' in html
    case.refresh_from_db()
    assert case.state == "registered" and case.lead_department_id is None


def test_sign_for_offers_only_the_lead_departments_staff(client, head, handler, other_handler, dispatched):
    client.force_login(head)
    html = client.get(reverse("cases:detail", args=[dispatched.pk])).content.decode()
    sign_for = html[html.index('data-action="sign_for"') :]
    sign_for = sign_for[: sign_for.index("</details>")]
    assert f'value="{handler.pk}"' in sign_for and f'value="{head.pk}"' in sign_for
    assert f'value="{other_handler.pk}"' not in sign_for
    assert 'id="id_sign_for-handler"' in sign_for


def test_sign_for_naming_someone_of_another_department_is_refused_on_the_handler_field(
    client, head, other_handler, dispatched
):
    client.force_login(head)
    form = {"handler": other_handler.pk, "version": dispatched.version}
    response = client.post(reverse("cases:act", args=[dispatched.pk, "sign_for"]), form)
    assert response.status_code == 400
    assert 'data-field="handler">承办人必须是主办部门的在岗人员。' in response.content.decode()
    dispatched.refresh_from_db()
    assert dispatched.state == "dispatched" and dispatched.handler_id is None


def test_assigning_a_handler_of_another_department_is_refused_next_to_the_handler(
    client, head, other_handler, in_progress
):
    client.force_login(head)
    form = {"handler": other_handler.pk, "version": in_progress.version}
    response = client.post(reverse("handling:assign", args=[in_progress.pk]), form)
    assert response.status_code == 400
    assert _refusal(response.content.decode())["errors"] == {"handler": ["承办人必须是主办部门的在岗人员。"]}


def test_each_action_panel_gives_its_fields_ids_of_their_own(org, dispatched):
    form = ActionForm(organization_id=org.pk, case=dispatched, initial={"version": dispatched.version})
    ids = [bf.auto_id for action in ("redispatch", "sign_for", "send_back") for bf in form.fields_for(action)]
    assert len(ids) == len(set(ids)) and "id_redispatch-handler" in ids and "id_sign_for-handler" in ids


# --- 3. the category tree without a script -------------------------------------------------------


@pytest.fixture
def tree(org) -> list[Category]:
    made = []
    names = (
        "劳动和社会保障",
        "劳动和社会保障/劳动关系",
        "劳动和社会保障/劳动关系/拖欠工资",
        "城乡建设",
        "城乡建设/物业管理",
    )
    for full in names:
        *parents, name = full.split("/")
        parent = next((c for c in made if c.full_name == "/".join(parents)), None)
        category = Category.objects.create(organization=org, parent=parent, name=name, full_name=full)
        category.path = f"{parent.path if parent else '/'}{category.pk}/"
        category.save()
        made.append(category)
    return made


def test_the_category_list_is_grouped_by_top_category_with_pinyin_to_search(org, tree):
    html = str(IntakeForm(organization_id=org.pk, channel="phone")["category"])
    assert "data-tree-picker" in html
    assert '<optgroup label="劳动和社会保障">' in html and '<optgroup label="城乡建设">' in html
    wages = next(c for c in tree if c.name == "拖欠工资")
    option = re.search(rf'<option value="{wages.pk}"[^>]*>([^<]*)</option>', html)
    assert option.group(1) == "劳动关系/拖欠工资"  # under its top category's heading
    assert 'data-full="劳动和社会保障/劳动关系/拖欠工资"' in option.group(0)
    assert 'data-depth="2"' in option.group(0)
    assert 'data-pinyin="tqgz tuoqiangongzi"' in option.group(0)  # its own name's


def test_picking_a_category_from_the_grouped_list_registers_it(client, clerk, tree):
    client.force_login(clerk)
    wages = next(c for c in tree if c.name == "拖欠工资")
    form = {"party_phone": "13812345678", "nature": "complaint", "urgency": "normal"}
    form |= {"text": "工地拖欠工资三个月。", "category": wages.pk, "intake_token": "t-1"}
    assert client.post(reverse("cases:intake", args=["phone"]), form).status_code == 302
    assert Case.objects.get().category == wages


def test_edit_and_ledger_offer_the_same_tree(client, clerk, register, tree):
    case = register()
    client.force_login(clerk)
    for url in (reverse("cases:edit", args=[case.pk]), reverse("cases:ledger")):
        html = client.get(url).content.decode()
        assert "data-tree-picker" in html and '<optgroup label="劳动和社会保障">' in html


# --- 4. what can be done next comes first ----------------------------------------------------------


def test_the_next_actions_come_before_every_panel(client, head, dispatched):
    client.force_login(head)
    html = client.get(reverse("cases:detail", args=[dispatched.pk])).content.decode()
    actions = html.index('id="next-actions"')
    assert 'data-action="sign_for"' in html[actions : html.index("</section>", actions)]
    for panel in ('id="party-panel"', 'id="dispatch-panel"', 'id="supervision-panel"', "办理过程"):
        assert actions < html.index(panel), panel


def test_a_refused_action_no_longer_offered_shows_its_message_on_top(client, clerk, register):
    case = register()
    client.force_login(clerk)
    response = client.post(reverse("cases:act", args=[case.pk, "close"]), {"version": case.version})
    html = response.content.decode()
    assert response.status_code == 400
    top = html[html.index('id="next-actions"') : html.index("</section>", html.index('id="next-actions"'))]
    assert "不能变更为" in top


def test_a_handler_of_another_organisation_is_not_offered(client, clerk, register, handler):
    other = Organization.objects.create(code="other", name="别的单位")
    stranger = make_staff(other, "stranger", [Role.HANDLER], Department.objects.create(organization=other, code="x"))
    activate(clerk.organization, "property_management")
    case = register()
    client.force_login(clerk)
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert f'value="{handler.pk}" data-department' in html
    assert f'value="{stranger.pk}" data-department' not in html


@pytest.mark.parametrize(
    ("name", "mode", "size", "named"),
    [
        ("scan.png", "1", (20000, 20000), "超过 40 百万像素"),  # past Pillow's own limit: no size read
        ("photo.jpg", "L", (8000, 6000), "8000×6000"),
    ],
)
def test_a_decompression_bomb_uploaded_by_staff_is_refused_naming_its_pixels(
    client, clerk, register, name, mode, size, named
):
    # A few kilobytes that decode to 20000×20000 pixels: the portal refuses it (over 40
    # megapixels), the staff upload stored it (and a front-office expense's receipt likewise).
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, "PNG" if name.endswith(".png") else "JPEG")
    case = register()
    client.force_login(clerk)
    bomb = SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")
    response = client.post(reverse("cases:upload_attachment", args=[case.pk]), {"attachment": bomb})
    assert response.status_code == 400
    [message] = _refusal(response.content.decode())["errors"]["attachment"]
    assert message == f"附件“{name}”的像素过多（{named}），请缩小后再上传。"
    assert not Attachment.objects.filter(case=case).exists()


def test_an_ordinary_photo_uploaded_by_staff_is_stored_as_sent(client, clerk, register):
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 900), "white").save(buffer, "JPEG")
    case = register()
    client.force_login(clerk)
    photo = SimpleUploadedFile("site.jpg", buffer.getvalue(), content_type="image/jpeg")
    response = client.post(reverse("cases:upload_attachment", args=[case.pk]), {"attachment": photo})
    assert response.status_code == 302
    stored = Attachment.objects.get(case=case)
    assert stored.file.read() == buffer.getvalue()


def test_a_long_chinese_file_name_is_stored_and_downloads_under_its_own_name(client, clerk, register):
    # 100 Chinese characters are 300 bytes: the file system's limit is 255 bytes a name, so
    # storing the file failed (OSError, a 500). The name shown and downloaded is the whole one.
    name = "关于幸福小区" + "三号楼" * 31 + ".pdf"
    assert len(name.encode()) > 255
    case = register()
    client.force_login(clerk)
    upload = SimpleUploadedFile(name, b"%PDF-1.4 scan", content_type="application/pdf")
    response = client.post(reverse("cases:upload_attachment", args=[case.pk]), {"attachment": upload})
    assert response.status_code == 302
    stored = Attachment.objects.get(case=case)
    assert stored.original_name == name and stored.file.name.endswith(".pdf")
    assert len(stored.file.name.rsplit("/", 1)[-1].encode()) <= 255
    download = client.get(reverse("cases:download_attachment", args=[stored.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 scan"
    assert "attachment;" in download["Content-Disposition"] and "filename*=utf-8''" in download["Content-Disposition"]
