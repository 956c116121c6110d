"""The SMS gateway is outside the product: a backend chosen by HUIYIN_SMS_BACKEND."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from huiyin.core.notify import ConsoleSmsBackend, FileSmsBackend, send_sms_once, sms_backend

pytestmark = pytest.mark.django_db


def test_the_default_backend_writes_the_outbox_once_per_key(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    assert isinstance(sms_backend(), FileSmsBackend)
    assert send_sms_once(phone="13812345678", body="您的诉求已登记", key="k1")
    assert not send_sms_once(phone="13812345678", body="您的诉求已登记", key="k1")
    lines = (tmp_path / "outbox" / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["k1"]


def test_the_setting_selects_the_backend_and_the_console_one_masks_the_number(settings, caplog, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.HUIYIN_SMS_BACKEND = "huiyin.core.notify.ConsoleSmsBackend"
    assert isinstance(sms_backend(), ConsoleSmsBackend)
    with caplog.at_level("INFO"):
        send_sms_once(phone="13812345678", body="您的诉求已登记", key="k2")
    assert "138****5678" in caplog.text and "13812345678" not in caplog.text
    assert not (tmp_path / "outbox").exists()


def test_the_environment_variable_reaches_the_setting():
    env = {**os.environ, "HUIYIN_SMS_BACKEND": "huiyin.core.notify.ConsoleSmsBackend"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.HUIYIN_SMS_BACKEND)",
        ],
        env={**env, "DJANGO_SETTINGS_MODULE": "huiyin.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "huiyin.core.notify.ConsoleSmsBackend"
