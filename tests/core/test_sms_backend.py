"""The SMS gateway is outside the product: a backend chosen by HUIYIN_SMS_BACKEND. The file
gateway honours the message key: a message handed over again (a task retried after a crash
between hand-over and commit) is written once, also when two workers hand it over at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from huiyin.core.models import OutboundMessage
from huiyin.core.notify import ConsoleSmsBackend, FileSmsBackend, sms_backend

pytestmark = pytest.mark.django_db


def test_the_default_backend_writes_the_outbox_once_per_key(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    assert isinstance(sms_backend(), FileSmsBackend)
    sms_backend().send(phone="13812345678", body="您的诉求已登记", key="k1")
    sms_backend().send(phone="13812345678", body="您的诉求已登记", key="k1")
    lines = (tmp_path / "outbox" / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["k1"]


def test_the_setting_selects_the_backend_and_the_console_one_masks_the_number(settings, caplog, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.HUIYIN_SMS_BACKEND = "huiyin.core.notify.ConsoleSmsBackend"
    assert isinstance(sms_backend(), ConsoleSmsBackend)
    with caplog.at_level("INFO"):
        sms_backend().send(phone="13812345678", body="您的诉求已登记", key="k2")
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


def lines(tmp_path) -> list[dict]:
    return [json.loads(x) for x in (tmp_path / "outbox" / "sms.jsonl").read_text(encoding="utf-8").splitlines()]


def test_a_key_is_delivered_once(tmp_path):
    backend = FileSmsBackend()
    backend.send(phone="13812345678", body="已登记", key="event:1")
    backend.send(phone="13812345678", body="已登记", key="event:1")
    backend.send(phone="13812345678", body="已登记", key="event:12")  # a key that starts like another
    assert [m["key"] for m in lines(tmp_path)] == ["event:1", "event:12"]


def test_concurrent_hand_overs_of_one_key_write_one_line(tmp_path):
    barrier = threading.Barrier(8)

    def send(i: int) -> None:
        barrier.wait()
        FileSmsBackend().send(phone="13812345678", body="已登记", key=f"event:{i % 2}")

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(m["key"] for m in lines(tmp_path)) == ["event:0", "event:1"]


def test_the_old_outbound_log_is_read_only_history():
    """Messages are huiyin.notifications' Message rows; the log the old sender wrote keeps its
    rows (retention and key rotation still reach them) but takes no new one."""
    with pytest.raises(RuntimeError, match="read-only"):
        OutboundMessage.objects.create(key="k9", channel="sms", recipient="13812345678", body="x")
    assert not OutboundMessage.objects.exists()
