"""Quiet, useful logs: at the default level the console shows what an operator needs —
start-up, warnings, errors, one line per failed task — and not a line per task run or a
traceback per refused request. The console handler is the one ``settings.LOGGING``
configures, its stream caught here."""

from __future__ import annotations

import io
import logging
import logging.config
import os

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from huiyin.orgs.roles import Role
from tests.conftest import make_staff

from .tasks_for_tests import always_fails, succeeds
from .test_taskqueue import run_worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def console():
    """The console as `huiyin serve` sets it up at the default level; yields what it printed."""
    if os.environ.get("HUIYIN_LOG_LEVEL", "INFO").upper() != "INFO":
        pytest.skip("HUIYIN_LOG_LEVEL is set: these tests check the default level")
    logging.config.dictConfig(settings.LOGGING)
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


@pytest.fixture(autouse=True)
def db_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    settings.HUIYIN_TASK_MAX_ATTEMPTS = 2
    settings.HUIYIN_TASK_RETRY_BACKOFF = 1


def test_a_refused_request_writes_no_log_line(client, org, console):
    """A 403 (and a 404, and a CSRF refusal) is shown to the user; the console stays quiet."""
    handler = make_staff(org, "handler", [Role.HANDLER])
    client.force_login(handler)
    assert client.get(reverse("administration:staff")).status_code == 403
    assert client.get("/cases/999999/").status_code == 404
    strict = type(client)(enforce_csrf_checks=True)
    strict.force_login(handler)
    assert strict.post(reverse("logout")).status_code == 403
    assert console.getvalue() == ""


def test_a_successful_task_writes_no_log_line(console):
    result = succeeds.enqueue()
    run_worker()
    assert DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL"
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}):
        assert succeeds.enqueue().return_value == 1
    assert console.getvalue() == ""


def test_a_failed_task_is_one_line_without_a_traceback(console):
    always_fails.enqueue()
    logging.getLogger("django_tasks").setLevel(logging.CRITICAL)  # as the worker process sets it
    run_worker()
    lines = console.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert "always_fails" in lines[0] and "RuntimeError" in lines[0] and "retrying" in lines[0]
    assert "Traceback" not in console.getvalue()
    # Where no worker reports it (the immediate backend: the demo), django_tasks' own line is one line too.
    console.truncate(0)
    console.seek(0)
    logging.config.dictConfig(settings.LOGGING)
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    handler.setStream(console)
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}):
        always_fails.enqueue()
    lines = console.getvalue().splitlines()
    assert len(lines) == 1 and "RuntimeError" in lines[0] and "Traceback" not in console.getvalue(), lines


def test_a_server_error_is_still_logged_with_its_traceback(client, org, console, settings):
    """Errors are what an operator needs: a 500 keeps its traceback."""
    from django.test.client import Client

    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    staff = make_staff(org, "clerk", [Role.INTAKE_CLERK])
    broken = Client(raise_request_exception=False)
    broken.force_login(staff)
    with override_settings(ROOT_URLCONF="tests.core.urls_boom"):
        assert broken.get("/boom/").status_code == 500
    assert "Traceback" in console.getvalue() and "RuntimeError" in console.getvalue()
