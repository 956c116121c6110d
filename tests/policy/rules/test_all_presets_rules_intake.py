"""Rules every shipped preset keeps at intake, each quoting the seed line it enforces."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from huiyin.cases.receipts import _lines, receipt_context
from huiyin.cases.services import PartyInput, case_register
from huiyin.core import crypto
from huiyin.policy.presets import list_presets
from huiyin.policy.services import presets_dir
from tests.conftest import intake
from tests.policy.conftest import activate

pytestmark = pytest.mark.django_db

# One of each way in and kind of matter, with what any preset's visit register asks for.
MATTERS = [
    {"channel": "phone", "nature": "complaint"},
    {"channel": "letter", "nature": "consultation"},
    {"channel": "visit", "nature": "help"},
    {"channel": "online", "nature": "report"},
    {"channel": "phone", "nature": "suggestion"},
    {"channel": "phone", "nature": "complaint", "urgency": "urgent"},
]
VISITOR = {"name": "刘洋", "phone": "13911112222", "gender": "male", "age": 38, "affiliation": "示范市第一中学"}


@pytest.mark.parametrize("preset", list_presets(presets_dir()))
def test_every_receipt_and_status_page_promises_a_time(preset, org, clerk, client):
    """seeds/000_e82992a73faf22c8.txt line 62: 「3.受理工作:根据信访人员的诉求,将其在信访接待系统中的信访材料进行
    受理,分配给相关部门进行处理,并向来访信访人员出示受理凭证和办理时间限制等信息。」; seeds/002_36bb5ca978e61897.txt
    line 17: 「(2)对于应由我委受理的信访事项,不能当场答复的,应告知来访人办理时限。」 — under every shipped preset,
    for every way in and kind of matter, the receipt (page and PDF) and the public status page
    show a promised time, never 「承诺时限 —」."""
    activate(org, preset)
    client.force_login(clerk)
    for i, matter in enumerate(MATTERS):
        case, code = case_register(actor=clerk, data=intake(party=PartyInput(**VISITOR), text=f"第{i}件事。", **matter))
        assert case.promised_due_at is not None, (preset, matter)
        due = f"{timezone.localtime(case.promised_due_at):%Y年%m月%d日}前答复"
        assert dict(_lines(case, receipt_context(case, code)))["承诺时限"] == due  # the PDF's lines
        session = client.session
        session["receipt_codes"] = {str(case.pk): crypto.seal(code)}
        session.save()
        receipt = client.get(reverse("cases:receipt", args=[case.pk])).content.decode()
        assert due in receipt, (preset, matter)
        status = client.post(reverse("public:status"), {"number": case.number, "code": code}).content.decode()
        assert f"承诺时限：{timezone.localtime(case.promised_due_at):%Y-%m-%d}" in status, (preset, matter)
        assert "承诺时限：—" not in status
