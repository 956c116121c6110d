"""core.refusals: what a refused form's page and an htmx refusal carry for huiyin/forms.js."""

from __future__ import annotations

import json
import re

from django.test import RequestFactory

from huiyin.core import refusals
from huiyin.core.errors import ApplicationError, ValidationFailed


def _post(data: dict) -> object:
    return RequestFactory().post("/cases/7/handling/investigation/", data)


def test_a_refusal_names_the_path_the_fields_and_what_was_typed_but_no_secrets():
    request = _post(
        {"text": "现场查看", "csrfmiddlewaretoken": "tok", "new_password1": "x", "signature_drawn": "data:..."}
    )
    refusals.remember(request, ValidationFailed({"interviewee": ["询问笔录须写明被询问人。"]}))
    data = refusals.of(request)
    assert data == {
        "action": "/cases/7/handling/investigation/",
        "errors": {"interviewee": ["询问笔录须写明被询问人。"]},
        "values": {"text": ["现场查看"]},
    }


def test_an_error_naming_no_field_is_for_the_whole_form():
    request = _post({})
    refusals.remember(request, ApplicationError("已被其他人修改，请刷新页面。"))
    assert refusals.of(request)["errors"] == {"__all__": ["已被其他人修改，请刷新页面。"]}


def test_the_page_data_is_a_json_block_that_cannot_close_its_script():
    request = _post({"text": "</script><script>alert(1)</script>"})
    refusals.remember(request, {"text": ["<b>不行</b>"]})
    block = refusals.page_data(request)
    assert block.startswith('<script id="form-refusal" type="application/json">')
    assert block.count("</script>") == 1 and "<b>" not in block
    assert json.loads(block[block.index(">") + 1 : -len("</script>")])["values"]["text"] == [
        "</script><script>alert(1)</script>"
    ]
    assert refusals.page_data(_post({})) == ""  # a page that refused nothing carries nothing


def test_an_htmx_refusal_is_an_escaped_alert_with_the_field_messages():
    request = _post({"text": ""})
    response = refusals.fragment(request, {"text": ["内容不能为空。"]}, "内容：<不能为空>")
    body = response.content.decode()
    assert response.status_code == 400
    assert '<div class="alert alert-danger py-2 small" role="alert">内容：&lt;不能为空&gt;</div>' in body
    data = json.loads(re.search(r"<script data-refusal [^>]*>(.*)</script>", body).group(1))
    assert data == {"action": "/cases/7/handling/investigation/", "errors": {"text": ["内容不能为空。"]}, "values": {}}
