"""Fixtures of the notification and e-mail channel tests: tasks run at once, real mail
servers on loopback (tests/notifications/mailservers.py)."""

from __future__ import annotations

import pytest

from tests.conftest import make_staff  # noqa: F401 - re-exported for the tests here

from .mailservers import imap_server, sms_gateway, smtp_server


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def smtp(settings):
    with smtp_server() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.DEFAULT_FROM_EMAIL = "回音 <huiyin@hotline.example>"
        settings.HUIYIN_MAIL_REPLY_TO = "intake@hotline.example"
        yield server


@pytest.fixture(scope="session")
def _dovecot():
    with imap_server() as server:
        yield server


@pytest.fixture
def imap(_dovecot, settings):
    _dovecot.empty()
    settings.HUIYIN_IMAP_HOST = "127.0.0.1"
    settings.HUIYIN_IMAP_PORT = _dovecot.port
    settings.HUIYIN_IMAP_SECURITY = "none"
    settings.HUIYIN_IMAP_USER = _dovecot.user
    settings.HUIYIN_IMAP_PASSWORD = _dovecot.password
    settings.HUIYIN_IMAP_MAILBOX = "INBOX"
    settings.HUIYIN_IMAP_DONE_MAILBOX = "Done"
    settings.HUIYIN_MAIL_ORGANIZATION = "hotline"
    return _dovecot


@pytest.fixture
def gateway(settings):
    with sms_gateway() as server:
        settings.HUIYIN_SMS_BACKEND = "huiyin.notifications.backends.HttpSmsBackend"
        settings.HUIYIN_SMS_GATEWAY_URL = server.url
        settings.HUIYIN_SMS_GATEWAY_USER = "huiyin"
        settings.HUIYIN_SMS_GATEWAY_PASSWORD = "gateway-secret"
        settings.HUIYIN_SMS_GATEWAY_TIMEOUT = 5
        yield server
